//! int8 dense layers: `Y = X Wᵀ + b` (optionally `+=`) with the weight
//! quantised per output channel and the input per row, for CPUs with VNNI.
//!
//! Why this shape: VNNI's `vpdpbusd` multiplies unsigned bytes by signed
//! bytes and adds each group of four products into a 32-bit lane, 64
//! products per 512-bit instruction against 16 for an fp32 FMA. So the
//! weight is symmetric int8 (`w ≈ sw_j · q`, `q ∈ [-127, 127]`, one scale
//! per output column, fixed at load) and each input row is asymmetric
//! uint8 (`x ≈ sa_i · (u − z_i)`, `u ∈ [0, 255]`, quantised at every call
//! from the row's own range, zero exactly representable). Then
//! `Σ x·w ≈ sa_i · sw_j · (Σ u·q − z_i · Σ q)`: the integer dot products
//! run on VNNI and the column sums `Σ q` are computed once at load (per
//! depth chunk, so each chunk's sum is centred before it becomes a float).
//! The bias, the residual and the activation stay fp32.
//!
//! The panels hold `nr` output columns, grouped by four depths
//! (`[k/4][nr][4]` bytes), the layout the instruction reads; a row tile
//! broadcasts four input bytes as one 32-bit lane. Depth is walked in
//! chunks whose integer sums are scaled and added to the fp32 output, so
//! the panel stays in L1. Every kernel computes the same integers and then
//! the same fp32 operations in the same order, so the VNNI kernels equal
//! the plain one bit for bit (tested), and the plain one is tested against
//! f64 sums within the quantisation's own error bound.

use rayon::prelude::*;

use super::cpu::{self, Int8Kernel};
use super::gemm::{for_each_block, for_each_tile, Accumulate, Epilogue, Init};
use super::reuse::Pool;

/// Depth per chunk, in input bytes: a 32-column panel of 512 is 16 KiB.
const KC: usize = 512;
/// The deepest input whose integer sums cannot overflow 32 bits:
/// 255 · 127 · 65,536 < 2³¹.
const MAX_DEPTH: usize = 65_536;

/// A weight matrix `[n, k]` quantised per output column and packed for one
/// int8 kernel.
pub struct QuantLinear {
    pub n: usize,
    pub k: usize,
    /// `k` rounded up to the kernel's step (`padded_depth`; the padding weighs zero).
    kp: usize,
    kernel: Int8Kernel,
    nr: usize,
    /// `panels[((p·kp/4 + g)·nr + j)·4 + t] = q[p·nr + j][4g + t]`.
    panels: Vec<i8>,
    /// Per output column: `w ≈ scale · q`.
    scales: Vec<f32>,
    /// Per depth chunk and output column: `Σ q` over the chunk, for the
    /// input's zero point (`chunk_sums[c·n + j]`).
    chunk_sums: Vec<i32>,
    bias: Vec<f32>,
}

/// Columns per panel and rows per tile of an int8 kernel.
fn tile_shape(kernel: Int8Kernel) -> (usize, usize) {
    match kernel {
        Int8Kernel::Vnni512 => (32, 12),
        Int8Kernel::Amx => (super::gemm_amx::COLUMNS, super::gemm_amx::ROWS),
        #[cfg(test)]
        Int8Kernel::AmxModel => (super::gemm_amx::COLUMNS, super::gemm_amx::ROWS),
        Int8Kernel::AvxVnni | Int8Kernel::Portable => (16, 6),
    }
}

/// Depth rounded up to what a kernel's steps take: four codes for VNNI's
/// groups, 64 for an AMX tile (the padding weighs zero).
fn padded_depth(kernel: Int8Kernel, k: usize) -> usize {
    match kernel {
        Int8Kernel::Amx => k.next_multiple_of(super::gemm_amx::STEP_BYTES),
        #[cfg(test)]
        Int8Kernel::AmxModel => k.next_multiple_of(super::gemm_amx::STEP_BYTES),
        _ => k.next_multiple_of(4),
    }
}

/// Whether the kernel runs on AMX tiles (which a thread configures first).
fn uses_tiles(kernel: Int8Kernel) -> bool {
    match kernel {
        Int8Kernel::Amx => true,
        #[cfg(test)]
        Int8Kernel::AmxModel => true,
        _ => false,
    }
}

