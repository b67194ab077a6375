//! When calltone's GPU kernels fail in the middle of a run (a fault, memory
//! running out), the rest of the run scores on the CPU's fp32 kernels
//! instead of failing every call still to come: a night's scoring then
//! finishes, slower. Said once on standard error; the summary's engine says
//! it too. The encoder's f32 weights are still on the host (the GPU path
//! loads them there first), so the CPU kernels are packed from them when
//! the first fault happens, not before.

use std::sync::OnceLock;

use rayon::prelude::*;

use super::encoder::Encoder;
use super::fast::{FastEncoder, LayerFormat, Pooled};
use super::ModelError;

/// Tokens a CPU batch holds: the CPU path's own default, so batches run
/// side by side, one core each.
const CPU_BATCH_TOKENS: usize = 512;

#[derive(Default)]
pub struct GpuFault {
    /// The first fault's message, once there has been one.
    cause: OnceLock<String>,
    /// The CPU's fp32 kernels, packed at the first fault.
    cpu: OnceLock<Result<FastEncoder, String>>,
}

impl GpuFault {
    /// Whether the GPU has failed in this run.
    pub fn happened(&self) -> bool {
        self.cause.get().is_some()
    }

    /// Notes a GPU failure; the first is said on standard error.
    pub fn record(&self, error: &ModelError) {
        let mut first = false;
        self.cause.get_or_init(|| {
            first = true;
            error.to_string()
        });
        if first {
            crate::say!(
                "calltone: the GPU failed mid-run ({error}); scoring the rest of the run on the \
                 CPU (fp32)"
            );
        }
    }

    /// Every row's pooled states on the CPU's fp32 kernels, in order.
    pub fn pool_on_cpu(&self, encoder: &Encoder, rows: &[&[u32]]) -> Result<Pooled, ModelError> {
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
        let parts = cpu_batches(rows)
            .par_iter()
            .map(|batch| cpu.forward(batch))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pooled = Pooled {
            first: Vec::new(),
            mean: Vec::new(),
        };
        for part in parts {
            pooled.first.extend(part.first);
            pooled.mean.extend(part.mean);
        }
        Ok(pooled)
    }
}

/// `rows` cut in order into batches of at most [`CPU_BATCH_TOKENS`] tokens
/// (a longer row alone).
fn cpu_batches<'a>(rows: &[&'a [u32]]) -> Vec<Vec<&'a [u32]>> {
    let mut batches: Vec<Vec<&[u32]>> = Vec::new();
    let mut tokens = 0;
    for &row in rows {
        match batches.last_mut() {
            Some(batch) if tokens + row.len() <= CPU_BATCH_TOKENS => batch.push(row),
            _ => {
                batches.push(vec![row]);
                tokens = 0;
            }
        }
        tokens += row.len();
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_batches_keep_every_row_in_order_within_the_budget() {
        let lengths = [3, 500, 20, 600, 1, 511, 1, 0, 512];
        let owned: Vec<Vec<u32>> = lengths
            .iter()
            .enumerate()
            .map(|(i, &n)| vec![i as u32; n])
            .collect();
        let rows: Vec<&[u32]> = owned.iter().map(|r| r.as_slice()).collect();
        let batches = cpu_batches(&rows);
        let flat: Vec<&[u32]> = batches.iter().flatten().copied().collect();
        assert_eq!(flat, rows, "every row once, in order");
        for batch in &batches {
            let tokens: usize = batch.iter().map(|r| r.len()).sum();
            assert!(
                tokens <= CPU_BATCH_TOKENS || batch.len() == 1,
                "a batch of {tokens} tokens in {} rows",
                batch.len()
            );
        }
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [2, 1, 1, 2, 2, 1]
        );
    }
}
