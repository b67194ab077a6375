//! The AVX-512 micro-kernel: up to 12 rows × 32 columns, two 16-float
//! accumulators a row (24 of the 32 vector registers), one broadcast of the
//! input per row and depth step, two loads of the packed panel: twice the
//! AVX2 kernel's work per instruction, and as many FMAs as loads allow.

use std::arch::x86_64::*;

use super::gemm::{Init, Tile};

/// Runs `t` (`t.nr` = 32, `t.mr` ≤ 12).
///
/// # Safety
/// As [`Tile::run`], and the CPU has AVX-512F (and AVX2 + FMA).
pub(super) unsafe fn tile(t: Tile) {
    debug_assert_eq!(t.nr, 32);
    // SAFETY: the caller's contract, for each row count.
    match t.mr {
        12 => rows::<12>(t),
        11 => rows::<11>(t),
        10 => rows::<10>(t),
        9 => rows::<9>(t),
        8 => rows::<8>(t),
        7 => rows::<7>(t),
        6 => rows::<6>(t),
        5 => rows::<5>(t),
        4 => rows::<4>(t),
        3 => rows::<3>(t),
        2 => rows::<2>(t),
        _ => rows::<1>(t),
    }
}

/// # Safety
/// As [`tile`] with `t.mr = R`.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn rows<const R: usize>(t: Tile) {
    let mut acc = [[_mm512_setzero_ps(); 2]; R];
    for (r, row) in acc.iter_mut().enumerate() {
        let out = t.c.add(r * t.ldc);
        let bias = t.bias;
        *row = match t.init {
            Init::Bias => [_mm512_loadu_ps(bias), _mm512_loadu_ps(bias.add(16))],
            Init::BiasPlusOut => [
                _mm512_add_ps(_mm512_loadu_ps(bias), _mm512_loadu_ps(out)),
                _mm512_add_ps(_mm512_loadu_ps(bias.add(16)), _mm512_loadu_ps(out.add(16))),
            ],
            Init::Out => [_mm512_loadu_ps(out), _mm512_loadu_ps(out.add(16))],
        };
    }
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
    for (r, row) in acc.iter().enumerate() {
        let out = t.c.add(r * t.ldc);
        _mm512_storeu_ps(out, row[0]);
        _mm512_storeu_ps(out.add(16), row[1]);
    }
}