/// Symmetric int8 of one weight row: the scale and the codes.
fn quantise_weights(row: &[f32]) -> (f32, Vec<i8>) {
    let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let codes = row
        .iter()
        .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (scale, codes)
}

impl QuantLinear {
    /// `weight` row-major `[n, k]`, for the int8 kernel of the process's
    /// kernel path; `n` must be a multiple of 16.
    pub fn pack(weight: &[f32], bias: Option<&[f32]>, n: usize, k: usize) -> Self {
        Self::pack_for(Int8Kernel::for_path(cpu::active()), weight, bias, n, k)
    }

    /// Packed for `kernel` (which the CPU must run). A width the kernel's
    /// panel does not divide falls back to a 16-wide kernel.
    pub fn pack_for(
        kernel: Int8Kernel,
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
        assert!(
            k <= MAX_DEPTH,
            "depth {k} over {MAX_DEPTH}: the sums could overflow"
        );
        let kernel = if n.is_multiple_of(tile_shape(kernel).0) {
            kernel
        } else if Int8Kernel::for_path(cpu::KernelPath::Avx2).in_hardware() {
            Int8Kernel::AvxVnni
        } else {
            Int8Kernel::Portable
        };
        let nr = tile_shape(kernel).0;
        let kp = padded_depth(kernel, k);
        let mut panels = vec![0i8; n * kp];
        let mut scales = Vec::with_capacity(n);
        let mut chunk_sums = vec![0i32; kp.div_ceil(KC) * n];
        for col in 0..n {
            let (scale, codes) = quantise_weights(&weight[col * k..(col + 1) * k]);
            scales.push(scale);
            for (c, chunk) in codes.chunks(KC).enumerate() {
                chunk_sums[c * n + col] = chunk.iter().map(|&q| i32::from(q)).sum();
            }
            let (p, j) = (col / nr, col % nr);
            for (kk, &q) in codes.iter().enumerate() {
                panels[((p * kp / 4 + kk / 4) * nr + j) * 4 + kk % 4] = q;
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
            scales,
            chunk_sums,
            bias,
        }
    }

    /// The int8 kernel this matrix was packed for.
    pub fn kernel(&self) -> Int8Kernel {
        self.kernel
    }

    /// `y[m, n] (=|+=) x[m, k] · Wᵀ + b`, the input quantised per row, split
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
        let input = QuantRows::new(&x[..m * self.k], self.k, self.kp);
        self.forward_quantised(&input, y, mode, then, self.kernel);
    }

    fn forward_quantised(
        &self,
        input: &QuantRows,
        y: &mut [f32],
        mode: Accumulate,
        then: Option<&Epilogue<'_>>,
        kernel: Int8Kernel,
    ) {
        for_each_block(
            input.rows(),
            self.n / self.nr,
            self.nr,
            tile_shape(kernel).1,
            y,
            then,
            |rows, panels, y| {
                // SAFETY: `for_each_block` hands each call its own non-empty
                // block of rows `< m` and panels `< n / nr` of `y` (`m · n`
                // floats); `input` holds `m` rows of `kp` bytes and their scales.
                unsafe { self.block(kernel, input, rows, panels, y, mode) }
            },
        );
    }

    /// One task: rows × panels, in depth chunks.
    ///
    /// # Safety
    /// `input` has at least `rows.end` rows; `y` points to at least
    /// `rows.end · n` writable floats that no other thread touches in
    /// `rows × panels`; `panels.end ≤ n / nr`; `kernel` is `self.kernel` or
    /// `Portable` with the same panel width.
    unsafe fn block(
        &self,
        kernel: Int8Kernel,
        input: &QuantRows,
        rows: std::ops::Range<usize>,
        panels: std::ops::Range<usize>,
        y: *mut f32,
        mode: Accumulate,
    ) {
        let (n, kp, nr) = (self.n, self.kp, self.nr);
        let tiles = uses_tiles(kernel);
        if tiles {
            // SAFETY: `kernel` is AMX only where the CPU and OS gave this
            // process the tiles (`cpu::KernelPath::Amx`), or the model.
            configure_tiles(kernel);
        }
        for_each_tile(kp, KC, mode, rows, panels, tile_shape(kernel).1, |t| {
            // SAFETY (pointer arithmetic): t.panel < n / nr and t.k0 + t.kc
            // ≤ kp, so the panel's `kc · nr` bytes lie inside `self.panels`
            // (`n · kp`); the nr scales and biases inside theirs (`n`), the
            // chunk's nr sums inside `chunk_sums` (chunks of KC, as here);
            // rows t.row..t.row + t.mr < rows.end read `input` (m rows of kp
            // bytes, m scales and zero points) and write `y` in bounds by
            // the caller's contract.
            let col = t.panel * nr;
            let tile = Int8Tile {
                mr: t.mr,
                nr,
                kc: t.kc,
                a: input.codes.as_ptr().add(t.row * kp + t.k0),
                lda: kp,
                a_scale: input.scales.as_ptr().add(t.row),
                a_zero: input.zeros.as_ptr().add(t.row),
                panel: self.panels.as_ptr().add(t.panel * nr * kp + t.k0 * nr),
                w_scale: self.scales.as_ptr().add(col),
                col_sums: self.chunk_sums.as_ptr().add(t.k0 / KC * n + col),
                bias: self.bias.as_ptr().add(col),
                c: y.add(t.row * n + col),
                ldc: n,
                init: t.init,
            };
            tile.run(kernel);
        });
        if tiles {
            // SAFETY: configured above, on this thread.
            release_tiles(kernel);
        }
    }
}

