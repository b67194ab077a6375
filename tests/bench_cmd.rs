//! `calltone bench` runs the real pipeline and reports every number it
//! promises (no speed is asserted: timings belong to benchmarks, not tests).
//! Needs the default model (`calltone setup`).

mod common;

use common::cli::assert_success;

use assert_cmd::Command;
use serde_json::Value;

/// `calltone bench examples/ --json ARGS...`: its report, after checking it succeeded.
fn bench_json(args: &[&str]) -> Value {
    let out = Command::cargo_bin("calltone")
        .unwrap()
        .args(["bench", "examples/", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bench_reports_stages_tokens_memory_and_the_ceiling() {
    let r = bench_json(&[]);
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

#[test]
fn bench_stream_reports_per_turn_latency() {
    let r = bench_json(&["--stream"]);
    assert_eq!(r["calls"], 4);
    assert_eq!(r["turns"], 38);
    let l = &r["latency_ms"];
    let q: Vec<f64> = ["p50", "p90", "p99", "max"]
        .iter()
        .map(|k| l[k].as_f64().unwrap())
        .collect();
    assert!(q[0] > 0.0 && q.windows(2).all(|w| w[0] <= w[1]), "{l}");
    assert!(r["turns_per_second"].as_f64().unwrap() > 0.0);
    // The irate and the ends-badly examples each raise an alert as they stream.
    assert_eq!(r["alerts"], 2, "{r}");
}

#[test]
fn bench_writes_the_workload_for_other_engines_and_keeps_the_fastest_run() {
    let dir = tempfile::tempdir().unwrap();
    let texts = dir.path().join("w.jsonl");
    let texts_arg = texts.to_str().unwrap();
    let r = bench_json(&["--repeat", "2", "--texts-out", texts_arg]);
    let lines: Vec<String> = std::fs::read_to_string(&texts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 38);
    assert!(lines.iter().any(|t| t.contains("third time I'm calling")));
    // Ragged batches: nothing computed beyond the real tokens.
    assert_eq!(r["score"]["padded_tokens"], r["score"]["real_tokens"]);
}

/// Several thread counts: one row per count, in the order given, each with
/// the same workload scored (the first row is the base of the speedups),
/// and no GPU ceiling on the CPU.
#[test]
fn bench_threads_makes_the_scaling_table() {
    let r = bench_json(&["--threads", "2,1"]);
    let rows = r["rows"].as_array().unwrap();
    let threads: Vec<u64> = rows
        .iter()
        .map(|row| row["threads"].as_u64().unwrap())
        .collect();
    assert_eq!(threads, [2, 1]);
    assert_eq!(rows[0]["speedup"].as_f64().unwrap(), 1.0);
    for row in rows {
        let tps = row["real_tokens_per_second"].as_f64().unwrap();
        assert!(tps.is_finite() && tps > 0.0, "{row}");
        assert!(row["speedup"].as_f64().unwrap() > 0.0, "{row}");
    }
    assert!(r["engine"].as_str().unwrap().contains("CPU path"), "{r}");
    let single = bench_json(&["--threads", "1"]);
    assert!(
        single.get("rows").is_none(),
        "one count is the usual report"
    );
    assert!(single["device_gemm"].is_null(), "no GPU ceiling on the CPU");
}

/// `--skip-messages` takes a later slice of the default corpus (the held-out
/// workload of the README's figures): the report names it, and its texts are
/// the tail of a longer slice from the start (a turn the cut splits keeps
/// the part inside the slice). Needs `calltone setup --data`.
#[test]
fn bench_skip_messages_times_a_later_slice_of_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], texts: &str| -> (Value, Vec<String>) {
        let path = dir.path().join(texts);
        let out = Command::cargo_bin("calltone")
            .unwrap()
            .args(["bench", "--json", "--texts-out", path.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert_success(&out);
        let texts = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (serde_json::from_slice(&out.stdout).unwrap(), texts)
    };
    let (whole, whole_texts) = run(&["--messages", "60"], "whole.jsonl");
    let (later, later_texts) = run(
        &["--messages", "20", "--skip-messages", "40"],
        "later.jsonl",
    );
    assert_eq!(whole["corpus"], "chit-chat, first 60 messages");
    assert_eq!(later["corpus"], "chit-chat, 20 messages after the first 40");
    assert!(!later_texts.is_empty() && later_texts.len() <= 20);
    assert!(later_texts.len() < whole_texts.len());
    for text in &later_texts {
        assert!(
            whole_texts.iter().any(|w| w.contains(text.as_str())),
            "{text:?} is not in the first 60 messages"
        );
    }
}
