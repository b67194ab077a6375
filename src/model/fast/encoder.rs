//! One forward pass of a post-norm BERT-family encoder over ragged rows.

use candle_core::{Device, Tensor};

use super::attention::attention;
use super::dense::{Dense, LayerFormat};
use super::gemm::Accumulate;
use super::rows::{FastActivation, NormParams};
use crate::model::config::Activation;
use crate::model::encoder::{Encoder, Norm};
use crate::model::linear::Linear;
use crate::model::ModelError;

struct FastLayer {
    /// Queries, keys and values as one `[3·hidden, hidden]` matrix.
    qkv: Dense,
    attn_out: Dense,
    attn_norm: NormParams,
    ffn_in: Dense,
    ffn_out: Dense,
    ffn_norm: NormParams,
}

pub struct FastEncoder {
    hidden: usize,
    heads: usize,
    intermediate: usize,
    vocab: usize,
    /// Position embeddings available to a row (after the family's offset).
    max_len: usize,
    position_offset: usize,
    word: Vec<f32>,
    position: Vec<f32>,
    /// Segment 0's embedding, added to every token (BERT); none for DistilBERT.
    token_type: Option<Vec<f32>>,
    embed_norm: NormParams,
    layers: Vec<FastLayer>,
    activation: FastActivation,
    format: LayerFormat,
}

/// What the heads read: `[rows, hidden]` each, row-major.
pub struct Pooled {
    /// The first token's hidden state ([CLS] / <s>).
    pub first: Vec<f32>,
    /// The mean over the row's tokens.
    pub mean: Vec<f32>,
}

fn values(t: &Tensor) -> Result<Vec<f32>, ModelError> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

fn norm_params(n: &Norm) -> Result<NormParams, ModelError> {
    Ok(NormParams {
        gamma: values(&n.weight)?,
        beta: values(&n.bias)?,
        eps: n.eps as f32,
    })
}

fn pack(format: LayerFormat, parts: &[&Linear]) -> Result<Dense, ModelError> {
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
    Ok(Dense::pack(format, &weight, &bias, bias.len(), k))
}

impl FastEncoder {
    /// Why the fast path cannot run this encoder, if it cannot.
    pub fn unsupported(encoder: &Encoder) -> Option<String> {
        let c = &encoder.config;
        if !matches!(encoder.device(), Device::Cpu) {
            return Some("not on the CPU".into());
        }
        if encoder.dtype() != candle_core::DType::F32 {
            return Some(format!("weights are {:?}, not f32", encoder.dtype()));
        }
        if c.activation == Activation::GeluTanh {
            return Some("tanh-approximated GELU".into());
        }
        if c.num_heads == 0 || !c.hidden_size.is_multiple_of(c.num_heads) {
            return Some("hidden size not divisible by the heads".into());
        }
        let widths = [c.hidden_size, c.intermediate_size];
        if widths.iter().any(|w| w % super::gemm::NR != 0) {
            return Some(format!("widths {widths:?} not multiples of 16"));
        }
        if encoder.layers.iter().any(|l| l.query.adapter.is_some()) {
            return Some("unmerged adapters".into());
        }
        None
    }

