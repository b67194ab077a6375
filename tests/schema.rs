//! The shipped JSON Schema (`docs/schema/calltone-2.schema.json`) is what
//! `calltone schema` prints, and every line `score`, `score --shard`,
//! `analyze` and `merge` write validates against it (with the `jsonschema`
//! crate); a record with a wrong field does not. Uses the real default
//! model on the bundled examples (needs `calltone setup`).

mod common;

use std::path::Path;

use common::cli::{assert_success, calltone};
use serde_json::Value;

const SHIPPED: &str = "docs/schema/calltone-2.schema.json";

fn schema() -> Value {
    let out = calltone().arg("schema").output().unwrap();
    assert_success(&out);
    let printed = String::from_utf8(out.stdout).unwrap();
    let shipped = std::fs::read_to_string(SHIPPED).unwrap();
    assert!(
        printed == shipped,
        "{SHIPPED} is out of date: regenerate it with `calltone schema > {SHIPPED}`"
    );
    serde_json::from_str(&printed).unwrap()
}

/// Every line of `jsonl` is valid; returns how many of each type there were.
fn validate(validator: &jsonschema::Validator, what: &str, jsonl: &[u8]) -> (usize, usize, usize) {
    let (mut turns, mut calls, mut shards) = (0, 0, 0);
    for (n, line) in String::from_utf8_lossy(jsonl).lines().enumerate() {
        let record: Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&record)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{what}, line {}: {errors:?}\n{line}",
            n + 1
        );
        match record["type"].as_str() {
            Some("turn") => turns += 1,
            Some("call") => calls += 1,
            Some("shard") => shards += 1,
            other => panic!("{what}, line {}: type {other:?}", n + 1),
        }
    }
    (turns, calls, shards)
}

fn run(args: &[&str]) -> Vec<u8> {
    let out = calltone()
        .env_remove("CALLTONE_HOME")
        .args(args)
        .output()
        .unwrap();
    assert_success(&out);
    out.stdout
}

#[test]
fn every_output_validates_against_the_shipped_schema() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();

    let scored = run(&["score", "-q", "examples/"]);
    let (turns, calls, _) = validate(&validator, "score", &scored);
    assert!(turns > 30 && calls == 4, "{turns} turns, {calls} calls");
    std::fs::write(path("results.jsonl"), &scored).unwrap();

    let analysed = run(&["analyze", "-q", &path("results.jsonl")]);
    validate(&validator, "analyze", &analysed);

    for k in 0..2 {
        let part = path(&format!("shard-{k}.jsonl"));
        run(&[
            "score",
            "-q",
            "examples/",
            "--shard",
            &format!("{k}/2"),
            "-o",
            &part,
        ]);
        let (_, _, shards) = validate(&validator, "score --shard", &std::fs::read(&part).unwrap());
        assert_eq!(shards, 1, "shard {k} ends with its shard record");
    }
    let merged = run(&[
        "merge",
        "-q",
        &path("shard-0.jsonl"),
        &path("shard-1.jsonl"),
    ]);
    validate(&validator, "merge", &merged);

    // A partial merge ends with a shard record listing what is missing.
    let partial = run(&["merge", "-q", "--allow-missing", &path("shard-0.jsonl")]);
    let (_, _, shards) = validate(&validator, "merge --allow-missing", &partial);
    assert_eq!(shards, 1);

    // The schema is not vacuous: a turn whose probability is a string,
    // and a call without its moments, are rejected.
    let first_turn: Value =
        serde_json::from_slice(scored.split(|&b| b == b'\n').next().unwrap()).unwrap();
    let mut bad = first_turn.clone();
    bad["negative"] = Value::String("high".into());
    assert!(
        !validator.is_valid(&bad),
        "a string probability was accepted"
    );
    let call: Value = String::from_utf8_lossy(&scored)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["type"] == "call")
        .unwrap();
    let mut bad = call.clone();
    bad.as_object_mut().unwrap().remove("moments");
    assert!(
        !validator.is_valid(&bad),
        "a call without moments was accepted"
    );
    assert!(Path::new(SHIPPED).is_file());
}