/// Loads the tile configuration on this thread.
///
/// # Safety
/// `kernel` uses tiles and the CPU runs it.
unsafe fn configure_tiles(kernel: Int8Kernel) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Int8Kernel::Amx => <super::amx::Amx as super::amx::TileUnit>::configure(),
        #[cfg(test)]
        Int8Kernel::AmxModel => <super::amx::TileModel as super::amx::TileUnit>::configure(),
        _ => {}
    }
}

/// Gives this thread's tiles back.
///
/// # Safety
/// As [`configure_tiles`], which ran on this thread.
unsafe fn release_tiles(kernel: Int8Kernel) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Int8Kernel::Amx => <super::amx::Amx as super::amx::TileUnit>::release(),
        #[cfg(test)]
        Int8Kernel::AmxModel => <super::amx::TileModel as super::amx::TileUnit>::release(),
        _ => {}
    }
}

/// Input rows quantised to asymmetric uint8, each with its own scale and
/// zero point: `x ≈ scale · (code − zero)`.
pub struct QuantRows {
    /// At least `rows · kp` codes (a reused buffer may be longer). A row's
    /// padding past `k` may hold anything: it meets the weights' zero
    /// padding, so it adds nothing (the tests reuse one buffer across
    /// shapes and depths that pad).
    codes: Vec<u8>,
    scales: Vec<f32>,
    zeros: Vec<i32>,
}

/// Code buffers kept between calls (see `reuse`): allocating one zeroed
/// at every call was a serial memset (4% of a 2-thread profile) that every
/// core waited for. Every code that meets a weight is written before it is
/// read.
static CODE_BUFFERS: Pool<Vec<u8>> = Pool::new();

/// A code buffer of at least `len` bytes: a free one, grown (zeroed) only
/// past what it held.
fn code_buffer(len: usize) -> Vec<u8> {
    let mut codes = CODE_BUFFERS.take();
    if codes.len() < len {
        codes.resize(len, 0);
    }
    codes
}

impl Drop for QuantRows {
    /// Hands the code buffer back for the next call.
    fn drop(&mut self) {
        CODE_BUFFERS.give(std::mem::take(&mut self.codes));
    }
}

/// Rows per parallel task when quantising.
const ROWS_PER_TASK: usize = 32;

impl QuantRows {
    /// Quantises `x` (`[m, k]`) row by row into rows of `kp ≥ k` codes.
    pub fn new(x: &[f32], k: usize, kp: usize) -> Self {
        let m = x.len() / k;
        let mut codes = code_buffer(m * kp);
        let mut scales = vec![0f32; m];
        let mut zeros = vec![0i32; m];
        codes[..m * kp]
            .par_chunks_mut(kp * ROWS_PER_TASK)
            .zip(scales.par_chunks_mut(ROWS_PER_TASK))
            .zip(zeros.par_chunks_mut(ROWS_PER_TASK))
            .zip(x.par_chunks(k * ROWS_PER_TASK))
            .for_each(|(((codes, scales), zeros), x)| {
                quantise_block(x, k, kp, codes, scales, zeros)
            });
        Self {
            codes,
            scales,
            zeros,
        }
    }

