//! Whisper / WhisperX / whisper-timestamped JSON: `segments[]` with `start`,
//! `end` (seconds), `text` and, after diarization, `speaker` (`SPEAKER_00`).
//! Also the OpenAI `diarized_json` response, whose segments carry `speaker`.

use serde_json::Value;

use super::json_util::{arr, label, secs_ms, text};
use super::words::{join, Piece, TurnJoin};
use super::Turn;

pub fn sniff(v: &Value) -> bool {
    arr(v.get("segments")).is_some_and(|s| {
        s.iter()
            .all(|x| x.get("start").is_some() && x.get("text").is_some())
    })
}

pub fn read(v: &Value) -> Result<Vec<Turn>, String> {
    let segs = arr(v.get("segments")).ok_or("no segments array")?;
    let pieces = segs
        .iter()
        .map(|s| Piece {
            speaker: label(s.get("speaker")).unwrap_or_else(|| "speaker".into()),
            start_ms: secs_ms(s.get("start")),
            end_ms: secs_ms(s.get("end")),
            text: text(s.get("text")).unwrap_or("").trim().to_string(),
        })
        .collect();
    // Segments are short; join those of one speaker that follow without a pause.
    let turns = join(pieces, TurnJoin { max_pause_ms: 300 });
    if turns.is_empty() {
        return Err("no segment has text".into());
    }
    Ok(turns)
}