    /// Copies and packs an f32 CPU encoder's weights (adapters merged),
    /// the dense layers in `format`.
    pub fn from_encoder(encoder: &Encoder, format: LayerFormat) -> Result<Self, ModelError> {
        if let Some(why) = Self::unsupported(encoder) {
            return Err(ModelError::Unavailable(format!(
                "calltone's CPU kernels cannot run this model: {why}"
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
                Ok(FastLayer {
                    qkv: pack(format, &[&l.query, &l.key, &l.value])?,
                    attn_out: pack(format, &[&l.attn_out])?,
                    attn_norm: norm_params(&l.attn_norm)?,
                    ffn_in: pack(format, &[&l.ffn_in])?,
                    ffn_out: pack(format, &[&l.ffn_out])?,
                    ffn_norm: norm_params(&l.ffn_norm)?,
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
            embed_norm: norm_params(&encoder.embed_norm)?,
            layers,
            activation: match c.activation {
                Activation::Relu => FastActivation::Relu,
                _ => FastActivation::GeluErf,
            },
            format,
        })
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The dense layers' number format.
    pub fn format(&self) -> LayerFormat {
        self.format
    }

    /// Runs the encoder over token-id rows of any lengths (no padding) and
    /// returns each row's first-token and mean hidden state.
    pub fn forward(&self, rows: &[&[u32]]) -> Result<Pooled, ModelError> {
        let h = self.hidden;
        let lengths: Vec<usize> = rows.iter().map(|r| r.len()).collect();
        if let Some(len) = lengths.iter().find(|&&l| l == 0 || l > self.max_len) {
            return Err(ModelError::Unavailable(format!(
                "a row of {len} tokens: the model takes 1 to {}",
                self.max_len
            )));
        }
        let m: usize = lengths.iter().sum();
        let mut x = self.embed(rows, m)?;
        let mut qkv = vec![0f32; m * 3 * h];
        let mut ctx = vec![0f32; m * h];
        let mut inner = vec![0f32; m * self.intermediate];
        let activation = self.activation;
        for l in &self.layers {
            l.qkv.forward(&x, m, &mut qkv, Accumulate::Overwrite, None);
            attention(&qkv, &lengths, h, self.heads, &mut ctx);
            l.attn_out.forward(&ctx, m, &mut x, Accumulate::AddTo, None);
            l.attn_norm.apply_rows(&mut x, h);
            l.ffn_in.forward(
                &x,
                m,
                &mut inner,
                Accumulate::Overwrite,
                Some(&|v: &mut [f32]| activation.apply(v)),
            );
            l.ffn_out
                .forward(&inner, m, &mut x, Accumulate::AddTo, None);
            l.ffn_norm.apply_rows(&mut x, h);
        }
        Ok(self.pool(&x, &lengths))
    }

    /// Word + position (+ segment 0) embeddings, normalised: `[m, hidden]`.
    fn embed(&self, rows: &[&[u32]], m: usize) -> Result<Vec<f32>, ModelError> {
        let h = self.hidden;
        let mut x = vec![0f32; m * h];
        let mut t = 0;
        for row in rows {
            for (p, &id) in row.iter().enumerate() {
                let id = id as usize;
                if id >= self.vocab {
                    return Err(ModelError::Unavailable(format!(
                        "token id {id} is outside the vocabulary ({})",
                        self.vocab
                    )));
                }
                let out = &mut x[t * h..(t + 1) * h];
                let word = &self.word[id * h..(id + 1) * h];
                let pos = (self.position_offset + p) * h;
                let position = &self.position[pos..pos + h];
                for ((o, w), q) in out.iter_mut().zip(word).zip(position) {
                    *o = w + q;
                }
                if let Some(tt) = &self.token_type {
                    out.iter_mut().zip(tt).for_each(|(o, s)| *o += s);
                }
                t += 1;
            }
        }
        self.embed_norm.apply_rows(&mut x, h);
        Ok(x)
    }

    fn pool(&self, x: &[f32], lengths: &[usize]) -> Pooled {
        let h = self.hidden;
        let mut first = vec![0f32; lengths.len() * h];
        let mut mean = vec![0f32; lengths.len() * h];
        let mut offset = 0;
        for (i, &len) in lengths.iter().enumerate() {
            first[i * h..(i + 1) * h].copy_from_slice(&x[offset * h..(offset + 1) * h]);
            let out = &mut mean[i * h..(i + 1) * h];
            for t in offset..offset + len {
                out.iter_mut()
                    .zip(&x[t * h..(t + 1) * h])
                    .for_each(|(o, v)| *o += v);
            }
            let inv = 1.0 / len as f32;
            out.iter_mut().for_each(|o| *o *= inv);
            offset += len;
        }
        Pooled { first, mean }
    }
}
