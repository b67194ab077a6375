//! calltone's encoder kernels alone, on MiniLM's shapes: the packed fp32
//! GEMM (reported in FLOP/s), ragged attention, layer norm and GELU. The
//! end-to-end numbers are `calltone bench`; these say which kernel moved.

use calltone::model::fast::attention::attention;
use calltone::model::fast::gemm::{Accumulate, PackedLinear};
use calltone::model::fast::rows::{FastActivation, NormParams};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// A batch of 1,700 chat tokens (128 turns of ~13) through each linear shape.
fn gemm(c: &mut Criterion) {
    let m = 1700;
    let mut g = c.benchmark_group("gemm_fp32");
    g.sample_size(20);
    for (name, n, k) in [
        ("qkv", 1152, 384),
        ("attn_out", 384, 384),
        ("ffn_in", 1536, 384),
        ("ffn_out", 384, 1536),
    ] {
        let x = random(m * k, 1);
        let packed = PackedLinear::pack(&random(n * k, 2), Some(&random(n, 3)), n, k);
        let mut y = vec![0f32; m * n];
        g.throughput(Throughput::Elements((2 * m * n * k) as u64));
        g.bench_function(BenchmarkId::new(name, format!("{m}x{n}x{k}")), |b| {
            b.iter(|| packed.forward(&x, m, &mut y, Accumulate::Overwrite, None))
        });
    }
    g.finish();
}

fn row_kernels(c: &mut Criterion) {
    let (h, heads) = (384, 12);
    let lengths: Vec<usize> = (0..128).map(|i| 5 + (i * 7) % 20).collect();
    let m: usize = lengths.iter().sum();
    let mut g = c.benchmark_group("row_kernels");
    g.sample_size(20);
    g.throughput(Throughput::Elements(m as u64));
    let qkv = random(m * 3 * h, 4);
    let mut ctx = vec![0f32; m * h];
    g.bench_function("attention_ragged_128_turns", |b| {
        b.iter(|| attention(&qkv, &lengths, h, heads, &mut ctx))
    });
    let norm = NormParams {
        gamma: random(h, 5),
        beta: random(h, 6),
        eps: 1e-12,
    };
    let mut x = random(m * h, 7);
    g.bench_function("layer_norm", |b| b.iter(|| norm.apply_rows(&mut x, h)));
    let mut inner = random(m * 1536, 8);
    g.bench_function("gelu_erf", |b| {
        b.iter(|| FastActivation::GeluErf.apply(&mut inner))
    });
    g.finish();
}

criterion_group!(benches, gemm, row_kernels);
criterion_main!(benches);
