//! Every CPU kernel path this machine runs scores the bundled examples as
//! candle's reference encoder does (same labels; every probability and the
//! intensity within 1e-4), through the real binary and the default model,
//! chosen with `--kernel`. A path the CPU lacks is named as skipped.
//! Needs `calltone setup` (the README's test command runs it).

mod common;

use calltone::model::fast::cpu::KernelPath;
use common::cli::{assert_success, calltone};
use serde_json::Value;

fn turns(extra: &[&str]) -> Vec<Value> {
    let out = calltone()
        .env_remove("CALLTONE_HOME")
        .args(["score", "examples/", "--no-redact"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&out);
    common::cli::records(&out.stdout)
        .into_iter()
        .filter(|r| r["type"] == "turn" && !r["label"].is_null())
        .collect()
}

#[test]
fn every_path_this_cpu_runs_scores_the_examples_as_the_reference() {
    let reference = turns(&["--precision", "reference"]);
    assert!(reference.len() > 30);
    let mut ran = Vec::new();
    for path in KernelPath::ALL {
        if !path.supported() {
            calltone::say!("kernel path {path}: skipped, this CPU has no {path}");
            continue;
        }
        let got = turns(&["--kernel", path.name(), "--precision", "fp32"]);
        assert_eq!(got.len(), reference.len(), "{path}");
        for (want, got) in reference.iter().zip(&got) {
            assert_eq!(want["text"], got["text"]);
            assert_eq!(want["label"], got["label"], "{path}: {}", want["text"]);
            for field in ["negative", "neutral", "positive", "intensity"] {
                let (a, b) = (want[field].as_f64().unwrap(), got[field].as_f64().unwrap());
                assert!(
                    (a - b).abs() < 1e-4,
                    "{path}: {field} {a} (reference) vs {b}: {}",
                    want["text"]
                );
            }
        }
        println!("kernel path {path}: {} turns as the reference", got.len());
        ran.push(path);
    }
    assert!(ran.contains(&KernelPath::Portable));
}

/// int8 and bf16 change the numbers a little (their dev metrics are in
/// docs/speed.md). The bounds come from measuring int8 against fp32 on
/// 4,000 chit-chat turns (docs/speed.md, "FMA in the row-wise passes, and
/// how far int8 moves a turn"):
/// the mean of each turn's largest probability change was 0.0104, the
/// largest 0.101, 1.5% of turns moved more than 0.05, and no label changed
/// where fp32's top two classes were 0.1 or more apart. So here: the mean
/// over the examples within 0.02, every probability within 0.12, the same
/// label wherever the reference's top two classes are 0.1 or more apart.
/// And on every path this CPU runs (hardware kernel or plain loops, chosen
/// by the path) the same answers within 1e-4 for int8 (the kernels compute
/// the same integers) and 0.01 for bf16: `vdpbf16ps` accumulates the pair
/// products its own way (measured on the examples: 0.0025 apart from the
/// plain loops, each 0.005 from fp32; each kernel is within bf16's rounding
/// bound of f64 sums in `gemm_bf16`'s test). One exception: the portable
/// path's attention and GELU multiply and add where the others fuse (it
/// runs on CPUs without FMA), and int8 turns a last-bit difference in a
/// row into a different code now and then. Measured on the 4,000 turns:
/// portable int8 against AMX int8 moved the mean turn 0.0006 and the
/// largest 0.038, so 0.05 there.
#[test]
fn int8_and_bf16_on_every_path_stay_close_to_the_reference() {
    let reference = turns(&["--precision", "reference"]);
    for (format, agree) in [("int8", 1e-4), ("bf16", 0.01)] {
        let mut first: Option<(KernelPath, Vec<Value>)> = None;
        for path in KernelPath::ALL {
            if !path.supported() {
                calltone::say!("{format} on {path}: skipped, this CPU has no {path}");
                continue;
            }
            let got = turns(&["--kernel", path.name(), "--precision", format]);
            assert_eq!(got.len(), reference.len(), "{format} {path}");
            let mut moved = Vec::new();
            for (want, got) in reference.iter().zip(&got) {
                let probs =
                    |r: &Value| ["negative", "neutral", "positive"].map(|f| r[f].as_f64().unwrap());
                let (p, q) = (probs(want), probs(got));
                let largest = p
                    .iter()
                    .zip(&q)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                assert!(
                    largest < 0.12,
                    "{format} on {path}: {p:?} vs {q:?}: {}",
                    want["text"]
                );
                moved.push(largest);
                let mut sorted = p;
                sorted.sort_by(f64::total_cmp);
                if sorted[2] - sorted[1] >= 0.1 {
                    assert_eq!(
                        want["label"], got["label"],
                        "{format} on {path}: {}",
                        want["text"]
                    );
                }
            }
            let mean = moved.iter().sum::<f64>() / moved.len() as f64;
            assert!(
                mean < 0.02,
                "{format} on {path}: turns moved {mean:.4} on average"
            );
            let count = got.len();
            match &first {
                None => first = Some((path, got)),
                Some((other, earlier)) => {
                    let fused_apart =
                        (*other == KernelPath::Portable) != (path == KernelPath::Portable);
                    let agree = if format == "int8" && fused_apart {
                        0.05
                    } else {
                        agree
                    };
                    for (a, b) in earlier.iter().zip(&got) {
                        for field in ["negative", "neutral", "positive", "intensity"] {
                            let (x, y) = (a[field].as_f64().unwrap(), b[field].as_f64().unwrap());
                            assert!(
                                (x - y).abs() < agree,
                                "{format} {other} vs {path}: {field} {x} {y}"
                            );
                        }
                    }
                }
            }
            let largest = moved.iter().copied().fold(0.0, f64::max);
            println!(
                "{format} on {path}: {count} turns close to the reference \
                 (mean change {mean:.4}, largest {largest:.4})"
            );
        }
    }
}

#[test]
fn a_path_the_cpu_lacks_is_refused_by_name() {
    let Some(missing) = KernelPath::ALL.into_iter().find(|p| !p.supported()) else {
        calltone::say!("refusing a missing path: skipped, this CPU runs every path");
        return;
    };
    let out = calltone()
        .env_remove("CALLTONE_HOME")
        .args(["score", "examples/", "--kernel", missing.name()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("this CPU has no {missing}")),
        "{stderr}"
    );
}

/// What `score` says ran, from its summary line on stderr.
fn engine_of(extra: &[&str], head_dir: Option<&std::path::Path>) -> String {
    let mut cmd = calltone();
    cmd.env_remove("CALLTONE_HOME")
        .env_remove("CALLTONE_KERNEL");
    if let Some(dir) = head_dir {
        cmd.env("CALLTONE_HEAD_DIR", dir);
    }
    let out = cmd
        .args(["score", "examples/"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&out);
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// `--precision auto` on the CPU runs what the model's measured record and
/// this CPU allow (`choose_on_cpu`): with the shipped record, int8 where
/// the CPU has VNNI; with a record in which int8 and bf16 measured two
/// points lower, fp32; with no record, fp32.
#[test]
fn auto_precision_follows_the_models_measured_record() {
    use calltone::model::precision_record::{choose_on_cpu, CpuKernels, PrecisionRecord, FILE};
    use calltone::model::Precision;

    let shipped = std::path::Path::new("models/calltone-sentiment");
    let record = PrecisionRecord::read(shipped).unwrap();
    assert!(record.is_some(), "the default model ships {FILE}");
    let kernels = CpuKernels::active();
    let (want, why) = choose_on_cpu(record.as_ref(), kernels);
    let said = engine_of(&[], None);
    let expect = match want {
        Precision::Int8 => format!("int8 ({})", kernels.int8),
        Precision::Bf16 => format!("bf16 ({})", kernels.bf16),
        _ => "fp32 on the".into(),
    };
    assert!(
        said.contains(&expect),
        "auto should run {want} ({why}): {said}"
    );
    println!("auto with the shipped record on this CPU: {want} ({why})");

    let copy = tempfile::tempdir().unwrap();
    for f in ["head.json", "head.safetensors", "provenance.json"] {
        std::fs::copy(shipped.join(f), copy.path().join(f)).unwrap();
    }
    let said = engine_of(&[], Some(copy.path()));
    assert!(said.contains("fp32 on the"), "no record: {said}");

    let mut worse = record.unwrap();
    for entry in ["int8", "bf16"] {
        let measured = worse.measured.get_mut(entry).expect("measured");
        measured.strong_negative_auc -= 0.02;
    }
    std::fs::write(
        copy.path().join(FILE),
        serde_json::to_string(&worse).unwrap(),
    )
    .unwrap();
    let said = engine_of(&[], Some(copy.path()));
    assert!(
        said.contains("fp32 on the"),
        "int8 and bf16 two points lower: {said}"
    );
}
