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
        json!({"call_id": "calm-7", "speaker": if i % 2 == 0 { "Agent" } else { "Customer" },
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
    assert!(out.status.success());
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
                e["call_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("recovered", "4411"),
        ("ended", "4411"),
        ("ended", "calm-7"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(events, want, "{rest:#?}");
    let recovered = &rest[0];
    assert!(recovered["turn"].as_u64().unwrap() >= 7, "{recovered}");
    assert_eq!(rest[1]["reason"], "end");
    assert_eq!(rest[1]["turns"], 12);
    assert_eq!(rest[2]["reason"], "end-of-input");
    assert_eq!(rest[2]["alerts"], 0);
}
