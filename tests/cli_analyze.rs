//! `calltone analyze` on results `score` wrote (tiny model: the analysis is
//! what is tested), PII redaction in everything written, and rules files
//! from the command line.

mod common;

use common::cli::{assert_success, call_records, calltone, fixture, records, Fixture};
use serde_json::Value;

const CALL: &str = "\
[00:00:01] Agent: Thanks for calling, how can I help?
[00:00:05] Customer: My card 4111 1111 1111 1111 was charged twice, mail me at jo@example.com
[00:00:12] Agent: I can see that. Can I take a phone number?
[00:00:15] Customer: It's 555-123-4567. This is the third time I'm calling, let me speak to your manager!
[00:00:25] Agent: Of course, transferring you now.
";

fn score(f: &Fixture, extra: &[&str]) -> Vec<u8> {
    let input = f.root.join("call.txt");
    std::fs::write(&input, CALL).unwrap();
    let out = calltone()
        .args(["score", "-q", "--model", &f.model])
        .args(extra)
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&out);
    out.stdout
}

/// Every string value in the JSONL records (but the content hash), one per line.
fn strings_in(jsonl: &str) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            // Hex digests may hold any four digits by chance.
            Value::Object(fields) => fields
                .iter()
                .filter(|(k, _)| k.as_str() != "content_hash")
                .for_each(|(_, f)| walk(f, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    for line in jsonl.lines() {
        walk(&serde_json::from_str::<Value>(line).unwrap(), &mut out);
    }
    out
}

#[test]
fn outputs_are_redacted_unless_asked_and_the_model_saw_the_original() {
    let f = fixture();
    let redacted = String::from_utf8(score(&f, &[])).unwrap();
    // Every string written (texts, quotes, triggers, ids), not the numbers:
    // a probability such as -34.111412 holds "4111" by chance.
    let written = strings_in(&redacted);
    for secret in ["4111", "1111", "jo@example.com", "555-123-4567"] {
        assert!(!written.contains(secret), "{secret} leaked:\n{redacted}");
    }
    for mask in ["[CARD]", "[EMAIL]", "[PHONE]"] {
        assert!(redacted.contains(mask), "{mask} missing");
    }
    let plain = String::from_utf8(score(&f, &["--no-redact"])).unwrap();
    assert!(plain.contains("4111 1111 1111 1111") && plain.contains("jo@example.com"));
    // Same scores either way: the model read the original text both times.
    let scores = |s: &str| -> Vec<Value> {
        s.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["type"] == "turn")
            .map(|r| r["score"].clone())
            .collect()
    };
    assert_eq!(scores(&redacted), scores(&plain));
}

#[test]
fn analyze_reproduces_score_and_applies_new_rules() {
    let f = fixture();
    let scored = score(&f, &[]);
    let results = f.root.join("results.jsonl");
    std::fs::write(&results, &scored).unwrap();
    let call = &call_records(&scored)[0];
    assert_eq!(call["schema"], "calltone/2");
    assert!(call["metrics"]["speakers"].as_array().unwrap().len() == 2);

    // Same settings: the same records, without the model.
    let out = calltone()
        .args(["analyze", "-q"])
        .arg(&results)
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(records(&out.stdout), records(&scored));

    // A rule written later applies to the old call.
    let rules = f.root.join("rules.toml");
    std::fs::write(
        &rules,
        r#"
[moments]
open_at = 0.0
close_at = 0.0

[[category]]
name = "asked for a manager"
when = { phrase = { text = ["manager", "supervisor"], role = "customer" } }

[[category]]
name = "never matches"
when = { phrase = { text = "refund" } }
"#,
    )
    .unwrap();
    let out = calltone()
        .args(["analyze", "-q", "--rules"])
        .arg(&rules)
        .arg(&results)
        .output()
        .unwrap();
    assert_success(&out);
    let call = &call_records(&out.stdout)[0];
    assert_eq!(
        call["categories"],
        serde_json::json!([{ "name": "asked for a manager", "turns": [3] }])
    );
    // open_at = 0: every scored customer turn is in a moment.
    let moment = &call["moments"][0];
    assert_eq!(moment["customer_turns"], serde_json::json!([1, 3]));
    let cues: Vec<&str> = moment["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cue"].as_str().unwrap())
        .collect();
    assert!(
        cues.contains(&"repeat_contact") && cues.contains(&"escalation"),
        "{cues:?}"
    );
    let start = moment["start_turn"].as_u64().unwrap();
    assert_eq!(moment["trigger"]["turn"].as_u64(), Some(start - 1));
}

#[test]
fn analyze_reads_json_documents_and_redacts_unredacted_results() {
    let f = fixture();
    let scored = score(&f, &["--no-redact", "--format", "json"]);
    let results = f.root.join("results.json");
    std::fs::write(&results, &scored).unwrap();
    let out = calltone()
        .args(["analyze", "-q"])
        .arg(&results)
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let written = strings_in(&text);
    assert!(
        !written.contains("4111") && written.contains("[CARD]"),
        "{text}"
    );
    assert_eq!(records(text.as_bytes()).len(), 6);
}

#[test]
fn bad_results_and_bad_rules_are_named() {
    let f = fixture();
    let good = f.root.join("good.jsonl");
    std::fs::write(&good, score(&f, &[])).unwrap();
    let bad = f.root.join("bad.jsonl");
    std::fs::write(&bad, "{\"type\":\"turn\",\"call_id\":1}\n").unwrap();
    let out = calltone()
        .args(["analyze", "-q"])
        .arg(&bad)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl") && err.contains("line 1"), "{err}");
    assert_eq!(call_records(&out.stdout).len(), 1);

    let rules = f.root.join("rules.toml");
    std::fs::write(
        &rules,
        "[[category]]\nname = \"x\"\nwhen = { phrase = { text = \"(\", match = \"pattern\" } }\n",
    )
    .unwrap();
    let out = calltone()
        .args(["analyze", "--rules"])
        .arg(&rules)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rules.toml") && err.contains("category \"x\""),
        "{err}"
    );
}

#[test]
fn score_writes_the_reports_beside_the_records() {
    let f = fixture();
    let input = f.root.join("call.txt");
    std::fs::write(&input, CALL).unwrap();
    let (records_path, html, calls_csv) = (
        f.root.join("out.jsonl"),
        f.root.join("report.html"),
        f.root.join("calls.csv"),
    );
    let out = calltone()
        .args([
            "score", "-q", "--report", "--width", "90", "--model", &f.model, "-o",
        ])
        .arg(&records_path)
        .arg("--html")
        .arg(&html)
        .arg("--calls-csv")
        .arg(&calls_csv)
        .arg(&input)
        .output()
        .unwrap();
    assert_success(&out);
    // Records in the file, the report on standard output.
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.starts_with("calltone report: 1 calls, 5 turns"),
        "{report}"
    );
    assert_eq!(
        call_records(&std::fs::read(&records_path).unwrap()).len(),
        1
    );
    let page = std::fs::read_to_string(&html).unwrap();
    // The card as written (numbers in the page, such as scores, may hold "4111").
    assert!(page.contains("<svg class=\"timeline\"") && !page.contains("4111 1111"));
    let csv = std::fs::read_to_string(&calls_csv).unwrap();
    assert!(
        csv.starts_with("call_id,agent,") && csv.contains("\ncall,"),
        "{csv}"
    );
}
