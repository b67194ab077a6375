//! A post-norm transformer encoder that covers the BERT, RoBERTa / XLM-R and
//! DistilBERT weight layouts with one forward pass. Written out plainly (not
//! taken from candle-transformers) so that it can be fine-tuned with LoRA and
//! sped up stage by stage; a test pins it to candle-transformers' BERT.

use candle_core::{DType, Device, Result as CResult, Tensor, D};

use super::config::{Activation, EncoderConfig, Family};
use super::linear::Linear;
use super::weights::Weights;
use super::ModelError;

/// Inference uses candle's fused kernels; training needs the plain ops that
/// autograd can differentiate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Infer,
    Train,
}

#[derive(Clone)]
pub struct Norm {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
    pub(crate) eps: f64,
}

impl Norm {
    fn forward(&self, x: &Tensor, mode: Mode) -> CResult<Tensor> {
        if mode == Mode::Infer && x.dtype() == DType::F32 {
            return candle_nn::ops::layer_norm(
                &x.contiguous()?,
                &self.weight,
                &self.bias,
                self.eps as f32,
            );
        }
        let dtype = x.dtype();
        let x = x.to_dtype(DType::F32)?;
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed
            .to_dtype(dtype)?
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

#[derive(Clone)]
pub struct Layer {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub attn_out: Linear,
    pub attn_norm: Norm,
    pub ffn_in: Linear,
    pub ffn_out: Linear,
    pub ffn_norm: Norm,
}

/// The names of one layer's parts, in our order; used for adapters too.
pub const LAYER_PARTS: [&str; 6] = ["query", "key", "value", "attn_out", "ffn_in", "ffn_out"];

impl Layer {
    pub fn part_mut(&mut self, name: &str) -> Option<&mut Linear> {
        Some(match name {
            "query" => &mut self.query,
            "key" => &mut self.key,
            "value" => &mut self.value,
            "attn_out" => &mut self.attn_out,
            "ffn_in" => &mut self.ffn_in,
            "ffn_out" => &mut self.ffn_out,
            _ => return None,
        })
    }
}

#[derive(Clone)]
pub struct Encoder {
    pub config: EncoderConfig,
    pub(crate) word: Tensor,
    pub(crate) position: Tensor,
    pub(crate) token_type: Option<Tensor>,
    pub(crate) embed_norm: Norm,
    pub layers: Vec<Layer>,
}

fn linear(w: &Weights, base: &str, out_dim: usize, in_dim: usize) -> Result<Linear, ModelError> {
    let weight = w.get_shaped(&format!("{base}.weight"), &[out_dim, in_dim])?;
    let bias = w.get_shaped(&format!("{base}.bias"), &[out_dim])?;
    Ok(Linear::new(weight, Some(bias)))
}

fn norm(w: &Weights, base: &str, eps: f64) -> Result<Norm, ModelError> {
    let (weight, bias) = w.get_norm(base)?;
    Ok(Norm { weight, bias, eps })
}

impl Encoder {
    /// Builds the encoder from weights whose prefix has already been chosen.
    pub fn load(w: &Weights, config: &EncoderConfig) -> Result<Self, ModelError> {
        let h = config.hidden_size;
        let i = config.intermediate_size;
        let eps = config.layer_norm_eps;
        let word = w.get_shaped("embeddings.word_embeddings.weight", &[config.vocab_size, h])?;
        let position = w.get_shaped(
            "embeddings.position_embeddings.weight",
            &[config.max_positions, h],
        )?;
        let token_type = if config.family == Family::DistilBert {
            None
        } else {
            Some(w.get_shaped(
                "embeddings.token_type_embeddings.weight",
                &[config.type_vocab_size, h],
            )?)
        };
        let embed_norm = norm(w, "embeddings.LayerNorm", eps)?;
        let mut layers = Vec::with_capacity(config.num_layers);
        for n in 0..config.num_layers {
            let layer = if config.family == Family::DistilBert {
                let p = format!("transformer.layer.{n}");
                Layer {
                    query: linear(w, &format!("{p}.attention.q_lin"), h, h)?,
                    key: linear(w, &format!("{p}.attention.k_lin"), h, h)?,
                    value: linear(w, &format!("{p}.attention.v_lin"), h, h)?,
                    attn_out: linear(w, &format!("{p}.attention.out_lin"), h, h)?,
                    attn_norm: norm(w, &format!("{p}.sa_layer_norm"), eps)?,
                    ffn_in: linear(w, &format!("{p}.ffn.lin1"), i, h)?,
                    ffn_out: linear(w, &format!("{p}.ffn.lin2"), h, i)?,
                    ffn_norm: norm(w, &format!("{p}.output_layer_norm"), eps)?,
                }
            } else {
                let p = format!("encoder.layer.{n}");
                Layer {
                    query: linear(w, &format!("{p}.attention.self.query"), h, h)?,
                    key: linear(w, &format!("{p}.attention.self.key"), h, h)?,
                    value: linear(w, &format!("{p}.attention.self.value"), h, h)?,
                    attn_out: linear(w, &format!("{p}.attention.output.dense"), h, h)?,
                    attn_norm: norm(w, &format!("{p}.attention.output.LayerNorm"), eps)?,
                    ffn_in: linear(w, &format!("{p}.intermediate.dense"), i, h)?,
                    ffn_out: linear(w, &format!("{p}.output.dense"), h, i)?,
                    ffn_norm: norm(w, &format!("{p}.output.LayerNorm"), eps)?,
                }
            };
            layers.push(layer);
        }
        Ok(Self {
            config: config.clone(),
            word,
            position,
            token_type,
            embed_norm,
            layers,
        })
    }

    pub fn device(&self) -> &Device {
        self.word.device()
    }

    pub fn dtype(&self) -> DType {
        self.word.dtype()
    }

    /// Where the first token's position embedding sits.
    pub fn position_offset(&self) -> usize {
        match self.config.family {
            // Right padding: real tokens sit at positions pad+1, pad+2, …
            Family::Roberta => self.config.pad_token_id as usize + 1,
            _ => 0,
        }
    }

    /// Token, position and segment embeddings: `ids` `[B, T]` → `[B, T, H]`.
    pub fn embed(&self, ids: &Tensor, mode: Mode) -> CResult<Tensor> {
        let (_, t) = ids.dims2()?;
        let offset = self.position_offset();
        let words = self.word.embedding(&ids.flatten_all()?)?.reshape(
            ids.dims()
                .iter()
                .copied()
                .chain([self.config.hidden_size])
                .collect::<Vec<_>>(),
        )?;
        let positions = self.position.narrow(0, offset, t)?;
        let mut x = words.broadcast_add(&positions)?;
        if let Some(tt) = &self.token_type {
            x = x.broadcast_add(&tt.get(0)?)?;
        }
        self.embed_norm.forward(&x, mode)
    }

    /// The additive attention bias for a `[B, T]` mask of 1 (token) / 0 (pad):
    /// `[B, 1, 1, T]`, 0 where attended and a large negative where not. The
    /// value stays finite in bf16/f16 (f32::MIN would overflow to -inf there).
    pub fn mask_bias(&self, mask: &Tensor) -> CResult<Tensor> {
        let (b, t) = mask.dims2()?;
        let bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?;
        bias.reshape((b, 1, 1, t))?.to_dtype(self.dtype())
    }

    /// Runs layers `from..to` over hidden states `[B, T, H]`.
    pub fn run_layers(
        &self,
        mut x: Tensor,
        bias: &Tensor,
        from: usize,
        to: usize,
        mode: Mode,
    ) -> CResult<Tensor> {
        for layer in &self.layers[from..to] {
            x = self.layer_forward(layer, &x, bias, mode)?;
        }
        Ok(x)
    }

    /// The full encoder: `ids`, `mask` `[B, T]` → hidden states `[B, T, H]`.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, mode: Mode) -> CResult<Tensor> {
        let x = self.embed(ids, mode)?;
        let bias = self.mask_bias(mask)?;
        self.run_layers(x, &bias, 0, self.layers.len(), mode)
    }

    fn layer_forward(&self, l: &Layer, x: &Tensor, bias: &Tensor, mode: Mode) -> CResult<Tensor> {
        let (b, t, h) = x.dims3()?;
        let heads = self.config.num_heads;
        let dh = h / heads;
        let split = |y: Tensor| -> CResult<Tensor> {
            y.reshape((b, t, heads, dh))?.transpose(1, 2)?.contiguous()
        };
        let q = split(l.query.forward(x)?)?;
        let k = split(l.key.forward(x)?)?;
        let v = split(l.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? * (1.0 / (dh as f64).sqrt()))?.broadcast_add(bias)?;
        let probs = match mode {
            Mode::Infer => candle_nn::ops::softmax_last_dim(&scores)?,
            Mode::Train => {
                let max = scores.max_keepdim(D::Minus1)?;
                let e = scores.broadcast_sub(&max)?.exp()?;
                e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?
            }
        };
        let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, h))?;
        let attn = l
            .attn_norm
            .forward(&(l.attn_out.forward(&ctx)? + x)?, mode)?;
        let inner = l.ffn_in.forward(&attn)?;
        let inner = match self.config.activation {
            Activation::Gelu => match mode {
                Mode::Infer => super::fast_gelu::gelu_erf_infer(&inner)?,
                Mode::Train => inner.gelu_erf()?,
            },
            Activation::GeluTanh => inner.gelu()?,
            Activation::Relu => inner.relu()?,
        };
        l.ffn_norm
            .forward(&(l.ffn_out.forward(&inner)? + attn)?, mode)
    }
}

/// Mean of the hidden states over real tokens: `[B, T, H]`, `[B, T]` → `[B, H]`.
pub fn mean_pool(hidden: &Tensor, mask: &Tensor) -> CResult<Tensor> {
    let m = mask.to_dtype(hidden.dtype())?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&m)?.sum(1)?;
    let counts = m.sum(1)?.clamp(1.0, f64::MAX)?;
    summed.broadcast_div(&counts)
}
