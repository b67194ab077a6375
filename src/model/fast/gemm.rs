//! fp32 dense layers with pre-packed weights: `Y = X Wᵀ + b`, optionally
//! added onto what `Y` already holds (the residual, fused into the GEMM).
//!
//! Why our own: candle re-packs the weight matrix on every call and adds the
//! bias in a second pass; the encoder's linear layers are ~70% of its time.
//! Here the weight is packed once at load into panels of 16 output columns
//! (`k`-major, so the kernel reads it as a stream), the bias starts the
//! accumulators, and an AVX2 + FMA micro-kernel computes 6 rows × 16 columns
//! in 12 registers (BLIS's shape for 16 vector registers). Inputs are walked
//! in chunks of `KC` so the 16-column weight panel stays in L1 while `MC`
//! rows of the input stay in L2. A plain loop serves CPUs without AVX2 and
//! is the reference the kernel is tested against.

use rayon::prelude::*;

/// Output columns per packed panel (two 8-float vectors).
pub const NR: usize = 16;
/// Rows per micro-tile.
const MR: usize = 6;
/// Depth per pass: a 16 × 256 panel is 16 KiB, half of L1.
const KC: usize = 256;
/// Rows per task: 72 × 256 floats of input = 72 KiB, well inside L2.
const MC: usize = 72;

/// A weight matrix `[n, k]` packed into panels of `NR` output columns.
pub struct PackedLinear {
    pub n: usize,
    pub k: usize,
    /// `panels[(p·k + kk)·NR + j] = W[p·NR + j][kk]`.
    panels: Vec<f32>,
    bias: Vec<f32>,
}

/// Work on a finished block of output rows (the activation, say).
pub type Epilogue<'a> = dyn Fn(&mut [f32]) + Sync + 'a;

/// Whether the output starts from the bias alone or from bias + what it holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Accumulate {
    /// `Y = X Wᵀ + b`
    Overwrite,
    /// `Y += X Wᵀ + b` (a residual already in `Y`).
    AddTo,
}

impl PackedLinear {
    /// `weight` row-major `[n, k]`; `n` must be a multiple of [`NR`].
    pub fn pack(weight: &[f32], bias: Option<&[f32]>, n: usize, k: usize) -> Self {
        assert_eq!(weight.len(), n * k, "weight is not [n, k]");
        assert!(n % NR == 0, "output width {n} is not a multiple of {NR}");
        let mut panels = vec![0f32; n * k];
        for p in 0..n / NR {
            for kk in 0..k {
                for j in 0..NR {
                    panels[(p * k + kk) * NR + j] = weight[(p * NR + j) * k + kk];
                }
            }
        }
        let bias = bias.map_or_else(|| vec![0f32; n], <[f32]>::to_vec);
        assert_eq!(bias.len(), n, "bias is not [n]");
        Self { n, k, panels, bias }
    }

    /// `y[m, n] (=|+=) x[m, k] · Wᵀ + b`, split across rayon's threads;
    /// `then` runs on each finished output block (row slices), while it is
    /// still in cache.
    pub fn forward(
        &self,
        x: &[f32],
        m: usize,
        y: &mut [f32],
        mode: Accumulate,
        then: Option<&Epilogue<'_>>,
    ) {
        assert!(x.len() >= m * self.k && y.len() >= m * self.n);
        if m == 0 {
            return;
        }
        let kernel = Kernel::detect();
        let plan = TaskPlan::new(m, self.n / NR, rayon::current_num_threads());
        let out = SharedOut(y.as_mut_ptr());
        (0..plan.tasks()).into_par_iter().for_each(|task| {
            let (rows, cols) = plan.task(task);
            // SAFETY: `plan.task` gives every task a non-empty block of rows
            // `< m` and panels `< n / NR` (see `TaskPlan`), and no two tasks
            // the same (row, panel) pair, so the tasks write disjoint parts of
            // `y`, which holds `m · n` floats (asserted above) and outlives the
            // parallel loop. `x` holds `m · k` floats, the packed panels
            // `n · k`: `block` reads inside both.
            unsafe {
                let y = out.ptr();
                self.block(kernel, x, rows.clone(), cols.clone(), y, mode);
                if let Some(then) = then {
                    for r in rows {
                        // In bounds: r < m, and cols.end·NR ≤ n.
                        let start = y.add(r * self.n + cols.start * NR);
                        then(std::slice::from_raw_parts_mut(start, cols.len() * NR));
                    }
                }
            }
        });
    }