    fn rows(&self) -> usize {
        self.scales.len()
    }
}

/// `(min(row, 0), max(row, 0))`, NaN ignored. The plain loop keeps 16
/// running minima and maxima so it vectorises; compiled for AVX-512 and for
/// AVX2 the compiler turned even that into lane reversals, packs and blends
/// (a third of the quantisation's time, `perf annotate`), so those paths
/// have their own.
#[inline(always)]
fn range_with_zero(row: &[f32]) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    match cpu::active().vectors() {
        // SAFETY: the active path is only ever one the CPU runs, so it has
        // AVX-512 F.
        cpu::KernelPath::Avx512 => return unsafe { range_with_zero_avx512(row) },
        // SAFETY: as above: the CPU has AVX2.
        cpu::KernelPath::Avx2 => return unsafe { range_with_zero_avx2(row) },
        _ => {}
    }
    range_with_zero_plain(row)
}

#[inline(always)]
fn range_with_zero_plain(row: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = ([0f32; 16], [0f32; 16]);
    let mut chunks = row.chunks_exact(16);
    for chunk in &mut chunks {
        for i in 0..16 {
            lo[i] = if chunk[i] < lo[i] { chunk[i] } else { lo[i] };
            hi[i] = if chunk[i] > hi[i] { chunk[i] } else { hi[i] };
        }
    }
    let rest = chunks.remainder();
    let lo = rest.iter().chain(&lo).fold(0f32, |m, &v| m.min(v));
    let hi = rest.iter().chain(&hi).fold(0f32, |m, &v| m.max(v));
    (lo, hi)
}

/// [`range_with_zero`] in 16 lanes. `vminps` / `vmaxps` return their second
/// operand when either is NaN, and the running value is the second, so a
/// NaN never enters it (as in the plain loop).
///
/// # Safety
/// The CPU has AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn range_with_zero_avx512(row: &[f32]) -> (f32, f32) {
    use std::arch::x86_64::*;
    let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut chunks = row.chunks_exact(16);
    for chunk in &mut chunks {
        let v = _mm512_loadu_ps(chunk.as_ptr());
        lo = _mm512_min_ps(v, lo);
        hi = _mm512_max_ps(v, hi);
    }
    let rest = chunks.remainder();
    // Lanes past the row load as zero, which the range holds anyway.
    let v = _mm512_maskz_loadu_ps((1u16 << rest.len()).wrapping_sub(1), rest.as_ptr());
    lo = _mm512_min_ps(v, lo);
    hi = _mm512_max_ps(v, hi);
    (_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi))
}

/// [`range_with_zero`] in 8 lanes, the tail as the plain loop does it.
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn range_with_zero_avx2(row: &[f32]) -> (f32, f32) {
    use std::arch::x86_64::*;
    let (mut lo, mut hi) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        let v = _mm256_loadu_ps(chunk.as_ptr());
        // As with AVX-512: the running value second, so a NaN never enters.
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
    }
    let (mut lanes_lo, mut lanes_hi) = ([0f32; 8], [0f32; 8]);
    _mm256_storeu_ps(lanes_lo.as_mut_ptr(), lo);
    _mm256_storeu_ps(lanes_hi.as_mut_ptr(), hi);
    let rest = chunks.remainder();
    let lo = rest.iter().chain(&lanes_lo).fold(0f32, |m, &v| m.min(v));
    let hi = rest.iter().chain(&lanes_hi).fold(0f32, |m, &v| m.max(v));
    (lo, hi)
}

cpu::per_path! {
    fn quantise_block(
        x: &[f32],
        k: usize,
        kp: usize,
        codes: &mut [u8],
        scales: &mut [f32],
        zeros: &mut [i32],
    ) {
        for (((row, out), scale), zero) in x
            .chunks_exact(k)
            .zip(codes.chunks_exact_mut(kp))
            .zip(scales.iter_mut())
            .zip(zeros.iter_mut())
        {
            let (s, z) = quantise_row(row, &mut out[..k]);
            *scale = s;
            *zero = z;
        }
    }
}

