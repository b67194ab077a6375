//! `calltone score` end to end with a tiny model the test writes: the output
//! contract (records, numbering, nulls for empty turns), every output format,
//! and garbage input that fails per file while the rest is scored.

mod common;

use common::cli::{assert_success, call_records, calltone, fixture, records};
use serde_json::Value;

#[test]
fn jsonl_records_follow_the_contract() {
    let f = fixture();
    let input = f.root.join("calls.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"call_id\":\"c1\",\"speaker\":\"agent\",\"text\":\"thanks\",\"start\":0.5,\"end\":1.5}\n",
            "{\"call_id\":\"c2\",\"speaker\":\"customer\",\"text\":\"i am angry\"}\n",
            "{\"call_id\":\"c1\",\"speaker\":\"customer\",\"text\":\"the call was terrible\"}\n",
            "{\"call_id\":\"c1\",\"speaker\":\"customer\",\"text\":\"\"}\n",
        ),
    )
    .unwrap();
    let out = calltone()
        .args(["score", "--model", &f.model])
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&out);
    let recs = records(&out.stdout);
    let kinds: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| (r["type"].as_str().unwrap(), r["call_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("turn", "c1"),
            ("turn", "c1"),
            ("turn", "c1"),
            ("call", "c1"),
            ("turn", "c2"),
            ("call", "c2")
        ]
    );
    assert_eq!(recs[0]["turn"], 0);
    assert_eq!(recs[2]["turn"], 2);
    assert_eq!(recs[0]["start_ms"], 500);
    assert_eq!(recs[0]["end_ms"], 1500);
    // consecutive customer lines stay separate; the empty one is kept, unscored
    assert_eq!(recs[1]["speaker"], "customer");
    assert_eq!(recs[2]["text"], "");
    assert!(
        recs[2]["score"].is_null() && recs[2]["label"].is_null() && recs[2]["negative"].is_null()
    );
    let s = recs[1]["score"].as_f64().unwrap();
    let (p, n) = (
        recs[1]["positive"].as_f64().unwrap(),
        recs[1]["negative"].as_f64().unwrap(),
    );
    assert!((s - (p - n)).abs() < 1e-5);
    assert!(recs[3]["moments"].is_array());
    assert!(recs[3]["metrics"]["speakers"].is_array());
    assert_eq!(recs[3]["turns"], 3);
    assert_eq!(recs[3]["scored_turns"], 2);
}

#[test]
fn csv_and_json_outputs_and_atomic_file() {
    let f = fixture();
    let input = f.root.join("call.txt");
    std::fs::write(
        &input,
        "Agent: thanks, how can i help\nCustomer: fix this now please\n",
    )
    .unwrap();
    let out_path = f.root.join("out.csv");
    let out = calltone()
        .args(["score", "--format", "csv", "--model", &f.model, "-o"])
        .arg(&out_path)
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&out);
    let mut rdr = csv::Reader::from_path(&out_path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "call_id");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][7], "thanks, how can i help");
    assert_eq!(&rows[1][3], "customer");

    let out = calltone()
        .args(["score", "--format", "json", "--model", &f.model])
        .arg(&input)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["calls"][0]["turn_records"].as_array().unwrap().len(), 2);
    assert_eq!(doc["calls"][0]["call_id"], "call");
}

#[test]
fn stdin_and_folders() {
    let f = fixture();
    std::fs::create_dir_all(f.root.join("batch/nested")).unwrap();
    std::fs::write(
        f.root.join("batch/a.txt"),
        "Agent: hello\nCustomer: thanks\n",
    )
    .unwrap();
    std::fs::write(
        f.root.join("batch/nested/b.txt"),
        "Agent: hello\nCustomer: you are useless\n",
    )
    .unwrap();
    std::fs::write(f.root.join("batch/notes.md"), "not a transcript").unwrap();
    let out = calltone()
        .args(["score", "--model", &f.model])
        .arg(f.root.join("batch"))
        .output()
        .unwrap();
    assert_success(&out);
    let calls: Vec<String> = records(&out.stdout)
        .iter()
        .filter(|r| r["type"] == "call")
        .map(|r| r["call_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(calls, vec!["a", "b"]);

    let out = calltone()
        .args(["score", "--model", &f.model, "-"])
        .write_stdin("Customer: i am angry\nAgent: sorry\n")
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert_eq!(recs.last().unwrap()["call_id"], "stdin");
}

#[test]
fn garbage_fails_per_file_and_the_rest_is_scored() {
    let f = fixture();
    let good = f.root.join("good.txt");
    std::fs::write(&good, "Agent: hello\nCustomer: thanks\n").unwrap();
    let binary = f.root.join("binary.txt");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let latin1 = f.root.join("latin1.txt");
    std::fs::write(&latin1, b"Customer: caf\xe9 terrible\n").unwrap();
    let empty = f.root.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let badline = f.root.join("bad.jsonl");
    std::fs::write(&badline, "{\"speaker\":\"a\",\"text\":\"ok\"}\n{oops\n").unwrap();
    let huge = f.root.join("huge.txt");
    let mut body = b"Customer: ".to_vec();
    body.extend(std::iter::repeat_n(b'a', 100 << 20));
    std::fs::write(&huge, body).unwrap();
    let out = calltone()
        .args(["score", "--model", &f.model])
        .args([&good, &binary, &latin1, &empty, &badline, &huge])
        .arg(f.root.join("missing.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for (path, reason) in [
        (&binary, "binary"),
        (&latin1, "UTF-8"),
        (&empty, "empty"),
        (&badline, "line 2"),
        (&huge, "longer than"),
        (&f.root.join("missing.txt"), "no such file"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(&path.display().to_string()))
            .unwrap_or_else(|| panic!("no error for {path:?} in {err}"));
        assert!(line.contains(reason), "{line}");
    }
    assert!(err.contains("6 failed"), "{err}");
    let calls: Vec<Value> = call_records(&out.stdout);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["call_id"], "good");
}

#[test]
fn a_call_with_no_customer_is_named_and_the_flag_fixes_it() {
    let f = fixture();
    let input = f.root.join("two-voices.txt");
    std::fs::write(
        &input,
        "Dana: hello there\nRiley: this is the third time I'm calling, it is terrible\n",
    )
    .unwrap();
    let html = f.root.join("report.html");
    let out = calltone()
        .args(["score", "--model", &f.model, "--report", "--html"])
        .arg(&html)
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("of the 1 none, 1 had no speaker marked as the customer"),
        "the batch report should say the call was not read for moments: {err}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<b>1</b>with no speaker marked as the customer"));
    let note = err
        .lines()
        .find(|l| l.starts_with("calltone: ") && l.contains("no speaker"))
        .unwrap_or_else(|| panic!("no note about the missing customer in {err}"));
    assert!(
        note.contains("1 call had") && note.contains("(two-voices)"),
        "{note}"
    );
    assert!(note.contains("--customer LABEL"), "{note}");
    assert!(call_records(&out.stdout)[0]["customer"].is_null());

    let out = calltone()
        .args(["score", "--model", &f.model, "--customer", "riley"])
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("no speaker"), "{err}");
    let turns: Vec<Value> = records(&out.stdout)
        .into_iter()
        .filter(|r| r["type"] == "turn")
        .collect();
    assert_eq!(turns[1]["role"], "customer");
    assert_eq!(turns[0]["role"], "agent");
    assert!(!call_records(&out.stdout)[0]["customer"].is_null());
}

