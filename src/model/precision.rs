//! How inference runs: which kernels and which number format.

use std::fmt;

/// Chosen with `--precision`; each is allowed only where its dev-set
/// accuracy stays within half a point of fp32 (README, speed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// The best for the device: on the CPU int8 where the CPU has VNNI and the model's
    /// dev metrics in int8 were measured within half a point of fp32, else fp32; bf16 on
    /// CUDA, f16 on Metal.
    #[default]
    Auto,
    /// fp32: calltone's CPU kernels (ragged batches, packed weights, fused bias), or
    /// candle's fp32 on a GPU.
    Fp32,
    /// int8 dense layers on the CPU (weights per output channel, inputs per row; fast
    /// where the CPU has VNNI), the rest fp32. CPU only.
    Int8,
    /// bf16 weights and activations: on a GPU candle's; on the CPU calltone's bf16 dense
    /// layers (fast with AVX512-BF16), the rest fp32.
    Bf16,
    /// f16 weights and activations (GPU only).
    F16,
    /// candle's encoder, fp32, padded batches: the reference the kernels are tested against.
    Reference,
}

impl Precision {
    /// What `auto` means on a device before the model is read: fp32 on
    /// the CPU (the model's measured record may then choose int8:
    /// `precision_record::choose_on_cpu`), bf16 / f16 on GPUs (tensor cores
    /// run them, not fp32, at full rate).
    pub fn resolve(self, device: &candle_core::Device) -> Precision {
        match (self, device) {
            (Precision::Auto, candle_core::Device::Cuda(_)) => Precision::Bf16,
            (Precision::Auto, candle_core::Device::Metal(_)) => Precision::F16,
            (Precision::Auto, candle_core::Device::Cpu) => Precision::Fp32,
            (p, _) => p,
        }
    }

    /// The dtype the weights are loaded in.
    pub fn dtype(self) -> candle_core::DType {
        match self {
            Precision::Bf16 => candle_core::DType::BF16,
            Precision::F16 => candle_core::DType::F16,
            _ => candle_core::DType::F32,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::Auto => "auto",
            Precision::Fp32 => "fp32",
            Precision::Int8 => "int8",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
            Precision::Reference => "reference",
        })
    }
}
