//! The AMX int8 and bf16 micro-kernels: 32 rows × 32 columns as a 2 × 2
//! block of 16 × 16 accumulator tiles (oneDNN's blocking), so each loaded
//! input tile and weight tile feeds two tile multiplies.
//!
//! The weight panels need no AMX layout of their own: a 32-column int8
//! panel is `[k/4][32][4]` bytes and a bf16 one `[k/2][32][2]` values, so 16
//! consecutive depth groups of the first (last) 16 columns are exactly a
//! weight tile (`tdpbusd` / `tdpbf16ps` read B as rows of depth groups),
//! 128 bytes apart. Each step of 64 input bytes (64 int8 codes or 32 bf16
//! values) takes 16 groups, 2,048 bytes of panel, in both formats.
//!
//! The sums leave the tiles once per call into a 4 KiB block and are
//! finished in AVX-512 with the plain kernel's steps in its order
//! (`Int8Tile::finish_row`, which the tile model uses on CPUs without
//! AVX-512), so AMX's int8 outputs equal the plain kernel's bit for bit, as
//! VNNI's do. At AMX's speed that epilogue is a large share of the time
//! (docs/speed.md): it was scalar at first, and AMX lost to VNNI.

// Compiled on every CPU so the int8 and bf16 kernels name one tile layout;
// only x86-64 runs the tiles (elsewhere the tests run the tile model).
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use super::amx::{tmm, TileUnit, TILE_BYTES, TILE_ROWS};
use super::gemm::Init;
use super::gemm_bf16::Bf16Tile;
use super::gemm_int8::Int8Tile;

/// Rows and columns one call covers.
pub(super) const ROWS: usize = 2 * TILE_ROWS;
pub(super) const COLUMNS: usize = 32;
/// Input bytes per tile step (64 int8 codes, 32 bf16 values); a depth
/// chunk is a whole number of steps.
pub(super) const STEP_BYTES: usize = TILE_BYTES;
/// Panel bytes per depth group (32 columns × 4 bytes: four int8 codes or
/// two bf16 values), the stride of a weight tile's rows.
const PANEL_GROUP_BYTES: usize = COLUMNS * 4;
/// Panel bytes per tile step: 16 depth groups.
const PANEL_STEP_BYTES: usize = TILE_ROWS * PANEL_GROUP_BYTES;
/// Bytes between rows of the sums block (32 four-byte sums).
const SUMS_STRIDE: usize = COLUMNS * 4;
/// The longest input row of one depth chunk, in bytes (512 bf16 values).
const MAX_CHUNK_BYTES: usize = 1024;

/// The 32 × 32 four-byte sums of one call (i32 for int8, f32 for bf16).
#[repr(C, align(64))]
struct Sums([u32; ROWS * COLUMNS]);

/// Runs `t` (`t.nr` = 32, `t.mr` ≤ 32, `t.kc` a multiple of 64) on `U`.
///
/// # Safety
/// As [`Int8Tile::run`]; `U`'s requirement holds and `U::configure` ran on
/// this thread.
pub(super) unsafe fn int8_tile<U: TileUnit>(t: Int8Tile) {
    debug_assert!(t.nr == COLUMNS && t.mr <= ROWS && t.kc.is_multiple_of(STEP_BYTES));
    // Not zeroed (a 4 KiB memset a call, 6% of a profile): the tiles
    // store every row the epilogue reads.
    let mut sums = std::mem::MaybeUninit::<Sums>::uninit();
    // SAFETY: the tile's rows are `mr` rows of `kc` codes `lda` apart, its
    // panel `kc · 32` bytes: the contract of `multiply`.
    multiply::<U, true>(
        t.a,
        t.lda,
        t.mr,
        t.panel as *const u8,
        t.kc,
        sums.as_mut_ptr(),
    );
    // SAFETY: `multiply` stored rows 0..mr (at least) of the sums, as i32
    // (`Sums` holds four-byte values; i32 and u32 share size and alignment).
    let sums = std::slice::from_raw_parts(sums.as_ptr() as *const i32, t.mr * COLUMNS);
    #[cfg(target_arch = "x86_64")]
    if U::avx512_epilogue() {
        // SAFETY: `mr` rows of 32 sums; the unit says the CPU has AVX-512.
        finish_int8_rows_avx512(&t, sums);
        return;
    }
    for r in 0..t.mr {
        t.finish_row(r, &sums[r * COLUMNS..][..COLUMNS]);
    }
}

