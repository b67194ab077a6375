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
use super::fma::fmadd;
use super::rows::{axpy, sum};
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

/// Queries worked on together. One query's dot products against a key
/// block, and its weighted sum of values, are each one chain of dependent
/// multiply-adds, so a lone query waits on every FMA's latency (that wait
/// was most of attention's 16% of an AMX int8 profile); four queries are
/// four independent chains sharing each key and value load (+4–6% end to
/// end in int8 on an AMX Xeon; eight measured no better). Each query's
/// sums keep their order, so the results are the same bit for bit.
const QUERIES: usize = 4;

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
    let mut probs = vec![0f32; QUERIES * padded];
    for h in 0..heads {
        let k0 = hidden + h * dh;
        // Row by row of the transposed block: contiguous stores and no
        // index arithmetic inside (per-key scattered stores with their
        // overflow checks were a quarter of attention's time).
        for (d, row) in keys_t.chunks_exact_mut(padded).enumerate() {
            let at = k0 + d;
            for (slot, token) in row.iter_mut().zip(seq.chunks_exact(stride)) {
                *slot = token[at];
            }
        }
        let head = Head { seq, len, stride, hidden, dh, h, scale, keys_t: &keys_t, padded };
        let mut first = 0;
        while first < len {
            let group = QUERIES.min(len - first);
            let out = &mut out[first * hidden..(first + group) * hidden];
            match group {
                4 => head.attend::<FUSED, 4>(first, &mut probs, out),
                3 => head.attend::<FUSED, 3>(first, &mut probs, out),
                2 => head.attend::<FUSED, 2>(first, &mut probs, out),
                _ => head.attend::<FUSED, 1>(first, &mut probs, out),
            }
            first += group;
        }
    }
}
}

/// One head of one sequence, its keys transposed.
struct Head<'a> {
    /// The sequence's rows of `[queries | keys | values]`, `stride` long.
    seq: &'a [f32],
    len: usize,
    stride: usize,
    hidden: usize,
    /// Dimensions per head, and which head.
    dh: usize,
    h: usize,
    scale: f32,
    /// `keys_t[d · padded + j]`: key j's dimension d, zero past `len`.
    keys_t: &'a [f32],
    padded: usize,
}

impl Head<'_> {
    /// Attention for the `G` queries from token `first` on, into `out`
    /// (their `G` output rows, `hidden` long); `probs` holds `G · padded`.
    #[inline(always)]
    fn attend<const FUSED: bool, const G: usize>(
        &self,
        first: usize,
        probs: &mut [f32],
        out: &mut [f32],
    ) {
        let (len, padded) = (self.len, self.padded);
        let probs = &mut probs[..G * padded];
        self.scores::<FUSED, G>(first, probs);
        for p in probs.chunks_exact_mut(padded) {
            // A compare, not `f32::max` (whose NaN rule keeps it scalar).
            let max = p[..len]
                .iter()
                .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
            // Exponentials first and the sum apart, so the loop vectorises.
            for v in p.iter_mut() {
                *v = exp_neg::<FUSED>(*v - max);
            }
            let p = &mut p[..len];
            let inv = 1.0 / sum(p);
            // Normalised once here, in lanes, rather than per key inside
            // every 16-wide block of the values (the same products).
            p.iter_mut().for_each(|v| *v *= inv);
        }
        self.weighted_values::<FUSED, G>(probs, out);
    }

    /// `probs[g · padded + j] = scale · query_(first+g) · key_j`, for every
    /// key block, `G` queries at a time.
    #[inline(always)]
    fn scores<const FUSED: bool, const G: usize>(&self, first: usize, probs: &mut [f32]) {
        let (padded, dh) = (self.padded, self.dh);
        let q0 = self.h * dh;
        let queries: [&[f32]; G] = std::array::from_fn(|g| {
            let at = (first + g) * self.stride + q0;
            &self.seq[at..at + dh]
        });
        for at in (0..padded).step_by(LANES) {
            let mut acc = [[0f32; LANES]; G];
            for (d, keys) in self.keys_t.chunks_exact(padded).enumerate() {
                let keys = &keys[at..at + LANES];
                for (acc, query) in acc.iter_mut().zip(&queries) {
                    let qd = query[d];
                    for l in 0..LANES {
                        acc[l] = fmadd::<FUSED>(qd, keys[l], acc[l]);
                    }
                }
            }
            for (g, acc) in acc.iter().enumerate() {
                let out = &mut probs[g * padded + at..g * padded + at + LANES];
                for l in 0..LANES {
                    out[l] = acc[l] * self.scale;
                }
            }
        }
    }

    /// Each query's `Σ_j probs[g · padded + j] · value_j` into its output
    /// row's head slice. In 16-wide blocks summed in registers and stored
    /// once: adding into the output per key made every key wait on the
    /// previous key's store.
    #[inline(always)]
    fn weighted_values<const FUSED: bool, const G: usize>(&self, probs: &[f32], out: &mut [f32]) {
        let (dh, stride) = (self.dh, self.stride);
        let v0 = 2 * self.hidden + self.h * dh;
        // Query g's slice of its output row.
        let head_start = |g: usize| g * self.hidden + self.h * dh;
        if !dh.is_multiple_of(LANES) {
            for g in 0..G {
                let o = &mut out[head_start(g)..head_start(g) + dh];
                o.fill(0.0);
                let weights = &probs[g * self.padded..g * self.padded + self.len];
                for (&w, value) in weights.iter().zip(self.seq.chunks_exact(stride)) {
                    axpy::<FUSED>(w, &value[v0..v0 + dh], o);
                }
            }
            return;
        }
        for block in (0..dh).step_by(LANES) {
            let at = v0 + block;
            let mut acc = [[0f32; LANES]; G];
            for (j, value) in self.seq.chunks_exact(stride).take(self.len).enumerate() {
                let value = &value[at..at + LANES];
                for (g, acc) in acc.iter_mut().enumerate() {
                    let w = probs[g * self.padded + j];
                    for l in 0..LANES {
                        acc[l] = fmadd::<FUSED>(w, value[l], acc[l]);
                    }
                }
            }
            for (g, acc) in acc.iter().enumerate() {
                let start = head_start(g) + block;
                out[start..start + LANES].copy_from_slice(acc);
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
        // Head widths 12 (not a multiple of the 16-wide blocks: the plain
        // weighted sum), 32 (MiniLM's) and 64 (BERT-base's); lengths below,
        // at and across 16-key blocks, ending in every size of query group
        // (4, 3, 2 and 1 queries).
        for (hidden, heads) in [(48, 4), (64, 2), (128, 2)] {
            let lengths = [1, 9, 16, 17, 3, 40, 6];
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
