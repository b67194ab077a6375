//! fp32 dense layers with pre-packed weights: `Y = X Wᵀ + b`, optionally
//! added onto what `Y` already holds (the residual, fused into the GEMM).
//!
//! Why our own: candle re-packs the weight matrix on every call and adds the
//! bias in a second pass; the encoder's linear layers are ~70% of its time.
//! Here the weight is packed once at load into panels of `nr` output columns
//! (`k`-major, so the kernel reads it as a stream), the bias starts the
//! accumulators, and a micro-kernel keeps an `mr × nr` tile in registers:
//! AVX2 + FMA 6 × 16 in 12 registers (BLIS's shape for 16 vector
//! registers), AVX-512 12 × 32 in 24 of its 32. Inputs are walked in chunks
//! of `KC` so the weight panel stays in L1 while `MC` rows of the input stay
//! in L2. The path is the process's (`cpu::active`), fixed at packing; a
//! plain loop serves every CPU and is what the others are tested against.

use rayon::prelude::*;

use super::cpu::{self, KernelPath};

/// Output columns per packed panel on the AVX2 and portable paths: every
/// width the encoder packs must be a multiple of it.
pub const NR: usize = 16;
/// Depth per pass: a 32 × 256 panel is 32 KiB, inside L1 (48 KiB on
/// current x86 cores); a 16-wide one half that.
const KC: usize = 256;
/// Rows per task: 84 × 256 floats of input = 84 KiB, well inside L2; a
/// multiple of every path's rows per tile (12, 6, and 14 should a path
/// want it). 84 measured 5–8% faster than 72 end to end in fp32 on a Zen 5
/// (docs/speed.md); the results are bit for bit the same.
const MC: usize = 84;

/// Rows per task for a kernel with `mr` rows per tile: [`MC`] where the
/// tiles divide it, else the next multiple of `mr` (AMX's 32: 96), so only
/// a matrix's last row block has a partial tile. With 84, AMX padded and
/// copied a 20-row edge in every third tile.
fn rows_per_block(mr: usize) -> usize {
    MC.next_multiple_of(mr)
}

/// A weight matrix `[n, k]` packed into panels of `nr` output columns for
/// one kernel path.
pub struct PackedLinear {
    pub n: usize,
    pub k: usize,
    path: KernelPath,
    nr: usize,
    /// `panels[(p·k + kk)·nr + j] = W[p·nr + j][kk]`.
    panels: Vec<f32>,
    bias: Vec<f32>,
}

