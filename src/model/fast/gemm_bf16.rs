//! bf16 dense layers: `Y = X Wᵀ + b` (optionally `+=`) with the weight and
//! the input rounded to bf16 and fp32 sums, for CPUs with AVX512-BF16.
//!
//! Why: `vdpbf16ps` multiplies pairs of bf16 and adds both products into an
//! fp32 lane, 32 multiply-adds per 512-bit instruction against 16 for an
//! fp32 FMA, with no scales to fit (bf16 keeps fp32's exponent range). The
//! weight is rounded once at load, the input at every call (to nearest,
//! ties to even); the bias, the residual and the sums stay fp32.
//!
//! The panels hold `nr` output columns grouped by two depths (`[k/2][nr][2]`
//! values, the layout the instruction reads); a row tile broadcasts two
//! input values as one 32-bit lane. Depth chunks add into the fp32 output,
//! as in the fp32 GEMM. The plain kernel is tested against f64 sums within
//! bf16's rounding bound, and the AVX512-BF16 kernel within the same bound.

use half::bf16;
use rayon::prelude::*;

use super::cpu::{self, KernelPath};
use super::gemm::{for_each_block, for_each_tile, Accumulate, Epilogue, Init};

/// Depth per chunk: a 32-column panel of 512 bf16 is 32 KiB.
const KC: usize = 512;

/// The bf16 GEMM kernel a path uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bf16Kernel {
    /// AVX512-BF16 `vdpbf16ps`, 12 rows × 32 columns.
    Avx512Bf16,
    /// AMX tiles (`tdpbf16ps`), 32 rows × 32 columns.
    Amx,
    /// The AMX kernel on [`super::amx::TileModel`], software: tests only.
    #[cfg(test)]
    AmxModel,
    /// Plain loops (each bf16 widened to fp32): correct everywhere, slow.
    Portable,
}

impl Bf16Kernel {
    /// The bf16 kernel for `path` on this CPU.
    pub fn for_path(path: KernelPath) -> Bf16Kernel {
        // AMX only once the hardware has been seen to agree with the plain
        // kernel; else the AVX512-BF16 kernel below.
        #[cfg(target_arch = "x86_64")]
        if path == KernelPath::Amx && super::gemm_amx::hardware_agrees() {
            return Bf16Kernel::Amx;
        }
        #[cfg(target_arch = "x86_64")]
        if path.vectors() == KernelPath::Avx512 && std::arch::is_x86_feature_detected!("avx512bf16")
        {
            return Bf16Kernel::Avx512Bf16;
        }
        let _ = path;
        Bf16Kernel::Portable
    }

