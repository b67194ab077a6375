//! When calltone's GPU kernels fail in the middle of a run (a fault, memory
//! running out), the rest of the run scores on the CPU's fp32 kernels
//! instead of failing every call still to come: a night's scoring then
//! finishes, slower. Said once on standard error; the summary's engine says
//! it too. The encoder's f32 weights are still on the host (the GPU path
//! loads them there first), so the CPU kernels are packed from them when
//! the first fault happens, not before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use super::encoder::Encoder;
use super::fast::{FastEncoder, LayerFormat, Pooled};
use super::ModelError;

#[derive(Default)]
pub struct GpuFault {
    /// Whether the GPU has failed in this run.
    failed: AtomicBool,
    /// The CPU's fp32 kernels, packed at the first fault.
    cpu: OnceLock<Result<FastEncoder, String>>,
}

impl GpuFault {
    /// Whether the GPU has failed in this run.
    pub fn happened(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Notes a GPU failure; the first is said on standard error.
    pub fn record(&self, error: &ModelError) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            crate::say!(
                "calltone: the GPU failed mid-run ({error}); scoring the rest of the run on the \
                 CPU (fp32)"
            );
        }
    }

    /// Every row's pooled states on the CPU's fp32 kernels, batch by
    /// batch in order (the kernels split each batch across the cores).
    pub fn pool_on_cpu(
        &self,
        encoder: &Encoder,
        batches: &[Vec<&[u32]>],
    ) -> Result<Pooled, ModelError> {
        let cpu = self
            .cpu
            .get_or_init(|| {
                FastEncoder::from_encoder(encoder, LayerFormat::Fp32).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| {
                ModelError::Unavailable(format!(
                    "the GPU failed, and the CPU kernels cannot take over: {e}"
                ))
            })?;
        let mut pooled = Pooled {
            first: Vec::new(),
            mean: Vec::new(),
        };
        for rows in batches {
            let part = cpu.forward(rows)?;
            pooled.first.extend(part.first);
            pooled.mean.extend(part.mean);
        }
        Ok(pooled)
    }
}