/// Every row's 32 sums to fp32 with AVX-512: [`Int8Tile::finish_row`]'s
/// steps in its order (the integer zero-point correction, i32 → f32, the
/// product of the two scales, then onto the bias or the output; no fused
/// multiply-add), 16 columns at a time, so the outputs stay equal to the
/// plain kernel's bit for bit. The scalar loop it replaces was a third of
/// an AMX int8 profile; one call per tile, not per row (a call per row
/// spent a fifth of the epilogue's time entering and leaving).
///
/// # Safety
/// As [`Int8Tile::finish_row`] for each of `t.mr` rows, `sums` holding
/// `t.mr` rows of 32; the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn finish_int8_rows_avx512(t: &Int8Tile, sums: &[i32]) {
    for (r, row) in sums.chunks_exact(COLUMNS).take(t.mr).enumerate() {
        // SAFETY: r < mr; the caller's contract.
        finish_int8_row_avx512(t, r, row);
    }
}

/// Row `r` of [`finish_int8_rows_avx512`].
///
/// # Safety
/// As [`Int8Tile::finish_row`] with `nr` = 32; the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn finish_int8_row_avx512(t: &Int8Tile, r: usize, sums: &[i32]) {
    use std::arch::x86_64::*;
    debug_assert_eq!(sums.len(), COLUMNS);
    let zero = _mm512_set1_epi32(*t.a_zero.add(r));
    let a_scale = _mm512_set1_ps(*t.a_scale.add(r));
    let out = t.c.add(r * t.ldc);
    for half in [0, 16] {
        // SAFETY (every load and store): columns half..half + 16 < 32 of
        // the sums, the tile's column sums, scales and biases, and row r's
        // outputs (the caller's contract).
        let sum = _mm512_sub_epi32(
            _mm512_loadu_si512(sums.as_ptr().add(half).cast()),
            _mm512_mullo_epi32(zero, _mm512_loadu_si512(t.col_sums.add(half).cast())),
        );
        let scale = _mm512_mul_ps(a_scale, _mm512_loadu_ps(t.w_scale.add(half)));
        let scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), scale);
        let at = out.add(half);
        let value = match t.init {
            Init::Bias => _mm512_add_ps(_mm512_loadu_ps(t.bias.add(half)), scaled),
            Init::BiasPlusOut => _mm512_add_ps(
                _mm512_add_ps(_mm512_loadu_ps(t.bias.add(half)), _mm512_loadu_ps(at)),
                scaled,
            ),
            Init::Out => _mm512_add_ps(_mm512_loadu_ps(at), scaled),
        };
        _mm512_storeu_ps(at, value);
    }
}

/// Runs `t` (`t.nr` = 32, `t.mr` ≤ 32, `t.kc` a multiple of 32) on `U`.
///
/// # Safety
/// As [`Bf16Tile::run`]; `U`'s requirement holds and `U::configure` ran on
/// this thread.
pub(super) unsafe fn bf16_tile<U: TileUnit>(t: Bf16Tile) {
    debug_assert!(t.nr == COLUMNS && t.mr <= ROWS && (2 * t.kc).is_multiple_of(STEP_BYTES));
    let mut sums = std::mem::MaybeUninit::<Sums>::uninit();
    // SAFETY: `mr` rows of `kc` bf16 values (2 bytes) `lda` values apart;
    // the panel holds `kc · 32` values: the contract of `multiply`.
    multiply::<U, false>(
        t.a as *const u8,
        2 * t.lda,
        t.mr,
        t.panel as *const u8,
        2 * t.kc,
        sums.as_mut_ptr(),
    );
    // SAFETY: `multiply` stored rows 0..mr (at least) of the sums.
    let sums = std::slice::from_raw_parts(sums.as_ptr() as *const u32, t.mr * COLUMNS);
    #[cfg(target_arch = "x86_64")]
    if U::avx512_epilogue() {
        // SAFETY: `mr` rows of 32 sums; the unit says the CPU has AVX-512.
        finish_bf16_rows_avx512(&t, sums);
        return;
    }
    for r in 0..t.mr {
        let row = &sums[r * COLUMNS..][..COLUMNS];
        let out = t.c.add(r * t.ldc);
        for (j, &sum) in row.iter().enumerate() {
            let start = match t.init {
                Init::Bias => *t.bias.add(j),
                Init::BiasPlusOut => *t.bias.add(j) + *out.add(j),
                Init::Out => *out.add(j),
            };
            *out.add(j) = start + f32::from_bits(sum);
        }
    }
}

