//! Twilio Conversations message lists: `messages[{index, author, body,
//! date_created}]` (ISO-8601). Media-only messages (`body: null`) are
//! skipped. Twilio does not say who is the agent: the role heuristic (or
//! `--agent`) decides.

use serde_json::Value;

use super::json_util::{arr, label, num, text};
use super::time::parse_iso_datetime_ms;
use super::{Role, Turn};

pub fn sniff(v: &Value) -> bool {
    arr(v.get("messages")).is_some_and(|m| {
        m.iter()
            .any(|x| x.get("author").is_some() && x.get("date_created").is_some())
    })
}

pub fn read(v: &Value) -> Result<(Option<String>, Vec<Turn>), String> {
    let mut msgs: Vec<&Value> = arr(v.get("messages"))
        .ok_or("no messages array")?
        .iter()
        .collect();
    msgs.sort_by(|a, b| {
        num(a.get("index"))
            .unwrap_or(0.0)
            .total_cmp(&num(b.get("index")).unwrap_or(0.0))
    });
    let first = msgs
        .iter()
        .find_map(|m| text(m.get("date_created")).and_then(parse_iso_datetime_ms));
    let mut turns = Vec::new();
    for m in &msgs {
        let Some(body) = text(m.get("body")).filter(|b| !b.trim().is_empty()) else {
            continue;
        };
        let at = text(m.get("date_created")).and_then(parse_iso_datetime_ms);
        turns.push(Turn {
            speaker: label(m.get("author")).unwrap_or_else(|| "unknown".into()),
            role: Role::Unknown,
            role_inferred: false,
            wall_clock_ms: at,
            start_ms: at.zip(first).map(|(a, f)| (a - f).max(0) as u64),
            end_ms: None,
            text: body.trim().to_string(),
        });
    }
    if turns.is_empty() {
        return Err("no message with a body".into());
    }
    let id = msgs.iter().find_map(|m| label(m.get("conversation_sid")));
    Ok((id, turns))
}
