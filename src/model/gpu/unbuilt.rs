//! A build without `--features cuda` has no GPU encoder: the type exists so
//! the code that would use one compiles, and it can never be made.

use crate::model::fast::Pooled;
use crate::model::flat_encoder::FlatEncoder;
use crate::model::{ModelError, Precision};

/// The GPU architectures the kernels carry machine code for: none.
pub const BUILT_FOR: &str = "";

pub enum GpuEncoder {}

impl GpuEncoder {
    pub fn unsupported(_: &FlatEncoder) -> Option<String> {
        Some("this calltone was built without --features cuda".into())
    }

    pub fn new(
        _: &FlatEncoder,
        _: &candle_core::CudaDevice,
        _: Precision,
    ) -> Result<Self, ModelError> {
        Err(ModelError::Unavailable(
            "this calltone was built without --features cuda".into(),
        ))
    }

    pub fn precision(&self) -> Precision {
        match *self {}
    }

    pub fn hidden(&self) -> usize {
        match *self {}
    }

    pub fn forward_batches(&self, _: &[Vec<&[u32]>]) -> Result<Pooled, ModelError> {
        match *self {}
    }
}
