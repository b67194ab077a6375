//! Memory stays flat as the input grows: `calltone score` reads files in
//! bounded chunks and scores and writes calls in bounded groups, so 100,000
//! turns (100 files, and one file of 20,000 turns) need at most twice the
//! peak memory of 1,000. Runs the real default model, as a nightly job would.

mod common;

use assert_cmd::Command;
use common::cli::assert_success;

const LINES: [&str; 12] = [
    "Thanks for calling, how can I help you today?",
    "My internet has been down since Monday and nobody has called me back.",
    "I'm sorry to hear that, let me look up your account.",
    "This is the third time I'm calling about the same problem!",
    "I can see the outage on our side, an engineer is booked for tomorrow.",
    "Fine, but I want a credit for the days without service.",
    "Of course, I've added a credit to your next bill.",
    "Okay, thank you, that helps.",
    "Is there anything else I can help with?",
    "No, that's everything. Have a good evening.",
    "Could you confirm the address on the account?",
    "It's the same one as last time, 14 Elm Road.",
];

/// `calls` calls of 20 alternating turns as JSONL, texts from `LINES`.
fn jsonl(first_call: usize, calls: usize) -> String {
    let mut out = String::new();
    for c in first_call..first_call + calls {
        for t in 0..20 {
            let (speaker, role) = if t % 2 == 0 {
                ("Sam", "agent")
            } else {
                ("Caller", "customer")
            };
            let line = serde_json::json!({
                "call_id": format!("call-{c}"), "speaker": speaker, "role": role,
                "text": LINES[(c * 7 + t) % LINES.len()],
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    out
}

/// Runs `score` on `paths`; returns (turn records written, peak MiB).
fn score(paths: &[std::path::PathBuf], out: &std::path::Path) -> (usize, f64) {
    // The real model from the cache the setup step filled (the environment's
    // CALLTONE_HOME, as the README's test command leaves it).
    let run = Command::cargo_bin("calltone")
        .unwrap()
        .arg("score")
        .args(paths)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert_success(&run);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let peak: f64 = stderr
        .split("peak memory ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {stderr:?}"));
    let text = std::fs::read_to_string(out).unwrap();
    let turns = text
        .lines()
        .filter(|l| l.contains(r#""type":"turn""#))
        .count();
    (turns, peak)
}

#[test]
fn peak_memory_for_100k_turns_is_within_twice_that_for_1k() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.jsonl");
    std::fs::write(&small, jsonl(0, 50)).unwrap();
    let mut many = Vec::new();
    for f in 0..80 {
        let p = dir.path().join(format!("night-{f:03}.jsonl"));
        std::fs::write(&p, jsonl(1000 + f * 50, 50)).unwrap();
        many.push(p);
    }
    // And one big file: 20,000 turns of 1,000 calls.
    let big = dir.path().join("big.jsonl");
    std::fs::write(&big, jsonl(100_000, 1000)).unwrap();
    many.push(big);

    let (turns_small, peak_small) = score(&[small], &dir.path().join("small.out"));
    let (turns_many, peak_many) = score(&many, &dir.path().join("many.out"));
    assert_eq!(turns_small, 1_000);
    assert_eq!(turns_many, 100_000);
    assert!(
        peak_many <= 2.0 * peak_small,
        "peak memory {peak_many:.0} MiB for 100,000 turns vs {peak_small:.0} MiB for 1,000"
    );
}
