//! Decides what format a file is by its content (the extension alone is not
//! trusted), refuses binary and non-UTF-8 input with a reason, and turns the
//! file into conversations.

use std::io::Read;
use std::path::Path;

use super::roles::{assign_roles, role_from_label};
use super::{
    assemblyai, aws_transcribe, azure, captions, ccai, contact_lens, deepgram, genesys, google_stt,
    intercom, jsonl, plain, twilio, whisper, zendesk, Channel, Conversation, ReadError, ReadLimits,
    Role, RoleHints, Turn,
};

/// Recognises one JSON format from a parsed document.
type Sniffer = fn(&serde_json::Value) -> bool;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `Speaker: text` lines with optional `[hh:mm:ss]` stamps.
    Plain,
    /// One JSON turn per line.
    Jsonl,
    /// WebVTT captions (`<v Name>` voice spans).
    Webvtt,
    /// SubRip captions (`Name:` prefixes or `[speaker N]` lines).
    Srt,
    /// Amazon Transcribe standard output (speaker labels or channels).
    AwsTranscribe,
    /// Amazon Connect Contact Lens / Transcribe Call Analytics.
    ContactLens,
    /// Azure AI Speech batch transcription or real-time phrase list.
    Azure,
    /// Google Cloud Speech-to-Text response (speakerTag / channelTag).
    GoogleStt,
    /// Google Contact Center AI Insights conversation (`entries[]`).
    Ccai,
    /// Genesys Cloud speech-and-text analytics transcript.
    Genesys,
    /// Zendesk Chat transcript (`history[]`).
    Zendesk,
    /// Intercom conversation (HTML bodies).
    Intercom,
    /// Twilio Conversations message list.
    Twilio,
    /// Deepgram pre-recorded response (utterances, or words).
    Deepgram,
    /// AssemblyAI transcript (utterances, or words).
    Assemblyai,
    /// Whisper / WhisperX segments, OpenAI diarized_json.
    Whisper,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Jsonl => "jsonl",
            Format::Webvtt => "webvtt",
            Format::Srt => "srt",
            Format::AwsTranscribe => "aws-transcribe",
            Format::ContactLens => "contact-lens",
            Format::Azure => "azure",
            Format::GoogleStt => "google-stt",
            Format::Ccai => "ccai",
            Format::Genesys => "genesys",
            Format::Zendesk => "zendesk",
            Format::Intercom => "intercom",
            Format::Twilio => "twilio",
            Format::Deepgram => "deepgram",
            Format::Assemblyai => "assemblyai",
            Format::Whisper => "whisper",
        }
    }

    /// Detection order: whole-document JSON formats, then JSONL, captions, plain text.
    pub const ALL: [Format; 16] = [
        Format::Genesys,
        Format::Zendesk,
        Format::Intercom,
        Format::Twilio,
        Format::ContactLens,
        Format::AwsTranscribe,
        Format::Azure,
        Format::GoogleStt,
        Format::Ccai,
        Format::Deepgram,
        Format::Assemblyai,
        Format::Whisper,
        Format::Jsonl,
        Format::Webvtt,
        Format::Srt,
        Format::Plain,
    ];

    /// For a format that is one JSON document: how to recognise it, and what
    /// is missing when it is not recognised. `None` for line-based formats.
    fn json_sniffer(self) -> Option<(Sniffer, &'static str)> {
        Some(match self {
            Format::ContactLens => (contact_lens::sniff, "no Transcript[] with ParticipantId"),
            Format::AwsTranscribe => (
                aws_transcribe::sniff,
                "no results.items or results.channel_labels",
            ),
            Format::Azure => (azure::sniff, "no recognizedPhrases or NBest phrase list"),
            Format::GoogleStt => (google_stt::sniff, "no results[].alternatives[]"),
            Format::Ccai => (ccai::sniff, "no entries[] with text and role"),
            Format::Genesys => (genesys::sniff, "no transcripts[].phrases[]"),
            Format::Zendesk => (zendesk::sniff, "no history[] of chat messages"),
            Format::Intercom => (intercom::sniff, "no conversation_parts with a source"),
            Format::Twilio => (twilio::sniff, "no messages[] with author and date_created"),
            Format::Deepgram => (deepgram::sniff, "no results.utterances or results.channels"),
            Format::Assemblyai => (assemblyai::sniff, "no utterances/words with audio fields"),
            Format::Whisper => (whisper::sniff, "no segments[] with start and text"),
            Format::Plain | Format::Jsonl | Format::Webvtt | Format::Srt => return None,
        })
    }

    fn whole_json(self) -> bool {
        self.json_sniffer().is_some()
    }
}

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

