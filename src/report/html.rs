//! The HTML report: one self-contained file (inline styles, inline script,
//! charts as inline SVG; nothing loaded from the network or disk) with the
//! batch summary, a sortable calls table, the agents, what sets customers
//! off, and each call's timeline of customer and agent sentiment with its
//! moments drawn as bands whose evidence shows on hover.
//!
//! The page is laid out by `templates/report.html` (minijinja, HTML-escaped);
//! this file only turns the analysis into the numbers the template places.

use minijinja::{context, Environment};
use serde::Serialize;

use super::terminal::clock;
use crate::analysis::batch::Batch;
use crate::analysis::triggers::TriggerPhrase;
use crate::analysis::{CallAnalysis, Severity, TurnScore};
use crate::transcript::{Conversation, Role};

const TEMPLATE: &str = include_str!("../../templates/report.html");

/// One call for its timeline: the conversation as written (redacted), its
/// scores and its analysis.
pub struct CallTimeline<'a> {
    pub conv: &'a Conversation,
    pub scores: &'a [Option<TurnScore>],
    pub analysis: &'a CallAnalysis,
    pub agent: String,
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Irate => "#c62828",
        Severity::Frustrated => "#ef6c00",
        Severity::Annoyed => "#f9a825",
        Severity::Calm => "#9e9e9e",
    }
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * n as f64 / d as f64)
    }
}

#[derive(Serialize)]
struct Dot {
    x: f32,
    y: f32,
    title: String,
}

#[derive(Serialize)]
struct Series {
    role: &'static str,
    color: &'static str,
    points: String,
    dots: Vec<Dot>,
}

#[derive(Serialize)]
struct Band {
    x: f32,
    w: f32,
    severity: &'static str,
    color: &'static str,
    title: String,
}

#[derive(Serialize)]
struct MomentItem {
    severity: &'static str,
    at: String,
    quote: String,
    trigger: Option<String>,
    recovered: bool,
}

#[derive(Serialize)]
struct TimelineView {
    call_id: String,
    agent: String,
    source: String,
    worst: &'static str,
    turns: usize,
    width: f32,
    height: f32,
    left: f32,
    right: f32,
    top: f32,
    bottom: f32,
    zero: f32,
    plot_w: f32,
    plot_h: f32,
    bands: Vec<Band>,
    series: Vec<Series>,
    moments: Vec<MomentItem>,
}

const WIDTH: f32 = 1100.0;
const HEIGHT: f32 = 190.0;
const LEFT: f32 = 34.0;
const RIGHT_PAD: f32 = 12.0;
const TOP: f32 = 10.0;
const BOTTOM_PAD: f32 = 22.0;

fn timeline(c: &CallTimeline) -> TimelineView {
    let n = c.conv.turns.len().max(1);
    let plot_w = WIDTH - LEFT - RIGHT_PAD;
    let plot_h = HEIGHT - TOP - BOTTOM_PAD;
    // Turn i sits in the middle of its slot, so a one-turn band has a width.
    let slot = plot_w / n as f32;
    let x_of = |i: usize| LEFT + slot * (i as f32 + 0.5);
    let y_of = |score: f32| TOP + (1.0 - score.clamp(-1.0, 1.0)) / 2.0 * plot_h;
    let series = [
        (Role::Customer, "customer", "#1565c0"),
        (Role::Agent, "agent", "#2e7d32"),
    ]
    .into_iter()
    .map(|(role, name, color)| {
        let dots: Vec<Dot> = c
            .conv
            .turns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.role == role)
            .filter_map(|(i, t)| {
                c.scores[i].as_ref().map(|s| Dot {
                    x: x_of(i),
                    y: y_of(s.score),
                    title: format!(
                        "turn {i} · {} · score {:+.2}\n{}",
                        t.speaker,
                        s.score,
                        short(&t.text, 240)
                    ),
                })
            })
            .collect();
        Series {
            role: name,
            color,
            points: dots
                .iter()
                .map(|d| format!("{:.1},{:.1}", d.x, d.y))
                .collect::<Vec<_>>()
                .join(" "),
            dots,
        }
    })
    .collect();
    let turns = &c.conv.turns;
    let bands = c
        .analysis
        .moments
        .iter()
        .map(|m| {
            let from = m.building_from.unwrap_or(m.start_turn);
            let evidence: Vec<String> = m
                .evidence
                .iter()
                .filter(|e| !e.cue.is_model_reading())
                .map(|e| match &e.quote {
                    Some(q) => format!("turn {}: {} “{}”", e.turn, e.cue, short(q, 80)),
                    None => format!("turn {}: {} {:.2}", e.turn, e.cue, e.value.unwrap_or(0.0)),
                })
                .collect();
            Band {
                x: LEFT + slot * from as f32,
                w: slot * (m.end_turn + 1 - from) as f32,
                severity: m.severity.as_str(),
                color: severity_color(m.severity),
                title: format!(
                    "{} (anger {:.2}), turns {}–{}\npeak: “{}”\n{}",
                    m.severity.as_str(),
                    m.anger,
                    m.start_turn,
                    m.end_turn,
                    short(&turns[m.peak_turn].text, 160),
                    evidence.join("\n")
                ),
            }
        })
        .collect();
    let moments = c
        .analysis
        .moments
        .iter()
        .map(|m| MomentItem {
            severity: m.severity.as_str(),
            at: m
                .start_ms
                .map_or_else(|| format!("turn {}", m.start_turn), clock),
            quote: short(&turns[m.peak_turn].text, 200),
            trigger: m.trigger.as_ref().map(|t| short(&t.text, 120)),
            recovered: m.recovered == Some(true),
        })
        .collect();
    let worst = Severity::worst_of(&c.analysis.moments);
    TimelineView {
        call_id: c.conv.id.clone(),
        agent: c.agent.clone(),
        source: c.conv.source.clone(),
        worst: worst.as_str(),
        turns: turns.len(),
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        right: WIDTH - RIGHT_PAD,
        top: TOP,
        bottom: TOP + plot_h,
        zero: y_of(0.0),
        plot_w,
        plot_h,
        bands,
        series,
        moments,
    }
}

