//! How fast this machine could run the encoder at best, to report measured
//! throughput as a fraction of it: FLOPs per token from the model's shape,
//! and the CPU's fp32 peak from its vector width and clock (an estimate) or
//! from a timed matrix multiply of the encoder's own shape (a measurement,
//! in the number format the encoder runs). The timed multiplies are also
//! the side-by-side comparison of the GEMM candidates: the `gemm` crate
//! (candle's), calltone's fp32 kernel and calltone's int8 kernel.

use std::time::Instant;

use candle_core::{Device, Tensor};
use serde::Serialize;

use crate::model::config::EncoderConfig;
use crate::model::fast::gemm::{Accumulate, PackedLinear, NR};
use crate::model::fast::gemm_bf16::Bf16Linear;
use crate::model::fast::gemm_int8::QuantLinear;
use crate::model::fast::LayerFormat;

/// FLOPs to run one token through the encoder: 2 per multiply-add of the
/// linear layers, plus attention's scores and weighted sum over `seq` tokens.
pub fn flops_per_token(c: &EncoderConfig, seq: f64) -> f64 {
    let (h, i, l) = (
        c.hidden_size as f64,
        c.intermediate_size as f64,
        c.num_layers as f64,
    );
    2.0 * l * (4.0 * h * h + 2.0 * h * i) + l * 4.0 * h * seq
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub model_name: String,
    pub vector: &'static str,
    pub ghz: Option<f64>,
    /// fp32 FLOP per cycle per core assumed for the vector unit (0: not
    /// assumed, AVX-512 parts differ).
    pub flop_per_cycle: f64,
    /// cores × FLOP/cycle × clock, when the clock is known.
    pub estimated_gflops: Option<f64>,
    /// The fastest GEMM for the format the encoder runs (fp32: the faster
    /// of the `gemm` crate and calltone's kernel; int8: calltone's int8
    /// kernel, in multiply-adds × 2 per second), timed on the encoder's
    /// feed-forward shape on all cores.
    pub measured_gemm_gflops: f64,
    /// Each candidate on that shape.
    pub gemm: GemmRates,
}

/// Each GEMM timed on the encoder's feed-forward shape (512 rows), all cores.
#[derive(Debug, Clone, Serialize)]
pub struct GemmRates {
    pub shape: [usize; 3],
    /// The `gemm` crate through candle's `matmul` (fp32).
    pub gemm_crate_gflops: f64,
    /// calltone's packed fp32 kernel on the active path.
    pub calltone_fp32_gflops: f64,
    /// calltone's int8 kernel on the active path (2 operations per multiply-add).
    pub calltone_int8_gops: f64,
    /// calltone's bf16 kernel on the active path.
    pub calltone_bf16_gflops: f64,
}

fn cpuinfo() -> String {
    std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default()
}

fn max_ghz(info: &str) -> Option<f64> {
    let from_sysfs =
        std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map(|khz| khz / 1e6);
    from_sysfs.or_else(|| {
        info.lines()
            .filter(|l| l.starts_with("cpu MHz"))
            .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
            .map(|mhz| mhz / 1000.0)
    })
}

/// Runs `step` repeatedly for about half a second; GFLOP/s for `flops` a step.
fn timed(flops: f64, mut step: impl FnMut() -> bool) -> f64 {
    if !step() {
        return 0.0; // warm-up failed
    }
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed().as_secs_f64() < 0.5 {
        if !step() {
            return 0.0;
        }
        runs += 1;
    }
    flops * runs as f64 / started.elapsed().as_secs_f64() / 1e9
}

/// Each candidate timed on `a (m×k) · b (k×n)`.
fn gemm_rates(m: usize, k: usize, n: usize) -> GemmRates {
    let flops = 2.0 * (m * k * n) as f64;
    let dev = Device::Cpu;
    let gemm_crate = match (
        Tensor::randn(0f32, 1.0, (m, k), &dev),
        Tensor::randn(0f32, 1.0, (k, n), &dev),
    ) {
        (Ok(a), Ok(b)) => timed(flops, || a.matmul(&b).is_ok()),
        _ => 0.0,
    };
    let x: Vec<f32> = (0..m * k)
        .map(|i| ((i % 97) as f32 - 48.0) / 97.0)
        .collect();
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i % 89) as f32 - 44.0) / 89.0)
        .collect();
    let mut y = vec![0f32; m * n];
    let (fp32, int8, bf16) = if n.is_multiple_of(NR) {
        let packed = PackedLinear::pack(&w, None, n, k);
        let fp32 = timed(flops, || {
            packed.forward(&x, m, &mut y, Accumulate::Overwrite, None);
            true
        });
        let quantised = QuantLinear::pack(&w, None, n, k);
        let int8 = timed(flops, || {
            quantised.forward(&x, m, &mut y, Accumulate::Overwrite, None);
            true
        });
        let rounded = Bf16Linear::pack(&w, None, n, k);
        let bf16 = timed(flops, || {
            rounded.forward(&x, m, &mut y, Accumulate::Overwrite, None);
            true
        });
        (fp32, int8, bf16)
    } else {
        (0.0, 0.0, 0.0)
    };
    GemmRates {
        shape: [m, k, n],
        gemm_crate_gflops: gemm_crate,
        calltone_fp32_gflops: fp32,
        calltone_int8_gops: int8,
        calltone_bf16_gflops: bf16,
    }
}

