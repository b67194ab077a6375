//! How a row-major projection `y[m, n] = x[m, k] · Wᵀ` (W stored `[n, k]`
//! row-major, as in safetensors) is asked of cuBLAS, which is column-major:
//! a row-major matrix is its transpose in column-major, so row-major `y` is
//! column-major `yᵀ = W · xᵀ`, where column-major W (`k × n`) is read
//! transposed and column-major `xᵀ` (`k × m`) as it is. Kept apart from the
//! call so a test can hold it to cuBLAS's definition on the CPU.

/// Whether cuBLAS reads an operand as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AsStored,
    Transposed,
}

/// `C (m × n) = op(A) (m × k) · op(B) (k × n)`, all column-major with
/// leading dimensions `lda`, `ldb`, `ldc`: cuBLAS's GEMM arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GemmShape {
    pub op_a: Op,
    pub op_b: Op,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub lda: usize,
    pub ldb: usize,
    pub ldc: usize,
}

/// The GEMM for `y[rows, n] = x[rows, k] · Wᵀ` with A = W and B = x.
pub fn projection(rows: usize, n: usize, k: usize) -> GemmShape {
    GemmShape {
        op_a: Op::Transposed,
        op_b: Op::AsStored,
        m: n,
        n: rows,
        k,
        lda: k,
        ldb: k,
        ldc: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// cuBLAS's GEMM by its definition (alpha 1, beta 0), in f64:
    /// element (i, j) of a column-major matrix is `data[i + j·ld]`.
    fn cublas_gemm(s: GemmShape, a: &[f32], b: &[f32], c: &mut [f64]) {
        let at = |i: usize, p: usize| match s.op_a {
            Op::AsStored => a[i + p * s.lda],
            Op::Transposed => a[p + i * s.lda],
        };
        let bt = |p: usize, j: usize| match s.op_b {
            Op::AsStored => b[p + j * s.ldb],
            Op::Transposed => b[j + p * s.ldb],
        };
        for i in 0..s.m {
            for j in 0..s.n {
                c[i + j * s.ldc] = (0..s.k).map(|p| at(i, p) as f64 * bt(p, j) as f64).sum();
            }
        }
    }

    #[test]
    fn the_projection_asked_of_cublas_is_x_times_w_transposed_row_major() {
        let seed: u64 = rand::random();
        println!("seed {seed}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for (rows, n, k) in [(5, 7, 3), (1, 12, 8), (9, 4, 16)] {
            let w: Vec<f32> = (0..n * k).map(|_| rng.random_range(-1.0..1.0)).collect();
            let x: Vec<f32> = (0..rows * k).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut y = vec![0f64; rows * n];
            cublas_gemm(projection(rows, n, k), &w, &x, &mut y);
            for r in 0..rows {
                for o in 0..n {
                    let want: f64 = (0..k)
                        .map(|p| x[r * k + p] as f64 * w[o * k + p] as f64)
                        .sum();
                    // Row-major y: element (r, o) at r·n + o.
                    assert!(
                        (y[r * n + o] - want).abs() < 1e-12,
                        "{rows}×{n}×{k} at ({r}, {o})"
                    );
                }
            }
        }
    }
}