/// Columns per panel and rows per tile of a path's micro-kernel.
fn tile_shape(path: KernelPath) -> (usize, usize) {
    match path {
        KernelPath::Avx512 | KernelPath::Amx => (32, 12),
        KernelPath::Avx2 | KernelPath::Portable => (NR, 6),
    }
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
    /// `weight` row-major `[n, k]`, packed for the process's kernel path;
    /// `n` must be a multiple of [`NR`].
    pub fn pack(weight: &[f32], bias: Option<&[f32]>, n: usize, k: usize) -> Self {
        Self::pack_for(cpu::active(), weight, bias, n, k)
    }

    /// Packed for `path` (which the CPU must run). A width that is not a
    /// multiple of the path's panel falls back to the 16-wide AVX2 panel
    /// (or the portable one).
    pub fn pack_for(
        path: KernelPath,
        weight: &[f32],
        bias: Option<&[f32]>,
        n: usize,
        k: usize,
    ) -> Self {
        assert_eq!(weight.len(), n * k, "weight is not [n, k]");
        assert!(
            n.is_multiple_of(NR),
            "output width {n} is not a multiple of {NR}"
        );
        assert!(path.supported(), "the {path} path on a CPU without it");
        let path = path.vectors();
        let path = if n.is_multiple_of(tile_shape(path).0) {
            path
        } else if KernelPath::Avx2.supported() {
            KernelPath::Avx2
        } else {
            KernelPath::Portable
        };
        let nr = tile_shape(path).0;
        let mut panels = vec![0f32; n * k];
        for p in 0..n / nr {
            for kk in 0..k {
                for j in 0..nr {
                    panels[(p * k + kk) * nr + j] = weight[(p * nr + j) * k + kk];
                }
            }
        }
        let bias = bias.map_or_else(|| vec![0f32; n], <[f32]>::to_vec);
        assert_eq!(bias.len(), n, "bias is not [n]");
        Self {
            n,
            k,
            path,
            nr,
            panels,
            bias,
        }
    }

    /// The kernel path this matrix was packed for.
    pub fn path(&self) -> KernelPath {
        self.path
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
        let mr = tile_shape(self.path).1;
        for_each_block(
            m,
            self.n / self.nr,
            self.nr,
            mr,
            y,
            then,
            |rows, panels, y| {
                // SAFETY: `for_each_block` hands each call its own non-empty
                // block of rows `< m` and panels `< n / nr` of `y` (`m · n`
                // floats); `x` holds `m · k` floats (asserted above), the packed
                // panels `n · k`: `block` reads inside both.
                unsafe { self.block(self.path, x, rows, panels, y, mode) }
            },
        );
    }

    /// One task: rows × panels, in depth chunks.
    ///
    /// # Safety
    /// `x` holds at least `rows.end · k` floats; `y` points to at least
    /// `rows.end · n` writable floats that no other thread touches in
    /// `rows × panels`; `panels.end ≤ n / nr`; `path` is `self.path` or
    /// `Portable` (same panel width).
    unsafe fn block(
        &self,
        path: KernelPath,
        x: &[f32],
        rows: std::ops::Range<usize>,
        panels: std::ops::Range<usize>,
        y: *mut f32,
        mode: Accumulate,
    ) {
        let (n, k, nr) = (self.n, self.k, self.nr);
        for_each_tile(k, KC, mode, rows, panels, tile_shape(path).1, |t| {
            // SAFETY (pointer arithmetic): t.panel < n / nr and t.k0 + t.kc
            // ≤ k, so the panel's `kc · nr` floats lie inside `self.panels`
            // (`n · k` long), the bias's nr floats inside `self.bias`; rows
            // t.row..t.row + t.mr < rows.end read `x` and write `y` in bounds
            // by the caller's contract.
            let tile = Tile {
                mr: t.mr,
                nr,
                kc: t.kc,
                a: x.as_ptr().add(t.row * k + t.k0),
                lda: k,
                panel: self.panels.as_ptr().add((t.panel * k + t.k0) * nr),
                bias: self.bias.as_ptr().add(t.panel * nr),
                c: y.add(t.row * n + t.panel * nr),
                ldc: n,
                init: t.init,
            };
            tile.run(path);
        });
    }
}

/// A raw output pointer the tasks share; each writes only its own block.
#[derive(Clone, Copy)]
struct SharedOut<T>(*mut T);
// SAFETY: the pointer is only dereferenced inside `forward`'s parallel loop,
// where each task writes a block of the output no other task touches, and
// the output outlives the loop.
unsafe impl<T> Send for SharedOut<T> {}
// SAFETY: as for `Send`: shared only to hand each task its disjoint block.
unsafe impl<T> Sync for SharedOut<T> {}

impl<T> SharedOut<T> {
    /// A method, not field access, so closures capture the whole wrapper.
    fn ptr(self) -> *mut T {
        self.0
    }
}

