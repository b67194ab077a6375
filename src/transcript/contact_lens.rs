//! Amazon Connect Contact Lens analysis files and Transcribe Call Analytics
//! output: `Transcript[]` turns with `ParticipantId`, `Content` and
//! `BeginOffsetMillis` / `EndOffsetMillis` (voice) or `AbsoluteTime` (chat);
//! roles from `ParticipantRole` on the turn or in `Participants[]`
//! (AGENT, CUSTOMER; SYSTEM is a bot). Chat EVENT items are skipped.

use std::collections::HashMap;

use serde_json::Value;

use super::json_util::{arr, label, ms, text};
use super::{Role, Turn};

pub fn sniff(v: &Value) -> bool {
    arr(v.get("Transcript")).is_some_and(|t| {
        t.iter()
            .any(|x| x.get("ParticipantId").is_some() || x.get("ParticipantRole").is_some())
    })
}

fn role_of(s: &str) -> Role {
    match s.to_ascii_uppercase().as_str() {
        "AGENT" => Role::Agent,
        "CUSTOMER" => Role::Customer,
        "SYSTEM" | "BOT" | "CUSTOM_BOT" | "SUPERVISOR_BOT" => Role::Bot,
        _ => Role::Unknown,
    }
}

pub fn read(v: &Value) -> Result<Vec<Turn>, String> {
    let mut roles: HashMap<String, Role> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for p in arr(v.get("Participants")).into_iter().flatten() {
        if let Some(id) = label(p.get("ParticipantId")) {
            if let Some(r) = text(p.get("ParticipantRole")) {
                roles.insert(id.clone(), role_of(r));
            }
            if let Some(n) = text(p.get("DisplayName")) {
                names.insert(id, n.to_string());
            }
        }
    }
    let items = arr(v.get("Transcript")).ok_or("no Transcript array")?;
    let is_chat = v.get("Channel").and_then(Value::as_str) == Some("CHAT");
    let mut first_time: Option<i64> = None;
    let mut turns = Vec::new();
    for it in items {
        if it
            .get("Type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "MESSAGE")
        {
            continue;
        }
        let Some(content) = text(it.get("Content")) else {
            continue;
        };
        let id = label(it.get("ParticipantId")).unwrap_or_default();
        let role = text(it.get("ParticipantRole"))
            .map(role_of)
            .or_else(|| roles.get(&id).copied())
            .unwrap_or(Role::Unknown);
        let speaker = text(it.get("DisplayName"))
            .map(str::to_string)
            .or_else(|| names.get(&id).cloned())
            .unwrap_or_else(|| id.clone());
        let at = text(it.get("AbsoluteTime")).and_then(super::time::parse_iso_datetime_ms);
        let (start_ms, end_ms) = if is_chat {
            if first_time.is_none() {
                first_time = at;
            }
            (at.zip(first_time).map(|(a, f)| (a - f).max(0) as u64), None)
        } else {
            (
                ms(it.get("BeginOffsetMillis")),
                ms(it.get("EndOffsetMillis")),
            )
        };
        turns.push(Turn {
            speaker,
            role,
            role_inferred: false,
            wall_clock_ms: at,
            start_ms,
            end_ms,
            text: content.trim().to_string(),
        });
    }
    if turns.is_empty() {
        return Err("Transcript has no messages".into());
    }
    Ok(turns)
}
