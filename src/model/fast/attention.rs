//! Self-attention over ragged rows: each sequence attends only to its own
//! tokens, so a batch needs no padding and no mask. Sequences in a batch are
//! short (13 tokens on average in chat), where hundreds of tiny batched
//! GEMMs cost more in hand-off than in arithmetic; here one task per
//! sequence walks its heads with plain vectorised dot products.

use rayon::prelude::*;

use super::cpu::per_path;
use super::rows::{axpy, dot, sum};
use crate::model::fast_gelu::exp_neg;

/// `qkv`: `[tokens, 3·hidden]` (queries, keys, values side by side, heads
/// contiguous inside each); `lengths`: tokens per sequence, in order;
/// writes the attention output `[tokens, hidden]` into `ctx`.
pub fn attention(qkv: &[f32], lengths: &[usize], hidden: usize, heads: usize, ctx: &mut [f32]) {
    let dh = hidden / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    let mut slices = Vec::with_capacity(lengths.len());
    let mut rest = &mut ctx[..];
    let mut offset = 0;
    for &len in lengths {
        let (mine, tail) = rest.split_at_mut(len * hidden);
        slices.push((offset, len, mine));
        rest = tail;
        offset += len;
    }
    slices.into_par_iter().for_each(|(offset, len, out)| {
        let seq = &qkv[offset * 3 * hidden..(offset + len) * 3 * hidden];
        one_sequence(seq, len, hidden, heads, dh, scale, out);
    });
}

per_path! {
fn one_sequence(
    seq: &[f32],
    len: usize,
    hidden: usize,
    heads: usize,
    dh: usize,
    scale: f32,
    out: &mut [f32],
) {
    let stride = 3 * hidden;
    let mut probs = vec![0f32; len];
    out.fill(0.0);
    for h in 0..heads {
        let (q0, k0, v0) = (h * dh, hidden + h * dh, 2 * hidden + h * dh);
        for i in 0..len {
            let q = &seq[i * stride + q0..i * stride + q0 + dh];
            let mut max = f32::NEG_INFINITY;
            for (j, p) in probs.iter_mut().enumerate() {
                *p = dot(q, &seq[j * stride + k0..j * stride + k0 + dh]) * scale;
                max = max.max(*p);
            }
            // Exponentials first and the sum apart, so the loop vectorises.
            for p in probs.iter_mut() {
                *p = exp_neg(*p - max);
            }
            let inv = 1.0 / sum(&probs);
            let o = &mut out[i * hidden + h * dh..i * hidden + (h + 1) * dh];
            for (j, &p) in probs.iter().enumerate() {
                axpy(p * inv, &seq[j * stride + v0..j * stride + v0 + dh], o);
            }
        }
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// softmax(q kᵀ/√d) v per sequence and head, in f64.
    fn reference(qkv: &[f32], lengths: &[usize], hidden: usize, heads: usize) -> Vec<f64> {
        let dh = hidden / heads;
        let total: usize = lengths.iter().sum();
        let mut out = vec![0f64; total * hidden];
        let mut offset = 0;
        for &len in lengths {
            for h in 0..heads {
                for i in 0..len {
                    let at = |t: usize, part: usize, d: usize| {
                        qkv[(offset + t) * 3 * hidden + part * hidden + h * dh + d] as f64
                    };
                    let s: Vec<f64> = (0..len)
                        .map(|j| (0..dh).map(|d| at(i, 0, d) * at(j, 1, d)).sum::<f64>())
                        .map(|v| v / (dh as f64).sqrt())
                        .collect();
                    let max = s.iter().cloned().fold(f64::MIN, f64::max);
                    let e: Vec<f64> = s.iter().map(|v| (v - max).exp()).collect();
                    let z: f64 = e.iter().sum();
                    for d in 0..dh {
                        out[(offset + i) * hidden + h * dh + d] =
                            (0..len).map(|j| e[j] / z * at(j, 2, d)).sum();
                    }
                }
            }
            offset += len;
        }
        out
    }

    #[test]
    fn ragged_attention_matches_reference_on_random_inputs() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (hidden, heads) = (48, 4);
        let lengths = [1, 9, 17, 3, 40];
        let total: usize = lengths.iter().sum();
        let qkv: Vec<f32> = (0..total * 3 * hidden)
            .map(|_| rng.random_range(-2.0f32..2.0))
            .collect();
        let mut ctx = vec![f32::NAN; total * hidden];
        attention(&qkv, &lengths, hidden, heads, &mut ctx);
        let want = reference(&qkv, &lengths, hidden, heads);
        let worst = ctx
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0f64, f64::max);
        // Values are O(2); fp32 dot products of 12 terms and a softmax: 1e-5.
        assert!(worst < 1e-5, "max error {worst}");
    }
}
