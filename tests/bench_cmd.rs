//! `calltone bench` runs the real pipeline and reports every number it
//! promises (no speed is asserted: timings belong to benchmarks, not tests).
//! Needs the default model (`calltone setup`).

mod common;

use common::cli::assert_success;

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn bench_reports_stages_tokens_memory_and_the_ceiling() {
    let out = Command::cargo_bin("calltone")
        .unwrap()
        .args(["bench", "examples/", "--json"])
        .output()
        .unwrap();
    assert_success(&out);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["calls"], 4);
    assert_eq!(r["turns"], 38);
    let score = &r["score"];
    let (real, padded, workload) = (
        score["real_tokens"].as_u64().unwrap(),
        score["padded_tokens"].as_u64().unwrap(),
        score["workload_tokens"].as_u64().unwrap(),
    );
    assert!(
        real > 38 * 3 && padded >= real && workload >= real,
        "{score}"
    );
    for stage in ["read", "tokenize", "infer", "analyse", "write"] {
        assert!(r["stages"][stage].as_f64().unwrap() >= 0.0, "{stage}");
    }
    assert!(r["peak_memory_mib"].as_f64().unwrap() > 10.0);
    let fpt = r["flops_per_token"].as_f64().unwrap();
    assert!(
        (21.0e6..22.0e6).contains(&fpt),
        "MiniLM is about 21 MFLOP a token: {fpt}"
    );
    assert!(r["machine"]["measured_gemm_gflops"].as_f64().unwrap() > 0.0);
    assert!(r["fraction_of_gemm_ceiling"].as_f64().unwrap() > 0.0);
}
