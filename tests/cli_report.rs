//! `calltone report` on saved results (a fixture scored once from the
//! examples and vendor fixtures): the terminal report and the CSVs against
//! golden files, merging files, filters, and `--fail-on` exit codes.
//! `CALLTONE_BLESS=1 cargo test --release --test cli_report` rewrites the
//! golden files after an intended change.

use std::path::Path;

use assert_cmd::Command;

const RESULTS: &str = "tests/reports/batch.jsonl";
const RULES: &str = "tests/reports/qa.toml";

fn report(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("calltone")
        .unwrap()
        .env("NO_COLOR", "1")
        .env("CALLTONE_HOME", "/nonexistent-calltone-home")
        .arg("report")
        .args(args)
        .output()
        .unwrap()
}

fn golden(name: &str, actual: &str) {
    let path = Path::new("tests/reports/golden").join(name);
    if std::env::var_os("CALLTONE_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (CALLTONE_BLESS=1 writes it)", path.display()));
    assert_eq!(actual, want, "{} differs", path.display());
}

fn ok(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn terminal_report_and_csvs_match_the_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls.csv");
    let agents = dir.path().join("agents.csv");
    let out = report(&[
        RESULTS,
        "--rules",
        RULES,
        "--width",
        "100",
        "--calls-csv",
        calls.to_str().unwrap(),
        "--agents-csv",
        agents.to_str().unwrap(),
    ]);
    let text = ok(&out);
    assert!(
        !text.contains('\x1b'),
        "no colour with NO_COLOR or in a pipe"
    );
    assert!(
        text.lines().all(|l| l.chars().count() <= 100),
        "fits 100 columns"
    );
    golden("report.txt", &text);
    golden("calls.csv", &std::fs::read_to_string(&calls).unwrap());
    golden("agents.csv", &std::fs::read_to_string(&agents).unwrap());
}

#[test]
fn several_result_files_merge_into_one_report() {
    let dir = tempfile::tempdir().unwrap();
    let all = std::fs::read_to_string(RESULTS).unwrap();
    let lines: Vec<&str> = all.lines().collect();
    // Split after a call record, roughly in the middle.
    let cut = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| *i >= lines.len() / 2 && l.contains("\"type\":\"call\""))
        .map(|(i, _)| i + 1)
        .next()
        .unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::write(&a, lines[..cut].join("\n")).unwrap();
    std::fs::write(&b, lines[cut..].join("\n")).unwrap();
    let merged = ok(&report(&[
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--width",
        "100",
    ]));
    let whole = ok(&report(&[RESULTS, "--width", "100"]));
    assert_eq!(merged, whole);
}

#[test]
fn filters_keep_the_calls_asked_for() {
    let one = ok(&report(&[RESULTS, "--agent", "Kim", "--width", "100"]));
    assert!(one.starts_with("calltone report: 1 calls,"), "{one}");
    let spring = ok(&report(&[
        RESULTS,
        "--since",
        "2026-03-01",
        "--width",
        "100",
    ]));
    assert!(spring.starts_with("calltone report: 1 calls,"), "{spring}");
    let january = ok(&report(&[
        RESULTS,
        "--since",
        "2026-01-01",
        "--until",
        "2026-01-02",
        "--width",
        "100",
    ]));
    assert!(
        january.starts_with("calltone report: 3 calls,"),
        "{january}"
    );
    let bad = report(&[RESULTS, "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn fail_on_conditions_set_exit_code_3() {
    let out = report(&[RESULTS, "--fail-on", "irate"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("irate: 3 of 10 calls (30.0%)"), "{err}");
    assert!(!out.stdout.is_empty(), "the report is still written");
    assert_eq!(
        report(&[RESULTS, "--fail-on", "irate>50%"]).status.code(),
        Some(0)
    );
    assert_eq!(
        report(&[RESULTS, "--fail-on", "frustrated>0.2"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        report(&[RESULTS, "--fail-on", "livid"]).status.code(),
        Some(2)
    );
}

#[test]
fn machine_outputs_match_the_golden_files() {
    for (format, name) in [
        ("jsonl", "analyzed.jsonl"),
        ("json", "analyzed.json"),
        ("csv", "turns.csv"),
    ] {
        let out = Command::cargo_bin("calltone")
            .unwrap()
            .env("CALLTONE_HOME", "/nonexistent-calltone-home")
            .args([
                "analyze", "-q", RESULTS, "--rules", RULES, "--format", format,
            ])
            .output()
            .unwrap();
        golden(name, &ok(&out));
    }
}
