//! Shell completions and man pages come from the command-line definitions:
//! every command and its flags appear, the bash script parses, and
//! `man --out-dir` writes one page per command.

mod common;

use common::cli::{assert_success, calltone};

const COMMANDS: [&str; 12] = [
    "setup",
    "train",
    "eval",
    "score",
    "analyze",
    "report",
    "stream",
    "merge",
    "bench",
    "schema",
    "completions",
    "man",
];

#[test]
fn completions_name_every_command_and_the_bash_script_parses() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = calltone().args(["completions", shell]).output().unwrap();
        assert_success(&out);
        let script = String::from_utf8(out.stdout).unwrap();
        for cmd in COMMANDS {
            assert!(script.contains(cmd), "{shell}: {cmd} missing");
        }
        assert!(script.contains("precision"), "{shell}: a flag missing");
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("calltone.bash");
            std::fs::write(&path, &script).unwrap();
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .output();
            match check {
                Ok(o) => assert!(
                    o.status.success(),
                    "bash -n: {}",
                    String::from_utf8_lossy(&o.stderr)
                ),
                Err(_) => calltone::say!("bash syntax check: skipped, no bash on this machine"),
            }
        }
    }
    let out = calltone().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_pages_cover_every_command_and_its_flags() {
    let out = calltone().arg("man").output().unwrap();
    assert_success(&out);
    let main = String::from_utf8(out.stdout).unwrap();
    assert!(
        main.starts_with(".ie") || main.contains(".TH calltone 1"),
        "{main:.200}"
    );
    for cmd in COMMANDS {
        assert!(main.contains(cmd), "calltone.1 does not list {cmd}");
    }

    let dir = tempfile::tempdir().unwrap();
    let out = calltone()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    for cmd in COMMANDS {
        let page = std::fs::read_to_string(dir.path().join(format!("calltone-{cmd}.1")))
            .unwrap_or_else(|e| panic!("calltone-{cmd}.1: {e}"));
        assert!(
            page.contains(&format!(".TH calltone-{cmd} 1")),
            "{cmd}: {page:.200}"
        );
    }
    let score = std::fs::read_to_string(dir.path().join("calltone-score.1")).unwrap();
    for flag in ["precision", "shard", "resume", "rules"] {
        assert!(score.contains(flag), "calltone-score.1 lacks --{flag}");
    }
}

/// Messages to a person go to standard error; when it cannot be written
/// (here `/dev/full`: every write fails), the run goes on and succeeds
/// (it used to panic in `eprintln!`).
#[test]
fn an_unwritable_standard_error_does_not_stop_a_run() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        calltone::say!("unwritable standard error: skipped, this machine has no /dev/full");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_calltone"))
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.path().join("calltone-score.1").is_file());
}
