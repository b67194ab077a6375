//! The encoder's weights as plain row-major f32 arrays, Q/K/V stacked into
//! one matrix: what calltone's own CPU kernels pack (`fast`) and its GPU
//! kernels upload (`gpu`). Taken from candle's encoder (adapters merged), so
//! every family `Encoder::load` reads reaches both the same way.

use candle_core::Tensor;

use super::config::Activation;
use super::encoder::{Encoder, Norm};
use super::linear::Linear;
use super::ModelError;

/// A dense layer: `weight` `[n, k]` row-major, `bias` `[n]` (zeros when the
/// model has none).
pub struct FlatLinear {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub n: usize,
    pub k: usize,
}

pub struct FlatNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub eps: f32,
}

pub struct FlatLayer {
    /// Queries, keys and values as one `[3·hidden, hidden]` matrix.
    pub qkv: FlatLinear,
    pub attn_out: FlatLinear,
    pub attn_norm: FlatNorm,
    pub ffn_in: FlatLinear,
    pub ffn_out: FlatLinear,
    pub ffn_norm: FlatNorm,
}

pub struct FlatEncoder {
    pub hidden: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    /// Position embeddings available to a row (after the family's offset).
    pub max_len: usize,
    pub position_offset: usize,
    /// `[vocab, hidden]`.
    pub word: Vec<f32>,
    /// `[positions, hidden]`, the family's offset included.
    pub position: Vec<f32>,
    /// Segment 0's embedding, added to every token (BERT); none for DistilBERT.
    pub token_type: Option<Vec<f32>>,
    pub embed_norm: FlatNorm,
    pub layers: Vec<FlatLayer>,
    pub activation: Activation,
}

fn values(t: &Tensor) -> Result<Vec<f32>, ModelError> {
    Ok(t.to_dtype(candle_core::DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?)
}

fn norm(n: &Norm) -> Result<FlatNorm, ModelError> {
    Ok(FlatNorm {
        gamma: values(&n.weight)?,
        beta: values(&n.bias)?,
        eps: n.eps as f32,
    })
}

/// `parts` stacked along their outputs (they share their input width).
fn stacked(parts: &[&Linear]) -> Result<FlatLinear, ModelError> {
    let k = parts[0].weight.dims()[1];
    let mut weight = Vec::new();
    let mut bias = Vec::new();
    for p in parts {
        weight.extend(values(&p.weight)?);
        match &p.bias {
            Some(b) => bias.extend(values(b)?),
            None => bias.extend(std::iter::repeat_n(0.0, p.out_dim())),
        }
    }
    Ok(FlatLinear {
        n: bias.len(),
        k,
        weight,
        bias,
    })
}

impl FlatEncoder {
    /// Why calltone's own kernels (CPU or GPU) cannot run this encoder, if
    /// they cannot: what both share.
    pub fn unsupported(encoder: &Encoder) -> Option<String> {
        let c = &encoder.config;
        if c.activation == Activation::GeluTanh {
            return Some("tanh-approximated GELU".into());
        }
        if c.num_heads == 0 || !c.hidden_size.is_multiple_of(c.num_heads) {
            return Some("hidden size not divisible by the heads".into());
        }
        if encoder.layers.iter().any(|l| l.query.adapter.is_some()) {
            return Some("unmerged adapters".into());
        }
        None
    }

    /// Copies an encoder's weights (on any device, in any dtype) to f32.
    pub fn from_encoder(encoder: &Encoder) -> Result<Self, ModelError> {
        if let Some(why) = Self::unsupported(encoder) {
            return Err(ModelError::Unavailable(format!(
                "calltone's kernels cannot run this model: {why}"
            )));
        }
        let c = &encoder.config;
        let token_type = match &encoder.token_type {
            Some(t) => Some(values(&t.get(0)?)?),
            None => None,
        };
        let layers = encoder
            .layers
            .iter()
            .map(|l| {
                Ok(FlatLayer {
                    qkv: stacked(&[&l.query, &l.key, &l.value])?,
                    attn_out: stacked(&[&l.attn_out])?,
                    attn_norm: norm(&l.attn_norm)?,
                    ffn_in: stacked(&[&l.ffn_in])?,
                    ffn_out: stacked(&[&l.ffn_out])?,
                    ffn_norm: norm(&l.ffn_norm)?,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let position_offset = encoder.position_offset();
        Ok(Self {
            hidden: c.hidden_size,
            heads: c.num_heads,
            intermediate: c.intermediate_size,
            vocab: c.vocab_size,
            max_len: c.max_positions.saturating_sub(position_offset),
            position_offset,
            word: values(&encoder.word)?,
            position: values(&encoder.position)?,
            token_type,
            embed_norm: norm(&encoder.embed_norm)?,
            layers,
            activation: c.activation,
        })
    }
}

/// Refuses a batch with an empty row, a row longer than `max_len`, or a
/// token id outside the vocabulary: what both kernels would read past.
pub fn check_rows(rows: &[&[u32]], max_len: usize, vocab: usize) -> Result<(), ModelError> {
    if let Some(len) = rows
        .iter()
        .map(|r| r.len())
        .find(|&l| l == 0 || l > max_len)
    {
        return Err(ModelError::Unavailable(format!(
            "a row of {len} tokens: the model takes 1 to {max_len}"
        )));
    }
    if let Some(&id) = rows
        .iter()
        .flat_map(|r| r.iter())
        .find(|&&id| id as usize >= vocab)
    {
        return Err(ModelError::Unavailable(format!(
            "token id {id} is outside the vocabulary ({vocab})"
        )));
    }
    Ok(())
}