/// Calls a micro-kernel's `rows::<R>` for a tile's row count: the row
/// count is a const generic so each kernel's accumulators stay in
/// registers. `by_rows!(mr, rows, t; 12 11 … 2)` lists the counts above
/// one; anything else runs one row. (The x86-64 kernels' only.)
#[cfg(target_arch = "x86_64")]
macro_rules! by_rows {
    ($mr:expr, $kernel:ident, $tile:expr; $($r:literal)*) => {
        match $mr {
            $($r => $kernel::<$r>($tile),)*
            _ => $kernel::<1>($tile),
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(super) use by_rows;

/// Runs `block` on every task of a GEMM with `m` rows and `panels` panels
/// of `nr` columns, across rayon's threads, then `then` on each row of the
/// block it finished (still in cache). Every call of `block` gets a
/// non-empty `rows × panels` block inside `y` that no other call gets
/// (`TaskPlan`), and the pointer to `y`'s start, so it may write exactly
/// that block; the dense layers of every number format share this.
pub(super) fn for_each_block(
    m: usize,
    panels: usize,
    nr: usize,
    mr: usize,
    y: &mut [f32],
    then: Option<&Epilogue<'_>>,
    block: impl Fn(std::ops::Range<usize>, std::ops::Range<usize>, *mut f32) + Sync,
) {
    let n = panels * nr;
    assert!(y.len() >= m * n, "output is not [m, n]");
    if m == 0 {
        return;
    }
    let plan = TaskPlan::new(m, panels, rayon::current_num_threads(), rows_per_block(mr));
    let out = SharedOut(y.as_mut_ptr());
    (0..plan.tasks()).into_par_iter().for_each(|task| {
        let (rows, cols) = plan.task(task);
        let y = out.ptr();
        block(rows.clone(), cols.clone(), y);
        if let Some(then) = then {
            for r in rows {
                // SAFETY: r < m and cols.end · nr ≤ n, so the slice lies inside
                // `y` (`m · n` floats, asserted above), which outlives the
                // loop; it is this task's own block, which `block` has
                // finished, and no other task touches it.
                let row = unsafe {
                    std::slice::from_raw_parts_mut(y.add(r * n + cols.start * nr), cols.len() * nr)
                };
                then(row);
            }
        }
    });
}

/// Tasks a GEMM aims for per thread. Two left a 16-thread pool with 40
/// tasks for a chat batch (20 row blocks × 2): 2.5 a thread, so the pool
/// waited on threads doing 3. Four keeps that wait under a quarter and
/// leaves 2 threads as they were (20 row blocks ≥ 8).
const TASKS_PER_THREAD: usize = 4;

/// How one GEMM is cut into tasks: blocks of `MC` rows, and, when there
/// are fewer row blocks than [`TASKS_PER_THREAD`] per thread, blocks of
/// panels too, so every core has work on a small batch and no core waits
/// long for the last task (with t tasks a thread, the slowest does at most
/// one more than the mean: 1/t). Every block is non-empty: the
/// number of column blocks is recomputed from the panels per block, so no
/// block can start past the last panel (a pointer to it would be out of
/// bounds, which is undefined behaviour even if nothing is read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TaskPlan {
    m: usize,
    rows_per_block: usize,
    panels: usize,
    col_blocks: usize,
    panels_per_block: usize,
}

impl TaskPlan {
    fn new(m: usize, panels: usize, threads: usize, rows_per_block: usize) -> Self {
        let row_blocks = m.div_ceil(rows_per_block);
        let threads = threads.max(1);
        let tasks = TASKS_PER_THREAD * threads;
        let wanted = if row_blocks >= tasks {
            1
        } else {
            tasks.div_ceil(row_blocks.max(1)).min(panels.max(1))
        };
        let panels_per_block = panels.div_ceil(wanted).max(1);
        Self {
            m,
            rows_per_block,
            panels,
            col_blocks: panels.div_ceil(panels_per_block).max(1),
            panels_per_block,
        }
    }

    fn tasks(&self) -> usize {
        self.m.div_ceil(self.rows_per_block) * self.col_blocks
    }

    /// Task `t`'s rows and panels, both non-empty and in bounds for `t < tasks()`.
    fn task(&self, t: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (rb, cb) = (t / self.col_blocks, t % self.col_blocks);
        let rows = rb * self.rows_per_block..((rb + 1) * self.rows_per_block).min(self.m);
        let cols = cb * self.panels_per_block..((cb + 1) * self.panels_per_block).min(self.panels);
        (rows, cols)
    }
}

/// Where one micro-tile sits in a task: depth chunk `k0..k0 + kc`, output
/// panel `panel`, rows `row..row + mr`, and where its accumulators start.
#[derive(Clone, Copy, Debug)]
pub(super) struct TileAt {
    pub k0: usize,
    pub kc: usize,
    pub init: Init,
    pub panel: usize,
    pub row: usize,
    pub mr: usize,
}

/// Walks one task (`rows` × `panels`) the way every dense format does:
/// depth chunks of `kc_max` (so a panel chunk stays in L1), each panel in
/// turn, row tiles of at most `mr_max`; the first chunk starts from the bias
/// (plus the output for `AddTo`), later ones from the output. The fp32, int8
/// and bf16 layers differ only in the tile `run` builds and runs.
#[inline(always)]
pub(super) fn for_each_tile(
    depth: usize,
    kc_max: usize,
    mode: Accumulate,
    rows: std::ops::Range<usize>,
    panels: std::ops::Range<usize>,
    mr_max: usize,
    mut run: impl FnMut(TileAt),
) {
    let mut k0 = 0;
    while k0 < depth {
        let kc = kc_max.min(depth - k0);
        let init = match (k0, mode) {
            (0, Accumulate::Overwrite) => Init::Bias,
            (0, Accumulate::AddTo) => Init::BiasPlusOut,
            _ => Init::Out,
        };
        for panel in panels.clone() {
            let mut row = rows.start;
            while row < rows.end {
                let mr = mr_max.min(rows.end - row);
                run(TileAt {
                    k0,
                    kc,
                    init,
                    panel,
                    row,
                    mr,
                });
                row += mr;
            }
        }
        k0 += kc;
    }
}

/// Where a tile's accumulators start.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Init {
    Bias,
    BiasPlusOut,
    Out,
}

/// One micro-tile: `mr` rows × `nr` columns of `c` over depth `kc`.
#[derive(Clone, Copy)]
pub(super) struct Tile {
    pub mr: usize,
    pub nr: usize,
    pub kc: usize,
    /// `mr` rows of `kc` inputs, `lda` apart.
    pub a: *const f32,
    pub lda: usize,
    /// `kc · nr` packed weights.
    pub panel: *const f32,
    /// `nr` biases.
    pub bias: *const f32,
    /// `mr` rows of `nr` outputs, `ldc` apart.
    pub c: *mut f32,
    pub ldc: usize,
    pub init: Init,
}

impl Tile {
    /// Runs the tile with `path`'s micro-kernel.
    ///
    /// # Safety
    /// Every pointer covers what its field's comment says, readable (and
    /// `c` writable, used by no other thread); `mr` and `nr` are the path's
    /// (`tile_shape`: `mr` at most its rows, `nr` exactly its panel, or
    /// any `nr` for `Portable`); the CPU runs `path`.
    unsafe fn run(self, path: KernelPath) {
        // SAFETY: the caller's contract is each kernel's; a path is only
        // chosen (`cpu::active`, `pack_for`) where the CPU reported it.
        match path {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => super::gemm_avx512::tile(self),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => super::gemm_avx2::tile(self),
            _ => self.plain(),
        }
    }

    /// The portable kernel: plain loops, any `mr` and `nr`.
    ///
    /// # Safety
    /// As [`Tile::run`].
    unsafe fn plain(self) {
        let mut acc = [0f32; 32];
        for r in 0..self.mr {
            let acc = &mut acc[..self.nr];
            for (j, v) in acc.iter_mut().enumerate() {
                let out = *self.c.add(r * self.ldc + j);
                *v = match self.init {
                    Init::Bias => *self.bias.add(j),
                    Init::BiasPlusOut => *self.bias.add(j) + out,
                    Init::Out => out,
                };
            }
            for kk in 0..self.kc {
                let av = *self.a.add(r * self.lda + kk);
                for (j, v) in acc.iter_mut().enumerate() {
                    *v += av * *self.panel.add(kk * self.nr + j);
                }
            }
            for (j, v) in acc.iter().enumerate() {
                *self.c.add(r * self.ldc + j) = *v;
            }
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

    /// Every path this CPU runs (the others are named as skipped), every
    /// shape class the encoder meets (depth below, at and above a KC chunk;
    /// rows not a multiple of a tile, fewer than a task, many tasks; a
    /// width the path's panel does not divide), both modes, against f64
    /// sums. Bound: 4e-5 · √k, fp32 rounding over k products of terms of
    /// magnitude ≤ 1.
    #[test]
    fn every_path_matches_the_reference_on_random_inputs() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for path in KernelPath::ALL {
            if !path.supported() {
                crate::say!("gemm {path}: skipped, this CPU has no {path}");
                continue;
            }
            for &(m, n, k) in &[
                (1, 32, 7),
                (5, 32, 256),
                (9, 48, 100),
                (13, 64, 300),
                (77, 64, 384),
                (150, 1152, 384),
                (200, 384, 1536),
            ] {
                let x = random(&mut rng, m * k);
                let w = random(&mut rng, n * k);
                let b = random(&mut rng, n);
                let packed = PackedLinear::pack_for(path, &w, Some(&b), n, k);
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
                    assert!(
                        worst < bound,
                        "seed {seed}, {path} ({}): {m}×{n}×{k} {mode:?}: {worst} ≥ {bound}",
                        packed.path()
                    );
                }
            }
            println!("gemm {path}: passed");
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
        // SAFETY: x is m·k, fast is m·n, all panels, the portable kernel
        // (any panel width).
        unsafe {
            packed.block(
                KernelPath::Portable,
                &x,
                0..m,
                0..n / packed.nr,
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
                for (panels, mr) in [1, 2, 3, 24, 72, 96]
                    .into_iter()
                    .zip([6, 12, 32].iter().cycle())
                {
                    let plan = TaskPlan::new(m, panels, threads, rows_per_block(*mr));
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
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (n, k) = (1536, 64);
        let w = random(&mut rng, n * k);
        let b = random(&mut rng, n);
        let packed = PackedLinear::pack(&w, Some(&b), n, k);
        println!("path {}", packed.path());
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
