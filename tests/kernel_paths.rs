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
            println!("kernel path {path}: skipped, this CPU has no {path}");
            continue;
        }
        let got = turns(&["--kernel", path.name()]);
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

#[test]
fn a_path_the_cpu_lacks_is_refused_by_name() {
    let Some(missing) = KernelPath::ALL.into_iter().find(|p| !p.supported()) else {
        println!("refusing a missing path: skipped, this CPU runs every path");
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
