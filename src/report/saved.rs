//! Reading calltone's own results back (JSONL or JSON as `score` writes
//! them), so saved calls can be re-analysed, reported on and merged without
//! running the model again.

use serde_json::Value;

use super::records::{CallRecord, TurnRecord, SHARD_RECORD};
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

/// Calls as they are read, with where each was first seen, so that a call
/// appearing twice is named rather than fused into one.
#[derive(Default)]
struct Reading {
    calls: Vec<SavedCall>,
    /// Call id → (index in `calls`, where it was first seen).
    seen: std::collections::HashMap<String, (usize, String)>,
}

impl Reading {
    /// The call a record of `id` belongs to: the call being read when it is
    /// that one and not yet closed by its call record, else a new call. An
    /// id already used by an earlier call is an error: two calls under one
    /// id (two runs concatenated, say) must not become one.
    fn call_for(&mut self, id: &str, path: &str, at: &str) -> Result<&mut SavedCall, ReadError> {
        let open = self
            .calls
            .last()
            .is_some_and(|c| c.call_id == id && c.call.is_none());
        if !open {
            if let Some((_, first)) = self.seen.get(id) {
                return Err(error(
                    path,
                    format!(
                        "{at}: call {id:?} appears again (first at {first}): two calls under one \
                         id are not merged; give each its own id (`calltone score` does)"
                    ),
                ));
            }
            self.seen
                .insert(id.to_string(), (self.calls.len(), at.to_string()));
            self.calls.push(SavedCall {
                call_id: id.to_string(),
                turns: Vec::new(),
                call: None,
            });
        }
        Ok(self
            .calls
            .last_mut()
            .expect("a call was just found or added"))
    }

    fn add(&mut self, v: Value, path: &str, at: &str) -> Result<(), ReadError> {
        match v.get("type").and_then(Value::as_str) {
            Some("turn") => {
                let t: TurnRecord = serde_json::from_value(v)
                    .map_err(|e| error(path, format!("{at}: not a calltone turn record: {e}")))?;
                let id = t.call_id.clone();
                self.call_for(&id, path, at)?.turns.push(t);
            }
            Some("call") => {
                let c: CallRecord = serde_json::from_value(v)
                    .map_err(|e| error(path, format!("{at}: not a calltone call record: {e}")))?;
                let id = c.call_id.clone();
                self.call_for(&id, path, at)?.call = Some(c);
            }
            Some(SHARD_RECORD) => {} // a shard's footer: read by `merge`, not a call
            _ => {
                return Err(error(
                    path,
                    format!("{at}: not a calltone record (no \"type\": \"turn\" or \"call\")"),
                ))
            }
        }
        Ok(())
    }
}

/// Parses a results file: JSONL records or the JSON document `--format json` writes.
pub fn read_saved(path: &str, bytes: &[u8]) -> Result<Vec<SavedCall>, ReadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| error(path, format!("not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    let mut reading = Reading::default();
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
            let at = format!("call {i}");
            for t in turns.as_array().into_iter().flatten() {
                reading.add(t.clone(), path, &at)?;
            }
            reading.add(c, path, &at)?;
        }
    } else {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("line {}", n + 1);
            let v: Value = serde_json::from_str(line)
                .map_err(|e| error(path, format!("{at}: invalid JSON: {e}")))?;
            reading.add(v, path, &at)?;
        }
    }
    Ok(reading.calls)
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

    #[test]
    fn a_call_id_twice_is_named_not_fused() {
        let turn = |id: &str| {
            format!("{{\"type\":\"turn\",\"call_id\":\"{id}\",\"turn\":0,\"speaker\":\"A\",\"role\":\"customer\",\"role_inferred\":false,\"start_ms\":null,\"end_ms\":null,\"text\":\"hi\",\"label\":null,\"negative\":null,\"neutral\":null,\"positive\":null,\"score\":null,\"intensity\":null,\"windows\":null}}\n")
        };
        let good = format!("{}{}", turn("a"), turn("a"));
        let calls = read_saved("r.jsonl", good.as_bytes()).unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].turns.len(), 2);
        // a, then b, then a again: the second a is not appended to the first.
        let twice = format!("{}{}{}", turn("a"), turn("b"), turn("a"));
        let e = read_saved("r.jsonl", twice.as_bytes()).unwrap_err();
        assert!(
            e.reason
                .starts_with("line 3: call \"a\" appears again (first at line 1)"),
            "{e}"
        );
    }
}
