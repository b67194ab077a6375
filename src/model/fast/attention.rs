//! Self-attention over ragged rows: each sequence attends only to its own
//! tokens, so a batch needs no padding and no mask. Sequences in a batch are
//! short (13 tokens on average in chat), where hundreds of tiny batched
//! GEMMs cost more in hand-off than in arithmetic; here one task per
//! sequence walks its heads. Per head, the keys are copied once into a
//! transposed block padded to 16 columns, so a query's scores against every
//! key are 16-wide multiply-adds with no horizontal sums (one dot product
//! per key pair, each ending in a horizontal sum, cost more than the
//! arithmetic at 32 dimensions a head).

use rayon::prelude::*;

use super::cpu::per_path;
use super::rows::{axpy, fmadd, sum};
use crate::model::fast_gelu::exp_neg;

/// Keys per score block: one AVX-512 register, two AVX2 ones.
const LANES: usize = 16;

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
    let padded = len.next_multiple_of(LANES);
    // keys_t[d · padded + j] = key j's dimension d (this head); zero past len.
    let mut keys_t = vec![0f32; dh * padded];
    let mut probs = vec![0f32; padded];
    for h in 0..heads {
        let (q0, k0, v0) = (h * dh, hidden + h * dh, 2 * hidden + h * dh);
        // Row by row of the transposed block: contiguous stores and no
        // index arithmetic inside (per-key scattered stores with their
        // overflow checks were a quarter of attention's time).
        for (d, row) in keys_t.chunks_exact_mut(padded).enumerate() {
            let at = k0 + d;
            for (slot, token) in row.iter_mut().zip(seq.chunks_exact(stride)) {
                *slot = token[at];
            }
        }
        for (token, o) in seq.chunks_exact(stride).zip(out.chunks_exact_mut(hidden)) {
            scores::<FUSED>(&token[q0..q0 + dh], &keys_t, scale, &mut probs);
            // A compare, not `f32::max` (whose NaN rule keeps it scalar).
            let max = probs[..len]
                .iter()
                .fold(f32::NEG_INFINITY, |m, &p| if p > m { p } else { m });
            // Exponentials first and the sum apart, so the loop vectorises.
            for p in probs.iter_mut() {
                *p = exp_neg::<FUSED>(*p - max);
            }
            let probs = &mut probs[..len];
            let inv = 1.0 / sum(probs);
            // Normalised once here, in lanes, rather than per key inside
            // every 16-wide block of the values (the same products).
            probs.iter_mut().for_each(|p| *p *= inv);
            weighted_values::<FUSED>(probs, seq, stride, v0, &mut o[h * dh..(h + 1) * dh]);
        }
    }
}
}

/// `out = Σ_j weights[j] · value_j` (values `out.len()` long at `v0` in
/// each `stride`-long token of `seq`). In 16-wide blocks summed in
/// registers and stored once: adding into `out` per key made every key wait
/// on the previous key's store.
#[inline(always)]
fn weighted_values<const FUSED: bool>(
    weights: &[f32],
    seq: &[f32],
    stride: usize,
    v0: usize,
    out: &mut [f32],
) {
    if !out.len().is_multiple_of(LANES) {
        out.fill(0.0);
        for (&w, value) in weights.iter().zip(seq.chunks_exact(stride)) {
            axpy::<FUSED>(w, &value[v0..v0 + out.len()], out);
        }
        return;
    }
    for (block, out) in out.chunks_exact_mut(LANES).enumerate() {
        let at = v0 + block * LANES;
        let mut acc = [0f32; LANES];
        for (&w, value) in weights.iter().zip(seq.chunks_exact(stride)) {
            let value = &value[at..at + LANES];
            for l in 0..LANES {
                acc[l] = fmadd::<FUSED>(w, value[l], acc[l]);
            }
        }
        out.copy_from_slice(&acc);
    }
}

/// `probs[j] = scale · q · key_j` for every key column of `keys_t`
/// (`q.len()` rows of `probs.len()` columns, a multiple of [`LANES`]).
#[inline(always)]
fn scores<const FUSED: bool>(q: &[f32], keys_t: &[f32], scale: f32, probs: &mut [f32]) {
    let padded = probs.len();
    for (block, out) in probs.chunks_exact_mut(LANES).enumerate() {
        let at = block * LANES;
        let mut acc = [0f32; LANES];
        for (&qd, keys) in q.iter().zip(keys_t.chunks_exact(padded)) {
            let keys = &keys[at..at + LANES];
            for l in 0..LANES {
                acc[l] = fmadd::<FUSED>(qd, keys[l], acc[l]);
            }
        }
        for l in 0..LANES {
            out[l] = acc[l] * scale;
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
        // Head widths 12 (not a multiple of the 16-wide blocks: the plain
        // weighted sum), 32 (MiniLM's) and 64 (BERT-base's); lengths below,
        // at and across 16-key blocks.
        for (hidden, heads) in [(48, 4), (64, 2), (128, 2)] {
            let lengths = [1, 9, 16, 17, 3, 40];
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
            // Values are O(2); fp32 dot products of up to 64 terms and a
            // softmax: 2e-5.
            assert!(
                worst < 2e-5,
                "seed {seed}, hidden {hidden}, heads {heads}: max error {worst}"
            );
        }
    }
}
