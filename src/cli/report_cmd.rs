//! `calltone report`: read saved results (several files merge into one
//! batch), re-analyse them (rules, redaction), keep the calls asked for, and
//! write the reports; `--fail-on` conditions turn into exit code 3.

use std::process::ExitCode;

use anyhow::Context;

use super::args::ReportArgs;
use super::call_output::{load_rules, CallOutput, PreparedCall};
use super::report_output::{emit_reports, parse_gates, TextTo};
use super::saved_inputs::for_each_saved;
use super::{EXIT_GATE, EXIT_OK, EXIT_PARTIAL};
use crate::analysis::batch::CallView;

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

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let rules = load_rules(args.analysis.rules.as_deref())?;
    let gates = parse_gates(&args.output)?;
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;

    let mut calls: Vec<PreparedCall> = Vec::new();
    let mut model = String::new();
    let (_, failures) = for_each_saved(&args.paths, |saved| {
        for s in saved {
            if model.is_empty() {
                model = s.model();
            }
            let output = CallOutput {
                rules: &rules,
                redact: !args.analysis.no_redact,
                model: &model,
            };
            calls.push(output.prepare(&s.conversation(), &s.scores()));
        }
        Ok(())
    })?;
    let kept: Vec<&PreparedCall> = calls
        .iter()
        .filter(|c| {
            let v = CallView {
                conv: &c.conv,
                summary: &c.summary,
                analysis: &c.analysis,
            };
            let agent_ok = args.agent.is_empty() || args.agent.contains(&v.agent());
            let time_ok = match (since, until, v.started_ms()) {
                (None, None, _) => true,
                (_, _, None) => false,
                (s, u, Some(t)) => s.is_none_or(|s| t >= s) && u.is_none_or(|u| t < u),
            };
            agent_ok && time_ok
        })
        .collect();
    let failed = emit_reports(&kept, &args.output, &gates, TextTo::Stdout, &model)?;
    for g in &failed {
        crate::say!("calltone: --fail-on {g}");
    }
    Ok(ExitCode::from(if !failed.is_empty() {
        EXIT_GATE
    } else if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}
