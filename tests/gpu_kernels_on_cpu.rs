//! calltone's GPU kernels (src/model/gpu/kernels.cu) on the CPU: the same
//! source, compiled by the machine's C++ compiler with a stand-in for CUDA's
//! built-ins (tests/cuda_on_cpu: a thread per GPU thread, a barrier per warp
//! shuffle), launched with the grids the GPU encoder uses
//! (`model::gpu::launch`) on batches laid out as it lays them out
//! (`model::gpu::layout`), against f64 references on fresh random inputs,
//! in f32, f16 and bf16. Ragged rows include a one-token row and one longer
//! than a warp. Built with the address sanitizer where the compiler has
//! it, so a read past a buffer fails too, not only a wrong value (arrays
//! are allocated at exactly their size). This checks the kernels'
//! arithmetic and indexing; it cannot
//! check the GPU's own behaviour (memory model, timing), which
//! `.ci/gpu-check` does on a GPU. Without a C++ compiler each test says it
//! is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use calltone::model::gpu::launch::Launch;
use calltone::model::gpu::layout::BatchLayout;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Row lengths of the test batch: one token, one past a warp's 32 lanes.
const ROWS: [usize; 5] = [1, 37, 5, 13, 2];

#[derive(Clone, Copy, Debug)]
enum Type {
    F32,
    F16,
    Bf16,
}

impl Type {
    const ALL: [Type; 3] = [Type::F32, Type::F16, Type::Bf16];

    fn suffix(self) -> &'static str {
        match self {
            Type::F32 => "f32",
            Type::F16 => "f16",
            Type::Bf16 => "bf16",
        }
    }

    /// `v` as this type holds it.
    fn round(self, v: f32) -> f32 {
        match self {
            Type::F32 => v,
            Type::F16 => half::f16::from_f32(v).to_f32(),
            Type::Bf16 => half::bf16::from_f32(v).to_f32(),
        }
    }

    /// The stated bound on |kernel - f64 reference|: `rel·|ref| + abs`. The
    /// kernels sum in f32 and round once to the type on the way out, so
    /// the type's rounding (2⁻¹¹ f16, 2⁻⁸ bf16) dominates; f32 allows for
    /// f32 sums over a few hundred terms.
    fn bound(self, reference: f64) -> f64 {
        let (rel, abs) = match self {
            Type::F32 => (1e-5, 2e-5),
            Type::F16 => (1e-3, 1e-3),
            Type::Bf16 => (5e-3, 5e-3),
        };
        rel * reference.abs() + abs
    }
}

/// The driver binary, compiled once: with the address and undefined-
/// behaviour sanitizers where the compiler has them (a kernel reading one
/// value past a buffer stops the run; it compiled and passed that way
/// here), else plainly, said once. `Err` (the reason) without a C++
/// compiler.
fn driver() -> Result<&'static Path, &'static str> {
    static DRIVER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = DRIVER.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gpu-kernels-on-cpu");
        let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
        let compile = |extra: &[&str]| {
            Command::new(&cxx)
                .args(["-std=c++20", "-O1", "-pthread", "-x", "c++"])
                .args(extra)
                .arg("-I")
                .arg(root.join("tests/cuda_on_cpu"))
                .arg("-I")
                .arg(root.join("src/model/gpu"))
                .arg(root.join("tests/cuda_on_cpu/driver.cpp"))
                .arg("-o")
                .arg(&out)
                .output()
        };
        let sanitized = compile(&[
            "-g",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ]);
        match sanitized {
            Ok(o) if o.status.success() => return Ok(out),
            Err(_) => return Err(format!("no C++ compiler ({cxx}) on this machine")),
            Ok(_) => calltone::say!(
                "GPU kernels on the CPU: {cxx} cannot build with the address sanitizer here; \
                 running them without it"
            ),
        }
        match compile(&[]) {
            Ok(o) if o.status.success() => Ok(out),
            Ok(o) => panic!(
                "{cxx} failed to compile kernels.cu for the CPU: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(_) => Err(format!("no C++ compiler ({cxx}) on this machine")),
        }
    });
    match built {
        Ok(p) => Ok(p.as_path()),
        Err(why) => Err(why.as_str()),
    }
}

