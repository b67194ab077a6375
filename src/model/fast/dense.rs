//! A dense layer in the number format the encoder runs: fp32, int8 or bf16.
//! The encoder calls one `forward` either way; the format is fixed at load.

use super::gemm::{Accumulate, Epilogue, PackedLinear};
use super::gemm_bf16::Bf16Linear;
use super::gemm_int8::QuantLinear;

/// How the encoder's dense layers hold their weights and multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerFormat {
    /// fp32 weights and inputs.
    Fp32,
    /// int8 weights per output channel, inputs quantised per row (`gemm_int8`).
    Int8,
    /// bf16 weights and inputs, fp32 sums (`gemm_bf16`).
    Bf16,
}

pub enum Dense {
    Fp32(PackedLinear),
    Int8(QuantLinear),
    Bf16(Bf16Linear),
}

impl Dense {
    /// `weight` row-major `[n, k]` in `format`, for the process's kernel path.
    pub fn pack(format: LayerFormat, weight: &[f32], bias: &[f32], n: usize, k: usize) -> Self {
        match format {
            LayerFormat::Fp32 => Dense::Fp32(PackedLinear::pack(weight, Some(bias), n, k)),
            LayerFormat::Int8 => Dense::Int8(QuantLinear::pack(weight, Some(bias), n, k)),
            LayerFormat::Bf16 => Dense::Bf16(Bf16Linear::pack(weight, Some(bias), n, k)),
        }
    }

    /// `y[m, n] (=|+=) x[m, k] · Wᵀ + b`; `then` on each finished block.
    pub fn forward(
        &self,
        x: &[f32],
        m: usize,
        y: &mut [f32],
        mode: Accumulate,
        then: Option<&Epilogue<'_>>,
    ) {
        match self {
            Dense::Fp32(layer) => layer.forward(x, m, y, mode, then),
            Dense::Int8(layer) => layer.forward(x, m, y, mode, then),
            Dense::Bf16(layer) => layer.forward(x, m, y, mode, then),
        }
    }
}
