//! CSV for QA tooling: one row per call and one row per agent, with a
//! header, written atomically by the caller.

use std::io::Write;

use crate::analysis::batch::{AgentRow, CallRow};

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

pub fn write_calls<W: Write>(out: W, rows: &[CallRow]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "call_id",
        "agent",
        "source",
        "channel",
        "started",
        "duration_ms",
        "turns",
        "worst",
        "anger",
        "moments",
        "customer_mean",
        "customer_shift",
        "interruptions",
        "categories",
    ])?;
    for r in rows {
        w.write_record([
            r.call_id.clone(),
            r.agent.clone(),
            r.source.clone(),
            format!("{:?}", r.channel).to_lowercase(),
            opt(r.started_ms.and_then(crate::report::records::iso_utc)),
            opt(r.duration_ms),
            r.turns.to_string(),
            r.worst.as_str().to_string(),
            format!("{:.3}", r.anger),
            r.moments.len().to_string(),
            opt(r.customer_mean.map(|x| format!("{x:.3}"))),
            opt(r.customer_shift.map(|x| format!("{x:.3}"))),
            r.interruptions.to_string(),
            r.categories.join("; "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub fn write_agents<W: Write>(out: W, rows: &[AgentRow]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "agent",
        "calls",
        "frustrated_or_irate_calls",
        "recovered_calls",
        "mean_customer_shift",
        "interruptions",
        "mean_handle_ms",
        "talk_ratio",
    ])?;
    for r in rows {
        w.write_record([
            r.agent.clone(),
            r.calls.to_string(),
            r.angry_calls.to_string(),
            r.recovered.to_string(),
            opt(r.mean_customer_shift.map(|x| format!("{x:.3}"))),
            r.interruptions.to_string(),
            opt(r.mean_handle_ms),
            opt(r.talk_ratio.map(|x| format!("{x:.3}"))),
        ])?;
    }
    w.flush()?;
    Ok(())
}
