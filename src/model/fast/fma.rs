//! `a·b + c` as the CPU paths want it, shared by the row kernels
//! (`rows`, `attention`) and the GELU (`fast_gelu`), which `rows` calls:
//! its own file so neither imports the other for it.

/// `a·b + c`: one FMA instruction (one rounding) where `FUSED` (the
/// `per_path!` copies compiled with FMA pass it) or the whole build has
/// FMA; else a multiply and an add (in a baseline copy `mul_add` would be
/// a slow libm call). Rust never fuses `a * b + c` by itself: before the
/// per-path copies passed `FUSED`, the portable binary's AVX2 and AVX-512
/// copies multiplied and added separately, twice the instructions in the
/// attention loops and the GELU polynomials.
#[inline(always)]
pub fn fmadd<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FUSED || cfg!(target_feature = "fma") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}
