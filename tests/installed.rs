//! An installed binary needs no checkout: a copy of `calltone` in another
//! directory, run from a third, with a fresh cache that holds only the
//! fetched encoder, scores the examples with the default model (the head
//! built into the binary), writes that head into its cache, and rewrites it
//! there when the copy was damaged. Needs `calltone setup` (the README's
//! test command runs it).

mod common;

use std::path::Path;
use std::process::Command;

use calltone::setup;
use common::cli::assert_success;

fn run_installed(binary: &Path, home: &Path, cwd: &Path, examples: &Path) -> std::process::Output {
    Command::new(binary)
        .current_dir(cwd)
        .env("CALLTONE_HOME", home)
        .env_remove("CALLTONE_HEAD_DIR")
        .env_remove("CALLTONE_KERNEL")
        .args(["score", "-q", "--precision", "fp32"])
        .arg(examples)
        .output()
        .unwrap()
}

#[test]
fn a_copied_binary_scores_with_its_built_in_head() {
    let encoder = setup::encoder_dir();
    assert!(
        encoder.join("model.safetensors").is_file(),
        "run `calltone setup` first (the README's test command does)"
    );
    let install = tempfile::tempdir().unwrap();
    let binary = install.path().join("calltone");
    std::fs::copy(env!("CARGO_BIN_EXE_calltone"), &binary).unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("encoders")).unwrap();
    std::os::unix::fs::symlink(&encoder, home.path().join("encoders/all-minilm-l6-v2")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let examples = std::fs::canonicalize("examples").unwrap();

    let first = run_installed(&binary, home.path(), elsewhere.path(), &examples);
    assert_success(&first);
    let turns = common::cli::records(&first.stdout)
        .into_iter()
        .filter(|r| r["type"] == "turn")
        .count();
    assert!(turns > 30, "{turns} turns");

    let heads: Vec<_> = std::fs::read_dir(home.path().join("heads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = &heads[0];
    for file in [
        "head.json",
        "head.safetensors",
        "provenance.json",
        "precisions.json",
    ] {
        assert!(head.join(file).is_file(), "{file} not written");
    }

    // A damaged copy is rewritten, and the scores do not change.
    std::fs::write(head.join("head.safetensors"), b"damaged").unwrap();
    let again = run_installed(&binary, home.path(), elsewhere.path(), &examples);
    assert_success(&again);
    assert_eq!(first.stdout, again.stdout);
    assert!(
        std::fs::metadata(head.join("head.safetensors"))
            .unwrap()
            .len()
            > 1_000_000
    );
}
