//! AssemblyAI transcripts: `utterances[]` (`speaker` "A"/"B", `start`/`end`
//! in ms, `text`); without utterances, `words[]` with `speaker`; with neither,
//! the whole `text` as one turn.

use serde_json::Value;

use super::json_util::{arr, label, ms, text};
use super::words::{join, Piece, TurnJoin};
use super::Turn;

pub fn sniff(v: &Value) -> bool {
    v.get("utterances").is_some()
        && (v.get("audio_duration").is_some()
            || v.get("acoustic_model").is_some()
            || v.get("speaker_labels").is_some())
        || (v.get("words").is_some() && v.get("audio_url").is_some())
}

fn speaker(v: &Value) -> String {
    label(v.get("speaker"))
        .map(|s| format!("speaker {s}"))
        .unwrap_or_else(|| "speaker".into())
}

pub fn read(v: &Value, rule: TurnJoin) -> Result<Vec<Turn>, String> {
    if let Some(utts) = arr(v.get("utterances")).filter(|u| !u.is_empty()) {
        let pieces = utts
            .iter()
            .map(|u| Piece {
                speaker: speaker(u),
                start_ms: ms(u.get("start")),
                end_ms: ms(u.get("end")),
                text: text(u.get("text")).unwrap_or("").to_string(),
            })
            .collect();
        return Ok(join(pieces, TurnJoin { max_pause_ms: 0 }));
    }
    if let Some(words) = arr(v.get("words")).filter(|w| !w.is_empty()) {
        let pieces = words
            .iter()
            .map(|w| Piece {
                speaker: speaker(w),
                start_ms: ms(w.get("start")),
                end_ms: ms(w.get("end")),
                text: text(w.get("text")).unwrap_or("").to_string(),
            })
            .collect();
        return Ok(join(pieces, rule));
    }
    match text(v.get("text")).filter(|t| !t.trim().is_empty()) {
        Some(t) => Ok(join(
            vec![Piece {
                speaker: "speaker".into(),
                start_ms: None,
                end_ms: None,
                text: t.to_string(),
            }],
            rule,
        )),
        None => Err("no utterances, words or text".into()),
    }
}