#[test]
fn usage_errors_exit_2() {
    let out = calltone().args(["score"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = calltone()
        .args(["score", "--format", "xml", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = calltone()
        .args(["score", "--model", "/no/such/model", "x.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/model"));
}

#[test]
fn every_fixture_is_read_with_its_format() {
    let f = fixture();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = calltone()
        .args(["score", "--model", &f.model])
        .arg(&fixtures)
        .output()
        .unwrap();
    assert_success(&out);
    let calls: Vec<Value> = call_records(&out.stdout);
    let files = std::fs::read_dir(&fixtures).unwrap().count();
    assert!(
        calls.len() > files,
        "{} calls from {files} files",
        calls.len()
    );
    for c in &calls {
        let source = c["source"].as_str().unwrap();
        let file = source.rsplit('/').next().unwrap();
        let expected = match file.split(['-', '.']).next().unwrap() {
            "aws" => "aws-transcribe",
            "contact" => "contact-lens",
            "google" => "google-stt",
            "whisperx" => "whisper",
            other => other,
        };
        assert_eq!(c["format"], expected, "{file}");
        assert!(c["turns"].as_u64().unwrap() >= 2, "{file}");
    }
}

#[test]
fn include_exclude_and_size_limit() {
    let f = fixture();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = calltone()
        .args([
            "score",
            "--model",
            &f.model,
            "--include",
            "*.json",
            "--exclude",
            "aws-*",
            "--format",
            "csv",
        ])
        .arg(&fixtures)
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("deepgram-utterances.json")
            && !text.contains("aws-transcribe")
            && !text.contains(".vtt")
    );

    let big = f.root.join("big.txt");
    std::fs::write(&big, format!("Agent: {}\n", "x".repeat(5000))).unwrap();
    let out = calltone()
        .args(["score", "--model", &f.model, "--max-file-bytes", "1000"])
        .arg(&big)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit"));

    let out = calltone()
        .args(["score", "--model", &f.model, "--include", "["])
        .arg(&fixtures)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn devices_and_precisions_this_build_cannot_run_are_refused_clearly() {
    let f = fixture();
    let input = f.root.join("c.jsonl");
    std::fs::write(&input, "{\"speaker\":\"agent\",\"text\":\"thanks\"}\n").unwrap();
    let run = |extra: &[&str]| {
        calltone()
            .args(["score", "--model", &f.model])
            .args(extra)
            .arg(&input)
            .output()
            .unwrap()
    };
    if !cfg!(feature = "cuda") {
        let out = run(&["--device", "cuda:1"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--features cuda"));
        // Warming the GPU kernels on a build without CUDA says how to build.
        let out = calltone().args(["setup", "--gpu"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--features cuda"));
    }
    let out = run(&["--precision", "f16", "--device", "cpu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a GPU"));
    let out = run(&["--device", "quantum"]);
    assert_eq!(out.status.code(), Some(2));
    // auto on a machine without a GPU: the CPU, fp32 kernels, same records as reference.
    let auto = run(&[]);
    let reference = run(&["--device", "cpu", "--precision", "reference"]);
    assert_success(&auto);
    assert_success(&reference);
    let negative = |o: &std::process::Output| records(&o.stdout)[0]["negative"].as_f64().unwrap();
    assert!((negative(&auto) - negative(&reference)).abs() < 1e-4);
}