/// The rate of one device's matrix multiply in the dtype the encoder runs
/// there: on a GPU, the ceiling `bench` reports against (the CPU's has
/// nothing to say about a GPU run).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceGemm {
    /// `[m, k, n]`: the encoder's feed-forward shape at the device's batch
    /// size in tokens.
    pub shape: [usize; 3],
    pub dtype: String,
    /// 2 × multiply-adds per second, over the timed runs (the first, which
    /// loads the kernels, is not timed).
    pub gflops: f64,
}

/// Times `[m, k] × [k, n]` in `dtype` on `device`: one untimed run (kernel
/// loading, cuBLAS's first-call setup), then enough runs for half a second
/// or 50, whichever comes first, with the device synchronised before the
/// clock stops.
pub fn device_gemm(
    device: &Device,
    dtype: candle_core::DType,
    m: usize,
    k: usize,
    n: usize,
) -> candle_core::Result<DeviceGemm> {
    // Made on the CPU and copied over: a conversion on the GPU would have
    // the driver compile candle's cast kernels (seconds, once) in a run
    // that otherwise compiles nothing (calltone's GPU kernels are built
    // ahead of time); the multiply itself is cuBLAS's.
    let random = |rows, cols| {
        Tensor::randn(0f32, 1.0, (rows, cols), &Device::Cpu)?
            .to_dtype(dtype)?
            .to_device(device)
    };
    let (a, b) = (random(m, k)?, random(k, n)?);
    a.matmul(&b)?;
    device.synchronize()?;
    let started = Instant::now();
    let mut runs = 0u32;
    while runs < 50 && (runs < 3 || started.elapsed().as_secs_f64() < 0.5) {
        a.matmul(&b)?;
        runs += 1;
    }
    device.synchronize()?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    Ok(DeviceGemm {
        shape: [m, k, n],
        dtype: format!("{dtype:?}").to_ascii_lowercase(),
        gflops: 2.0 * (m * k * n) as f64 * f64::from(runs) / secs / 1e9,
    })
}

/// This machine, with the GEMM ceiling for the encoder's `format`.
pub fn machine(c: &EncoderConfig, cores: usize, format: LayerFormat) -> Machine {
    let info = cpuinfo();
    let flags = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .unwrap_or("")
        .to_string();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    // AVX-512 parts differ in FMA units (Zen 4 splits 512-bit work over
    // 256-bit units; Zen 5 and most Xeons have two 512-bit units), so no
    // per-cycle figure is assumed there: the measured GEMM ceiling stands.
    let (vector, flop_per_cycle) = if has("avx512f") && has("amx_int8") {
        ("avx512+amx", 0.0)
    } else if has("avx512f") {
        ("avx512", 0.0)
    } else if has("avx2") && has("fma") {
        ("avx2+fma", 32.0)
    } else if has("avx") {
        ("avx", 16.0)
    } else {
        ("sse/other", 8.0)
    };
    let ghz = max_ghz(&info);
    let gemm = gemm_rates(512, c.hidden_size, c.intermediate_size);
    Machine {
        cores,
        model_name: info
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(|| "unknown".into(), |s| s.trim().to_string()),
        vector,
        ghz,
        flop_per_cycle,
        estimated_gflops: ghz
            .filter(|_| flop_per_cycle > 0.0)
            .map(|g| cores as f64 * flop_per_cycle * g),
        measured_gemm_gflops: match format {
            LayerFormat::Fp32 => gemm.gemm_crate_gflops.max(gemm.calltone_fp32_gflops),
            LayerFormat::Int8 => gemm.calltone_int8_gops,
            LayerFormat::Bf16 => gemm.calltone_bf16_gflops,
        },
        gemm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device GEMM timing runs on any device; here on the CPU, where
    /// its rate must be a positive, finite figure of the shape asked.
    #[test]
    fn the_device_gemm_is_timed_on_the_device_given() {
        let g = device_gemm(&Device::Cpu, candle_core::DType::F32, 64, 96, 128).unwrap();
        assert_eq!(g.shape, [64, 96, 128]);
        assert_eq!(g.dtype, "f32");
        assert!(g.gflops.is_finite() && g.gflops > 0.0, "{g:?}");
    }

    #[test]
    fn minilm_is_about_21_mflop_per_token() {
        let c = EncoderConfig {
            family: crate::model::config::Family::Bert,
            vocab_size: 30522,
            hidden_size: 384,
            num_layers: 6,
            num_heads: 12,
            intermediate_size: 1536,
            max_positions: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            activation: crate::model::config::Activation::Gelu,
            labels: vec![],
        };
        let f = flops_per_token(&c, 0.0);
        assert!((f - 21.23e6).abs() < 0.01e6, "{f}");
    }
}
