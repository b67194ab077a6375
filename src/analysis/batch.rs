//! A batch of analysed calls rolled up for a supervisor: the batch at a
//! glance, the worst calls, one row per agent, category counts, calls by
//! day and hour. Pure: the report stage only renders what this computes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::call_analysis::CallAnalysis;
use super::call_summary::CallSummary;
use super::moments::Severity;
use crate::transcript::{Channel, Conversation, Role};

/// One analysed call, as the batch sees it.
pub struct CallView<'a> {
    pub conv: &'a Conversation,
    pub summary: &'a CallSummary,
    pub analysis: &'a CallAnalysis,
}

impl CallView<'_> {
    /// The agent's name, else the agent's speaker label, else "unknown".
    pub fn agent(&self) -> String {
        if let Some(n) = self.conv.meta.get("agent_name") {
            return n.clone();
        }
        self.conv
            .turns
            .iter()
            .find(|t| t.role == Role::Agent)
            .map_or_else(|| "unknown".into(), |t| t.speaker.clone())
    }

    pub fn worst(&self) -> Severity {
        Severity::worst_of(&self.analysis.moments)
    }

    /// When the call started (epoch ms), where the transcript says.
    pub fn started_ms(&self) -> Option<i64> {
        self.conv.turns.iter().filter_map(|t| t.wall_clock_ms).min()
    }
}

/// One moment in a line: when, how bad, and what the customer said at its peak.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MomentLine {
    pub start_turn: usize,
    pub start_ms: Option<u64>,
    pub severity: Severity,
    pub recovered: Option<bool>,
    pub quote: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRow {
    pub call_id: String,
    pub agent: String,
    pub source: String,
    pub channel: Channel,
    pub started_ms: Option<i64>,
    pub duration_ms: Option<u64>,
    pub turns: usize,
    pub worst: Severity,
    /// Highest sustained anger of any moment (0 without moments).
    pub anger: f32,
    pub customer_shift: Option<f32>,
    pub customer_mean: Option<f32>,
    pub interruptions: usize,
    pub categories: Vec<String>,
    pub moments: Vec<MomentLine>,
}

/// Orders of the calls list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportSort {
    /// Worst moment first, then the angriest.
    Worst,
    /// Largest fall in customer sentiment first.
    Shift,
    /// Longest call first.
    Duration,
    /// By call id.
    Call,
}

/// Sorts the calls list; ties go by call id, so the order never depends on
/// the order the calls were read in.
pub fn sort_calls(rows: &mut [CallRow], by: ReportSort) {
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    pub agent: String,
    pub calls: usize,
    /// Calls with a frustrated or irate moment, and how many of those ended
    /// with every such moment recovered.
    pub angry_calls: usize,
    pub recovered: usize,
    pub mean_customer_shift: Option<f32>,
    /// Times the agent talked over the customer.
    pub interruptions: usize,
    pub mean_handle_ms: Option<u64>,
    /// The agent's share of talk time, over calls with durations.
    pub talk_ratio: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodRow {
    /// `2026-03-02` (day) or `09` (hour of day, UTC).
    pub period: String,
    pub calls: usize,
    pub angry_calls: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub calls: usize,
    pub turns: usize,
    /// Summed duration of calls with times (chats are not audio).
    pub audio_ms: u64,
    /// Calls by their worst moment: none (calm), annoyed, frustrated, irate.
    pub calls_by_worst: [usize; 4],
    /// Calls where no speaker is the customer: counted as "none" above, but
    /// never read for moments, so the report says how many.
    pub without_customer: usize,
    pub mean_customer_shift: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    pub overview: Overview,
    pub calls: Vec<CallRow>,
    pub agents: Vec<AgentRow>,
    pub categories: Vec<(String, usize)>,
    pub by_day: Vec<PeriodRow>,
    pub by_hour: Vec<PeriodRow>,
}

fn mean(xs: impl Iterator<Item = f32>) -> Option<f32> {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f32)
}

fn is_angry(s: Severity) -> bool {
    s >= Severity::Frustrated
}

