//! Decides what format a file is by its content (the extension alone is not
//! trusted), refuses binary and non-UTF-8 input with a reason, and turns the
//! file into conversations.

use std::io::Read;
use std::path::Path;

use super::formats::{Calls, ChannelRule, FormatRow, Reader, FORMATS};
use super::roles::{agent_meta, assign_roles, role_from_label};
use super::{azure, Channel, Conversation, Format, ReadError, ReadLimits, Role, RoleHints, Turn};

fn err(path: &str, reason: impl Into<String>) -> ReadError {
    ReadError {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Inflates gzip input, refusing to grow past the file-size limit.
fn gunzip(path: &str, bytes: &[u8], limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| err(path, format!("gzip: {e}")))?;
    if out.len() as u64 > limit {
        return Err(err(
            path,
            format!("larger than {limit} bytes once decompressed (limit --max-file-bytes)"),
        ));
    }
    Ok(out)
}

/// Bytes → text, or a reason it is not a transcript.
fn as_text<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, ReadError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(err(path, "empty file"));
    }
    if let Some(pos) = bytes.iter().take(1 << 16).position(|&b| b == 0) {
        return Err(err(
            path,
            format!("binary data (NUL byte at offset {pos}), not a transcript"),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        err(
            path,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// `Ok` when the document is `row`'s format, else why not.
fn looks_like(row: &FormatRow, text: &str, json: Option<&serde_json::Value>) -> Result<(), String> {
    match row.reader {
        Reader::Json { sniff, missing, .. } => match json {
            None => Err("not a JSON document".into()),
            Some(v) if sniff(v) => Ok(()),
            Some(_) => Err(missing.into()),
        },
        Reader::Text { looks, .. } => looks(text, json),
    }
}

/// The first format (in the table's order) the document is, or why it is none.
fn detect(
    text: &str,
    json: Option<&serde_json::Value>,
    json_error: Option<&str>,
) -> Result<&'static FormatRow, String> {
    let mut why = Vec::new();
    for row in &FORMATS {
        match looks_like(row, text, json) {
            Ok(()) => return Ok(row),
            Err(reason) => why.push(format!("{}: {reason}", row.name)),
        }
    }
    let invalid = json_error
        .map(|e| format!("invalid JSON ({e}); "))
        .unwrap_or_default();
    Err(format!(
        "{invalid}not a recognised transcript; tried {}",
        why.join("; ")
    ))
}

fn call_id_from_path(path: &str) -> String {
    if path == "-" {
        return "stdin".into();
    }
    let p = Path::new(path);
    let mut name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    // `call.jsonl.gz` → `call`
    for ext in [".gz", ".jsonl", ".json", ".txt", ".vtt", ".srt"] {
        if let Some(stripped) = name.strip_suffix(ext) {
            name = stripped.to_string();
        }
    }
    name
}

/// Voice, chat or unknown, from the format's rule and what the turns' times say.
pub fn channel_of(format: Format, turns: &[Turn]) -> Channel {
    let started = turns.iter().any(|t| t.start_ms.is_some());
    let ended = turns.iter().any(|t| t.end_ms.is_some());
    match format.row().channel {
        ChannelRule::Chat => Channel::Chat,
        ChannelRule::ChatWhenNoEndTimes if started && !ended => Channel::Chat,
        ChannelRule::Voice | ChannelRule::ChatWhenNoEndTimes => Channel::Voice,
        ChannelRule::FromTimes if ended => Channel::Voice,
        ChannelRule::FromTimes => Channel::Unknown,
    }
}

/// A JSON array whose elements are whole conversations (an export of many
/// calls): each element is read on its own; calls without an id of their own
/// are named `FILE#INDEX`.
fn read_many(
    path: &str,
    items: &[serde_json::Value],
    forced: Option<Format>,
    limits: &ReadLimits,
    hints: &RoleHints,
) -> Result<Vec<Conversation>, ReadError> {
    let default_id = call_id_from_path(path);
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        // Elements are objects: only the whole-document JSON formats can match,
        // and those read the parsed value, so there is no text to pass.
        let convs = read_document(path, "", Some(item), None, forced, limits, hints)
            .map_err(|e| err(path, format!("call {i} of the array: {}", e.reason)))?;
        for mut c in convs {
            if c.id == default_id {
                c.id = format!("{default_id}#{i}");
            }
            out.push(c);
        }
    }
    Ok(out)
}

/// Reads one file's bytes into conversations.
pub fn read_conversations(
    path: &str,
    bytes: &[u8],
    forced: Option<Format>,
    limits: &ReadLimits,
    hints: &RoleHints,
) -> Result<Vec<Conversation>, ReadError> {
    let inflated;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        inflated = gunzip(path, bytes, limits.max_file_bytes)?;
        &inflated[..]
    } else {
        bytes
    };
    let text = as_text(path, bytes)?;
    let first = text.trim_start().chars().next();
    // serde_json refuses nesting deeper than 128 levels, so hostile input ends here.
    let (json, json_error): (Option<serde_json::Value>, Option<String>) =
        if matches!(first, Some('{') | Some('[')) {
            match serde_json::from_str(text) {
                Ok(v) => (Some(v), None),
                Err(e) => (None, Some(e.to_string())),
            }
        } else {
            (None, None)
        };
    read_document(
        path,
        text,
        json.as_ref(),
        json_error.as_deref(),
        forced,
        limits,
        hints,
    )
}

/// Reads one document, already decoded (and parsed, when it is JSON).
fn read_document(
    path: &str,
    text: &str,
    json: Option<&serde_json::Value>,
    json_error: Option<&str>,
    forced: Option<Format>,
    limits: &ReadLimits,
    hints: &RoleHints,
) -> Result<Vec<Conversation>, ReadError> {
    if let Some(serde_json::Value::Array(items)) = json {
        let phrase_list = json.is_some_and(azure::sniff);
        if !phrase_list
            && !items.is_empty()
            && items.iter().all(|x| x.is_object())
            && forced.is_none_or(|f| f.whole_json())
        {
            return read_many(path, items, forced, limits, hints);
        }
    }
    let row = match forced {
        Some(f) => f.row(),
        None => detect(text, json, json_error).map_err(|reason| err(path, reason))?,
    };
    let format = row.format;
    let fail = |r: String| err(path, format!("{}: {r}", row.name));
    let calls: Calls = match row.reader {
        Reader::Json { read, .. } => {
            let json =
                json.ok_or_else(|| err(path, format!("{}: not a valid JSON document", row.name)))?;
            read(json, limits).map_err(fail)?
        }
        Reader::Text { read, .. } => read(text, limits).map_err(fail)?,
    };
    // The format's own conversation id, when it has one, names the call.
    let default_id = call_id_from_path(path);
    let calls: Vec<(String, Vec<Turn>)> = calls
        .into_iter()
        .map(|(id, turns)| (id.unwrap_or_else(|| default_id.clone()), turns))
        .collect();
    for (_, turns) in &calls {
        if let Some(t) = turns.iter().find(|t| t.text.len() > limits.max_turn_bytes) {
            return Err(err(
                path,
                format!(
                    "{}: a turn of {} is longer than {} bytes (limit --max-turn-bytes)",
                    format.name(),
                    t.speaker,
                    limits.max_turn_bytes
                ),
            ));
        }
    }
    if calls.iter().all(|(_, t)| t.is_empty()) {
        return Err(err(path, format!("{}: no turns with text", format.name())));
    }
    Ok(calls
        .into_iter()
        .filter(|(_, turns)| !turns.is_empty())
        .map(|(id, mut turns)| {
            for t in turns.iter_mut().filter(|t| t.role == Role::Unknown) {
                t.role = role_from_label(&t.speaker).unwrap_or(Role::Unknown);
            }
            assign_roles(&mut turns, hints);
            Conversation {
                id,
                source: path.to_string(),
                format: format.name().to_string(),
                channel: channel_of(format, &turns),
                meta: agent_meta(&turns),
                turns,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Vec<Conversation>, ReadError> {
        read_conversations(
            "x/call-7.txt",
            bytes,
            None,
            &ReadLimits::default(),
            &RoleHints::default(),
        )
    }

    #[test]
    fn detects_by_content() {
        let c = read(b"Agent: hi\nCustomer: hello\n").unwrap();
        assert_eq!(
            (c[0].format.as_str(), c[0].id.as_str()),
            ("plain", "call-7")
        );
        let c = read(b"[00:00:02] Agent: hi\n[00:00:05] Customer: hello\n").unwrap();
        assert_eq!(
            (c[0].format.as_str(), c[0].turns[1].start_ms),
            ("plain", Some(5000))
        );
        let c = read(b"{\"speaker\":\"agent\",\"text\":\"hi\"}\n").unwrap();
        assert_eq!(c[0].format, "jsonl");
    }

    #[test]
    fn refuses_junk_with_reasons() {
        assert!(read(b"").unwrap_err().reason.contains("empty"));
        assert!(read(b"\x00\x01\x02abc")
            .unwrap_err()
            .reason
            .contains("binary"));
        assert!(read(b"Agent: caf\xe9\n")
            .unwrap_err()
            .reason
            .contains("UTF-8"));
        let e = read(b"{\"a\":1}\n").unwrap_err().reason;
        assert!(
            e.contains("tried ")
                && ["deepgram:", "jsonl:", "webvtt:", "srt:", "plain:"]
                    .iter()
                    .all(|f| e.contains(f)),
            "{e}"
        );
    }

    #[test]
    fn reads_gzip() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"Agent: hi\nCustomer: hey\n").unwrap();
        let c = read(&enc.finish().unwrap()).unwrap();
        assert_eq!(c[0].turns.len(), 2);
    }
}