/// One row to uint8 over `[min(row, 0), max(row, 0)]`: the range always
/// holds zero, so zero is a code exactly. Returns the scale and zero point.
/// Written for the vectoriser: ties rounded to even (one instruction;
/// `round` is a libm call), and the final conversion unchecked once the
/// value is known to be in range.
#[inline(always)]
fn quantise_row(row: &[f32], codes: &mut [u8]) -> (f32, i32) {
    let (lo, hi) = range_with_zero(row);
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let inv = 1.0 / scale;
    let zero = (-lo * inv).round_ties_even().clamp(0.0, 255.0);
    for (c, &v) in codes.iter_mut().zip(row) {
        // Not `clamp`: it keeps a NaN, and the conversion below needs a number.
        #[allow(clippy::manual_clamp)]
        let q = (v * inv + zero).round_ties_even().max(0.0).min(255.0);
        // SAFETY: `f32::max` / `min` return the other argument when one is
        // NaN, so `q` is a number in [0, 255], which an i32 holds exactly.
        *c = unsafe { q.to_int_unchecked::<i32>() } as u8;
    }
    (scale, zero as i32)
}

/// One micro-tile: `mr` rows × `nr` columns over `kc` depths (a multiple of 4).
#[derive(Clone, Copy)]
pub(super) struct Int8Tile {
    pub mr: usize,
    pub nr: usize,
    pub kc: usize,
    /// `mr` rows of `kc` codes, `lda` apart.
    pub a: *const u8,
    pub lda: usize,
    /// `mr` input scales and zero points.
    pub a_scale: *const f32,
    pub a_zero: *const i32,
    /// `kc · nr` packed weight codes.
    pub panel: *const i8,
    /// `nr` weight scales, column sums over this chunk, and biases.
    pub w_scale: *const f32,
    pub col_sums: *const i32,
    pub bias: *const f32,
    /// `mr` rows of `nr` outputs, `ldc` apart.
    pub c: *mut f32,
    pub ldc: usize,
    /// Where the outputs start.
    pub init: Init,
}

