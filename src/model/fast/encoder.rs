//! One forward pass of a post-norm BERT-family encoder over ragged rows.

use candle_core::Device;
use rayon::prelude::*;

use super::attention::attention;
use super::dense::{Dense, LayerFormat};
use super::gemm::Accumulate;
use super::reuse::Pool;
use super::rows::{FastActivation, NormParams};
use crate::model::config::Activation;
use crate::model::encoder::Encoder;
use crate::model::flat_encoder::{check_rows, FlatEncoder, FlatLinear, FlatNorm};
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

fn norm_params(n: &FlatNorm) -> NormParams {
    NormParams {
        gamma: n.gamma.clone(),
        beta: n.beta.clone(),
        eps: n.eps,
    }
}

fn pack(format: LayerFormat, l: &FlatLinear) -> Dense {
    Dense::pack(format, &l.weight, &l.bias, l.n, l.k)
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
        let widths = [c.hidden_size, c.intermediate_size];
        if widths.iter().any(|w| w % super::gemm::NR != 0) {
            return Some(format!("widths {widths:?} not multiples of 16"));
        }
        FlatEncoder::unsupported(encoder)
    }

    /// Copies and packs an f32 CPU encoder's weights (adapters merged),
    /// the dense layers in `format`.
    pub fn from_encoder(encoder: &Encoder, format: LayerFormat) -> Result<Self, ModelError> {
        if let Some(why) = Self::unsupported(encoder) {
            return Err(ModelError::Unavailable(format!(
                "calltone's CPU kernels cannot run this model: {why}"
            )));
        }
        let flat = FlatEncoder::from_encoder(encoder)?;
        let layers = flat
            .layers
            .iter()
            .map(|l| FastLayer {
                qkv: pack(format, &l.qkv),
                attn_out: pack(format, &l.attn_out),
                attn_norm: norm_params(&l.attn_norm),
                ffn_in: pack(format, &l.ffn_in),
                ffn_out: pack(format, &l.ffn_out),
                ffn_norm: norm_params(&l.ffn_norm),
            })
            .collect();
        Ok(Self {
            hidden: flat.hidden,
            heads: flat.heads,
            intermediate: flat.intermediate,
            vocab: flat.vocab,
            max_len: flat.max_len,
            position_offset: flat.position_offset,
            embed_norm: norm_params(&flat.embed_norm),
            layers,
            activation: match flat.activation {
                Activation::Relu => FastActivation::Relu,
                _ => FastActivation::GeluErf,
            },
            format,
            word: flat.word,
            position: flat.position,
            token_type: flat.token_type,
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
        check_rows(rows, self.max_len, self.vocab)?;
        let lengths: Vec<usize> = rows.iter().map(|r| r.len()).collect();
        let m: usize = lengths.iter().sum();
        Workspace::with(|w| {
            let (x, qkv, ctx, inner) = w.sized(m, h, self.intermediate);
            self.embed(rows, x)?;
            let activation = self.activation;
            for l in &self.layers {
                l.qkv.forward(x, m, qkv, Accumulate::Overwrite, None);
                attention(qkv, &lengths, h, self.heads, ctx);
                l.attn_out.forward(ctx, m, x, Accumulate::AddTo, None);
                l.attn_norm.apply_rows(x, h);
                l.ffn_in.forward(
                    x,
                    m,
                    inner,
                    Accumulate::Overwrite,
                    Some(&|v: &mut [f32]| activation.apply(v)),
                );
                l.ffn_out.forward(inner, m, x, Accumulate::AddTo, None);
                l.ffn_norm.apply_rows(x, h);
            }
            Ok(self.pool(x, &lengths))
        })
    }

    /// Word + position (+ segment 0) embeddings, normalised, into `x`
    /// (`[m, hidden]`, every value written). One task per row, as the
    /// layers' work is: a serial pass here would be a fixed cost every core
    /// waits for.
    fn embed(&self, rows: &[&[u32]], x: &mut [f32]) -> Result<(), ModelError> {
        let h = self.hidden;
        split_by_rows(x, rows.iter().map(|r| r.len() * h))
            .into_par_iter()
            .zip(rows)
            .for_each(|(out, row)| {
                for (p, (out, &id)) in out.chunks_exact_mut(h).zip(row.iter()).enumerate() {
                    let id = id as usize;
                    let word = &self.word[id * h..(id + 1) * h];
                    let pos = (self.position_offset + p) * h;
                    let position = &self.position[pos..pos + h];
                    for ((o, w), q) in out.iter_mut().zip(word).zip(position) {
                        *o = w + q;
                    }
                    if let Some(tt) = &self.token_type {
                        out.iter_mut().zip(tt).for_each(|(o, s)| *o += s);
                    }
                }
            });
        self.embed_norm.apply_rows(x, h);
        Ok(())
    }

    /// Each row's first token and mean token, one task per row.
    fn pool(&self, x: &[f32], lengths: &[usize]) -> Pooled {
        let h = self.hidden;
        let mut first = vec![0f32; lengths.len() * h];
        let mut mean = vec![0f32; lengths.len() * h];
        let mut starts = Vec::with_capacity(lengths.len());
        let mut offset = 0;
        for &len in lengths {
            starts.push(offset);
            offset += len;
        }
        first
            .par_chunks_exact_mut(h)
            .zip(mean.par_chunks_exact_mut(h))
            .zip(starts.par_iter().zip(lengths))
            .for_each(|((first, out), (&start, &len))| {
                let tokens = &x[start * h..(start + len) * h];
                first.copy_from_slice(&tokens[..h]);
                for token in tokens.chunks_exact(h) {
                    out.iter_mut().zip(token).for_each(|(o, v)| *o += v);
                }
                let inv = 1.0 / len as f32;
                out.iter_mut().for_each(|o| *o *= inv);
            });
        Pooled { first, mean }
    }
}

/// `buf` cut into consecutive pieces of the given lengths.
fn split_by_rows(mut buf: &mut [f32], lengths: impl Iterator<Item = usize>) -> Vec<&mut [f32]> {
    let mut out = Vec::new();
    for len in lengths {
        let (mine, rest) = std::mem::take(&mut buf).split_at_mut(len);
        out.push(mine);
        buf = rest;
    }
    out
}

/// A forward pass's activation buffers, kept between batches in
/// [`WORKSPACES`] (see `reuse`). Every value a pass reads it has written
/// first, so old contents never leak into a result.
#[derive(Default)]
struct Workspace {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    inner: Vec<f32>,
}

static WORKSPACES: Pool<Workspace> = Pool::new();

impl Workspace {
    /// Runs `f` on a free workspace, handing it back afterwards.
    fn with<T>(f: impl FnOnce(&mut Workspace) -> T) -> T {
        let mut mine = WORKSPACES.take();
        let out = f(&mut mine);
        WORKSPACES.give(mine);
        out
    }

    /// The four buffers for `m` tokens, exactly sized (grown when needed).
    #[allow(clippy::type_complexity)]
    fn sized(
        &mut self,
        m: usize,
        h: usize,
        intermediate: usize,
    ) -> (&mut [f32], &mut [f32], &mut [f32], &mut [f32]) {
        fn at_least(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
            if v.len() < n {
                v.resize(n, 0.0);
            }
            &mut v[..n]
        }
        (
            at_least(&mut self.x, m * h),
            at_least(&mut self.qkv, m * 3 * h),
            at_least(&mut self.ctx, m * h),
            at_least(&mut self.inner, m * intermediate),
        )
    }
}