    pub fn name(self) -> &'static str {
        match self {
            Bf16Kernel::Avx512Bf16 => "avx512-bf16",
            Bf16Kernel::Amx => "amx",
            #[cfg(test)]
            Bf16Kernel::AmxModel => "amx (tile model)",
            Bf16Kernel::Portable => "portable",
        }
    }

    /// Whether this kernel has hardware bf16 dot products (worth choosing
    /// for speed).
    pub fn in_hardware(self) -> bool {
        matches!(self, Bf16Kernel::Avx512Bf16 | Bf16Kernel::Amx)
    }

    /// Whether the kernel runs on AMX tiles (which a thread configures first).
    fn uses_tiles(self) -> bool {
        match self {
            Bf16Kernel::Amx => true,
            #[cfg(test)]
            Bf16Kernel::AmxModel => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for Bf16Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Columns per panel and rows per tile.
fn tile_shape(kernel: Bf16Kernel) -> (usize, usize) {
    match kernel {
        Bf16Kernel::Avx512Bf16 => (32, 12),
        Bf16Kernel::Amx => (super::gemm_amx::COLUMNS, super::gemm_amx::ROWS),
        #[cfg(test)]
        Bf16Kernel::AmxModel => (super::gemm_amx::COLUMNS, super::gemm_amx::ROWS),
        Bf16Kernel::Portable => (16, 6),
    }
}

/// A weight matrix `[n, k]` in bf16, packed for one kernel.
pub struct Bf16Linear {
    pub n: usize,
    pub k: usize,
    /// `k` rounded up to the kernel's step (the padding is zero).
    kp: usize,
    kernel: Bf16Kernel,
    nr: usize,
    /// `panels[((p·kp/2 + g)·nr + j)·2 + t] = W[p·nr + j][2g + t]`, bf16 bits.
    panels: Vec<u16>,
    bias: Vec<f32>,
}

impl Bf16Linear {
    /// `weight` row-major `[n, k]` for the process's path; `n` a multiple of 16.
    pub fn pack(weight: &[f32], bias: Option<&[f32]>, n: usize, k: usize) -> Self {
        Self::pack_for(Bf16Kernel::for_path(cpu::active()), weight, bias, n, k)
    }

    /// Packed for `kernel` (which the CPU must run); a width its panel does
    /// not divide falls back to the plain kernel.
    pub fn pack_for(
        kernel: Bf16Kernel,
        weight: &[f32],
        bias: Option<&[f32]>,
        n: usize,
        k: usize,
    ) -> Self {
        assert_eq!(weight.len(), n * k, "weight is not [n, k]");
        assert!(
            n.is_multiple_of(16),
            "output width {n} is not a multiple of 16"
        );
        let kernel = if n.is_multiple_of(tile_shape(kernel).0) {
            kernel
        } else {
            Bf16Kernel::Portable
        };
        let nr = tile_shape(kernel).0;
        // Pairs for `vdpbf16ps`; whole tile steps (32 values) for AMX.
        let kp = if kernel.uses_tiles() {
            k.next_multiple_of(super::gemm_amx::STEP_BYTES / 2)
        } else {
            k.next_multiple_of(2)
        };
        let mut panels = vec![0u16; n * kp];
        for col in 0..n {
            let (p, j) = (col / nr, col % nr);
            for (kk, &w) in weight[col * k..(col + 1) * k].iter().enumerate() {
                panels[((p * kp / 2 + kk / 2) * nr + j) * 2 + kk % 2] = bf16::from_f32(w).to_bits();
            }
        }
        let bias = bias.map_or_else(|| vec![0f32; n], <[f32]>::to_vec);
        assert_eq!(bias.len(), n, "bias is not [n]");
        Self {
            n,
            k,
            kp,
            kernel,
            nr,
            panels,
            bias,
        }
    }

    pub fn kernel(&self) -> Bf16Kernel {
        self.kernel
    }

    /// `y[m, n] (=|+=) x[m, k] · Wᵀ + b`, the input rounded to bf16, split
    /// across rayon's threads; `then` runs on each finished output block.
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
        let input = to_bf16_rows(&x[..m * self.k], self.k, self.kp);
        let mr = tile_shape(self.kernel).1;
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
                // floats); `input` holds `m` rows of `kp` values.
                unsafe { self.block(self.kernel, &input, rows, panels, y, mode) }
            },
        );
    }

    /// One task: rows × panels, in depth chunks.
    ///
    /// # Safety
    /// `input` holds at least `rows.end · kp` values; `y` points to at least
    /// `rows.end · n` writable floats no other thread touches in `rows ×
    /// panels`; `panels.end ≤ n / nr`; `kernel` is `self.kernel` or
    /// `Portable` with the same panel width.
    unsafe fn block(
        &self,
        kernel: Bf16Kernel,
        input: &[u16],
        rows: std::ops::Range<usize>,
        panels: std::ops::Range<usize>,
        y: *mut f32,
        mode: Accumulate,
    ) {
        let (n, kp, nr) = (self.n, self.kp, self.nr);
        if kernel.uses_tiles() {
            // SAFETY: `kernel` is AMX only where the CPU and OS gave this
            // process the tiles (`KernelPath::Amx`), or the model.
            configure_tiles(kernel);
        }
        for_each_tile(kp, KC, mode, rows, panels, tile_shape(kernel).1, |t| {
            // SAFETY (pointer arithmetic): t.panel < n / nr and t.k0 + t.kc
            // ≤ kp, so the panel's `kc · nr` values lie inside `self.panels`
            // (`n · kp`), the nr biases inside `self.bias`; rows t.row..t.row
            // + t.mr < rows.end read `input` and write `y` in bounds by the
            // caller's contract.
            let col = t.panel * nr;
            let tile = Bf16Tile {
                mr: t.mr,
                nr,
                kc: t.kc,
                a: input.as_ptr().add(t.row * kp + t.k0),
                lda: kp,
                panel: self.panels.as_ptr().add(t.panel * nr * kp + t.k0 * nr),
                bias: self.bias.as_ptr().add(col),
                c: y.add(t.row * n + col),
                ldc: n,
                init: t.init,
            };
            tile.run(kernel);
        });
        if kernel.uses_tiles() {
            // SAFETY: configured above, on this thread.
            release_tiles(kernel);
        }
    }
}

