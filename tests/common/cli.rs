//! Running the `calltone` binary in tests with a tiny model and reading its records.
#![allow(dead_code)]

use super::{write_model, Layout};
use assert_cmd::Command;
use serde_json::Value;

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: std::path::PathBuf,
    pub model: String,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_model(
        &root.join("model"),
        Layout::Bert,
        &["negative", "neutral", "positive"],
    );
    Fixture {
        model: root.join("model").display().to_string(),
        root,
        _dir: dir,
    }
}

pub fn calltone() -> Command {
    let mut c = Command::cargo_bin("calltone").unwrap();
    c.env("CALLTONE_HOME", "/nonexistent-calltone-home");
    c
}

pub fn records(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn assert_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn call_records(stdout: &[u8]) -> Vec<Value> {
    records(stdout)
        .into_iter()
        .filter(|r| r["type"] == "call")
        .collect()
}