/// Renders the whole page. `timelines` are drawn in the order of `batch.calls`.
pub fn render_html(
    batch: &Batch,
    triggers: &[TriggerPhrase],
    timelines: &[CallTimeline],
    model: &str,
) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)?;
    let o = &batch.overview;
    let [_, annoyed, frustrated, irate] = o.calls_by_worst;
    let signed = |x: Option<f32>| x.map_or_else(|| "-".to_string(), |v| format!("{v:+.2}"));
    let calls: Vec<_> = batch
        .calls
        .iter()
        .map(|c| {
            context! {
                call_id => c.call_id,
                agent => c.agent,
                worst => c.worst.as_str(),
                worst_rank => c.worst as usize,
                anger => format!("{:.2}", c.anger),
                moments => c.moments.len(),
                shift => signed(c.customer_shift),
                shift_sort => c.customer_shift.unwrap_or(0.0),
                duration => c.duration_ms.map_or_else(|| "-".to_string(), clock),
                duration_ms => c.duration_ms.unwrap_or(0),
                categories => c.categories.join(", "),
            }
        })
        .collect();
    let agents: Vec<_> = batch
        .agents
        .iter()
        .map(|a| {
            context! {
                agent => a.agent,
                calls => a.calls,
                angry_calls => a.angry_calls,
                recovered => format!("{} of {}", a.recovered, a.angry_calls),
                shift => signed(a.mean_customer_shift),
                interruptions => a.interruptions,
                handle => a.mean_handle_ms.map_or_else(|| "-".to_string(), clock),
                talk => a.talk_ratio.map_or_else(|| "-".to_string(), |r| format!("{:.0}%", 100.0 * r)),
            }
        })
        .collect();
    let triggers: Vec<_> = triggers
        .iter()
        .map(|t| {
            context! {
                phrase => t.phrase,
                angry_calls => t.angry_calls,
                calm_calls => t.calm_calls,
                lift => format!("{:.1}x", t.lift),
            }
        })
        .collect();
    let by_id: std::collections::HashMap<&str, &CallTimeline> =
        timelines.iter().map(|t| (t.conv.id.as_str(), t)).collect();
    let order: Vec<&CallTimeline> = batch
        .calls
        .iter()
        .filter_map(|row| by_id.get(row.call_id.as_str()).copied())
        .collect();
    let timelines: Vec<TimelineView> = order.into_iter().map(timeline).collect();
    env.get_template("report.html")?.render(context! {
        overview => o,
        hours => format!("{:.1}", o.audio_ms as f64 / 3_600_000.0),
        model => model,
        worst => context! {
            irate => irate, irate_pct => pct(irate, o.calls),
            frustrated => frustrated, frustrated_pct => pct(frustrated, o.calls),
            annoyed => annoyed, annoyed_pct => pct(annoyed, o.calls),
        },
        shift => signed(o.mean_customer_shift),
        calls => calls,
        agents => agents,
        triggers => triggers,
        timelines => timelines,
    })
}
