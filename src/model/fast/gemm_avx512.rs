//! The AVX-512 micro-kernel: up to 12 rows × 32 columns, two 16-float
//! accumulators a row (24 of the 32 vector registers), one broadcast of the
//! input per row and depth step, two loads of the packed panel: twice the
//! AVX2 kernel's work per instruction, and as many FMAs as loads allow.

use std::arch::x86_64::*;

use super::gemm::by_rows;
use super::gemm::{Init, Tile};

/// Runs `t` (`t.nr` = 32, `t.mr` ≤ 12).
///
/// # Safety
/// As [`Tile::run`], and the CPU has AVX-512F (and AVX2 + FMA).
pub(super) unsafe fn tile(t: Tile) {
    debug_assert_eq!(t.nr, 32);
    // SAFETY: the caller's contract, for each row count.
    by_rows!(t.mr, rows, t; 12 11 10 9 8 7 6 5 4 3 2)
}

/// # Safety
/// As [`tile`] with `t.mr = R`.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn rows<const R: usize>(t: Tile) {
    let mut acc = start_rows::<R>(t.init, t.bias, t.c, t.ldc);
    // Row starts computed once: the loop below then has no index
    // arithmetic to check for overflow (release builds check it).
    let a_rows: [*const f32; R] = std::array::from_fn(|r| t.a.add(r * t.lda));
    let mut b = t.panel;
    for kk in 0..t.kc {
        let b0 = _mm512_loadu_ps(b);
        let b1 = _mm512_loadu_ps(b.add(16));
        for (r, row) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_ps(*a_rows[r].add(kk));
            row[0] = _mm512_fmadd_ps(av, b0, row[0]);
            row[1] = _mm512_fmadd_ps(av, b1, row[1]);
        }
        b = b.add(32);
    }
    store_rows(&acc, t.c, t.ldc);
}

/// Each of `R` rows' 32 fp32 accumulators as `init` says: the bias, the
/// bias plus what `c` holds, or what `c` holds. Shared by the fp32 and bf16
/// kernels, whose sums are both fp32.
///
/// A loop, not `std::array::from_fn`: a closure does not take the
/// caller's target features, so its loads were compiled for baseline
/// x86-64 and called out of line (`_mm512_loadu_ps` and `try_from_fn`
/// were 15% of an fp32 profile on a Xeon).
///
/// # Safety
/// `bias` covers 32 floats; `c` covers `R` rows of 32 floats `ldc` apart;
/// the CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn start_rows<const R: usize>(
    init: Init,
    bias: *const f32,
    c: *const f32,
    ldc: usize,
) -> [[__m512; 2]; R] {
    let mut acc = [[_mm512_setzero_ps(); 2]; R];
    for (r, row) in acc.iter_mut().enumerate() {
        let out = c.add(r * ldc);
        *row = match init {
            Init::Bias => [_mm512_loadu_ps(bias), _mm512_loadu_ps(bias.add(16))],
            Init::BiasPlusOut => [
                _mm512_add_ps(_mm512_loadu_ps(bias), _mm512_loadu_ps(out)),
                _mm512_add_ps(_mm512_loadu_ps(bias.add(16)), _mm512_loadu_ps(out.add(16))),
            ],
            Init::Out => [_mm512_loadu_ps(out), _mm512_loadu_ps(out.add(16))],
        };
    }
    acc
}

/// Writes `R` rows of 32 accumulators to `c`.
///
/// # Safety
/// `c` covers `R` writable rows of 32 floats `ldc` apart; the CPU has AVX-512F.
#[inline(always)]
pub(super) unsafe fn store_rows<const R: usize>(acc: &[[__m512; 2]; R], c: *mut f32, ldc: usize) {
    for (r, row) in acc.iter().enumerate() {
        let out = c.add(r * ldc);
        _mm512_storeu_ps(out, row[0]);
        _mm512_storeu_ps(out.add(16), row[1]);
    }
}