/// Every row's 32 fp32 sums onto the bias or the output with AVX-512, in
/// the scalar loop's order (so equal to it bit for bit), one call a tile.
///
/// # Safety
/// `sums` holds `t.mr` rows of 32; `t.nr` = 32, `t`'s pointers as
/// [`Bf16Tile::run`] says; the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn finish_bf16_rows_avx512(t: &Bf16Tile, sums: &[u32]) {
    for (r, row) in sums.chunks_exact(COLUMNS).take(t.mr).enumerate() {
        // SAFETY: r < mr; the caller's contract.
        finish_bf16_row_avx512(t, r, row);
    }
}

/// Row `r` of [`finish_bf16_rows_avx512`].
///
/// # Safety
/// `r < t.mr`, `t.nr` = 32, `t`'s pointers as [`Bf16Tile::run`] says; the
/// CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn finish_bf16_row_avx512(t: &Bf16Tile, r: usize, sums: &[u32]) {
    use std::arch::x86_64::*;
    debug_assert_eq!(sums.len(), COLUMNS);
    let out = t.c.add(r * t.ldc);
    for half in [0, 16] {
        // SAFETY (every load and store): columns half..half + 16 < 32 of
        // the sums (fp32 bits), the biases and row r's outputs.
        let sum = _mm512_loadu_ps(sums.as_ptr().add(half).cast());
        let at = out.add(half);
        let start = match t.init {
            Init::Bias => _mm512_loadu_ps(t.bias.add(half)),
            Init::BiasPlusOut => {
                _mm512_add_ps(_mm512_loadu_ps(t.bias.add(half)), _mm512_loadu_ps(at))
            }
            Init::Out => _mm512_loadu_ps(at),
        };
        _mm512_storeu_ps(at, _mm512_add_ps(start, sum));
    }
}

/// `sums = A · B` over one depth chunk: `rows` input rows of `depth` bytes
/// `lda` bytes apart times a 32-column panel, in one or two row tiles. A
/// row count the tiles do not match is copied, zero-padded, first: a tile
/// load reads all 16 rows, and rows past the tile's belong to another task
/// or to no one.
///
/// # Safety
/// `a` covers `rows` (≤ 32) rows of `depth` readable bytes `lda` apart;
/// `panel` covers `depth / 64 · 2,048` readable bytes; `depth` is a multiple
/// of 64 and at most 1,024; `sums` is writable; `U` may run (see
/// `int8_tile`). Writes the sums' rows 0..16 · ⌈rows / 16⌉.
unsafe fn multiply<U: TileUnit, const INT8: bool>(
    a: *const u8,
    lda: usize,
    rows: usize,
    panel: *const u8,
    depth: usize,
    sums: *mut Sums,
) {
    let row_tiles = rows.div_ceil(TILE_ROWS);
    if rows == row_tiles * TILE_ROWS {
        return tiles::<U, INT8>(a, lda, row_tiles == 2, panel, depth, sums);
    }
    // Checked in release too: the buffer below is sized by it.
    assert!(depth <= MAX_CHUNK_BYTES, "a depth chunk of {depth} bytes");
    let mut padded = std::mem::MaybeUninit::<[u8; ROWS * MAX_CHUNK_BYTES]>::uninit();
    let padded = padded.as_mut_ptr() as *mut u8;
    for r in 0..row_tiles * TILE_ROWS {
        // SAFETY: r < 32 rows of `depth` ≤ 1,024 bytes lie in `padded`;
        // source rows r < `rows` are the caller's. Rows the tiles read
        // (0..16 · row_tiles, bytes 0..depth) are all written here.
        if r < rows {
            std::ptr::copy_nonoverlapping(a.add(r * lda), padded.add(r * depth), depth);
        } else {
            std::ptr::write_bytes(padded.add(r * depth), 0, depth);
        }
    }
    tiles::<U, INT8>(padded, depth, row_tiles == 2, panel, depth, sums)
}

