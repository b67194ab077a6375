//! Row-wise pieces of the encoder on plain slices: layer norm, activations,
//! and the small vector helpers attention uses. Written as loops over
//! fixed-width chunks so the compiler vectorises them, once per kernel path
//! (`cpu::per_path`).

use rayon::prelude::*;

use super::cpu::per_path;
use super::fma::fmadd;

/// Rows per parallel task for the cheap row-wise passes.
const ROWS_PER_TASK: usize = 64;

/// A layer norm's learned scale and shift.
pub struct NormParams {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub eps: f32,
}

impl NormParams {
    /// Normalises each `width`-long row of `x` in place.
    pub fn apply_rows(&self, x: &mut [f32], width: usize) {
        x.par_chunks_mut(width * ROWS_PER_TASK)
            .for_each(|block| normalise_block(block, width, self));
    }
}

per_path! {
    fn normalise_block(block: &mut [f32], width: usize, norm: &NormParams) {
        // A `for` loop, not `for_each` with a closure: the closure went into
        // an out-of-line `Iterator::fold` that does not take this copy's
        // target features, so every path normalised in baseline SSE2 (4.6%
        // of an AMX int8 profile, docs/speed.md).
        for row in block.chunks_exact_mut(width) {
            normalise(row, &norm.gamma, &norm.beta, norm.eps);
        }
    }
}

#[inline(always)]
fn normalise(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    {
        let n = row.len() as f32;
        let mean = sum(row) / n;
        let mut var_acc = [0f32; 8];
        let mut chunks = row.chunks_exact(8);
        for c in &mut chunks {
            for i in 0..8 {
                let d = c[i] - mean;
                var_acc[i] += d * d;
            }
        }
        let tail: f32 = chunks
            .remainder()
            .iter()
            .map(|v| (v - mean) * (v - mean))
            .sum();
        let var = (var_acc.iter().sum::<f32>() + tail) / n;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// Sum with eight partial sums (vectorisable, and more accurate than one).
#[inline(always)]
pub fn sum(v: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Dot product with eight partial sums.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..8 {
            acc[i] = fmadd::<false>(x[i], y[i], acc[i]);
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// `y += s · x`
#[inline(always)]
pub fn axpy<const FUSED: bool>(s: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = fmadd::<FUSED>(s, *xi, *yi);
    }
}

/// The feed-forward activations the fast path runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastActivation {
    GeluErf,
    Relu,
}

impl FastActivation {
    pub fn apply(self, v: &mut [f32]) {
        match self {
            FastActivation::GeluErf => crate::model::fast_gelu::gelu_erf_in_place(v),
            FastActivation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn layer_norm_matches_the_definition_on_random_rows() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let width = 387; // not a multiple of 8: the tails count too
        let rows = 70;
        let x: Vec<f32> = (0..rows * width)
            .map(|_| rng.random_range(-3.0f32..5.0))
            .collect();
        let norm = NormParams {
            gamma: (0..width).map(|_| rng.random_range(0.5f32..1.5)).collect(),
            beta: (0..width).map(|_| rng.random_range(-0.5f32..0.5)).collect(),
            eps: 1e-12,
        };
        let mut fast = x.clone();
        norm.apply_rows(&mut fast, width);
        for (r, row) in x.chunks(width).enumerate() {
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / width as f64;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / width as f64;
            for j in 0..width {
                let want = (row[j] as f64 - mean) / (var + 1e-12).sqrt() * norm.gamma[j] as f64
                    + norm.beta[j] as f64;
                let got = fast[r * width + j] as f64;
                // Normalised values are O(1): fp32 sums of ~400 terms stay within 1e-5.
                assert!(
                    (got - want).abs() < 1e-5,
                    "row {r} col {j}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn dot_and_sum_match_f64_on_random_vectors() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for len in [1, 7, 8, 32, 45, 384] {
            let a: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let b: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let d: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            let s: f64 = a.iter().map(|x| *x as f64).sum();
            assert!((dot(&a, &b) as f64 - d).abs() < 1e-5, "dot len {len}");
            assert!((sum(&a) as f64 - s).abs() < 1e-5, "sum len {len}");
        }
    }
}
