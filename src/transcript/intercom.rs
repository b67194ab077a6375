//! Intercom conversations: the opening `source` message and
//! `conversation_parts.conversation_parts[]` (`part_type`, HTML `body`,
//! `author.type`, `created_at` in epoch seconds). Parts with no body
//! (assignments, bot events) and internal notes are skipped. Authors:
//! user / lead / contact are the customer, admin / team the agent, bot a bot.

use serde_json::Value;

use super::html::to_text;
use super::json_util::{arr, label, num, text};
use super::{Role, Turn};

pub fn sniff(v: &Value) -> bool {
    v.get("conversation_parts").is_some()
        && (v.get("source").is_some()
            || v.get("type").and_then(Value::as_str) == Some("conversation"))
}

fn role_of(author_type: &str) -> Role {
    match author_type {
        "user" | "lead" | "contact" => Role::Customer,
        "admin" | "team" => Role::Agent,
        "bot" => Role::Bot,
        _ => Role::Unknown,
    }
}

pub fn read(v: &Value) -> Result<(Option<String>, Vec<Turn>), String> {
    let mut messages: Vec<(Option<f64>, &Value, Option<&str>)> = Vec::new();
    if let Some(src) = v.get("source") {
        messages.push((num(v.get("created_at")), src, Some("comment")));
    }
    let parts = arr(v.pointer("/conversation_parts/conversation_parts"))
        .or_else(|| arr(v.get("conversation_parts")));
    for p in parts.into_iter().flatten() {
        messages.push((num(p.get("created_at")), p, text(p.get("part_type"))));
    }
    let first = messages.iter().find_map(|(t, _, _)| *t);
    let mut turns = Vec::new();
    for (at, m, part_type) in messages {
        if part_type == Some("note") {
            continue;
        }
        let Some(body) = text(m.get("body")) else {
            continue;
        };
        let body = to_text(body);
        if body.is_empty() {
            continue;
        }
        let author_type = text(m.pointer("/author/type")).unwrap_or("");
        let speaker = text(m.pointer("/author/name"))
            .map(str::to_string)
            .or_else(|| label(m.pointer("/author/id")))
            .unwrap_or_else(|| author_type.to_string());
        turns.push(Turn {
            speaker,
            role: role_of(author_type),
            role_inferred: false,
            wall_clock_ms: at
                .filter(|t| t.is_finite() && t.abs() < 1e12)
                .map(|t| (t * 1000.0) as i64),
            start_ms: at
                .zip(first)
                .and_then(|(a, f)| super::time::seconds_to_ms(a - f)),
            end_ms: None,
            text: body,
        });
    }
    if turns.is_empty() {
        return Err("no message with a body".into());
    }
    Ok((label(v.get("id")), turns))
}
