//! `calltone stream`: turns in (JSONL on standard input, calls interleaved),
//! alert lines out as they happen. A reader thread feeds lines to the loop
//! so idle calls are closed even while no input arrives. A bad line is
//! reported on standard error with its number and skipped.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::args::{AlertLevel, StreamArgs};
use super::call_output::load_rules;
use super::score_cmd::configure_threads;
use super::EXIT_OK;
use crate::analysis::live::{LiveCalls, LiveEvent, LiveSettings};
use crate::analysis::moments::Severity;
use crate::analysis::turn_scores;
use crate::engine::{ScoreOptions, Scorer};
use crate::text::redact::redact;
use crate::transcript::jsonl::turn_from_json;

impl From<AlertLevel> for Severity {
    fn from(a: AlertLevel) -> Self {
        match a {
            AlertLevel::Annoyed => Severity::Annoyed,
            AlertLevel::Frustrated => Severity::Frustrated,
            AlertLevel::Irate => Severity::Irate,
        }
    }
}

pub fn run(args: StreamArgs) -> anyhow::Result<ExitCode> {
    configure_threads(args.threads);
    let rules = load_rules(args.analysis.rules.as_deref())?;
    let model = crate::cli::load_model::load_model(&args.model)?;
    let scorer = Scorer::new(&model, ScoreOptions::default());
    let settings = LiveSettings {
        idle_timeout_ms: (args.idle_timeout.max(0.0) * 1000.0) as u64,
        max_calls: args.max_calls,
        max_turns: args.max_turns,
        alert_at: args.alert_at.into(),
    };
    let mut live = LiveCalls::new(settings, &rules);
    let started = Instant::now();
    let now_ms = || started.elapsed().as_millis() as u64;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut emit = |events: Vec<LiveEvent>| -> std::io::Result<()> {
        for e in events {
            serde_json::to_writer(&mut out, &e)?;
            out.write_all(b"\n")?;
        }
        out.flush() // an alert is no use sitting in a buffer
    };

    let (tx, rx) = mpsc::sync_channel::<std::io::Result<String>>(1024);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let tick = Duration::from_millis(250);
    let mut n = 0usize;
    loop {
        let line = match rx.recv_timeout(tick) {
            Ok(line) => line?,
            Err(RecvTimeoutError::Timeout) => {
                emit(live.expire(now_ms()))?;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let events = match handle(&line, n, &args, &scorer, &mut live, now_ms()) {
            Ok(events) => events,
            Err(reason) => {
                eprintln!("calltone: stdin: {reason}");
                continue;
            }
        };
        emit(events)?;
    }
    // End of input: every call still open is over.
    let mut open = live.expire(u64::MAX);
    for e in &mut open {
        e.reason = Some("end-of-input");
    }
    emit(open)?;
    Ok(ExitCode::from(EXIT_OK))
}

/// One input line → the events it raises.
fn handle(
    line: &str,
    n: usize,
    args: &StreamArgs,
    scorer: &Scorer,
    live: &mut LiveCalls,
    now_ms: u64,
) -> Result<Vec<LiveEvent>, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("line {n}: not JSON: {e}"))?;
    if v.get("event").and_then(Value::as_str) == Some("end") {
        let id = v["call_id"]
            .as_str()
            .ok_or_else(|| format!("line {n}: an end event needs a call_id"))?;
        return Ok(live.end(id, "end").into_iter().collect());
    }
    let (call_id, mut turn) = turn_from_json(&v, n, args.max_turn_bytes)?;
    let call_id = call_id.ok_or_else(|| format!("line {n}: stream turns need a \"call_id\""))?;
    let units = scorer
        .score(&[turn.text.as_str()])
        .map_err(|e| format!("line {n}: {e}"))?;
    let score = turn_scores(&units).pop().flatten();
    // The model read the original; everything written is redacted.
    if !args.analysis.no_redact {
        turn.text = redact(&turn.text).into_owned();
    }
    Ok(live.push(&call_id, turn, score, now_ms))
}
