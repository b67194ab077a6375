//! How inference runs: which kernels and which number format.

use std::fmt;

/// Chosen with `--precision`; each is allowed only where its dev-set
/// accuracy stays within half a point of fp32 (README, speed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// calltone's fp32 CPU kernels: ragged batches, packed weights, fused bias.
    #[default]
    Fp32,
    /// candle's encoder, fp32, padded batches: the reference the kernels are tested against.
    Reference,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::Fp32 => "fp32",
            Precision::Reference => "reference",
        })
    }
}