/// Runs `kernel_<type>` with `launch`, the scalars and the arrays (f32, or
/// i32 / u32 as raw bytes); returns the named outputs.
fn run(
    driver: &Path,
    kernel: &str,
    ty: Type,
    launch: Launch,
    scalars: &[(&str, f64)],
    arrays: &[(&str, Vec<u8>)],
    outputs: &[&str],
) -> Vec<Vec<f32>> {
    let dir = tempfile::tempdir().unwrap();
    let mut call = format!(
        "{kernel}_{}\n{} {} {}\n",
        ty.suffix(),
        launch.grid,
        launch.block,
        launch.shared_bytes
    );
    for (k, v) in scalars {
        call += &format!("{k} {v:e}\n");
    }
    std::fs::write(dir.path().join("call.txt"), call).unwrap();
    for (name, bytes) in arrays {
        std::fs::write(dir.path().join(format!("{name}.bin")), bytes).unwrap();
    }
    // Leak checking needs ptrace, which containers often refuse; the
    // driver frees nothing it would matter to lose.
    let out = Command::new(driver)
        .arg(dir.path())
        .env("ASAN_OPTIONS", "detect_leaks=0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{kernel}_{}: {}",
        ty.suffix(),
        String::from_utf8_lossy(&out.stderr)
    );
    outputs
        .iter()
        .map(|name| {
            let bytes = std::fs::read(dir.path().join(format!("{name}.out"))).unwrap();
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect()
        })
        .collect()
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i32s(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn random(rng: &mut StdRng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// A fresh seed, printed so a failure can be replayed.
fn seeded(test: &str) -> StdRng {
    let seed: u64 = rand::random();
    println!("{test}: seed {seed}");
    StdRng::seed_from_u64(seed)
}

/// The test batch's layout: random token ids below `vocab`.
fn batch(rng: &mut StdRng, vocab: u32) -> BatchLayout {
    let rows: Vec<Vec<u32>> = ROWS
        .iter()
        .map(|&n| (0..n).map(|_| rng.random_range(0..vocab)).collect())
        .collect();
    let refs: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
    BatchLayout::new(&[refs]).unwrap()
}

/// Layer norm in f64.
fn norm(v: &[f64], gamma: &[f32], beta: &[f32], eps: f64) -> Vec<f64> {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    v.iter()
        .zip(gamma.iter().zip(beta))
        .map(|(x, (&g, &b))| (x - mean) * inv * g as f64 + b as f64)
        .collect()
}

fn assert_close(what: &str, ty: Type, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what} ({ty:?}): length");
    let worst = got
        .iter()
        .zip(want)
        .enumerate()
        .map(|(i, (&g, &w))| (i, (g as f64 - w).abs() - ty.bound(w)))
        .fold((0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    assert!(
        worst.1 <= 0.0,
        "{what} ({ty:?}): value {} is {} against {} (bound {:e})",
        worst.0,
        got[worst.0],
        want[worst.0],
        ty.bound(want[worst.0])
    );
}

macro_rules! driver_or_skip {
    ($test:literal) => {
        match driver() {
            Ok(d) => d,
            Err(why) => {
                calltone::say!("{}: skipped, {why}", $test);
                return;
            }
        }
    };
}

#[test]
fn embed_is_a_normalised_sum_of_word_position_and_segment() {
    let driver = driver_or_skip!("embed");
    let mut rng = seeded("embed");
    let (hidden, vocab, offset, eps) = (384, 50u32, 2usize, 1e-12);
    let l = batch(&mut rng, vocab);
    let tokens = l.ids.len();
    let positions = offset + ROWS.iter().max().unwrap();
    let word = random(&mut rng, vocab as usize * hidden, 1.0);
    let position = random(&mut rng, positions * hidden, 0.5);
    let segment = random(&mut rng, hidden, 0.2);
    let gamma: Vec<f32> = random(&mut rng, hidden, 0.5)
        .iter()
        .map(|g| 1.0 + g)
        .collect();
    let beta = random(&mut rng, hidden, 0.3);
    let mut want = Vec::new();
    for (t, &id) in l.ids.iter().enumerate() {
        let seq = l.tok_seq[t] as usize;
        let pos = t - l.seq_start[seq] as usize + offset;
        let v: Vec<f64> = (0..hidden)
            .map(|c| {
                word[id as usize * hidden + c] as f64
                    + position[pos * hidden + c] as f64
                    + segment[c] as f64
            })
            .collect();
        want.extend(norm(&v, &gamma, &beta, eps));
    }
    for ty in Type::ALL {
        let got = run(
            driver,
            "embed",
            ty,
            Launch::warp_each(tokens),
            &[
                ("tokens", tokens as f64),
                ("hidden", hidden as f64),
                ("position_offset", offset as f64),
                ("eps", eps),
            ],
            &[
                ("ids", u32s(&l.ids)),
                ("tok_seq", i32s(&l.tok_seq)),
                ("seq_start", i32s(&l.seq_start)),
                ("word", f32s(&word)),
                ("position", f32s(&position)),
                ("token_type", f32s(&segment)),
                ("gamma", f32s(&gamma)),
                ("beta", f32s(&beta)),
            ],
            &["out"],
        );
        assert_close("embed", ty, &got[0], &want);
    }
}

#[test]
fn add_norm_normalises_the_residual_plus_projection_plus_bias() {
    let driver = driver_or_skip!("add_norm");
    let mut rng = seeded("add_norm");
    let (tokens, hidden, eps) = (45, 384, 1e-12);
    let x_raw = random(&mut rng, tokens * hidden, 2.0);
    let y_raw = random(&mut rng, tokens * hidden, 2.0);
    let bias = random(&mut rng, hidden, 0.5);
    let gamma = random(&mut rng, hidden, 1.5);
    let beta = random(&mut rng, hidden, 0.5);
    for ty in Type::ALL {
        let x: Vec<f32> = x_raw.iter().map(|&v| ty.round(v)).collect();
        let y: Vec<f32> = y_raw.iter().map(|&v| ty.round(v)).collect();
        let want: Vec<f64> = (0..tokens)
            .flat_map(|t| {
                let v: Vec<f64> = (0..hidden)
                    .map(|c| {
                        let i = t * hidden + c;
                        x[i] as f64 + y[i] as f64 + bias[c] as f64
                    })
                    .collect();
                norm(&v, &gamma, &beta, eps)
            })
            .collect();
        let got = run(
            driver,
            "add_norm",
            ty,
            Launch::warp_each(tokens),
            &[
                ("tokens", tokens as f64),
                ("hidden", hidden as f64),
                ("eps", eps),
            ],
            &[
                ("x", f32s(&x)),
                ("y", f32s(&y)),
                ("bias", f32s(&bias)),
                ("gamma", f32s(&gamma)),
                ("beta", f32s(&beta)),
            ],
            &["x"],
        );
        assert_close("add_norm", ty, &got[0], &want);
    }
}

#[test]
fn bias_act_adds_the_bias_then_gelu_or_relu() {
    let driver = driver_or_skip!("bias_act");
    let mut rng = seeded("bias_act");
    let (rows, width) = (33, 160);
    let y_raw = random(&mut rng, rows * width, 4.0);
    let bias = random(&mut rng, width, 1.0);
    for ty in Type::ALL {
        let y: Vec<f32> = y_raw.iter().map(|&v| ty.round(v)).collect();
        let summed: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, &v)| v as f64 + bias[i % width] as f64)
            .collect();
        let gelu = candle_core::Tensor::new(summed.as_slice(), &candle_core::Device::Cpu)
            .unwrap()
            .gelu_erf()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let relu: Vec<f64> = summed.iter().map(|v| v.max(0.0)).collect();
        for (act, want) in [(0, gelu), (1, relu)] {
            let got = run(
                driver,
                "bias_act",
                ty,
                Launch::elementwise(y.len()),
                &[("width", width as f64), ("act", act as f64)],
                &[("y", f32s(&y)), ("bias", f32s(&bias))],
                &["y"],
            );
            assert_close(&format!("bias_act {act}"), ty, &got[0], &want);
        }
    }
}

/// Softmax attention of each token over its own row, in f64, biases added.
fn attention_reference(
    qkv: &[f32],
    bias: &[f32],
    l: &BatchLayout,
    hidden: usize,
    heads: usize,
) -> Vec<f64> {
    let dh = hidden / heads;
    let scale = 1.0 / (dh as f64).sqrt();
    let stride = 3 * hidden;
    let at = |t: usize, c: usize| qkv[t * stride + c] as f64 + bias[c] as f64;
    let tokens = l.ids.len();
    let mut out = vec![0f64; tokens * hidden];
    for t in 0..tokens {
        let seq = l.tok_seq[t] as usize;
        let (start, end) = (l.seq_start[seq] as usize, l.seq_start[seq + 1] as usize);
        for h in 0..heads {
            let scores: Vec<f64> = (start..end)
                .map(|j| {
                    (0..dh)
                        .map(|d| at(t, h * dh + d) * at(j, hidden + h * dh + d))
                        .sum::<f64>()
                        * scale
                })
                .collect();
            let best = scores.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - best).exp()).collect();
            let total: f64 = e.iter().sum();
            for d in 0..dh {
                out[t * hidden + h * dh + d] = (start..end)
                    .zip(&e)
                    .map(|(j, p)| p / total * at(j, 2 * hidden + h * dh + d))
                    .sum();
            }
        }
    }
    out
}

