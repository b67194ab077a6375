//! Exact (erf) GELU for CPU inference without a scalar `erf` call per
//! element. candle's `gelu_erf` evaluates erf in f64 one value at a time,
//! 17–22% of the encoder's time; here erf is Abramowitz & Stegun 7.1.26
//! (|error| ≤ 1.5e-7) over an exp built from bit operations and a
//! polynomial, written as plain loops the compiler vectorises, and the rows
//! are split across rayon's threads. Inference only: training keeps candle's
//! op (this one has no backward pass). Tested against candle's `gelu_erf`.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use crate::model::fast::cpu::per_path;
use crate::model::fast::fma::fmadd;

/// `e^x` for x in about [−87, 0] (all erf needs): 2^(x·log2 e) split into
/// an integer power set in the exponent bits and a degree-6 polynomial for
/// the fraction in [−½, ½) (relative error ≤ 3e-7 + 1e-7·|x|: erf only
/// needs it where e^(−x²) still matters, |x| < 4). `FUSED`: Horner steps
/// as FMAs (see `fast::fma::fmadd`).
#[inline(always)]
pub fn exp_neg<const FUSED: bool>(x: f32) -> f32 {
    let x = x.max(-87.0);
    let t = x * std::f32::consts::LOG2_E;
    // floor(t + ½), not round(): floor maps to one vector instruction.
    let i = (t + 0.5).floor();
    // f in [−0.5, 0.5); 2^f by its Taylor series in f·ln2 (Horner form).
    let f = t - i;
    let fma = fmadd::<FUSED>;
    let p = fma(
        f,
        fma(
            f,
            fma(
                f,
                fma(
                    f,
                    fma(f, fma(f, 0.000_154_035_3, 0.001_333_355_8), 0.009_618_129),
                    0.055_504_11,
                ),
                0.240_226_5,
            ),
            std::f32::consts::LN_2,
        ),
        1.0,
    );
    // 2^i from i's bits: adding 1.5·2²³ puts the integer i in the low
    // mantissa bits (|i| < 2²²), so exponent bits are integer adds and a
    // shift. (`i as i32` is a saturating cast, which compiles to scalar code
    // and kept the loop from vectorising.)
    const MAGIC: f32 = 12_582_912.0;
    let biased = (i + MAGIC)
        .to_bits()
        .wrapping_sub(MAGIC.to_bits())
        .wrapping_add(127);
    f32::from_bits(biased << 23) * p
}

/// erf by Abramowitz & Stegun 7.1.26.
#[inline(always)]
fn erf<const FUSED: bool>(x: f32) -> f32 {
    let fma = fmadd::<FUSED>;
    let a = x.abs();
    let t = 1.0 / fma(0.327_591_1, a, 1.0);
    let poly = t * fma(
        t,
        fma(
            t,
            fma(t, fma(t, 1.061_405_4, -1.453_152_1), 1.421_413_7),
            -0.284_496_74,
        ),
        0.254_829_6,
    );
    let y = fma(-poly, exp_neg::<FUSED>(-a * a), 1.0);
    y.copysign(x)
}

per_path! {
    /// GELU(x) = x/2 · (1 + erf(x/√2)) over a slice.
    pub fn gelu_erf_slice(src: &[f32], dst: &mut [f32]) {
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = 0.5 * x * (1.0 + erf::<FUSED>(x * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

per_path! {
    /// GELU in place (the fast encoder applies it to a GEMM's output block).
    pub fn gelu_erf_in_place(v: &mut [f32]) {
        for x in v.iter_mut() {
            *x = 0.5 * *x * (1.0 + erf::<FUSED>(*x * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

struct FastGelu;

impl CustomOp1 for FastGelu {
    fn name(&self) -> &'static str {
        "fast-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("fast-gelu-erf: f32 only");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("fast-gelu-erf: contiguous input only");
        };
        let src = &data[start..end];
        let mut out = vec![0f32; src.len()];
        const CHUNK: usize = 16 * 1024;
        out.par_chunks_mut(CHUNK)
            .zip(src.par_chunks(CHUNK))
            .for_each(|(d, s)| gelu_erf_slice(s, d));
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

/// Exact GELU for inference: the fast kernel on contiguous f32 CPU tensors,
/// candle's op otherwise.
pub fn gelu_erf_infer(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 && x.is_contiguous() {
        x.apply_op1_no_bwd(&FastGelu)
    } else {
        x.gelu_erf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_candles_exact_gelu_on_random_inputs() {
        // Fresh random inputs over the range activations take (and beyond).
        let x = (Tensor::randn(0f32, 3.0, (64, 1536), &Device::Cpu).unwrap()
            + Tensor::rand(-0.5f32, 0.5, (64, 1536), &Device::Cpu).unwrap())
        .unwrap();
        let fast = gelu_erf_infer(&x).unwrap();
        let reference = x.gelu_erf().unwrap();
        let diff = (fast - reference)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        // Stated bound: 2e-6 absolute (erf ≤ 1.5e-7, exp ≤ 3e-7 relative, times |x|/2).
        assert!(diff < 2e-6, "max |fast - reference| = {diff}");
    }

    #[test]
    fn exp_and_erf_at_known_points() {
        // Relative error grows with |x| as x·log2(e) is rounded: ≤ 3e-7 + 1e-7·|x|.
        for x in [-87.0f32, -20.0, -3.3, -1.0, -0.25, 0.0] {
            let rel = (exp_neg::<false>(x) - x.exp()).abs() / x.exp().max(f32::MIN_POSITIVE);
            assert!(rel < 3e-7 + 1e-7 * x.abs(), "exp({x}): {rel}");
        }
        // A&S 7.1.26 is within 1.5e-7; f32 arithmetic adds a little.
        assert!((erf::<false>(0.5) - 0.520_499_9).abs() < 4e-7);
        assert!((erf::<false>(-2.0) + 0.995_322_3).abs() < 4e-7);
        assert!(erf::<false>(0.0).abs() < 4e-7);
        assert!((erf::<false>(6.0) - 1.0).abs() < 1e-7);
    }
}
