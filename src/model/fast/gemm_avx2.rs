//! The AVX2 + FMA micro-kernel: up to 6 rows × 16 columns, two 8-float
//! accumulators a row (12 of the 16 vector registers), one broadcast of the
//! input per row and depth step, two loads of the packed panel.

use std::arch::x86_64::*;

use super::gemm::by_rows;
use super::gemm::{Init, Tile};

/// Runs `t` (`t.nr` = 16, `t.mr` ≤ 6).
///
/// # Safety
/// As [`Tile::run`], and the CPU has AVX2 and FMA.
pub(super) unsafe fn tile(t: Tile) {
    debug_assert_eq!(t.nr, 16);
    // SAFETY: the caller's contract, for each row count.
    by_rows!(t.mr, rows, t; 6 5 4 3 2)
}

/// # Safety
/// As [`tile`] with `t.mr = R`.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows<const R: usize>(t: Tile) {
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    for (r, row) in acc.iter_mut().enumerate() {
        let out = t.c.add(r * t.ldc);
        let bias = t.bias;
        *row = match t.init {
            Init::Bias => [_mm256_loadu_ps(bias), _mm256_loadu_ps(bias.add(8))],
            Init::BiasPlusOut => [
                _mm256_add_ps(_mm256_loadu_ps(bias), _mm256_loadu_ps(out)),
                _mm256_add_ps(_mm256_loadu_ps(bias.add(8)), _mm256_loadu_ps(out.add(8))),
            ],
            Init::Out => [_mm256_loadu_ps(out), _mm256_loadu_ps(out.add(8))],
        };
    }
    // Row starts computed once: the loop below then has no index
    // arithmetic to check for overflow (release builds check it).
    let a_rows: [*const f32; R] = std::array::from_fn(|r| t.a.add(r * t.lda));
    let mut b = t.panel;
    for kk in 0..t.kc {
        let b0 = _mm256_loadu_ps(b);
        let b1 = _mm256_loadu_ps(b.add(8));
        for (r, row) in acc.iter_mut().enumerate() {
            let av = _mm256_broadcast_ss(&*a_rows[r].add(kk));
            row[0] = _mm256_fmadd_ps(av, b0, row[0]);
            row[1] = _mm256_fmadd_ps(av, b1, row[1]);
        }
        b = b.add(16);
    }
    for (r, row) in acc.iter().enumerate() {
        let out = t.c.add(r * t.ldc);
        _mm256_storeu_ps(out, row[0]);
        _mm256_storeu_ps(out.add(8), row[1]);
    }
}