#[test]
fn attention_stays_inside_each_row_for_both_head_widths() {
    let driver = driver_or_skip!("attention");
    let mut rng = seeded("attention");
    // MiniLM's shape (12 heads of 32) and BERT-base's head width (64).
    for (hidden, heads) in [(384, 12), (128, 2)] {
        let l = batch(&mut rng, 10);
        let tokens = l.ids.len();
        let qkv_raw = random(&mut rng, tokens * 3 * hidden, 1.5);
        let bias = random(&mut rng, 3 * hidden, 0.5);
        let max_len = *ROWS.iter().max().unwrap();
        let kernel = format!("attention{}", hidden / heads);
        for ty in Type::ALL {
            let qkv: Vec<f32> = qkv_raw.iter().map(|&v| ty.round(v)).collect();
            let want = attention_reference(&qkv, &bias, &l, hidden, heads);
            let got = run(
                driver,
                &kernel,
                ty,
                Launch::attention(tokens, heads, max_len),
                &[
                    ("tokens", tokens as f64),
                    ("hidden", hidden as f64),
                    ("heads", heads as f64),
                    ("scale", 1.0 / ((hidden / heads) as f64).sqrt()),
                    ("max_len", max_len as f64),
                ],
                &[
                    ("qkv", f32s(&qkv)),
                    ("bias", f32s(&bias)),
                    ("tok_seq", i32s(&l.tok_seq)),
                    ("seq_start", i32s(&l.seq_start)),
                ],
                &["ctx"],
            );
            assert_close(&kernel, ty, &got[0], &want);
        }
    }
}