    /// One task: rows × panels, in depth chunks.
    ///
    /// # Safety
    /// `x` holds at least `rows.end · k` floats; `y` points to at least
    /// `rows.end · n` writable floats that no other thread touches in
    /// `rows × panels`; `panels.end ≤ n / NR`; `kernel` is one this CPU runs
    /// (`Kernel::detect` or `Kernel::Plain`).
    unsafe fn block(
        &self,
        kernel: Kernel,
        x: &[f32],
        rows: std::ops::Range<usize>,
        panels: std::ops::Range<usize>,
        y: *mut f32,
        mode: Accumulate,
    ) {
        let (n, k) = (self.n, self.k);
        let mut k0 = 0;
        while k0 < k {
            let kc = KC.min(k - k0);
            let init = if k0 == 0 {
                match mode {
                    Accumulate::Overwrite => Init::Bias,
                    Accumulate::AddTo => Init::BiasPlusOut,
                }
            } else {
                Init::Out
            };
            for p in panels.clone() {
                // SAFETY (pointer arithmetic): p < n / NR and k0 + kc ≤ k, so
                // the panel's `kc · NR` floats lie inside `self.panels`
                // (`n · k` long); the bias's NR floats inside `self.bias`;
                // rows r..r + mr < rows.end read `x` and write `y` in bounds
                // by the caller's contract.
                let panel = self.panels.as_ptr().add((p * k + k0) * NR);
                let bias = self.bias.as_ptr().add(p * NR);
                let mut r = rows.start;
                while r < rows.end {
                    let mr = MR.min(rows.end - r);
                    let a = x.as_ptr().add(r * k + k0);
                    let c = y.add(r * n + p * NR);
                    kernel.tile(mr, kc, a, k, panel, bias, c, n, init);
                    r += mr;
                }
            }
            k0 += kc;
        }
    }
}

/// A raw output pointer the tasks share; each writes only its own block.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);
// SAFETY: the pointer is only dereferenced inside `forward`'s parallel loop,
// where each task writes a block of the output no other task touches, and
// the output outlives the loop.
unsafe impl Send for SharedOut {}
// SAFETY: as for `Send`: shared only to hand each task its disjoint block.
unsafe impl Sync for SharedOut {}

impl SharedOut {
    /// A method, not field access, so closures capture the whole wrapper.
    fn ptr(self) -> *mut f32 {
        self.0
    }
}

/// How one GEMM is cut into tasks: blocks of `MC` rows, and, when there
/// are fewer row blocks than twice the threads, blocks of panels too, so
/// every core has work on a small batch. Every block is non-empty: the
/// number of column blocks is recomputed from the panels per block, so no
/// block can start past the last panel (a pointer to it would be out of
/// bounds, which is undefined behaviour even if nothing is read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TaskPlan {
    m: usize,
    panels: usize,
    col_blocks: usize,
    panels_per_block: usize,
}

impl TaskPlan {
    fn new(m: usize, panels: usize, threads: usize) -> Self {
        let row_blocks = m.div_ceil(MC);
        let threads = threads.max(1);
        let wanted = if row_blocks >= 2 * threads {
            1
        } else {
            (2 * threads).div_ceil(row_blocks.max(1)).min(panels.max(1))
        };
        let panels_per_block = panels.div_ceil(wanted).max(1);
        Self {
            m,
            panels,
            col_blocks: panels.div_ceil(panels_per_block).max(1),
            panels_per_block,
        }
    }

    fn tasks(&self) -> usize {
        self.m.div_ceil(MC) * self.col_blocks
    }

