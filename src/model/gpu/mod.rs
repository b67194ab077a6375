//! The encoder on a CUDA GPU with calltone's own kernels: ragged batches,
//! kernels compiled ahead of time for the GPU architectures the build names
//! (no compiling when a process starts), cuBLAS for the multiplies. candle's
//! encoder stays the GPU's reference (`--precision reference`) and the
//! fallback for models these kernels do not take.

pub mod archs;
pub mod blas_shape;
pub mod launch;
pub mod layout;

#[cfg(feature = "cuda")]
mod encoder;
#[cfg(feature = "cuda")]
pub use encoder::{GpuEncoder, BUILT_FOR};

#[cfg(not(feature = "cuda"))]
mod unbuilt;
#[cfg(not(feature = "cuda"))]
pub use unbuilt::{GpuEncoder, BUILT_FOR};
