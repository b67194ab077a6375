//! Reading calltone's own results back (JSONL or JSON as `score` writes
//! them), so saved calls can be re-analysed, reported on and merged without
//! running the model again.

use serde_json::Value;

use super::records::{CallRecord, TurnRecord};
use crate::analysis::TurnScore;
use crate::transcript::{Channel, Conversation, ReadError, Turn};

/// One call as saved: its turn records in order, and its call record when
/// the file has one.
#[derive(Debug, Clone)]
pub struct SavedCall {
    pub call_id: String,
    pub turns: Vec<TurnRecord>,
    pub call: Option<CallRecord>,
}

fn error(path: &str, reason: impl Into<String>) -> ReadError {
    ReadError {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn find_or_add<'a>(calls: &'a mut Vec<SavedCall>, id: &str) -> &'a mut SavedCall {
    // Calls arrive grouped, so the last one is nearly always the match.
    if let Some(i) = calls.iter().rposition(|c| c.call_id == id) {
        return &mut calls[i];
    }
    calls.push(SavedCall {
        call_id: id.to_string(),
        turns: Vec::new(),
        call: None,
    });
    calls.last_mut().expect("just pushed")
}

fn add_record(calls: &mut Vec<SavedCall>, v: Value, path: &str, at: &str) -> Result<(), ReadError> {
    match v.get("type").and_then(Value::as_str) {
        Some("turn") => {
            let t: TurnRecord = serde_json::from_value(v)
                .map_err(|e| error(path, format!("{at}: not a calltone turn record: {e}")))?;
            find_or_add(calls, &t.call_id).turns.push(t);
        }
        Some("call") => {
            let c: CallRecord = serde_json::from_value(v)
                .map_err(|e| error(path, format!("{at}: not a calltone call record: {e}")))?;
            let id = c.call_id.clone();
            find_or_add(calls, &id).call = Some(c);
        }
        _ => {
            return Err(error(
                path,
                format!("{at}: not a calltone record (no \"type\": \"turn\" or \"call\")"),
            ))
        }
    }
    Ok(())
}

/// Parses a results file: JSONL records or the JSON document `--format json` writes.
pub fn read_saved(path: &str, bytes: &[u8]) -> Result<Vec<SavedCall>, ReadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| error(path, format!("not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    let mut calls = Vec::new();
    if trimmed.is_empty() {
        return Err(error(path, "empty file"));
    }
    if trimmed.starts_with("call_id,") {
        return Err(error(
            path,
            "CSV results carry no call records; re-analyse JSONL or JSON results",
        ));
    }
    // A JSON document has a "calls" array; JSONL starts with a record line.
    let first_line = trimmed.lines().next().unwrap_or("");
    let is_document = serde_json::from_str::<Value>(first_line)
        .map(|v| v.get("calls").is_some())
        .unwrap_or(true);
    if is_document {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| error(path, format!("invalid JSON: {e}")))?;
        let list = doc
            .get("calls")
            .and_then(Value::as_array)
            .ok_or_else(|| error(path, "a JSON results document needs a \"calls\" array"))?;
        for (i, c) in list.iter().enumerate() {
            let mut c = c.clone();
            let turns = c
                .as_object_mut()
                .and_then(|o| o.remove("turn_records"))
                .unwrap_or(Value::Array(Vec::new()));
            for t in turns.as_array().into_iter().flatten() {
                add_record(&mut calls, t.clone(), path, &format!("call {i}"))?;
            }
            add_record(&mut calls, c, path, &format!("call {i}"))?;
        }
    } else {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("line {}", n + 1);
            let v: Value = serde_json::from_str(line)
                .map_err(|e| error(path, format!("{at}: invalid JSON: {e}")))?;
            add_record(&mut calls, v, path, &at)?;
        }
    }
    Ok(calls)
}

impl SavedCall {
    /// The conversation as it was written (texts as saved, possibly redacted).
    pub fn conversation(&self) -> Conversation {
        let call = self.call.as_ref();
        let mut meta = std::collections::BTreeMap::new();
        if let Some(name) = call.and_then(|c| c.agent_name.clone()) {
            meta.insert("agent_name".to_string(), name);
        }
        Conversation {
            id: self.call_id.clone(),
            source: call.map_or_else(|| "-".into(), |c| c.source.clone()),
            format: call.map_or_else(|| "calltone".into(), |c| c.format.clone()),
            channel: call.map_or(Channel::Unknown, |c| c.channel),
            turns: self
                .turns
                .iter()
                .map(|t| Turn {
                    speaker: t.speaker.clone(),
                    role: t.role,
                    role_inferred: t.role_inferred,
                    start_ms: t.start_ms,
                    end_ms: t.end_ms,
                    wall_clock_ms: t
                        .wall_clock
                        .as_deref()
                        .and_then(|w| chrono::DateTime::parse_from_rfc3339(w).ok())
                        .map(|d| d.timestamp_millis()),
                    text: t.text.clone(),
                })
                .collect(),
            meta,
        }
    }

    /// The model's scores as saved (`None` for unscored turns).
    pub fn scores(&self) -> Vec<Option<TurnScore>> {
        self.turns
            .iter()
            .map(
                |t| match (t.label, t.negative, t.neutral, t.positive, t.score) {
                    (Some(label), Some(negative), Some(neutral), Some(positive), Some(score)) => {
                        Some(TurnScore {
                            label,
                            negative,
                            neutral,
                            positive,
                            score,
                            intensity: t.intensity.unwrap_or(score),
                            windows: t.windows.unwrap_or(1),
                        })
                    }
                    _ => None,
                },
            )
            .collect()
    }

    pub fn model(&self) -> String {
        self.call
            .as_ref()
            .map_or_else(|| "unknown".into(), |c| c.model.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line_and_reason() {
        let e = read_saved("r.jsonl", b"{\"type\":\"turn\"}\n").unwrap_err();
        assert!(
            e.reason.starts_with("line 1: not a calltone turn record"),
            "{e}"
        );
        let e = read_saved("r.jsonl", b"{\"a\":1}\n").unwrap_err();
        assert!(e.reason.contains("not a calltone record"), "{e}");
        let e = read_saved("r.csv", b"call_id,turn,speaker\n").unwrap_err();
        assert!(e.reason.contains("CSV"), "{e}");
        assert!(read_saved("e", b"").is_err());
    }
}