fn looks_like(format: Format, text: &str, json: Option<&serde_json::Value>) -> Result<(), String> {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let not_it = |what: &str| Err(what.to_string());
    if let Some((sniff, missing)) = format.json_sniffer() {
        return match json {
            None => not_it("not a JSON document"),
            Some(v) if sniff(v) => Ok(()),
            Some(_) => not_it(missing),
        };
    }
    match format {
        Format::Jsonl => {
            let v: serde_json::Value = serde_json::from_str(first)
                .map_err(|_| "the first line is not a JSON object".to_string())?;
            match v.get("text") {
                Some(_) => Ok(()),
                None => Err("the first line has no \"text\" field".into()),
            }
        }
        Format::Webvtt => {
            if first.starts_with("WEBVTT") {
                Ok(())
            } else {
                not_it("does not start with WEBVTT")
            }
        }
        Format::Srt => {
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let index = lines.next().unwrap_or("");
            let timing = lines.next().unwrap_or("");
            if !index.is_empty()
                && index.bytes().all(|b| b.is_ascii_digit())
                && timing.contains("-->")
            {
                Ok(())
            } else {
                not_it("no numbered cue with a `-->` timing line")
            }
        }
        Format::Plain => {
            // `[00:00:02] Agent: …` opens with a bracket too: only real JSON is refused.
            if json.is_some()
                || first.starts_with('{')
                || (first.starts_with('[')
                    && serde_json::from_str::<serde_json::Value>(first).is_ok())
            {
                not_it("it looks like JSON")
            } else {
                Ok(())
            }
        }
        // JSON formats were answered by their sniffer above.
        other => Err(format!("{} is read as a JSON document", other.name())),
    }
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

/// Speaker labels that only say "a speaker" (spk_0, SPEAKER_01, ch_1, user 2,
/// Agent) rather than name a person.
fn is_generic_label(label: &str) -> bool {
    let l = label.trim().to_ascii_lowercase();
    let bare = [
        "agent", "customer", "caller", "internal", "external", "unknown", "speaker", "admin",
        "bot", "ivr", "system",
    ];
    bare.contains(&l.as_str())
        || ["spk_", "ch_", "speaker", "channel", "user "]
            .iter()
            .any(|p| l.starts_with(p))
        || l.chars()
            .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
}

/// `agent_name`: the agent's own name where the transcript gives one.
fn agent_meta(turns: &[Turn]) -> std::collections::BTreeMap<String, String> {
    let mut meta = std::collections::BTreeMap::new();
    if let Some(t) = turns
        .iter()
        .find(|t| t.role == Role::Agent && !is_generic_label(&t.speaker))
    {
        meta.insert("agent_name".to_string(), t.speaker.clone());
    }
    meta
}

/// Voice, chat or unknown, from the format and what the turns' times say.
pub fn channel_of(format: Format, turns: &[Turn]) -> Channel {
    let timed_without_durations =
        turns.iter().any(|t| t.start_ms.is_some()) && turns.iter().all(|t| t.end_ms.is_none());
    if matches!(format, Format::Zendesk | Format::Intercom | Format::Twilio)
        || (matches!(format, Format::ContactLens | Format::Ccai) && timed_without_durations)
    {
        return Channel::Chat;
    }
    if format.whole_json()
        || matches!(format, Format::Webvtt | Format::Srt)
        || turns.iter().any(|t| t.end_ms.is_some())
    {
        Channel::Voice
    } else {
        Channel::Unknown
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
    let format = match forced {
        Some(f) => f,
        None => {
            let mut why = Vec::new();
            let mut found = None;
            for f in Format::ALL {
                match looks_like(f, text, json) {
                    Ok(()) => {
                        found = Some(f);
                        break;
                    }
                    Err(reason) => why.push(format!("{}: {reason}", f.name())),
                }
            }
            found.ok_or_else(|| {
                let invalid = json_error
                    .as_ref()
                    .map(|e| format!("invalid JSON ({e}); "))
                    .unwrap_or_default();
                err(
                    path,
                    format!(
                        "{invalid}not a recognised transcript; tried {}",
                        why.join("; ")
                    ),
                )
            })?
        }
    };
    let default_id = call_id_from_path(path);
    let fail = |r: String| err(path, format!("{}: {r}", format.name()));
    let need_json = || -> Result<&serde_json::Value, ReadError> {
        json.ok_or_else(|| {
            err(
                path,
                format!("{}: not a valid JSON document", format.name()),
            )
        })
    };
    let rule = limits.turn_join;
    let single = |turns: Vec<Turn>| vec![(default_id.clone(), turns)];
    // The format's own conversation id, when it has one, names the call.
    let identified = |(id, turns): (Option<String>, Vec<Turn>)| {
        vec![(id.unwrap_or_else(|| default_id.clone()), turns)]
    };
    let calls: Vec<(String, Vec<Turn>)> = match format {
        Format::Plain => single(plain::parse(text, limits.max_turn_bytes).map_err(fail)?),
        Format::Jsonl => jsonl::parse(text, limits.max_turn_bytes)
            .map_err(fail)?
            .into_iter()
            .map(|(id, turns)| (id.unwrap_or_else(|| default_id.clone()), turns))
            .collect(),
        Format::Webvtt => {
            single(captions::parse(text, true, rule, limits.max_turn_bytes).map_err(fail)?)
        }
        Format::Srt => {
            single(captions::parse(text, false, rule, limits.max_turn_bytes).map_err(fail)?)
        }
        Format::ContactLens => single(contact_lens::read(need_json()?).map_err(fail)?),
        Format::AwsTranscribe => single(aws_transcribe::read(need_json()?, rule).map_err(fail)?),
        Format::Azure => single(azure::read(need_json()?).map_err(fail)?),
        Format::GoogleStt => single(google_stt::read(need_json()?, rule).map_err(fail)?),
        Format::Ccai => single(ccai::read(need_json()?).map_err(fail)?),
        Format::Genesys => identified(genesys::read(need_json()?).map_err(fail)?),
        Format::Zendesk => identified(zendesk::read(need_json()?).map_err(fail)?),
        Format::Intercom => identified(intercom::read(need_json()?).map_err(fail)?),
        Format::Twilio => identified(twilio::read(need_json()?).map_err(fail)?),
        Format::Deepgram => single(deepgram::read(need_json()?, rule).map_err(fail)?),
        Format::Assemblyai => single(assemblyai::read(need_json()?, rule).map_err(fail)?),
        Format::Whisper => single(whisper::read(need_json()?).map_err(fail)?),
    };
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
