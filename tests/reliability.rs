//! Every call counted once and every failure named, as a user meets them:
//! two folders holding the same file name stay two calls; a results file
//! with one call twice is refused, not fused; a write error after the start
//! exits 1 (not 2, which is for usage) and names what it was writing.
//! With the tiny test model.

mod common;

use common::cli::{assert_success, call_records, calltone, fixture};

/// `day1/c1.txt` and `day2/c1.txt`: both would be call `c1`.
fn two_days(root: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (day1, day2) = (root.join("day1"), root.join("day2"));
    for (dir, text) in [
        (
            &day1,
            "Agent: thank you for calling\nCustomer: my account is terrible\n",
        ),
        (
            &day2,
            "Agent: how can i help\nCustomer: thanks you are lovely\nAgent: happy to help\n",
        ),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("c1.txt"), text).unwrap();
    }
    (day1, day2)
}

#[test]
fn the_same_file_name_in_two_folders_stays_two_calls() {
    let f = fixture();
    let (day1, day2) = two_days(&f.root);
    let results = f.root.join("night.jsonl");
    let run = calltone()
        .args(["score", "--model", &f.model])
        .args([&day1, &day2])
        .arg("-o")
        .arg(&results)
        .output()
        .unwrap();
    assert_success(&run);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let second = format!("{}", day2.join("c1.txt").display());
    assert!(
        stderr.contains(&format!(
            "call id \"c1\" is already used by a call from {}",
            day1.join("c1.txt").display()
        )),
        "{stderr}"
    );
    let calls = call_records(&std::fs::read(&results).unwrap());
    let ids: Vec<&str> = calls
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c1".to_string(), format!("c1@{second}")]);
    assert_eq!(calls[0]["turns"], 2);
    assert_eq!(calls[1]["turns"], 3);

    // The report counts two calls of 2 and 3 turns, not one of 5.
    let csv = f.root.join("calls.csv");
    let report = calltone()
        .arg("report")
        .arg(&results)
        .arg("--calls-csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert_success(&report);
    let rows: Vec<Vec<String>> = csv::Reader::from_path(&csv)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let id_turns: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[6].as_str()))
        .collect();
    let renamed = format!("c1@{second}");
    let mut want = vec![("c1", "2"), (renamed.as_str(), "3")];
    let mut got = id_turns.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn a_results_file_with_one_call_twice_is_refused_not_fused() {
    let f = fixture();
    let (day1, _) = two_days(&f.root);
    let run = calltone()
        .args(["score", "--model", &f.model])
        .arg(day1.join("c1.txt"))
        .output()
        .unwrap();
    assert_success(&run);
    // Two runs' outputs concatenated: call c1 twice.
    let twice = f.root.join("twice.jsonl");
    std::fs::write(&twice, [run.stdout.clone(), run.stdout].concat()).unwrap();
    for command in ["analyze", "report"] {
        let out = calltone().arg(command).arg(&twice).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("line 4: call \"c1\" appears again (first at line 1)"),
            "{command}: {stderr}"
        );
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_full_disk_exits_1_and_names_what_it_was_writing() {
    let f = fixture();
    let (day1, _) = two_days(&f.root);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let run = std::process::Command::new(assert_cmd::cargo::cargo_bin("calltone"))
        .env("CALLTONE_HOME", "/nonexistent-calltone-home")
        .args(["score", "--model", &f.model])
        .arg(&day1)
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("writing standard output: No space left on device"),
        "{stderr}"
    );
}