/// Loads the tile configuration on this thread.
///
/// # Safety
/// `kernel` uses tiles and the CPU runs it.
unsafe fn configure_tiles(kernel: Bf16Kernel) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Bf16Kernel::Amx => <super::amx::Amx as super::amx::TileUnit>::configure(),
        #[cfg(test)]
        Bf16Kernel::AmxModel => <super::amx::TileModel as super::amx::TileUnit>::configure(),
        _ => {}
    }
}

/// Gives this thread's tiles back.
///
/// # Safety
/// As [`configure_tiles`], which ran on this thread.
unsafe fn release_tiles(kernel: Bf16Kernel) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Bf16Kernel::Amx => <super::amx::Amx as super::amx::TileUnit>::release(),
        #[cfg(test)]
        Bf16Kernel::AmxModel => <super::amx::TileModel as super::amx::TileUnit>::release(),
        _ => {}
    }
}

/// `x` (`[m, k]`) rounded to bf16 into rows of `kp` values (zero padded).
fn to_bf16_rows(x: &[f32], k: usize, kp: usize) -> Vec<u16> {
    let m = x.len() / k;
    let mut out = vec![0u16; m * kp];
    out.par_chunks_mut(kp)
        .zip(x.par_chunks(k))
        .for_each(|(out, row)| {
            for (o, &v) in out.iter_mut().zip(row) {
                *o = bf16::from_f32(v).to_bits();
            }
        });
    out
}

/// One micro-tile: `mr` rows × `nr` columns over `kc` depths (even).
#[derive(Clone, Copy)]
pub(super) struct Bf16Tile {
    pub mr: usize,
    pub nr: usize,
    pub kc: usize,
    /// `mr` rows of `kc` bf16 inputs, `lda` apart.
    pub a: *const u16,
    pub lda: usize,
    /// `kc · nr` packed bf16 weights.
    pub panel: *const u16,
    /// `nr` biases.
    pub bias: *const f32,
    /// `mr` rows of `nr` outputs, `ldc` apart.
    pub c: *mut f32,
    pub ldc: usize,
    pub init: Init,
}

