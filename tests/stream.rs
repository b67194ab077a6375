//! `calltone stream` with the real default model: a live call's alert comes
//! out while the call is still going (standard input still open), with
//! batch mode's evidence; recovery and the end follow; a calm call raises
//! nothing; bad lines are named and skipped. Needs `calltone setup`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// The irate-then-recovered example as stream lines for call 4411.
fn irate_call() -> Vec<String> {
    std::fs::read_to_string("examples/irate-then-recovered.txt")
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (stamp, rest) = l.split_once("] ")?;
            let (speaker, text) = rest.split_once(": ")?;
            let hms: Vec<f64> = stamp
                .trim_start_matches('[')
                .split(':')
                .map(|p| p.parse().unwrap())
                .collect();
            let start = hms[0] * 3600.0 + hms[1] * 60.0 + hms[2];
            Some(
                json!({"call_id": "4411", "speaker": speaker, "text": text, "start": start})
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn alerts_arrive_while_the_call_is_live() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("calltone"))
        .arg("stream")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(serde_json::from_str::<Value>(&line.unwrap()).unwrap());
        }
    });
    let lines = irate_call();
    let calm = |i: usize, text: &str| {
        json!({"call_id": "calm-7", "speaker": if i.is_multiple_of(2) { "Agent" } else { "Customer" },
               "text": text})
        .to_string()
    };
    // The first two turns of 4411 (the customer's "third time I'm calling"),
    // a calm call's turn between them, and a line that is not JSON.
    for line in [
        lines[0].clone(),
        calm(0, "Hello, how can I help you today?"),
        "{not json".to_string(),
        lines[1].clone(),
    ] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    // The bad line's error event comes first, in input order.
    let error = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("an error event for line 3");
    assert_eq!(error["event"], "error", "{error}");
    assert_eq!(error["line"], 3, "{error}");
    assert!(
        error["reason"].as_str().unwrap().starts_with("not JSON"),
        "{error}"
    );
    let alert = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("an alert while standard input is still open");
    assert_eq!(alert["event"], "alert", "{alert}");
    assert_eq!(alert["call_id"], "4411");
    assert_eq!(alert["turn"], 1);
    assert_eq!(alert["severity"], "irate");
    let evidence = alert["moment"]["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["quote"].as_str().unwrap_or("").contains("third time")),
        "{alert}"
    );

    // The rest of both calls; 4411 ends with an end event.
    for (i, line) in lines[2..].iter().enumerate() {
        writeln!(stdin, "{line}").unwrap();
        writeln!(stdin, "{}", calm(i + 1, "That sounds lovely, thank you.")).unwrap();
    }
    writeln!(
        stdin,
        "{}",
        json!({"speaker": "Customer", "text": "no call id"})
    )
    .unwrap();
    writeln!(stdin, "{}", json!({"call_id": "4411", "event": "end"})).unwrap();
    drop(stdin);
    let rest: Vec<Value> = rx.iter().collect();
    let out = child.wait_with_output().unwrap();
    // Two lines could not be used: exit 1, as for any input that failed.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3: not JSON"), "{stderr}");
    assert!(
        stderr.contains(r#"stream turns need a "call_id""#),
        "{stderr}"
    );

    let events: Vec<(String, String)> = rest
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().into(),
                e["call_id"].as_str().unwrap_or("-").into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("recovered", "4411"),
        ("error", "-"),
        ("ended", "4411"),
        ("ended", "calm-7"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(events, want, "{rest:#?}");
    let recovered = &rest[0];
    assert!(recovered["turn"].as_u64().unwrap() >= 7, "{recovered}");
    assert!(
        rest[1]["reason"].as_str().unwrap().contains("call_id"),
        "{}",
        rest[1]
    );
    assert_eq!(rest[2]["reason"], "end");
    assert_eq!(rest[2]["turns"], 12);
    assert_eq!(rest[3]["reason"], "end-of-input");
    assert_eq!(rest[3]["alerts"], 0);
}

/// A line that is not UTF-8, one over the size limit and one missing its
/// text each get an `error` event with their line number; the lines after
/// them are read, and the calls still open are ended as usual.
#[test]
fn unreadable_lines_are_error_events_and_the_stream_goes_on() {
    let mut input: Vec<u8> = Vec::new();
    let turn = |id: &str, text: &str| {
        (json!({"call_id": id, "speaker": "Customer", "text": text}).to_string() + "\n")
            .into_bytes()
    };
    input.extend(turn("a", "Hello there."));
    input.extend(b"{\"call_id\":\"a\",\"text\":\"caf\xe9\"}\n"); // Latin-1, not UTF-8
    input.extend(turn("b", &"x".repeat(3000))); // over --max-turn-bytes 1000 (and the line limit)
    input.extend(
        json!({"call_id": "b", "speaker": "Customer"})
            .to_string()
            .into_bytes(),
    );
    input.push(b'\n');
    input.extend(turn("b", "Thanks, that is all."));
    let out = Command::new(assert_cmd::cargo::cargo_bin("calltone"))
        .args(["stream", "--max-turn-bytes", "1000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(&input)?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let errors: Vec<(u64, String)> = events
        .iter()
        .filter(|e| e["event"] == "error")
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{events:#?}");
    assert_eq!(errors[0].0, 2);
    assert!(errors[0].1.contains("not UTF-8"), "{errors:?}");
    assert_eq!(errors[1].0, 3);
    assert!(errors[1].1.contains("1000 bytes"), "{errors:?}");
    assert_eq!(errors[2].0, 4);
    assert!(errors[2].1.contains("missing \"text\""), "{errors:?}");
    let ended: Vec<(&str, u64)> = events
        .iter()
        .filter(|e| e["event"] == "ended")
        .map(|e| (e["call_id"].as_str().unwrap(), e["turns"].as_u64().unwrap()))
        .collect();
    assert_eq!(ended, [("a", 1), ("b", 1)], "{events:#?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2: not UTF-8"), "{stderr}");
    assert!(
        stderr.contains("3 input lines could not be used"),
        "{stderr}"
    );
}