/// The tile loop: per 64 input bytes, load one or two input tiles and two
/// weight tiles, multiply into two or four accumulators; then store them.
///
/// # Safety
/// `a` covers 16 (`two_row_tiles`: 32) rows of `depth` readable bytes `lda`
/// apart; otherwise as [`multiply`].
#[inline(always)]
unsafe fn tiles<U: TileUnit, const INT8: bool>(
    a: *const u8,
    lda: usize,
    two_row_tiles: bool,
    panel: *const u8,
    depth: usize,
    sums: *mut Sums,
) {
    U::zero::<{ tmm::C00 }>();
    U::zero::<{ tmm::C01 }>();
    if two_row_tiles {
        U::zero::<{ tmm::C10 }>();
        U::zero::<{ tmm::C11 }>();
    }
    let mut step = 0;
    while step < depth {
        let b = panel.add(step / STEP_BYTES * PANEL_STEP_BYTES);
        U::load::<{ tmm::A0 }>(a.add(step), lda);
        U::load::<{ tmm::B0 }>(b, PANEL_GROUP_BYTES);
        U::load::<{ tmm::B1 }>(b.add(TILE_BYTES), PANEL_GROUP_BYTES);
        dot::<U, INT8, { tmm::C00 }, { tmm::A0 }, { tmm::B0 }>();
        dot::<U, INT8, { tmm::C01 }, { tmm::A0 }, { tmm::B1 }>();
        if two_row_tiles {
            U::load::<{ tmm::A1 }>(a.add(TILE_ROWS * lda + step), lda);
            dot::<U, INT8, { tmm::C10 }, { tmm::A1 }, { tmm::B0 }>();
            dot::<U, INT8, { tmm::C11 }, { tmm::A1 }, { tmm::B1 }>();
        }
        step += STEP_BYTES;
    }
    let out = sums as *mut u8;
    let lower_out = out.add(TILE_ROWS * SUMS_STRIDE);
    U::store::<{ tmm::C00 }>(out, SUMS_STRIDE);
    U::store::<{ tmm::C01 }>(out.add(TILE_BYTES), SUMS_STRIDE);
    if two_row_tiles {
        U::store::<{ tmm::C10 }>(lower_out, SUMS_STRIDE);
        U::store::<{ tmm::C11 }>(lower_out.add(TILE_BYTES), SUMS_STRIDE);
    }
}

/// One tile multiply in the kernel's number format.
///
/// # Safety
/// As [`TileUnit`]'s methods.
#[inline(always)]
unsafe fn dot<U: TileUnit, const INT8: bool, const C: u8, const A: u8, const B: u8>() {
    if INT8 {
        U::dot_u8_i8::<C, A, B>();
    } else {
        U::dot_bf16::<C, A, B>();
    }
}