    /// Task `t`'s rows and panels, both non-empty and in bounds for `t < tasks()`.
    fn task(&self, t: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (rb, cb) = (t / self.col_blocks, t % self.col_blocks);
        let rows = rb * MC..((rb + 1) * MC).min(self.m);
        let cols = cb * self.panels_per_block..((cb + 1) * self.panels_per_block).min(self.panels);
        (rows, cols)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Init {
    Bias,
    BiasPlusOut,
    Out,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kernel {
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Plain,
}

impl Kernel {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Kernel::Avx2;
        }
        Kernel::Plain
    }

    /// `mr` (≤ 6) rows × 16 columns over depth `kc`.
    ///
    /// # Safety
    /// `a` points to `mr` rows of `kc` readable floats, `lda` apart; `panel`
    /// to `kc · NR` floats; `bias` to NR floats; `c` to `mr` rows of NR
    /// writable floats, `ldc` apart, that no other thread is using; the CPU
    /// has the features `self` needs (it came from `Kernel::detect`).
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        self,
        mr: usize,
        kc: usize,
        a: *const f32,
        lda: usize,
        panel: *const f32,
        bias: *const f32,
        c: *mut f32,
        ldc: usize,
        init: Init,
    ) {
        // SAFETY: the caller's contract is each kernel's contract; Avx2 is
        // only chosen where the CPU reported AVX2 and FMA.
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => match mr {
                6 => avx2::tile::<6>(kc, a, lda, panel, bias, c, ldc, init),
                5 => avx2::tile::<5>(kc, a, lda, panel, bias, c, ldc, init),
                4 => avx2::tile::<4>(kc, a, lda, panel, bias, c, ldc, init),
                3 => avx2::tile::<3>(kc, a, lda, panel, bias, c, ldc, init),
                2 => avx2::tile::<2>(kc, a, lda, panel, bias, c, ldc, init),
                _ => avx2::tile::<1>(kc, a, lda, panel, bias, c, ldc, init),
            },
            Kernel::Plain => plain_tile(mr, kc, a, lda, panel, bias, c, ldc, init),
        }
    }
}

/// # Safety
/// As [`Kernel::tile`] (any CPU).
#[allow(clippy::too_many_arguments)]
unsafe fn plain_tile(
    mr: usize,
    kc: usize,
    a: *const f32,
    lda: usize,
    panel: *const f32,
    bias: *const f32,
    c: *mut f32,
    ldc: usize,
    init: Init,
) {
    for r in 0..mr {
        let mut acc = [0f32; NR];
        for (j, v) in acc.iter_mut().enumerate() {
            let out = *c.add(r * ldc + j);
            *v = match init {
                Init::Bias => *bias.add(j),
                Init::BiasPlusOut => *bias.add(j) + out,
                Init::Out => out,
            };
        }
        for kk in 0..kc {
            let av = *a.add(r * lda + kk);
            for (j, v) in acc.iter_mut().enumerate() {
                *v += av * *panel.add(kk * NR + j);
            }
        }
        for (j, v) in acc.iter().enumerate() {
            *c.add(r * ldc + j) = *v;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Init, NR};
    use std::arch::x86_64::*;

    /// `R` rows × 16 columns: 2·R accumulators, one broadcast of the input
    /// per row and depth step, two loads of the packed panel.
    ///
    /// # Safety
    /// As [`super::Kernel::tile`] with `mr = R`, and the CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn tile<const R: usize>(
        kc: usize,
        a: *const f32,
        lda: usize,
        panel: *const f32,
        bias: *const f32,
        c: *mut f32,
        ldc: usize,
        init: Init,
    ) {
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        for (r, row) in acc.iter_mut().enumerate() {
            let out = c.add(r * ldc);
            *row = match init {
                Init::Bias => [_mm256_loadu_ps(bias), _mm256_loadu_ps(bias.add(8))],
                Init::BiasPlusOut => [
                    _mm256_add_ps(_mm256_loadu_ps(bias), _mm256_loadu_ps(out)),
                    _mm256_add_ps(_mm256_loadu_ps(bias.add(8)), _mm256_loadu_ps(out.add(8))),
                ],
                Init::Out => [_mm256_loadu_ps(out), _mm256_loadu_ps(out.add(8))],
            };
        }
        let mut b = panel;
        for kk in 0..kc {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*a.add(r * lda + kk));
                row[0] = _mm256_fmadd_ps(av, b0, row[0]);
                row[1] = _mm256_fmadd_ps(av, b1, row[1]);
            }
            b = b.add(NR);
        }
        for (r, row) in acc.iter().enumerate() {
            let out = c.add(r * ldc);
            _mm256_storeu_ps(out, row[0]);
            _mm256_storeu_ps(out.add(8), row[1]);
        }
    }
}

