//! The encoder's inference path on plain slices with calltone's own kernels
//! (docs/speed.md): ragged batches (every row only as long as its
//! text, so no padding is computed), weights packed once at load, Q/K/V as
//! one GEMM, bias and residual fused into the GEMMs, the activation applied
//! to each output block while it is still in cache, and attention per
//! sequence. The candle encoder stays the reference: tests pin this path to
//! it on random models of every supported layout and on the real one.

pub mod amx;
pub mod attention;
pub mod cpu;
pub mod dense;
pub mod encoder;
pub mod fma;
pub mod gemm;
mod gemm_amx;
#[cfg(target_arch = "x86_64")]
mod gemm_avx2;
#[cfg(target_arch = "x86_64")]
mod gemm_avx512;
pub mod gemm_bf16;
#[cfg(target_arch = "x86_64")]
mod gemm_bf16_avx512;
pub mod gemm_int8;
#[cfg(target_arch = "x86_64")]
mod gemm_vnni;
pub mod head;
mod reuse;
pub mod rows;

pub use dense::LayerFormat;
pub use encoder::{FastEncoder, Pooled};
pub use head::FastHead;
