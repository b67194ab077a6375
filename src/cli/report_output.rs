//! The reports every command can produce from prepared calls: the terminal
//! report, the HTML file, CSV per call and per agent, and the `--fail-on`
//! verdict. Shared by `report` and `score --report`.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use super::args::{ReportOutputArgs, ReportSort};
use super::call_output::PreparedCall;
use super::output_target::OutputTarget;
use crate::analysis::batch::{summarise_batch, CallRow, CallView};
use crate::analysis::gates::Gate;
use crate::analysis::triggers::trigger_phrases;
use crate::report::batch_csv::{write_agents, write_calls};
use crate::report::html::{render_html, CallTimeline};
use crate::report::terminal::{render, TerminalOptions};

pub fn parse_gates(args: &ReportOutputArgs) -> anyhow::Result<Vec<Gate>> {
    args.fail_on
        .iter()
        .map(|g| Gate::parse(g))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)
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

fn write_file(
    path: &std::path::Path,
    f: impl FnOnce(&mut OutputTarget) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut target = OutputTarget::open(Some(path))?;
    f(&mut target).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(target.finish()?)
}

/// Where the terminal report goes.
pub enum TextTo {
    Stdout,
    Stderr,
    Nowhere,
}

/// Writes the reports asked for; returns the `--fail-on` conditions met.
pub fn emit_reports(
    calls: &[&PreparedCall],
    args: &ReportOutputArgs,
    gates: &[Gate],
    text_to: TextTo,
    model: &str,
) -> anyhow::Result<Vec<String>> {
    let views: Vec<CallView> = calls
        .iter()
        .map(|c| CallView {
            conv: &c.conv,
            summary: &c.summary,
            analysis: &c.analysis,
        })
        .collect();
    let mut batch = summarise_batch(&views);
    sort_calls(&mut batch.calls, args.sort);
    let triggers = trigger_phrases(&views, args.top);

    let terminal = match text_to {
        TextTo::Stdout => std::io::stdout().is_terminal(),
        TextTo::Stderr => std::io::stderr().is_terminal(),
        TextTo::Nowhere => false,
    };
    let width = args.width.unwrap_or_else(|| {
        if terminal {
            comfy_table::Table::new().width().unwrap_or(100)
        } else {
            100
        }
    });
    let options = TerminalOptions {
        top: args.top,
        width,
        color: terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    match text_to {
        TextTo::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(render(&batch, &triggers, &options).as_bytes())?;
            out.flush()?;
        }
        TextTo::Stderr => eprint!("{}", render(&batch, &triggers, &options)),
        TextTo::Nowhere => {}
    }

    if let Some(p) = &args.html {
        let timelines: Vec<CallTimeline> = calls
            .iter()
            .zip(&views)
            .map(|(c, v)| CallTimeline {
                conv: &c.conv,
                scores: &c.scores,
                analysis: &c.analysis,
                agent: v.agent(),
            })
            .collect();
        let html = render_html(&batch, &triggers, &timelines, model)?;
        write_file(p, |w| Ok(w.write_all(html.as_bytes())?))?;
    }
    if let Some(p) = &args.calls_csv {
        write_file(p, |w| Ok(write_calls(w, &batch.calls)?))?;
    }
    if let Some(p) = &args.agents_csv {
        write_file(p, |w| Ok(write_agents(w, &batch.agents)?))?;
    }
    Ok(gates
        .iter()
        .filter_map(|g| g.check(&batch.overview))
        .collect())
}
