//! The VNNI int8 micro-kernels. Per group of four depths: one 32-bit
//! broadcast of a row's four input bytes, two loads of the panel (four
//! bytes for each of the tile's columns), and `vpdpbusd` adds the four
//! u8 × i8 products into each column's 32-bit sum. AVX-512 VNNI keeps 12
//! rows × 32 columns in 24 zmm registers (the fp32 kernel's shape);
//! AVX-VNNI 6 × 16 in 12 ymm. The fp32 steps after the sums are the plain
//! kernel's, in its order, so the results are equal bit for bit.

use std::arch::x86_64::*;

use super::gemm::by_rows;
use super::gemm::Init;
use super::gemm_int8::Int8Tile;

/// Runs `t` (`t.nr` = 32, `t.mr` ≤ 12) with AVX-512 VNNI.
///
/// # Safety
/// As [`Int8Tile::run`], and the CPU has AVX-512 F, BW and VNNI.
pub(super) unsafe fn tile_512(t: Int8Tile) {
    debug_assert_eq!(t.nr, 32);
    // SAFETY: the caller's contract, for each row count.
    by_rows!(t.mr, rows_512, t; 12 11 10 9 8 7 6 5 4 3 2)
}

/// Runs `t` (`t.nr` = 16, `t.mr` ≤ 6) with AVX-VNNI.
///
/// # Safety
/// As [`Int8Tile::run`], and the CPU has AVX2 and AVX-VNNI.
pub(super) unsafe fn tile_256(t: Int8Tile) {
    debug_assert_eq!(t.nr, 16);
    // SAFETY: the caller's contract, for each row count.
    by_rows!(t.mr, rows_256, t; 6 5 4 3 2)
}

/// The start of each of the tile's `R` input rows, computed once: the
/// loops then have no index arithmetic to check for overflow (release
/// builds check it).
///
/// # Safety
/// `t.a` covers `R` rows `t.lda` apart.
#[inline(always)]
unsafe fn row_starts<const R: usize>(t: &Int8Tile) -> [*const u8; R] {
    std::array::from_fn(|r| t.a.add(r * t.lda))
}

/// Four input bytes at `at`, as one 32-bit lane.
///
/// # Safety
/// `at` covers four bytes.
#[inline(always)]
unsafe fn four_bytes(at: *const u8) -> i32 {
    std::ptr::read_unaligned(at as *const i32)
}

/// # Safety
/// As [`tile_512`] with `t.mr = R`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn rows_512<const R: usize>(t: Int8Tile) {
    let mut acc = [[_mm512_setzero_si512(); 2]; R];
    let a_rows = row_starts::<R>(&t);
    let mut b = t.panel;
    for depth in (0..t.kc).step_by(4) {
        let b0 = _mm512_loadu_si512(b as *const __m512i);
        let b1 = _mm512_loadu_si512(b.add(64) as *const __m512i);
        for (r, row) in acc.iter_mut().enumerate() {
            let a = _mm512_set1_epi32(four_bytes(a_rows[r].add(depth)));
            row[0] = _mm512_dpbusd_epi32(row[0], a, b0);
            row[1] = _mm512_dpbusd_epi32(row[1], a, b1);
        }
        b = b.add(128);
    }
    for (r, row) in acc.iter().enumerate() {
        let zero = _mm512_set1_epi32(*t.a_zero.add(r));
        let a_scale = _mm512_set1_ps(*t.a_scale.add(r));
        for (h, &sums) in row.iter().enumerate() {
            let j = 16 * h;
            let col_sums = _mm512_loadu_si512(t.col_sums.add(j) as *const __m512i);
            let sum = _mm512_sub_epi32(sums, _mm512_mullo_epi32(zero, col_sums));
            let scale = _mm512_mul_ps(a_scale, _mm512_loadu_ps(t.w_scale.add(j)));
            let scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), scale);
            let out = t.c.add(r * t.ldc + j);
            let bias = _mm512_loadu_ps(t.bias.add(j));
            let start = match t.init {
                Init::Bias => bias,
                Init::BiasPlusOut => _mm512_add_ps(bias, _mm512_loadu_ps(out)),
                Init::Out => _mm512_loadu_ps(out),
            };
            _mm512_storeu_ps(out, _mm512_add_ps(start, scaled));
        }
    }
}

/// # Safety
/// As [`tile_256`] with `t.mr = R`.
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn rows_256<const R: usize>(t: Int8Tile) {
    let mut acc = [[_mm256_setzero_si256(); 2]; R];
    let a_rows = row_starts::<R>(&t);
    let mut b = t.panel;
    for depth in (0..t.kc).step_by(4) {
        let b0 = _mm256_loadu_si256(b as *const __m256i);
        let b1 = _mm256_loadu_si256(b.add(32) as *const __m256i);
        for (r, row) in acc.iter_mut().enumerate() {
            let a = _mm256_set1_epi32(four_bytes(a_rows[r].add(depth)));
            row[0] = _mm256_dpbusd_avx_epi32(row[0], a, b0);
            row[1] = _mm256_dpbusd_avx_epi32(row[1], a, b1);
        }
        b = b.add(64);
    }
    for (r, row) in acc.iter().enumerate() {
        let zero = _mm256_set1_epi32(*t.a_zero.add(r));
        let a_scale = _mm256_set1_ps(*t.a_scale.add(r));
        for (h, &sums) in row.iter().enumerate() {
            let j = 8 * h;
            let col_sums = _mm256_loadu_si256(t.col_sums.add(j) as *const __m256i);
            let sum = _mm256_sub_epi32(sums, _mm256_mullo_epi32(zero, col_sums));
            let scale = _mm256_mul_ps(a_scale, _mm256_loadu_ps(t.w_scale.add(j)));
            let scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), scale);
            let out = t.c.add(r * t.ldc + j);
            let bias = _mm256_loadu_ps(t.bias.add(j));
            let start = match t.init {
                Init::Bias => bias,
                Init::BiasPlusOut => _mm256_add_ps(bias, _mm256_loadu_ps(out)),
                Init::Out => _mm256_loadu_ps(out),
            };
            _mm256_storeu_ps(out, _mm256_add_ps(start, scaled));
        }
    }
}
