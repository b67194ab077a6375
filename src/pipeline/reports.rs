//! The reports every command can produce from prepared calls: the terminal
//! report, the HTML file, CSV per call and per agent, and the `--fail-on`
//! verdict. Shared by `report` and `score --report`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::output_target::OutputTarget;
use super::prepare::PreparedCall;
use crate::analysis::batch::{sort_calls, summarise_batch, CallView, ReportSort};
use crate::analysis::gates::Gate;
use crate::analysis::triggers::trigger_phrases;
use crate::report::batch_csv::{write_agents, write_calls};
use crate::report::html::{render_html, CallTimeline};
use crate::report::terminal::{render, TerminalOptions};

/// The reports a command was asked for.
pub struct ReportPlan {
    /// How many calls and phrases the terminal report lists.
    pub top: usize,
    pub sort: ReportSort,
    pub html: Option<PathBuf>,
    pub calls_csv: Option<PathBuf>,
    pub agents_csv: Option<PathBuf>,
    /// `--fail-on` conditions.
    pub gates: Vec<Gate>,
    /// Terminal report width (default: the terminal's, 100 in pipes).
    pub width: Option<u16>,
}

impl ReportPlan {
    /// Whether anything beyond the terminal report needs the whole batch.
    pub fn needs_batch(&self) -> bool {
        self.html.is_some()
            || self.calls_csv.is_some()
            || self.agents_csv.is_some()
            || !self.gates.is_empty()
    }
}

/// Which calls a report covers: `report --agent`, `--since`, `--until`.
#[derive(Debug, Default)]
pub struct CallFilter {
    /// Agents to keep (by name, else speaker label); empty: every agent.
    pub agents: Vec<String>,
    /// Calls that started at or after this time (epoch ms).
    pub since_ms: Option<i64>,
    /// Calls that started before this time (epoch ms).
    pub until_ms: Option<i64>,
}

impl CallFilter {
    /// Whether `call` is kept. With a time bound, a call whose start the
    /// transcript does not say is left out.
    pub fn keeps(&self, call: &PreparedCall) -> bool {
        let v = call.view();
        let agent_ok = self.agents.is_empty() || self.agents.contains(&v.agent());
        let time_ok = match (self.since_ms, self.until_ms, v.started_ms()) {
            (None, None, _) => true,
            (_, _, None) => false,
            (s, u, Some(t)) => s.is_none_or(|s| t >= s) && u.is_none_or(|u| t < u),
        };
        agent_ok && time_ok
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
    plan: &ReportPlan,
    text_to: TextTo,
    model: &str,
) -> anyhow::Result<Vec<String>> {
    let views: Vec<CallView> = calls.iter().map(|c| c.view()).collect();
    let mut batch = summarise_batch(&views);
    sort_calls(&mut batch.calls, plan.sort);
    let triggers = trigger_phrases(&views, plan.top);

    let terminal = match text_to {
        TextTo::Stdout => std::io::stdout().is_terminal(),
        TextTo::Stderr => std::io::stderr().is_terminal(),
        TextTo::Nowhere => false,
    };
    let width = plan.width.unwrap_or_else(|| {
        if terminal {
            comfy_table::Table::new().width().unwrap_or(100)
        } else {
            100
        }
    });
    let options = TerminalOptions {
        top: plan.top,
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

    if let Some(p) = &plan.html {
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
    if let Some(p) = &plan.calls_csv {
        write_file(p, |w| Ok(write_calls(w, &batch.calls)?))?;
    }
    if let Some(p) = &plan.agents_csv {
        write_file(p, |w| Ok(write_agents(w, &batch.agents)?))?;
    }
    Ok(plan
        .gates
        .iter()
        .filter_map(|g| g.check(&batch.overview))
        .collect())
}
