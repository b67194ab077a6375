//! The terminal report a supervisor reads: the batch at a glance, the worst
//! calls with their moments, agents, categories, calls by day and hour, and
//! what sets customers off. Fits the given width; colour only when asked
//! (the CLI asks on a terminal without `NO_COLOR`).

use std::fmt::Write as _;

use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

use crate::analysis::batch::{Batch, CallRow, PeriodRow};
use crate::analysis::triggers::TriggerPhrase;
use crate::analysis::Severity;

pub struct TerminalOptions {
    pub top: usize,
    pub width: u16,
    pub color: bool,
}

/// `mm:ss`, or `h:mm:ss` past an hour.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

fn signed(x: Option<f32>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:+.2}"))
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * n as f64 / d as f64)
    }
}

fn severity_cell(s: Severity, color: bool) -> Cell {
    let c = Cell::new(s.as_str());
    if !color {
        return c;
    }
    match s {
        Severity::Irate => c.fg(Color::Red).add_attribute(Attribute::Bold),
        Severity::Frustrated => c.fg(Color::Yellow),
        _ => c,
    }
}

fn table(o: &TerminalOptions, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(o.width)
        .set_header(header.iter().map(|h| {
            let c = Cell::new(h);
            if o.color {
                c.add_attribute(Attribute::Bold)
            } else {
                c
            }
        }));
    if o.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn right(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn heading(out: &mut String, o: &TerminalOptions, text: &str) {
    if o.color {
        let _ = writeln!(out, "\n\x1b[1m{text}\x1b[0m");
    } else {
        let _ = writeln!(out, "\n{text}");
    }
}

fn worst_calls(out: &mut String, calls: &[&CallRow], o: &TerminalOptions) {
    heading(out, o, "Worst calls");
    let mut t = table(
        o,
        &["call", "agent", "moment", "at", "severity", "customer said"],
    );
    for c in calls.iter().filter(|c| !c.moments.is_empty()).take(o.top) {
        for (k, m) in c.moments.iter().enumerate() {
            let at = m
                .start_ms
                .map_or_else(|| format!("turn {}", m.start_turn), clock);
            let mut quote = format!("\"{}\"", m.quote);
            if m.recovered == Some(true) {
                quote.push_str(" (recovered)");
            }
            t.add_row(vec![
                Cell::new(if k == 0 { c.call_id.as_str() } else { "" }),
                Cell::new(if k == 0 { c.agent.as_str() } else { "" }),
                Cell::new(k + 1),
                Cell::new(at),
                severity_cell(m.severity, o.color),
                Cell::new(quote),
            ]);
        }
    }
    if t.row_count() == 0 {
        let _ = writeln!(out, "  no moments in these calls");
    } else {
        let _ = writeln!(out, "{t}");
    }
}

fn periods(out: &mut String, o: &TerminalOptions, title: &str, rows: &[PeriodRow]) {
    if rows.len() < 2 {
        return;
    }
    heading(out, o, title);
    let mut t = table(o, &["", "calls", "frustrated+", "share"]);
    for r in rows {
        t.add_row(vec![
            r.period.clone(),
            r.calls.to_string(),
            r.angry_calls.to_string(),
            pct(r.angry_calls, r.calls),
        ]);
    }
    right(&mut t, &[1, 2, 3]);
    let _ = writeln!(out, "{t}");
}

/// Renders the report. `calls` in `batch` are listed in the order given.
pub fn render(batch: &Batch, triggers: &[TriggerPhrase], o: &TerminalOptions) -> String {
    let mut out = String::new();
    let v = &batch.overview;
    let [calm, annoyed, frustrated, irate] = v.calls_by_worst;
    let _ = writeln!(
        out,
        "calltone report: {} calls, {} turns, {:.1} hours of audio",
        v.calls,
        v.turns,
        v.audio_ms as f64 / 3_600_000.0
    );
    let _ = writeln!(
        out,
        "Calls by worst moment: irate {irate} ({}), frustrated {frustrated} ({}), annoyed {annoyed} ({}), none {calm} ({})",
        pct(irate, v.calls),
        pct(frustrated, v.calls),
        pct(annoyed, v.calls),
        pct(calm, v.calls)
    );
    if v.without_customer > 0 {
        let _ = writeln!(
            out,
            "  of the {calm} none, {} had no speaker marked as the customer and were not read for moments (score --customer LABEL)",
            v.without_customer
        );
    }
    let _ = writeln!(
        out,
        "Mean customer shift, start to end of call: {}",
        signed(v.mean_customer_shift)
    );

    let calls: Vec<&CallRow> = batch.calls.iter().collect();
    worst_calls(&mut out, &calls, o);

    heading(&mut out, o, "Agents");
    let mut t = table(
        o,
        &[
            "agent",
            "calls",
            "frustrated+",
            "recovered",
            "cust. shift",
            "interrupts",
            "handle",
            "talk",
        ],
    );
    for a in &batch.agents {
        t.add_row(vec![
            a.agent.clone(),
            a.calls.to_string(),
            a.angry_calls.to_string(),
            format!("{} of {}", a.recovered, a.angry_calls),
            signed(a.mean_customer_shift),
            a.interruptions.to_string(),
            a.mean_handle_ms.map_or_else(|| "-".into(), clock),
            a.talk_ratio
                .map_or_else(|| "-".into(), |r| format!("{:.0}%", 100.0 * r)),
        ]);
    }
    right(&mut t, &[1, 2, 3, 4, 5, 6, 7]);
    let _ = writeln!(out, "{t}");

    if !batch.categories.is_empty() {
        heading(&mut out, o, "Categories");
        let mut t = table(o, &["category", "calls", "share"]);
        for (name, n) in &batch.categories {
            t.add_row(vec![name.clone(), n.to_string(), pct(*n, v.calls)]);
        }
        right(&mut t, &[1, 2]);
        let _ = writeln!(out, "{t}");
    }
    periods(&mut out, o, "By day (UTC)", &batch.by_day);
    periods(&mut out, o, "By hour of day (UTC)", &batch.by_hour);

    heading(
        &mut out,
        o,
        "What sets customers off (said in or just before frustrated/irate moments, vs calm calls)",
    );
    if triggers.is_empty() {
        let _ = writeln!(
            out,
            "  nothing recurs yet: a phrase must come up in at least 2 angry calls"
        );
    } else {
        let mut t = table(o, &["phrase", "angry calls", "calm calls", "lift"]);
        for p in triggers {
            t.add_row(vec![
                p.phrase.clone(),
                p.angry_calls.to_string(),
                p.calm_calls.to_string(),
                format!("{:.1}x", p.lift),
            ]);
        }
        right(&mut t, &[1, 2, 3]);
        let _ = writeln!(out, "{t}");
    }
    out
}
