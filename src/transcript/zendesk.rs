//! Zendesk Chat transcripts: `history[{type: "chat.msg", nick, name /
//! display_name, msg, timestamp}]` with epoch-millisecond timestamps; `nick`
//! is `agent:ID` for agents and `visitor` for the customer. Other history
//! types (joins, ratings) are skipped.

use serde_json::Value;

use super::json_util::{arr, label, num, text};
use super::{Role, Turn};

pub fn sniff(v: &Value) -> bool {
    arr(v.get("history")).is_some_and(|h| {
        h.iter()
            .any(|x| x.get("nick").is_some() || x.get("msg").is_some())
    })
}

fn role_of(nick: &str) -> Role {
    let n = nick.to_ascii_lowercase();
    if n.starts_with("agent") {
        Role::Agent
    } else if n.starts_with("visitor") {
        Role::Customer
    } else if n.contains("bot") || n.contains("trigger") {
        Role::Bot
    } else {
        Role::Unknown
    }
}

pub fn read(v: &Value) -> Result<(Option<String>, Vec<Turn>), String> {
    let history = arr(v.get("history")).ok_or("no history array")?;
    let msgs: Vec<&Value> = history
        .iter()
        .filter(|h| text(h.get("type")).is_none_or(|t| t == "chat.msg" || t == "chat.message"))
        .filter(|h| text(h.get("msg")).is_some_and(|m| !m.trim().is_empty()))
        .collect();
    let first = msgs.iter().find_map(|m| num(m.get("timestamp")));
    let turns: Vec<Turn> = msgs
        .iter()
        .map(|m| {
            let nick = text(m.get("nick")).unwrap_or("");
            Turn {
                speaker: text(m.get("display_name"))
                    .or_else(|| text(m.get("name")))
                    .filter(|s| !s.is_empty())
                    .unwrap_or(nick)
                    .to_string(),
                role: role_of(nick),
                role_inferred: false,
                wall_clock_ms: num(m.get("timestamp"))
                    .filter(|t| t.is_finite() && t.abs() < 1e15)
                    .map(|t| t as i64),
                start_ms: num(m.get("timestamp")).zip(first).and_then(|(t, f)| {
                    let rel = t - f;
                    (rel.is_finite() && (0.0..1e15).contains(&rel)).then(|| rel.round() as u64)
                }),
                end_ms: None,
                text: text(m.get("msg")).unwrap_or("").trim().to_string(),
            }
        })
        .collect();
    if turns.is_empty() {
        return Err("no chat.msg entries".into());
    }
    Ok((label(v.get("id")), turns))
}
