//! Past one machine: `score --shard K/N` on every K, then `merge`, gives the
//! very bytes one machine writes; `score --resume` continues an interrupted
//! run, copying finished calls instead of scoring them again. With a tiny
//! model the test writes (the real one behaves the same, only slower).

mod common;

use common::cli::{assert_success, calltone, fixture, Fixture};
use std::path::{Path, PathBuf};

/// Three files of 30 calls each, 2–9 turns, texts from the tiny vocabulary.
fn inputs(f: &Fixture) -> PathBuf {
    let dir = f.root.join("night");
    std::fs::create_dir_all(&dir).unwrap();
    let mut n = 0usize;
    for file in 0..3 {
        let mut lines = String::new();
        for call in 0..30 {
            for turn in 0..2 + (call * 7 + file) % 8 {
                n += 1;
                let text: Vec<&str> = (0..1 + n % 6)
                    .map(|w| common::WORDS[(n * 5 + w * 3) % common::WORDS.len()])
                    .collect();
                let speaker = if turn % 2 == 0 { "agent" } else { "customer" };
                lines.push_str(
                    &serde_json::json!({"call_id": format!("f{file}-c{call}"),
                        "speaker": speaker, "text": text.join(" ")})
                    .to_string(),
                );
                lines.push('\n');
            }
        }
        std::fs::write(dir.join(format!("calls-{file}.jsonl")), lines).unwrap();
    }
    dir
}

fn score(f: &Fixture, input: &Path, out: &Path, extra: &[&str]) -> String {
    let run = calltone()
        .args(["score", "--model", &f.model])
        .arg(input)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert_success(&run);
    String::from_utf8_lossy(&run.stderr).into_owned()
}

#[test]
fn shards_merge_into_exactly_the_single_machine_output() {
    let f = fixture();
    let input = inputs(&f);
    let single = f.root.join("single.jsonl");
    score(&f, &input, &single, &[]);
    let mut parts = Vec::new();
    for k in (0..4).rev() {
        let part = f.root.join(format!("shard-{k}.jsonl"));
        let said = score(&f, &input, &part, &["--shard", &format!("{k}/4")]);
        assert!(said.contains(&format!("(shard {k}/4)")), "{said}");
        let text = std::fs::read_to_string(&part).unwrap();
        assert!(text.contains(r#""type":"call""#), "shard {k} got no calls");
        parts.push(part);
    }
    let merged = f.root.join("merged.jsonl");
    let run = calltone()
        .arg("merge")
        .args(&parts)
        .arg("-o")
        .arg(&merged)
        .output()
        .unwrap();
    assert_success(&run);
    let (want, got) = (
        std::fs::read(&single).unwrap(),
        std::fs::read(&merged).unwrap(),
    );
    assert_eq!(want.len(), got.len());
    assert!(want == got, "merged output differs from the single run");
    assert!(String::from_utf8_lossy(&run.stderr).contains("merged 90 calls from 4 files"));

    // Merging a shard twice is refused, naming the files; nothing is written.
    let again = f.root.join("twice.jsonl");
    let run = calltone()
        .arg("merge")
        .args([&parts[0], &parts[0]])
        .arg("-o")
        .arg(&again)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("shards overlap"));
    assert!(!again.exists());

    // One shard's pod lost: refused, naming the missing shard (parts are 3, 2, 1, 0).
    let partial = f.root.join("partial.jsonl");
    let merge_three = |extra: &[&str]| {
        calltone()
            .arg("merge")
            .args(&parts[..3])
            .args(extra)
            .arg("-o")
            .arg(&partial)
            .output()
            .unwrap()
    };
    let run = merge_three(&[]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("shards 0/4 of the 4-way run are missing"),
        "{stderr}"
    );
    assert!(!partial.exists());
    // --allow-missing merges, and both the result and the summary say it is partial.
    let run = merge_three(&["--allow-missing"]);
    assert_success(&run);
    assert!(String::from_utf8_lossy(&run.stderr).contains("PARTIAL: shards 0/4 are missing"));
    let text = std::fs::read_to_string(&partial).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "shard");
    assert_eq!(last["missing"], serde_json::json!(["0/4"]));
    assert_eq!(last["input_calls"], 90);
    // A partial result still reads as results (its calls, not its marker).
    let run = calltone().arg("report").arg(&partial).output().unwrap();
    assert_success(&run);
}

#[test]
fn resume_copies_finished_calls_and_scores_the_rest() {
    let f = fixture();
    let input = inputs(&f);
    let fresh = f.root.join("fresh.jsonl");
    score(&f, &input, &fresh, &[]);
    let full = std::fs::read_to_string(&fresh).unwrap();

    // An interrupted run: the first 40% of the bytes, cut mid-record, with
    // one copied value marked so we can tell copying from re-scoring.
    let out = f.root.join("out.jsonl");
    let cut = &full[..full.len() * 2 / 5];
    let first_negative = cut.split("\"negative\":").nth(1).unwrap();
    let value = &first_negative[..first_negative.find(',').unwrap()];
    let marked = cut.replacen(
        &format!("\"negative\":{value},"),
        "\"negative\":0.123456,",
        1,
    );
    std::fs::write(f.root.join("out.jsonl.partial"), &marked).unwrap();
    assert!(!out.exists(), "an interrupted run leaves no output file");

    let said = score(&f, &input, &out, &["--resume"]);
    let copied: usize = said
        .split(", ")
        .find(|s| s.contains("copied from the interrupted run"))
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(copied >= 10, "{said}");
    let resumed = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        resumed,
        full.replacen(
            &format!("\"negative\":{value},"),
            "\"negative\":0.123456,",
            1
        ),
        "resumed output = fresh output, with the copied call as it was"
    );
    assert!(!f.root.join("out.jsonl.partial").exists());
    assert!(!f.root.join("out.jsonl.partial-1").exists());

    // A call whose content changed since is scored again, not copied.
    let file = input.join("calls-0.jsonl");
    let changed =
        std::fs::read_to_string(&file)
            .unwrap()
            .replacen("\"text\":\"", "\"text\":\"terrible ", 1);
    std::fs::write(&file, changed).unwrap();
    let said = score(&f, &input, &out, &["--resume"]);
    assert!(said.contains("89 of them copied"), "{said}");
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("\"text\":\"terrible "));

    // Only JSONL can be resumed.
    let run = calltone()
        .args([
            "score", "--model", &f.model, "--format", "csv", "--resume", "-o",
        ])
        .arg(f.root.join("out.csv"))
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--resume works with JSONL"));
}
