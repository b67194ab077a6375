//! `calltone report`: read saved results (several files merge into one
//! batch), re-analyse them (rules, redaction), keep the calls asked for, and
//! write the reports; `--fail-on` conditions turn into exit code 3.

use std::process::ExitCode;

use anyhow::Context;

use super::args::ReportArgs;
use super::{plans, EXIT_GATE, EXIT_OK, EXIT_PARTIAL};
use crate::pipeline::prepare::{load_rules, PreparedCall};
use crate::pipeline::reanalyse::Reanalysis;
use crate::pipeline::reports::{emit_reports, CallFilter, TextTo};

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
    let reanalysis = Reanalysis {
        rules: load_rules(args.analysis.rules.as_deref())?,
        redact: !args.analysis.no_redact,
    };
    let plan = plans::report_plan(&args.output)?;
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    let (calls, model, failures) = reanalysis.prepare(&args.paths)?;
    let only = CallFilter {
        agents: args.agent.clone(),
        since_ms: since,
        until_ms: until,
    };
    let kept: Vec<&PreparedCall> = calls.iter().filter(|c| only.keeps(c)).collect();
    let failed = emit_reports(&kept, &plan, TextTo::Stdout, &model)?;
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
