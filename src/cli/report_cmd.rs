//! `calltone report`: read saved results, re-analyse them (rules, redaction),
//! keep the calls asked for, and print the terminal report; optionally write
//! CSV per call and per agent, and fail the run on `--fail-on` conditions.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;

use super::args::{ReportArgs, ReportSort};
use super::call_output::load_rules;
use super::output_target::OutputTarget;
use super::{EXIT_GATE, EXIT_OK, EXIT_PARTIAL};
use crate::analysis::batch::{summarise_batch, CallRow, CallView};
use crate::analysis::gates::Gate;
use crate::analysis::triggers::trigger_phrases;
use crate::analysis::{analyse_call, summarise_call, CallAnalysis, CallSummary};
use crate::report::batch_csv::{write_agents, write_calls};
use crate::report::read_saved;
use crate::report::terminal::{render, TerminalOptions};
use crate::text::redact::redact_conversation;
use crate::transcript::inputs::{expand_filtered, read_bytes, PathFilter};
use crate::transcript::Conversation;

const MAX_RESULTS_BYTES: u64 = 4 << 30;

/// `2026-03-02` (midnight UTC) or an RFC 3339 time → epoch ms.
fn parse_time(s: &str) -> anyhow::Result<i64> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(d.timestamp_millis());
    }
    let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{s:?} is not a date (2026-03-02) or an RFC 3339 time"))?;
    Ok(day
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis())
}

fn sort_calls(rows: &mut [CallRow], by: ReportSort) {
    match by {
        ReportSort::Worst => rows.sort_by(|a, b| {
            b.worst
                .cmp(&a.worst)
                .then(b.anger.total_cmp(&a.anger))
                .then(a.call_id.cmp(&b.call_id))
        }),
        ReportSort::Shift => rows.sort_by(|a, b| {
            a.customer_shift
                .unwrap_or(0.0)
                .total_cmp(&b.customer_shift.unwrap_or(0.0))
                .then(a.call_id.cmp(&b.call_id))
        }),
        ReportSort::Duration => rows.sort_by(|a, b| {
            b.duration_ms
                .cmp(&a.duration_ms)
                .then(a.call_id.cmp(&b.call_id))
        }),
        ReportSort::Call => rows.sort_by(|a, b| a.call_id.cmp(&b.call_id)),
    }
}

fn write_csv(
    path: &std::path::Path,
    f: impl FnOnce(&mut OutputTarget) -> csv::Result<()>,
) -> anyhow::Result<()> {
    let mut target = OutputTarget::open(Some(path))?;
    f(&mut target).with_context(|| format!("cannot write {}", path.display()))?;
    target.finish()
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let rules = load_rules(args.analysis.rules.as_deref())?;
    let gates: Vec<Gate> = args
        .fail_on
        .iter()
        .map(|g| Gate::parse(g))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;

    let filter = PathFilter::new(&[], &[]).map_err(anyhow::Error::msg)?;
    let (inputs, mut failures) = expand_filtered(&args.paths, &filter);
    for f in &failures {
        eprintln!("calltone: {f}");
    }
    let mut calls: Vec<(Conversation, CallSummary, CallAnalysis)> = Vec::new();
    for input in &inputs {
        let saved =
            read_bytes(input, MAX_RESULTS_BYTES).and_then(|b| read_saved(&input.label(), &b));
        match saved {
            Ok(saved) => {
                for s in saved {
                    let conv = if args.analysis.no_redact {
                        s.conversation()
                    } else {
                        redact_conversation(&s.conversation())
                    };
                    let scores = s.scores();
                    let summary = summarise_call(&conv.turns, &scores);
                    let analysis = analyse_call(&conv.turns, &scores, conv.channel, &rules);
                    calls.push((conv, summary, analysis));
                }
            }
            Err(e) => {
                eprintln!("calltone: {e}");
                failures.push(e);
            }
        }
    }
    let views: Vec<CallView> = calls
        .iter()
        .map(|(conv, summary, analysis)| CallView {
            conv,
            summary,
            analysis,
        })
        .filter(|v| args.agent.is_empty() || args.agent.contains(&v.agent()))
        .filter(|v| match (since, until, v.started_ms()) {
            (None, None, _) => true,
            (_, _, None) => false,
            (s, u, Some(t)) => s.is_none_or(|s| t >= s) && u.is_none_or(|u| t < u),
        })
        .collect();

    let mut batch = summarise_batch(&views);
    sort_calls(&mut batch.calls, args.sort);
    let triggers = trigger_phrases(&views, args.top);
    let width = args.width.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            comfy_table::Table::new().width().unwrap_or(100)
        } else {
            100
        }
    });
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let text = render(
        &batch,
        &triggers,
        &TerminalOptions {
            top: args.top,
            width,
            color,
        },
    );
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;

    if let Some(p) = &args.calls_csv {
        write_csv(p, |w| write_calls(w, &batch.calls))?;
    }
    if let Some(p) = &args.agents_csv {
        write_csv(p, |w| write_agents(w, &batch.agents))?;
    }
    let failed_gates: Vec<String> = gates
        .iter()
        .filter_map(|g| g.check(&batch.overview))
        .collect();
    for g in &failed_gates {
        eprintln!("calltone: --fail-on {g}");
    }
    Ok(ExitCode::from(if !failed_gates.is_empty() {
        EXIT_GATE
    } else if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}
