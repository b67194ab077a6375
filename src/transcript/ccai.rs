//! Google Contact Center AI Insights conversations: `entries[{text, role,
//! user_id, start_timestamp_usec}]`. Roles AGENT / HUMAN_AGENT,
//! CUSTOMER / END_USER, AUTOMATED_AGENT (a bot). Timestamps are epoch
//! microseconds (made relative to the first entry) or already relative.

use serde_json::Value;

use super::json_util::{arr, label, num, text};
use super::{Role, Turn};

pub fn sniff(v: &Value) -> bool {
    arr(v.get("entries")).is_some_and(|e| {
        e.iter().any(|x| {
            x.get("text").is_some() && (x.get("role").is_some() || x.get("user_id").is_some())
        })
    })
}

fn role_of(s: &str) -> Role {
    match s.to_ascii_uppercase().as_str() {
        "AGENT" | "HUMAN_AGENT" => Role::Agent,
        "CUSTOMER" | "END_USER" => Role::Customer,
        "AUTOMATED_AGENT" | "VIRTUAL_AGENT" => Role::Bot,
        _ => Role::Unknown,
    }
}

/// Epoch microseconds start around 1e15 (2001); smaller values are offsets.
const EPOCH_USEC: f64 = 1e14;

pub fn read(v: &Value) -> Result<Vec<Turn>, String> {
    let entries = arr(v.get("entries")).ok_or("no entries array")?;
    let first = entries
        .iter()
        .find_map(|e| num(e.get("start_timestamp_usec")));
    let mut turns = Vec::new();
    for e in entries {
        let Some(t) = text(e.get("text")) else {
            continue;
        };
        let role = text(e.get("role")).map(role_of).unwrap_or(Role::Unknown);
        let speaker = match label(e.get("user_id")) {
            Some(u) => format!("user {u}"),
            None => text(e.get("role")).unwrap_or("speaker").to_string(),
        };
        let start_ms = num(e.get("start_timestamp_usec")).and_then(|us| {
            let base = match first {
                Some(f) if f >= EPOCH_USEC => f,
                _ => 0.0,
            };
            let rel = (us - base) / 1000.0;
            (rel.is_finite() && (0.0..1e15).contains(&rel)).then(|| rel.round() as u64)
        });
        turns.push(Turn {
            speaker,
            role,
            role_inferred: false,
            wall_clock_ms: num(e.get("start_timestamp_usec"))
                .filter(|us| *us >= EPOCH_USEC && *us < 1e18)
                .map(|us| (us / 1000.0) as i64),
            start_ms,
            end_ms: None,
            text: t.trim().to_string(),
        });
    }
    if turns.is_empty() {
        return Err("entries have no text".into());
    }
    Ok(turns)
}