impl Bf16Tile {
    /// Runs the tile with `kernel`.
    ///
    /// # Safety
    /// Every pointer covers what its field's comment says, readable (and
    /// `c` writable, used by no other thread); `mr` and `nr` are the
    /// kernel's (`tile_shape`); the CPU runs `kernel`.
    unsafe fn run(self, kernel: Bf16Kernel) {
        // SAFETY: the caller's contract; `Avx512Bf16` is only chosen
        // (`Bf16Kernel::for_path`) where the CPU reported AVX512-BF16.
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Bf16Kernel::Avx512Bf16 => super::gemm_bf16_avx512::tile(self),
            #[cfg(target_arch = "x86_64")]
            Bf16Kernel::Amx => super::gemm_amx::bf16_tile::<super::amx::Amx>(self),
            #[cfg(test)]
            Bf16Kernel::AmxModel => super::gemm_amx::bf16_tile::<super::amx::TileModel>(self),
            _ => self.plain(),
        }
    }

    /// Plain loops over the widened values.
    ///
    /// # Safety
    /// As [`Bf16Tile::run`].
    unsafe fn plain(self) {
        let widen = |bits: u16| bf16::from_bits(bits).to_f32();
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
            let a = self.a.add(r * self.lda);
            for g in 0..self.kc / 2 {
                let (a0, a1) = (widen(*a.add(2 * g)), widen(*a.add(2 * g + 1)));
                for (j, v) in acc.iter_mut().enumerate() {
                    let w = self.panel.add((g * self.nr + j) * 2);
                    *v += a0 * widen(*w) + a1 * widen(*w.add(1));
                }
            }
            for (j, v) in acc.iter().enumerate() {
                *self.c.add(r * self.ldc + j) = *v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fast::gemm::reference;
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut rand::rngs::StdRng, len: usize, spread: f32) -> Vec<f32> {
        (0..len)
            .map(|_| rng.random_range(-spread..spread))
            .collect()
    }

    /// Every bf16 kernel this CPU runs (the other named as skipped), every
    /// shape class (odd depth, below / at / above a chunk, rows not a
    /// multiple of a tile, a width the 32-column panel does not divide),
    /// both modes, against f64 sums of the unrounded inputs. Bound per
    /// output: bf16 keeps 8 significant bits, so rounding moves each of x
    /// and w by at most 2⁻⁸ of itself (the unit roundoff) and a product by
    /// at most (2⁻⁷ + 2⁻¹⁶)·|x·w|: `(2⁻⁷ + 2⁻¹⁶) · Σ|x·w|`, plus fp32
    /// summation (1e-5 of the same sum) and 1e-5. (An earlier bound of
    /// 2⁻⁸ per product was wrong, and seed 1615633819910124021 showed it.)
    #[test]
    fn every_bf16_kernel_stays_within_the_rounding_bound() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for kernel in [
            Bf16Kernel::Amx,
            Bf16Kernel::AmxModel,
            Bf16Kernel::Avx512Bf16,
            Bf16Kernel::Portable,
        ] {
            let runs = match kernel {
                Bf16Kernel::Amx => KernelPath::Amx.supported(),
                Bf16Kernel::Avx512Bf16 => Bf16Kernel::for_path(KernelPath::Avx512) == kernel,
                _ => true,
            };
            if !runs {
                crate::say!("bf16 {kernel}: skipped, this CPU has no {kernel}");
                continue;
            }
            for &(m, n, k) in &[
                (1, 32, 7),
                (5, 32, 512),
                (9, 48, 101),
                (13, 64, 1030),
                (150, 1152, 384),
                (40, 384, 1536),
            ] {
                let x = random(&mut rng, m * k, 3.0);
                let w = random(&mut rng, n * k, 0.2);
                let b = random(&mut rng, n, 1.0);
                let packed = Bf16Linear::pack_for(kernel, &w, Some(&b), n, k);
                for mode in [Accumulate::Overwrite, Accumulate::AddTo] {
                    let start = random(&mut rng, m * n, 1.0);
                    let mut fast = start.clone();
                    let mut want = start.clone();
                    packed.forward(&x, m, &mut fast, mode, None);
                    reference(&x, &w, &b, m, n, k, &mut want, mode);
                    for i in 0..m {
                        for j in 0..n {
                            let magnitude: f64 = (0..k)
                                .map(|kk| (x[i * k + kk] as f64 * w[j * k + kk] as f64).abs())
                                .sum();
                            let bound = magnitude * (2f64.powi(-7) + 2f64.powi(-16) + 1e-5) + 1e-5;
                            let err = (fast[i * n + j] - want[i * n + j]).abs() as f64;
                            assert!(
                                err <= bound,
                                "seed {seed}, bf16 {kernel} ({}): {m}×{n}×{k} {mode:?} [{i},{j}]: {err} > {bound}",
                                packed.kernel()
                            );
                        }
                    }
                }
            }
            println!("bf16 {kernel}: passed");
        }
    }
}
