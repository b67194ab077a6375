//! The GEMM candidates the speed issue asked to measure, side by side in one
//! process on the encoder's feed-forward shape (512 × 384 × 1536): calltone's
//! packed fp32 / bf16 / int8 kernels against the `rten-gemm` and
//! `tract-linalg` crates' fp32 and int8 paths. Not part of calltone's build
//! (its own crate, so the main build and tests never compile these).
//!
//! `cargo run --release --manifest-path tools/gemm-candidates/Cargo.toml`,
//! with `RAYON_NUM_THREADS=1` or `2` to compare at a thread count; results
//! in docs/speed.md. x86-64 only; tract's AVX-512 kernels run only where the
//! CPU has AVX-512 (and VNNI for int8), and are skipped by name otherwise.
use std::time::Instant;

use calltone::model::fast::gemm::{Accumulate, PackedLinear};
use calltone::model::fast::gemm_bf16::Bf16Linear;
use calltone::model::fast::gemm_int8::QuantLinear;
use rten_gemm::{GemmExecutor, GemmInputA, GemmInputB};
use rten_tensor::NdTensorView;
use tract_data::internal::*;
use tract_linalg::mmm::{AsInputValue, FusedSpec, MatMatMul};

fn timed(ops: f64, mut step: impl FnMut()) -> f64 {
    step();
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed().as_secs_f64() < 1.0 {
        step();
        runs += 1;
    }
    ops * runs as f64 / started.elapsed().as_secs_f64() / 1e9
}

fn tract(
    mmm: &dyn MatMatMul,
    packing: usize,
    a: &Tensor,
    b: &Tensor,
    m: usize,
    n: usize,
    ops: f64,
) -> f64 {
    let (pack_a, pack_b) = &mmm.packings()[packing];
    let pa = pack_a.prepare_one(a, 1, 0).unwrap();
    let pb = pack_b.prepare_one(b, 0, 1).unwrap();
    // SAFETY: tract's contract for its own kernels: the scratch space comes
    // from this `mmm` and is used only with it.
    let mut scratch = unsafe { mmm.allocate_scratch_space() };
    // SAFETY: `pa` and `pb` were packed by this kernel's packing `packing`
    // for an `m × k` by `k × n` product, and the scratch is this kernel's
    // (tract checks the shapes and returns an error otherwise; unwrapped).
    timed(ops, || unsafe {
        mmm.run_with_scratch_space(
            m,
            n,
            scratch.as_mut(),
            &[FusedSpec::AddMatMul {
                a: AsInputValue::Borrowed(&*pa),
                b: AsInputValue::Borrowed(&*pb),
                packing,
            }],
        )
        .unwrap()
    })
}

fn main() {
    let (m, k, n) = (512usize, 384usize, 1536usize);
    let ops = 2.0 * (m * k * n) as f64;
    let threads = rayon::current_num_threads();
    let x: Vec<f32> = (0..m * k)
        .map(|i| ((i % 97) as f32 - 48.0) / 97.0)
        .collect();
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i % 89) as f32 - 44.0) / 89.0)
        .collect();
    let mut y = vec![0f32; m * n];

    let fp32 = PackedLinear::pack(&w, None, n, k);
    let c_fp32 = timed(ops, || {
        fp32.forward(&x, m, &mut y, Accumulate::Overwrite, None)
    });
    let int8 = QuantLinear::pack(&w, None, n, k);
    let c_int8 = timed(ops, || {
        int8.forward(&x, m, &mut y, Accumulate::Overwrite, None)
    });
    let bf16 = Bf16Linear::pack(&w, None, n, k);
    let c_bf16 = timed(ops, || {
        bf16.forward(&x, m, &mut y, Accumulate::Overwrite, None)
    });

    // rten: B = Wᵀ (k × n) prepacked, as a model's weights would be.
    let wt: Vec<f32> = (0..k * n).map(|i| w[(i % n) * k + i / n]).collect();
    let exec = GemmExecutor::<f32>::new();
    let a = NdTensorView::from_data([m, k], &x[..]);
    let pb = exec.prepack_b(NdTensorView::from_data([k, n], &wt[..]));
    let r_fp32 = timed(ops, || {
        exec.gemm(
            &mut y,
            GemmInputA::Unpacked(a),
            GemmInputB::Packed(&pb),
            Default::default(),
        )
        .unwrap()
    });
    let xu: Vec<u8> = x.iter().map(|v| (v * 127.0 + 128.0) as u8).collect();
    let wi: Vec<i8> = wt.iter().map(|v| (v * 127.0) as i8).collect();
    let qexec = GemmExecutor::<u8, i8, i32>::new();
    let qa = NdTensorView::from_data([m, k], &xu[..]);
    let qpb = qexec.prepack_b(NdTensorView::from_data([k, n], &wi[..]));
    let mut yi = vec![0i32; m * n];
    let r_int8 = timed(ops, || {
        qexec
            .gemm(
                &mut yi,
                GemmInputA::Unpacked(qa),
                GemmInputB::Packed(&qpb),
                Default::default(),
            )
            .unwrap()
    });

    // tract: one call runs on one thread (its callers split the work).
    use tract_linalg::x86_64::mmm::*;
    let ta = Tensor::from_shape(&[m, k], &x).unwrap();
    let tb = Tensor::from_shape(&[k, n], &wt).unwrap();
    let t_fp32 = if std::is_x86_feature_detected!("avx512f") {
        format!(
            "{:.0}",
            tract(&*avx512_mmm_f32_16x12.mmm(), 0, &ta, &tb, m, n, ops)
        )
    } else {
        "skipped (no avx512f)".into()
    };
    let xi: Vec<i8> = x.iter().map(|v| (v * 127.0) as i8).collect();
    let tai = Tensor::from_shape(&[m, k], &xi).unwrap();
    let tbi = Tensor::from_shape(&[k, n], &wi).unwrap();
    let t_int8 = if std::is_x86_feature_detected!("avx512vnni") {
        format!(
            "{:.0}",
            tract(&*avx512vnni_mmm_i32_16x16.mmm(), 1, &tai, &tbi, m, n, ops)
        )
    } else {
        "skipped (no avx512vnni)".into()
    };

    println!("GEMM {m}x{k}x{n}, {threads} rayon threads (G ops/s; int8 counts 2 per multiply-add)");
    println!("calltone fp32 {c_fp32:.0} · bf16 {c_bf16:.0} · int8 {c_int8:.0} (int8 includes quantising the activations)");
    println!(
        "rten-gemm {} fp32 {r_fp32:.0} · u8xi8 {r_int8:.0} (inputs already u8)",
        exec.kernel_name()
    );
    println!("tract-linalg (one thread per call) fp32 {t_fp32} · i8 vnni {t_int8}");
}