/// Whether this CPU's AMX kernels give the plain kernels' answers: the
/// kernels were tested on a model of the tile unit ([`super::amx::TileModel`]),
/// and this is the check that the hardware agrees with the model, run once
/// before the first AMX layer is packed. Where they disagree, calltone says
/// so and runs the VNNI / AVX512-BF16 kernels instead
/// (`Int8Kernel::for_path`, `Bf16Kernel::for_path`).
#[cfg(target_arch = "x86_64")]
pub(super) fn hardware_agrees() -> bool {
    use super::cpu::Int8Kernel;
    use super::gemm_bf16::Bf16Kernel;
    static AGREES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AGREES.get_or_init(|| match disagreement(Int8Kernel::Amx, Bf16Kernel::Amx) {
        None => true,
        Some(why) => {
            crate::say!(
                "calltone: the AMX kernels disagree with the plain kernels on this CPU ({why}); \
                 running the int8 and bf16 layers without AMX"
            );
            false
        }
    })
}

/// How `int8` and `bf16` (tile kernels) differ from the plain kernels on a
/// fixed problem with a full and an edge row tile, a depth the tiles pad
/// and both accumulate modes: int8 must be equal bit for bit (same
/// integers, same fp32 steps), bf16 within fp32 summation-order error of
/// the same rounded inputs. `None` when they agree.
pub(super) fn disagreement(
    int8: super::cpu::Int8Kernel,
    bf16: super::gemm_bf16::Bf16Kernel,
) -> Option<String> {
    use super::cpu::Int8Kernel;
    use super::gemm::Accumulate;
    use super::gemm_bf16::{Bf16Kernel, Bf16Linear};
    use super::gemm_int8::QuantLinear;
    let (m, n, k) = (45, 64, 200);
    // A fixed pseudo-random sequence in [-1, 1): the check needs no seed.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    let x: Vec<f32> = (0..m * k).map(|_| next()).collect();
    let w: Vec<f32> = (0..n * k).map(|_| next() * 0.2).collect();
    let b: Vec<f32> = (0..n).map(|_| next()).collect();
    let start: Vec<f32> = (0..m * n).map(|_| next()).collect();
    let magnitude: f32 = w.iter().map(|v| v.abs()).sum::<f32>() / n as f32;
    for mode in [Accumulate::Overwrite, Accumulate::AddTo] {
        let run_int8 = |kernel| {
            let mut y = start.clone();
            QuantLinear::pack_for(kernel, &w, Some(&b), n, k).forward(&x, m, &mut y, mode, None);
            y
        };
        let (tiles, plain) = (run_int8(int8), run_int8(Int8Kernel::Portable));
        if let Some(i) = (0..m * n).find(|&i| tiles[i].to_bits() != plain[i].to_bits()) {
            return Some(format!(
                "int8 {mode:?} [{}, {}]: {} against {}",
                i / n,
                i % n,
                tiles[i],
                plain[i]
            ));
        }
        let run_bf16 = |kernel| {
            let mut y = start.clone();
            Bf16Linear::pack_for(kernel, &w, Some(&b), n, k).forward(&x, m, &mut y, mode, None);
            y
        };
        let (tiles, plain) = (run_bf16(bf16), run_bf16(Bf16Kernel::Portable));
        // |x| < 1: each sum's terms add up to at most k · mean |w| per
        // column; fp32 order differences stay far below 1e-5 of that.
        let bound = 1e-5 * k as f32 * magnitude + 1e-5;
        if let Some(i) = (0..m * n).find(|&i| (tiles[i] - plain[i]).abs() > bound) {
            return Some(format!(
                "bf16 {mode:?} [{}, {}]: {} against {} (bound {bound})",
                i / n,
                i % n,
                tiles[i],
                plain[i]
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fast::cpu::Int8Kernel;
    use crate::model::fast::gemm_bf16::Bf16Kernel;

    /// The start-up check passes for kernels that agree: the tile model
    /// here, and the hardware on an AMX CPU.
    #[test]
    fn the_start_up_check_accepts_kernels_that_agree() {
        assert_eq!(
            disagreement(Int8Kernel::AmxModel, Bf16Kernel::AmxModel),
            None
        );
        if crate::model::fast::cpu::KernelPath::Amx.supported() {
            assert_eq!(disagreement(Int8Kernel::Amx, Bf16Kernel::Amx), None);
        } else {
            crate::say!("amx start-up check on the hardware: skipped, this CPU has no amx");
        }
    }
}
