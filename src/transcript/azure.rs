//! Azure AI Speech results. Batch transcription: `recognizedPhrases[]` with
//! `channel`, `speaker` (when diarized), `offsetInTicks` / `durationInTicks`
//! (100-ns ticks) or ISO-8601 `offset` / `duration`, and `nBest[0].display`.
//! Real-time / conversation transcription: a JSON array of phrases with
//! `Offset` / `Duration` ticks, `SpeakerId` and `NBest[0].Display`.

use serde_json::Value;

use super::json_util::{arr, label, num, text};
use super::time::parse_iso_duration_ms;
use super::words::{join, Piece, TurnJoin};
use super::Turn;

pub fn sniff(v: &Value) -> bool {
    v.get("recognizedPhrases").is_some_and(Value::is_array)
        || v.as_array().is_some_and(|a| {
            !a.is_empty()
                && a.iter()
                    .all(|p| p.get("NBest").is_some() || p.get("DisplayText").is_some())
        })
}

/// 100-ns ticks → ms.
fn ticks(v: Option<&Value>) -> Option<u64> {
    num(v)
        .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e19)
        .map(|t| (t / 10_000.0).round() as u64)
}

fn time(p: &Value, ticks_key: &str, iso_key: &str) -> Option<u64> {
    ticks(p.get(ticks_key)).or_else(|| match p.get(iso_key) {
        Some(Value::String(s)) => parse_iso_duration_ms(s),
        other => ticks(other),
    })
}

fn piece(speaker: String, offset: Option<u64>, duration: Option<u64>, text: &str) -> Piece {
    Piece {
        speaker,
        start_ms: offset,
        end_ms: offset.zip(duration).map(|(o, d)| o.saturating_add(d)),
        text: text.to_string(),
    }
}

pub fn read(v: &Value) -> Result<Vec<Turn>, String> {
    let mut pieces: Vec<Piece> = if let Some(phrases) = arr(v.get("recognizedPhrases")) {
        phrases
            .iter()
            .map(|p| {
                let speaker = match label(p.get("speaker")) {
                    Some(s) => format!("speaker {s}"),
                    None => format!(
                        "channel {}",
                        label(p.get("channel")).unwrap_or_else(|| "0".into())
                    ),
                };
                let t = text(p.pointer("/nBest/0/display"))
                    .or_else(|| text(p.pointer("/nBest/0/lexical")))
                    .unwrap_or("");
                piece(
                    speaker,
                    time(p, "offsetInTicks", "offset"),
                    time(p, "durationInTicks", "duration"),
                    t,
                )
            })
            .collect()
    } else {
        arr(Some(v))
            .ok_or("neither recognizedPhrases nor a list of phrases")?
            .iter()
            .map(|p| {
                let speaker = label(p.get("SpeakerId"))
                    .map(|s| format!("speaker {s}"))
                    .unwrap_or_else(|| "speaker".into());
                let t = text(p.pointer("/NBest/0/Display"))
                    .or_else(|| text(p.get("DisplayText")))
                    .unwrap_or("");
                piece(speaker, ticks(p.get("Offset")), ticks(p.get("Duration")), t)
            })
            .collect()
    };
    pieces.sort_by_key(|p| p.start_ms.unwrap_or(0));
    // Phrases are already utterances: only back-to-back phrases of one speaker join.
    let turns = join(pieces, TurnJoin { max_pause_ms: 0 });
    if turns.is_empty() {
        return Err("no recognised phrases with text".into());
    }
    Ok(turns)
}
