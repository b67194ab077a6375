//! How inference runs: which kernels and which number format.

use std::fmt;

/// Chosen with `--precision`; each is allowed only where its dev-set
/// accuracy stays within half a point of fp32 (README, speed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// The best for the device: on the CPU int8 where the CPU has VNNI and the model's
    /// dev metrics in int8 were measured within half a point of fp32, else fp32; bf16 on
    /// CUDA (f16 before compute capability 8.0, fp32 before 5.3), f16 on Metal.
    #[default]
    Auto,
    /// fp32: calltone's kernels (ragged batches, packed weights, fused bias) on the CPU
    /// or a CUDA GPU; candle's fp32 on Metal.
    Fp32,
    /// int8 dense layers on the CPU (weights per output channel, inputs per row; fast
    /// where the CPU has VNNI), the rest fp32. CPU only.
    Int8,
    /// bf16 weights and activations: on a CUDA GPU calltone's kernels (sums, norms and
    /// softmax in f32); on the CPU calltone's bf16 dense layers (fast with AVX512-BF16),
    /// the rest fp32.
    Bf16,
    /// f16 weights and activations (GPU only: calltone's kernels on CUDA, candle's on
    /// Metal).
    F16,
    /// candle's encoder, fp32, padded batches, on any device: the reference the kernels
    /// are tested against.
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

    /// What runs on a CUDA GPU of compute capability `cc` (`None`: not
    /// known) when `self` was asked for: bf16 needs 8.0 (Ampere) for its
    /// arithmetic and f16 needs 5.3, so `auto` steps down to f16, then
    /// fp32, and says so; an explicit bf16 or f16 the GPU lacks is refused
    /// with what to use instead.
    pub fn on_cuda(self, cc: Option<(i32, i32)>) -> Result<(Precision, Option<String>), String> {
        const BF16: (i32, i32) = (8, 0);
        const F16: (i32, i32) = (5, 3);
        let Some(cc) = cc else {
            return Ok((
                if self == Precision::Auto {
                    Precision::Bf16
                } else {
                    self
                },
                None,
            ));
        };
        let gpu = format!("this GPU (compute capability {}.{})", cc.0, cc.1);
        match self {
            Precision::Auto if cc >= BF16 => Ok((Precision::Bf16, None)),
            Precision::Auto if cc >= F16 => Ok((
                Precision::F16,
                Some(format!("{gpu} has no bf16 arithmetic (8.0 and newer): running f16")),
            )),
            Precision::Auto => Ok((
                Precision::Fp32,
                Some(format!("{gpu} has neither bf16 nor f16 arithmetic: running fp32")),
            )),
            Precision::Bf16 if cc < BF16 => Err(format!(
                "--precision bf16 needs compute capability 8.0 or newer; {gpu} does not have it:                  use --precision f16 or fp32"
            )),
            Precision::F16 if cc < F16 => Err(format!(
                "--precision f16 needs compute capability 5.3 or newer; {gpu} does not have it:                  use --precision fp32"
            )),
            p => Ok((p, None)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_steps_down_on_gpus_without_bf16_and_says_so() {
        let auto = |cc| Precision::Auto.on_cuda(cc).unwrap();
        assert_eq!(auto(Some((9, 0))), (Precision::Bf16, None));
        assert_eq!(auto(Some((8, 0))), (Precision::Bf16, None));
        assert_eq!(auto(None), (Precision::Bf16, None));
        let (p, why) = auto(Some((7, 5)));
        assert_eq!(p, Precision::F16);
        assert!(why.unwrap().contains("compute capability 7.5"));
        let (p, why) = auto(Some((5, 2)));
        assert_eq!(p, Precision::Fp32);
        assert!(why.unwrap().contains("neither bf16 nor f16"));
    }

    #[test]
    fn an_explicit_format_the_gpu_lacks_is_refused_with_what_to_use() {
        let err = Precision::Bf16.on_cuda(Some((7, 0))).unwrap_err();
        assert!(err.contains("8.0") && err.contains("f16 or fp32"), "{err}");
        let err = Precision::F16.on_cuda(Some((5, 0))).unwrap_err();
        assert!(err.contains("5.3") && err.contains("fp32"), "{err}");
        assert_eq!(
            Precision::Fp32.on_cuda(Some((3, 5))).unwrap(),
            (Precision::Fp32, None)
        );
        assert_eq!(
            Precision::Bf16.on_cuda(Some((8, 6))).unwrap(),
            (Precision::Bf16, None)
        );
    }
}