fn call_row(v: &CallView) -> CallRow {
    let turns = &v.conv.turns;
    let moments = v
        .analysis
        .moments
        .iter()
        .map(|m| MomentLine {
            start_turn: m.start_turn,
            start_ms: m.start_ms,
            severity: m.severity,
            recovered: m.recovered,
            quote: turns[m.peak_turn].text.clone(),
        })
        .collect();
    CallRow {
        call_id: v.conv.id.clone(),
        agent: v.agent(),
        source: v.conv.source.clone(),
        channel: v.conv.channel,
        started_ms: v.started_ms(),
        duration_ms: v.analysis.metrics.duration_ms,
        turns: turns.len(),
        worst: v.worst(),
        anger: v
            .analysis
            .moments
            .iter()
            .map(|m| m.anger)
            .fold(0.0, f32::max),
        customer_shift: v.summary.customer.as_ref().map(|c| c.shift),
        customer_mean: v.summary.customer.as_ref().map(|c| c.mean_score),
        interruptions: v.analysis.metrics.interruptions.len(),
        categories: v
            .analysis
            .categories
            .iter()
            .map(|c| c.name.clone())
            .collect(),
        moments,
    }
}

fn agent_rows(views: &[CallView]) -> Vec<AgentRow> {
    let mut by_agent: BTreeMap<String, Vec<&CallView>> = BTreeMap::new();
    for v in views {
        by_agent.entry(v.agent()).or_default().push(v);
    }
    by_agent
        .into_iter()
        .map(|(agent, calls)| {
            let angry: Vec<&&CallView> = calls.iter().filter(|v| is_angry(v.worst())).collect();
            let recovered = angry
                .iter()
                .filter(|v| {
                    v.analysis
                        .moments
                        .iter()
                        .filter(|m| is_angry(m.severity))
                        .all(|m| m.recovered == Some(true))
                })
                .count();
            let (mut agent_talk, mut all_talk) = (0u64, 0u64);
            let mut interruptions = 0;
            for v in &calls {
                let m = &v.analysis.metrics;
                for s in &m.speakers {
                    if let Some(t) = s.talk_ms {
                        all_talk += t;
                        if s.role == Role::Agent {
                            agent_talk += t;
                        }
                    }
                    if s.role == Role::Agent {
                        interruptions += s.interruptions_made;
                    }
                }
            }
            let handle: Vec<u64> = calls
                .iter()
                .filter_map(|v| v.analysis.metrics.duration_ms)
                .collect();
            AgentRow {
                agent,
                calls: calls.len(),
                angry_calls: angry.len(),
                recovered,
                mean_customer_shift: mean(
                    calls
                        .iter()
                        .filter_map(|v| v.summary.customer.as_ref().map(|c| c.shift)),
                ),
                interruptions,
                mean_handle_ms: (!handle.is_empty())
                    .then(|| handle.iter().sum::<u64>() / handle.len() as u64),
                talk_ratio: (all_talk > 0).then(|| agent_talk as f32 / all_talk as f32),
            }
        })
        .collect()
}

fn periods(rows: &[CallRow], key: impl Fn(i64) -> Option<String>) -> Vec<PeriodRow> {
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in rows {
        if let Some(k) = r.started_ms.and_then(&key) {
            let e = by.entry(k).or_default();
            e.0 += 1;
            e.1 += usize::from(is_angry(r.worst));
        }
    }
    by.into_iter()
        .map(|(period, (calls, angry_calls))| PeriodRow {
            period,
            calls,
            angry_calls,
        })
        .collect()
}

/// Rolls a batch up. Calls keep their input order; the report sorts.
pub fn summarise_batch(views: &[CallView]) -> Batch {
    let calls: Vec<CallRow> = views.iter().map(call_row).collect();
    let mut calls_by_worst = [0usize; 4];
    for c in &calls {
        calls_by_worst[c.worst as usize] += 1;
    }
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    for c in &calls {
        for name in &c.categories {
            *categories.entry(name.clone()).or_default() += 1;
        }
    }
    let mut categories: Vec<(String, usize)> = categories.into_iter().collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let fmt = |ms: i64, f: &str| {
        chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format(f).to_string())
    };
    Batch {
        overview: Overview {
            calls: calls.len(),
            turns: calls.iter().map(|c| c.turns).sum(),
            audio_ms: calls
                .iter()
                .filter(|c| c.channel != Channel::Chat)
                .filter_map(|c| c.duration_ms)
                .sum(),
            calls_by_worst,
            without_customer: views.iter().filter(|v| !v.conv.has_customer()).count(),
            mean_customer_shift: mean(calls.iter().filter_map(|c| c.customer_shift)),
        },
        agents: agent_rows(views),
        by_day: periods(&calls, |ms| fmt(ms, "%Y-%m-%d")),
        by_hour: periods(&calls, |ms| fmt(ms, "%H")),
        categories,
        calls,
    }
}
