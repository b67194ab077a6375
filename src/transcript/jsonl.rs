//! JSONL turns: one `{"speaker", "text", "role"?, "start"?, "end"?,
//! "call_id"?}` object per line; `start`/`end` in seconds. Several calls in
//! one file are told apart by `call_id`; consecutive lines of one speaker stay
//! separate turns; a turn with empty text is kept.

use serde_json::Value;

use super::roles::role_from_label;
use super::time::seconds_to_ms;
use super::{Role, Turn};

/// Turns grouped by call id, in order of first appearance; `None` id means the
/// line had no `call_id`.
pub type Calls = Vec<(Option<String>, Vec<Turn>)>;

fn role_field(v: Option<&Value>) -> Option<Role> {
    let s = v?.as_str()?.trim().to_ascii_lowercase();
    Some(match s.as_str() {
        "agent" => Role::Agent,
        "customer" => Role::Customer,
        "bot" => Role::Bot,
        "unknown" | "" => Role::Unknown,
        other => role_from_label(other).unwrap_or(Role::Unknown),
    })
}

fn label_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn seconds(v: Option<&Value>, field: &str, line: usize) -> Result<Option<u64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().and_then(seconds_to_ms)),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .map(seconds_to_ms)
            .ok_or_else(|| format!("line {line}: \"{field}\" is not a number of seconds: {s:?}")),
        Some(_) => Err(format!(
            "line {line}: \"{field}\" is not a number of seconds"
        )),
    }
}

/// One JSONL turn object (line `n`) → its call id and turn.
pub fn turn_from_json(
    v: &Value,
    n: usize,
    max_turn_bytes: usize,
) -> Result<(Option<String>, Turn), String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("line {n}: expected a JSON object"))?;
    let text = match obj.get("text") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) => String::new(),
        Some(_) => return Err(format!("line {n}: \"text\" is not a string")),
        None => return Err(format!("line {n}: missing \"text\"")),
    };
    if text.len() > max_turn_bytes {
        return Err(format!(
            "line {n}: a turn longer than {max_turn_bytes} bytes (limit --max-turn-bytes)"
        ));
    }
    let speaker = obj.get("speaker").and_then(label_of).unwrap_or_default();
    let given = role_field(obj.get("role"));
    let role = given.unwrap_or_else(|| role_from_label(&speaker).unwrap_or(Role::Unknown));
    let call_id = obj.get("call_id").and_then(label_of);
    let turn = Turn {
        speaker,
        role,
        role_inferred: false,
        wall_clock_ms: None,
        start_ms: seconds(obj.get("start"), "start", n)?,
        end_ms: seconds(obj.get("end"), "end", n)?,
        text,
    };
    Ok((call_id, turn))
}

/// `Ok` when `text` is JSONL turns (its first line a JSON object with a
/// `"text"` field), else why not.
pub fn looks_like(text: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(super::first_line(text))
        .map_err(|_| "the first line is not a JSON object".to_string())?;
    match v.get("text") {
        Some(_) => Ok(()),
        None => Err("the first line has no \"text\" field".into()),
    }
}

pub fn parse(text: &str, max_turn_bytes: usize) -> Result<Calls, String> {
    let mut calls: Calls = Vec::new();
    // Call id → its place in `calls` (a file of thousands of calls).
    let mut index: std::collections::HashMap<Option<String>, usize> = Default::default();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("line {n}: not JSON: {e}"))?;
        let (call_id, turn) = turn_from_json(&v, n, max_turn_bytes)?;
        match index.get(&call_id) {
            Some(&at) => calls[at].1.push(turn),
            None => {
                index.insert(call_id.clone(), calls.len());
                calls.push((call_id, vec![turn]));
            }
        }
    }
    if calls.is_empty() {
        return Err("no JSON lines found".into());
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_call_and_keeps_everything() {
        let calls = parse(
            r#"{"call_id":"a","speaker":"agent","text":"Hi","start":0.5,"end":1.25}
{"call_id":"b","speaker":"Sam","role":"customer","text":"Hello"}
{"call_id":"a","speaker":"customer","text":""}
{"call_id":"a","speaker":"customer","text":"still there?"}"#,
            1000,
        )
        .unwrap();
        assert_eq!(calls.len(), 2);
        let a = &calls[0].1;
        assert_eq!(a.len(), 3);
        assert_eq!((a[0].start_ms, a[0].end_ms), (Some(500), Some(1250)));
        assert_eq!(a[1].text, "");
        assert_eq!(a[0].role, Role::Agent);
        assert_eq!(calls[1].1[0].role, Role::Customer);
    }

    #[test]
    fn bad_lines_are_named() {
        let e = parse("{\"speaker\":\"a\",\"text\":\"x\"}\nnot json\n", 1000).unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
        let e = parse("{\"speaker\":\"a\"}\n", 1000).unwrap_err();
        assert!(e.contains("missing \"text\""));
        let e = parse("[1,2]\n", 1000).unwrap_err();
        assert!(e.contains("object"));
    }
}
