//! The AVX512-BF16 micro-kernel: up to 12 rows × 32 columns in 24 fp32
//! accumulators. Per pair of depths: one 32-bit broadcast of a row's two
//! bf16 inputs, two loads of the panel (two bf16 for each column), and
//! `vdpbf16ps` adds both products into each column's fp32 lane.

use std::arch::x86_64::*;

use super::gemm::by_rows;
use super::gemm_avx512::{start_rows, store_rows};
use super::gemm_bf16::Bf16Tile;

/// Runs `t` (`t.nr` = 32, `t.mr` ≤ 12).
///
/// # Safety
/// As [`Bf16Tile::run`], and the CPU has AVX-512 F, BW and BF16.
pub(super) unsafe fn tile(t: Bf16Tile) {
    debug_assert_eq!(t.nr, 32);
    // SAFETY: the caller's contract, for each row count.
    by_rows!(t.mr, rows, t; 12 11 10 9 8 7 6 5 4 3 2)
}

/// 32 packed bf16 values (64 bytes) at `at`.
///
/// # Safety
/// `at` covers 64 readable bytes; the CPU has AVX-512 F and BF16.
#[inline(always)]
unsafe fn load_pairs(at: *const u16) -> __m512bh {
    // SAFETY (transmute): both are 512-bit vectors of plain bits.
    std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(at as *const __m512i))
}

/// # Safety
/// As [`tile`] with `t.mr = R`.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn rows<const R: usize>(t: Bf16Tile) {
    let mut acc = start_rows::<R>(t.init, t.bias, t.c, t.ldc);
    // Row starts computed once: no overflow-checked index arithmetic below.
    let a_rows: [*const u16; R] = std::array::from_fn(|r| t.a.add(r * t.lda));
    let mut b = t.panel;
    for depth in (0..t.kc).step_by(2) {
        let b0 = load_pairs(b);
        let b1 = load_pairs(b.add(32));
        for (r, row) in acc.iter_mut().enumerate() {
            let pair = std::ptr::read_unaligned(a_rows[r].add(depth) as *const i32);
            // SAFETY (transmute): a 512-bit vector of plain bits.
            let a = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(pair));
            row[0] = _mm512_dpbf16_ps(row[0], a, b0);
            row[1] = _mm512_dpbf16_ps(row[1], a, b1);
        }
        b = b.add(64);
    }
    store_rows(&acc, t.c, t.ldc);
}