#[test]
fn pool_takes_each_rows_first_and_mean_token() {
    let driver = driver_or_skip!("pool");
    let mut rng = seeded("pool");
    let hidden = 384;
    let l = batch(&mut rng, 10);
    let tokens = l.ids.len();
    let x_raw = random(&mut rng, tokens * hidden, 3.0);
    for ty in Type::ALL {
        let x: Vec<f32> = x_raw.iter().map(|&v| ty.round(v)).collect();
        let (mut first, mut mean) = (Vec::new(), Vec::new());
        for s in 0..ROWS.len() {
            let (a, b) = (l.seq_start[s] as usize, l.seq_start[s + 1] as usize);
            for c in 0..hidden {
                first.push(x[a * hidden + c] as f64);
                let sum: f64 = (a..b).map(|t| x[t * hidden + c] as f64).sum();
                mean.push(sum / (b - a) as f64);
            }
        }
        let got = run(
            driver,
            "pool",
            ty,
            Launch::block_each(ROWS.len(), hidden),
            &[("seqs", ROWS.len() as f64), ("hidden", hidden as f64)],
            &[("x", f32s(&x)), ("seq_start", i32s(&l.seq_start))],
            &["first", "mean"],
        );
        // Pooled rows come back as f32 whatever the activations' type.
        assert_close("pool first", Type::F32, &got[0], &first);
        assert_close("pool mean", Type::F32, &got[1], &mean);
    }
}