/// The plain definition, for tests: `y = x Wᵀ + b (+ y)` with f64 sums.
#[allow(clippy::too_many_arguments)]
pub fn reference(
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
    mode: Accumulate,
) {
    for i in 0..m {
        for j in 0..n {
            let mut s = bias[j] as f64;
            for kk in 0..k {
                s += x[i * k + kk] as f64 * weight[j * k + kk] as f64;
            }
            if mode == Accumulate::AddTo {
                s += y[i * n + j] as f64;
            }
            y[i * n + j] = s as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut rand::rngs::StdRng, len: usize) -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// Every shape class the encoder meets (depth below, at and above a KC
    /// chunk; rows not a multiple of 6, fewer than a task, many tasks),
    /// both modes, against f64 sums. Bound: 1e-5 · √k relative to the
    /// magnitude of the terms, fp32 rounding over k products.
    #[test]
    fn packed_gemm_matches_reference_on_random_inputs() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for &(m, n, k) in &[
            (1, 16, 7),
            (5, 32, 256),
            (13, 48, 300),
            (77, 64, 384),
            (150, 1152, 384),
            (200, 384, 1536),
        ] {
            let x = random(&mut rng, m * k);
            let w = random(&mut rng, n * k);
            let b = random(&mut rng, n);
            let packed = PackedLinear::pack(&w, Some(&b), n, k);
            for mode in [Accumulate::Overwrite, Accumulate::AddTo] {
                let start = random(&mut rng, m * n);
                let mut fast = start.clone();
                let mut want = start.clone();
                packed.forward(&x, m, &mut fast, mode, None);
                reference(&x, &w, &b, m, n, k, &mut want, mode);
                let bound = 1e-5 * (k as f32).sqrt() * 4.0;
                let worst = fast
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(worst < bound, "{m}×{n}×{k} {mode:?}: {worst} ≥ {bound}");
            }
        }
    }

    #[test]
    fn plain_kernel_matches_reference() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (m, n, k) = (9, 32, 300);
        let x = random(&mut rng, m * k);
        let w = random(&mut rng, n * k);
        let b = random(&mut rng, n);
        let packed = PackedLinear::pack(&w, Some(&b), n, k);
        let mut fast = vec![0f32; m * n];
        // SAFETY: x is m·k, fast is m·n, all n / NR panels, the plain kernel.
        unsafe {
            packed.block(
                Kernel::Plain,
                &x,
                0..m,
                0..n / NR,
                fast.as_mut_ptr(),
                Accumulate::Overwrite,
            )
        };
        let mut want = vec![0f32; m * n];
        reference(&x, &w, &b, m, n, k, &mut want, Accumulate::Overwrite);
        let worst = fast
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-4, "{worst}");
    }

    /// Every task of every plan is a non-empty block inside the output,
    /// and the tasks cover each (row, panel) exactly once: the bug this
    /// guards against made a block start past the last panel (9, 11, 13–15,
    /// 17–23, 25+ threads on a 1,536-wide layer with one row block).
    #[test]
    fn task_plans_cover_the_output_once_with_no_empty_block() {
        for threads in 1..=64 {
            for m in [1, 2, 5, 71, 72, 73, 150, 500, 2000] {
                for panels in [1, 2, 3, 24, 72, 96] {
                    let plan = TaskPlan::new(m, panels, threads);
                    let mut seen = vec![0u8; m * panels];
                    for t in 0..plan.tasks() {
                        let (rows, cols) = plan.task(t);
                        assert!(!rows.is_empty() && !cols.is_empty(), "{plan:?} task {t}");
                        assert!(rows.end <= m && cols.end <= panels, "{plan:?} task {t}");
                        for r in rows {
                            for c in cols.clone() {
                                seen[r * panels + c] += 1;
                            }
                        }
                    }
                    assert!(seen.iter().all(|&s| s == 1), "{plan:?}");
                }
            }
        }
    }

    /// The encoder's own shapes (one row to many row blocks) on 1–32
    /// threads, with an epilogue, against f64 sums.
    #[test]
    fn every_thread_count_and_batch_shape_matches_the_reference() {
        let seed: u64 = rand::random();
        println!("seed {seed}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (n, k) = (1536, 64);
        let w = random(&mut rng, n * k);
        let b = random(&mut rng, n);
        let packed = PackedLinear::pack(&w, Some(&b), n, k);
        for threads in 1..=32 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for m in [1, 2, 7, 73] {
                let x = random(&mut rng, m * k);
                let mut fast = vec![0f32; m * n];
                let double = |v: &mut [f32]| v.iter_mut().for_each(|x| *x *= 2.0);
                pool.install(|| {
                    packed.forward(&x, m, &mut fast, Accumulate::Overwrite, Some(&double))
                });
                let mut want = vec![0f32; m * n];
                reference(&x, &w, &b, m, n, k, &mut want, Accumulate::Overwrite);
                let worst = fast
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - 2.0 * b).abs())
                    .fold(0f32, f32::max);
                assert!(
                    worst < 1e-4,
                    "seed {seed}, {threads} threads, m {m}: {worst}"
                );
            }
        }
    }
}
