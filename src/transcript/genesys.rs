//! Genesys Cloud speech-and-text analytics transcripts:
//! `transcripts[].phrases[{text, startTimeMs, duration.milliseconds,
//! participantPurpose}]` with epoch-millisecond start times (made relative to
//! the first phrase). `internal` is the agent, `external` the customer; IVR
//! and ACD purposes are bots.

use serde_json::Value;

use super::json_util::{arr, label, ms, num, text};
use super::{Role, Turn};

pub fn sniff(v: &Value) -> bool {
    arr(v.get("transcripts")).is_some_and(|t| t.iter().any(|x| x.get("phrases").is_some()))
}

fn role_of(purpose: &str) -> Role {
    match purpose.to_ascii_lowercase().as_str() {
        "internal" | "agent" | "user" => Role::Agent,
        "external" | "customer" | "external_contact" => Role::Customer,
        "ivr" | "acd" | "bot" | "voicemail" => Role::Bot,
        _ => Role::Unknown,
    }
}

pub fn read(v: &Value) -> Result<(Option<String>, Vec<Turn>), String> {
    let mut phrases: Vec<&Value> = arr(v.get("transcripts"))
        .ok_or("no transcripts array")?
        .iter()
        .flat_map(|t| arr(t.get("phrases")).into_iter().flatten())
        .collect();
    phrases.sort_by(|a, b| {
        num(a.get("startTimeMs"))
            .unwrap_or(0.0)
            .total_cmp(&num(b.get("startTimeMs")).unwrap_or(0.0))
    });
    let first = phrases.iter().find_map(|p| num(p.get("startTimeMs")));
    let mut turns = Vec::new();
    for p in phrases {
        let Some(t) = text(p.get("text")).filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let purpose = text(p.get("participantPurpose")).unwrap_or("unknown");
        let start = num(p.get("startTimeMs"))
            .zip(first)
            .and_then(|(s, f)| ms(Some(&Value::from(s - f))));
        let dur = ms(p.pointer("/duration/milliseconds"));
        turns.push(Turn {
            speaker: purpose.to_string(),
            role: role_of(purpose),
            role_inferred: false,
            wall_clock_ms: num(p.get("startTimeMs"))
                .filter(|t| t.is_finite() && t.abs() < 1e15)
                .map(|t| t as i64),
            start_ms: start,
            end_ms: start.zip(dur).map(|(s, d)| s.saturating_add(d)),
            text: t.trim().to_string(),
        });
    }
    if turns.is_empty() {
        return Err("no phrases with text".into());
    }
    Ok((label(v.get("conversationId")), turns))
}