impl Int8Tile {
    /// Runs the tile with `kernel`.
    ///
    /// # Safety
    /// Every pointer covers what its field's comment says, readable (and
    /// `c` writable, used by no other thread); `mr` and `nr` are the
    /// kernel's (`tile_shape`: `mr` at most its rows, `nr` exactly its
    /// panel, any `nr` for `Portable`); the CPU runs `kernel`.
    pub(super) unsafe fn run(self, kernel: Int8Kernel) {
        // SAFETY: the caller's contract is each kernel's; a kernel is only
        // chosen (`Int8Kernel::for_path`) where the CPU reported it.
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::Vnni512 => super::gemm_vnni::tile_512(self),
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::AvxVnni => super::gemm_vnni::tile_256(self),
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::Amx => super::gemm_amx::int8_tile::<super::amx::Amx>(self),
            #[cfg(test)]
            Int8Kernel::AmxModel => super::gemm_amx::int8_tile::<super::amx::TileModel>(self),
            _ => self.plain(),
        }
    }

    /// The portable kernel: integer loops, then the same fp32 steps as the
    /// VNNI kernels, in the same order.
    ///
    /// # Safety
    /// As [`Int8Tile::run`].
    unsafe fn plain(self) {
        let mut acc = [0i32; 32];
        for r in 0..self.mr {
            let acc = &mut acc[..self.nr];
            acc.fill(0);
            let a = self.a.add(r * self.lda);
            for g in 0..self.kc / 4 {
                for (j, v) in acc.iter_mut().enumerate() {
                    for t in 0..4 {
                        let u = i32::from(*a.add(4 * g + t));
                        let q = i32::from(*self.panel.add((g * self.nr + j) * 4 + t));
                        *v += u * q;
                    }
                }
            }
            self.finish_row(r, acc);
        }
    }

    /// Row `r`'s integer sums (`nr` of them) to fp32: the zero-point
    /// correction, both scales, then onto the bias or the output. Every
    /// kernel but the VNNI ones (which do the same steps in registers) ends
    /// here, so their outputs are equal bit for bit.
    ///
    /// # Safety
    /// As [`Int8Tile::run`], `r < mr`, `sums.len() == nr`.
    pub(super) unsafe fn finish_row(&self, r: usize, sums: &[i32]) {
        let zero = *self.a_zero.add(r);
        let a_scale = *self.a_scale.add(r);
        for (j, &v) in sums.iter().enumerate() {
            let sum = v - zero * *self.col_sums.add(j);
            let scaled = sum as f32 * (a_scale * *self.w_scale.add(j));
            let out = self.c.add(r * self.ldc + j);
            *out = match self.init {
                Init::Bias => *self.bias.add(j) + scaled,
                Init::BiasPlusOut => (*self.bias.add(j) + *out) + scaled,
                Init::Out => *out + scaled,
            };
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

    const KERNELS: [Int8Kernel; 5] = [
        Int8Kernel::Amx,
        Int8Kernel::AmxModel,
        Int8Kernel::Vnni512,
        Int8Kernel::AvxVnni,
        Int8Kernel::Portable,
    ];

    fn runs(kernel: Int8Kernel) -> bool {
        match kernel {
            Int8Kernel::Amx => cpu::KernelPath::Amx.supported(),
            Int8Kernel::AmxModel => true,
            Int8Kernel::Vnni512 => {
                Int8Kernel::for_path(cpu::KernelPath::Avx512) == kernel
                    && cpu::KernelPath::Avx512.supported()
            }
            Int8Kernel::AvxVnni => Int8Kernel::for_path(cpu::KernelPath::Avx2) == kernel,
            Int8Kernel::Portable => true,
        }
    }

    /// The worst error quantisation allows for one output, from the
    /// definitions: with `|x − x̂| ≤ sa/2` and `|w − ŵ| ≤ sw/2` per term,
    /// `|Σ x·w − Σ x̂·ŵ| ≤ Σ (|x|·sw/2 + |ŵ|·sa/2)`; plus fp32 rounding of
    /// the result (relative 1e-5 of the sum of magnitudes).
    fn error_bound(x: &[f32], w: &[f32], a_scale: f32, w_scale: f32) -> f64 {
        let mut bound = 0f64;
        let mut magnitude = 0f64;
        for (&xv, &wv) in x.iter().zip(w) {
            let w_hat = (wv.abs() + w_scale / 2.0) as f64;
            bound += xv.abs() as f64 * w_scale as f64 / 2.0 + w_hat * a_scale as f64 / 2.0;
            magnitude += (xv as f64 * wv as f64).abs();
        }
        bound + 1e-5 * magnitude + 1e-5
    }

    /// Every int8 kernel this CPU runs (the others named as skipped), in
    /// every shape class the encoder meets (depth not a multiple of 4,
    /// below / at / above a chunk; rows not a multiple of a tile; a width
    /// the 32-column panel does not divide), both modes, against f64 sums
    /// of the unquantised inputs, each output within its own quantisation
    /// bound (`error_bound`).
    #[test]
    fn every_int8_kernel_stays_within_the_quantisation_bound() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for kernel in KERNELS {
            if !runs(kernel) {
                crate::say!("int8 {kernel}: skipped, this CPU has no {kernel}");
                continue;
            }
            for &(m, n, k) in &[
                (1, 32, 7),
                (5, 32, 512),
                (9, 48, 100),
                (13, 64, 1030),
                (77, 64, 384),
                (150, 1152, 384),
                (40, 384, 1536),
            ] {
                // Rows with different ranges, one all zero, one all negative.
                let mut x = random(&mut rng, m * k, 3.0);
                x[..k].iter_mut().for_each(|v| *v = 0.0);
                if m > 2 {
                    x[k..2 * k].iter_mut().for_each(|v| *v = -v.abs() * 0.1);
                }
                let w = random(&mut rng, n * k, 0.2);
                let b = random(&mut rng, n, 1.0);
                let packed = QuantLinear::pack_for(kernel, &w, Some(&b), n, k);
                let input = QuantRows::new(&x, k, packed.kp);
                for mode in [Accumulate::Overwrite, Accumulate::AddTo] {
                    let start = random(&mut rng, m * n, 1.0);
                    let mut fast = start.clone();
                    let mut want = start.clone();
                    packed.forward(&x, m, &mut fast, mode, None);
                    reference(&x, &w, &b, m, n, k, &mut want, mode);
                    for i in 0..m {
                        for j in 0..n {
                            let bound = error_bound(
                                &x[i * k..(i + 1) * k],
                                &w[j * k..(j + 1) * k],
                                input.scales[i],
                                packed.scales[j],
                            );
                            let err = (fast[i * n + j] - want[i * n + j]).abs() as f64;
                            assert!(
                                err <= bound,
                                "seed {seed}, int8 {kernel} ({}): {m}×{n}×{k} {mode:?} \
                                 [{i},{j}]: {err} > {bound}",
                                packed.kernel()
                            );
                        }
                    }
                }
            }
            println!("int8 {kernel}: passed");
        }
    }

    /// The VNNI and AMX kernels compute the same integers and the same
    /// fp32 steps as the plain one: their outputs are equal bit for bit
    /// (rows that fill a tile, and rows that leave one part empty).
    #[test]
    fn hardware_kernels_equal_the_plain_kernel_exactly() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for kernel in [
            Int8Kernel::Vnni512,
            Int8Kernel::AvxVnni,
            Int8Kernel::Amx,
            Int8Kernel::AmxModel,
        ] {
            if !runs(kernel) {
                crate::say!("int8 {kernel}: skipped, this CPU has no {kernel}");
                continue;
            }
            for (m, n, k) in [(29, 64, 1300), (96, 96, 384), (16, 32, 64)] {
                let x = random(&mut rng, m * k, 2.0);
                let w = random(&mut rng, n * k, 0.3);
                let b = random(&mut rng, n, 1.0);
                let packed = QuantLinear::pack_for(kernel, &w, Some(&b), n, k);
                let input = QuantRows::new(&x, k, packed.kp);
                for mode in [Accumulate::Overwrite, Accumulate::AddTo] {
                    let start = random(&mut rng, m * n, 1.0);
                    let mut fast = start.clone();
                    let mut plain = start.clone();
                    packed.forward_quantised(&input, &mut fast, mode, None, kernel);
                    packed.forward_quantised(&input, &mut plain, mode, None, Int8Kernel::Portable);
                    let differing = fast.iter().zip(&plain).filter(|(a, b)| a != b).count();
                    assert_eq!(differing, 0, "seed {seed}, {kernel} {m}×{n}×{k} {mode:?}");
                }
            }
            println!("int8 {kernel}: equal to the plain kernel");
        }
    }

    /// The AVX-512 and AVX2 range scans give the plain loop's range
    /// exactly, on every remainder length and with NaNs in the row.
    #[test]
    fn the_vector_range_scans_equal_the_plain_one() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for len in (0..40).chain([384, 1536, 1537]) {
            let mut row = random(&mut rng, len, 4.0);
            if len > 5 {
                row[len / 2] = f32::NAN;
            }
            let plain = range_with_zero_plain(&row);
            // Elsewhere neither path is supported: both are reported skipped below.
            #[cfg(not(target_arch = "x86_64"))]
            let _ = plain;
            #[cfg(target_arch = "x86_64")]
            {
                let bits = |(lo, hi): (f32, f32)| (lo.to_bits(), hi.to_bits());
                if cpu::KernelPath::Avx512.supported() {
                    // SAFETY: the CPU has AVX-512 F (checked).
                    let fast = unsafe { range_with_zero_avx512(&row) };
                    assert_eq!(bits(plain), bits(fast), "seed {seed}, avx512, length {len}");
                }
                if cpu::KernelPath::Avx2.supported() {
                    // SAFETY: the CPU has AVX2 (checked).
                    let fast = unsafe { range_with_zero_avx2(&row) };
                    assert_eq!(bits(plain), bits(fast), "seed {seed}, avx2, length {len}");
                }
            }
        }
        for path in [cpu::KernelPath::Avx512, cpu::KernelPath::Avx2] {
            if !path.supported() {
                crate::say!("range {path}: skipped, this CPU has no {path}");
            }
        }
    }

    /// Quantising a row and reading it back is within half a step, and
    /// zero comes back exactly zero.
    #[test]
    fn rows_quantise_within_half_a_step() {
        let seed: u64 = rand::random();
        println!("seed {seed} (replay: put it in place of rand::random())");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let (m, k) = (70, 389);
        let mut x = random(&mut rng, m * k, 5.0);
        x[3] = 0.0;
        let q = QuantRows::new(&x, k, k.next_multiple_of(4));
        let kp = k.next_multiple_of(4);
        for i in 0..m {
            let (s, z) = (q.scales[i], q.zeros[i]);
            for kk in 0..k {
                let back = s * (i32::from(q.codes[i * kp + kk]) - z) as f32;
                let want = x[i * k + kk];
                assert!(
                    (back - want).abs() <= s * 0.5 + 1e-5,
                    "seed {seed} [{i},{kk}]"
                );
                if want == 0.0 {
                    assert_eq!(back, 0.0, "seed {seed}: zero is not exact");
                }
            }
        }
    }
}
