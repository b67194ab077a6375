//! `calltone stream`: turns in (JSONL on standard input, calls interleaved),
//! alert lines out as they happen. A reader thread feeds lines to the loop
//! so idle calls are closed even while no input arrives. A line that cannot
//! be used (not UTF-8, not JSON, a field missing or wrong, too long, a model
//! error) becomes an `error` event naming its line number, is also named on
//! standard error, and is skipped: everything else goes on.

use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::args::{AlertLevel, StreamArgs};
use super::{plans, EXIT_OK, EXIT_PARTIAL};
use crate::analysis::live::{LiveCalls, LiveEvent, LiveSettings};
use crate::analysis::moments::Severity;
use crate::engine::{ScoreOptions, Scorer};
use crate::model::load_model;
use crate::pipeline::live::LiveScoring;
use crate::pipeline::prepare::load_rules;
use crate::pipeline::threads::configure_threads;
use crate::transcript::jsonl::turn_from_json;
use crate::transcript::stream_lines::{max_line_bytes, read_lines, InputLine};

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
    let model = load_model(&plans::model_choice(&args.model))?;
    let scorer = Scorer::new(&model, ScoreOptions::default());
    let settings = LiveSettings {
        idle_timeout_ms: (args.idle_timeout.max(0.0) * 1000.0) as u64,
        max_calls: args.max_calls,
        max_turns: args.max_turns,
        alert_at: args.alert_at.into(),
    };
    let mut live = LiveScoring {
        scorer: &scorer,
        calls: LiveCalls::new(settings, &rules),
        redact: !args.analysis.no_redact,
    };
    let started = Instant::now();
    let now_ms = || started.elapsed().as_millis() as u64;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let max_line = max_line_bytes(args.max_turn_bytes);
    let (tx, rx) = mpsc::sync_channel::<InputLine>(1024);
    std::thread::spawn(move || {
        read_lines(std::io::stdin().lock(), max_line, |line| {
            tx.send(line).is_ok()
        })
    });
    let tick = Duration::from_millis(250);
    let mut failed_lines = 0usize;
    loop {
        let (n, line) = match rx.recv_timeout(tick) {
            Ok(InputLine::Text(n, line)) => (n, line),
            Ok(InputLine::Unreadable(n, reason)) => {
                failed_lines += 1;
                emit_error(&mut out, LineError::new(n, reason, None))?;
                continue;
            }
            Ok(InputLine::Failed(e)) => {
                // Standard input itself broke: close the open calls as at its end.
                crate::say!("calltone: stdin: cannot read further: {e}");
                failed_lines += 1;
                break;
            }
            Err(RecvTimeoutError::Timeout) => {
                emit(&mut out, &live.calls.expire(now_ms()))?;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        match handle(&line, n, &args, &mut live, now_ms()) {
            Ok(events) => emit(&mut out, &events)?,
            Err(error) => {
                failed_lines += 1;
                emit_error(&mut out, error)?;
            }
        }
    }
    // End of input: every call still open is over.
    let mut open = live.calls.expire(u64::MAX);
    for e in &mut open {
        e.reason = Some("end-of-input");
    }
    emit(&mut out, &open)?;
    if failed_lines > 0 {
        crate::say!(
            "calltone: stream: {failed_lines} input lines could not be used (each named above)"
        );
        return Ok(ExitCode::from(EXIT_PARTIAL));
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Writes events, one JSON line each, and flushes: an alert is no use
/// sitting in a buffer.
fn emit<T: Serialize>(out: &mut impl Write, events: &[T]) -> std::io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut *out, e)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// An unusable line: its `error` event, and the same on standard error.
fn emit_error(out: &mut impl Write, error: LineError) -> std::io::Result<()> {
    crate::say!("calltone: stdin: line {}: {}", error.line, error.reason);
    emit(out, &[error])
}

/// An input line that could not be used: one `error` event on standard
/// output (and the same on standard error).
#[derive(Debug, Serialize)]
struct LineError {
    event: &'static str,
    /// The line's number in the input, from 1.
    line: usize,
    /// The call it names, when that much could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    call_id: Option<String>,
    reason: String,
}

impl LineError {
    fn new(line: usize, reason: String, call_id: Option<String>) -> Self {
        Self {
            event: "error",
            line,
            call_id,
            reason,
        }
    }
}

/// One input line → the events it raises.
fn handle(
    line: &str,
    n: usize,
    args: &StreamArgs,
    live: &mut LiveScoring,
    now_ms: u64,
) -> Result<Vec<LiveEvent>, LineError> {
    let fail = |reason: String, call_id: Option<&str>| {
        // turn_from_json's reasons start with the line number; the event has its own field.
        let reason = reason
            .strip_prefix(&format!("line {n}: "))
            .map_or(reason.clone(), str::to_string);
        LineError::new(n, reason, call_id.map(str::to_string))
    };
    let v: Value = serde_json::from_str(line).map_err(|e| fail(format!("not JSON: {e}"), None))?;
    let named = v.get("call_id").and_then(Value::as_str);
    if v.get("event").and_then(Value::as_str) == Some("end") {
        let id = named.ok_or_else(|| fail("an end event needs a call_id".into(), None))?;
        return Ok(live.calls.end(id, "end").into_iter().collect());
    }
    let (call_id, turn) = turn_from_json(&v, n, args.max_turn_bytes).map_err(|r| fail(r, named))?;
    let call_id = call_id.ok_or_else(|| fail("stream turns need a \"call_id\"".into(), None))?;
    live.turn(&call_id, turn, now_ms)
        .map_err(|e| fail(format!("the model failed: {e}"), Some(&call_id)))
}
