//! Deepgram pre-recorded responses: `results.utterances[]` (`speaker`,
//! `channel`, `start`, `end` in seconds, `transcript`); without utterances,
//! the words of `results.channels[0].alternatives[0]` are joined into turns.
//! A missing `speaker` (diarization off) falls back to the channel.

use serde_json::Value;

use super::json_util::{arr, label, secs_ms, text};
use super::words::{join, Piece, TurnJoin};
use super::Turn;

pub fn sniff(v: &Value) -> bool {
    v.pointer("/results/channels").is_some_and(Value::is_array)
        || v.pointer("/results/utterances")
            .is_some_and(Value::is_array)
}

fn speaker_of(u: &Value) -> String {
    match label(u.get("speaker")) {
        Some(s) => format!("speaker {s}"),
        None => format!(
            "channel {}",
            label(u.get("channel")).unwrap_or_else(|| "0".into())
        ),
    }
}

pub fn read(v: &Value, rule: TurnJoin) -> Result<Vec<Turn>, String> {
    if let Some(utts) = arr(v.pointer("/results/utterances")).filter(|u| !u.is_empty()) {
        let pieces = utts
            .iter()
            .map(|u| Piece {
                speaker: speaker_of(u),
                start_ms: secs_ms(u.get("start")),
                end_ms: secs_ms(u.get("end")),
                text: text(u.get("transcript")).unwrap_or("").to_string(),
            })
            .collect();
        // Utterances are already turns; join only back-to-back pieces of one speaker.
        return Ok(join(pieces, TurnJoin { max_pause_ms: 0 }));
    }
    let mut pieces = Vec::new();
    for (ch, channel) in arr(v.pointer("/results/channels"))
        .into_iter()
        .flatten()
        .enumerate()
    {
        let words = arr(channel.pointer("/alternatives/0/words"))
            .ok_or("results.channels[].alternatives[0].words is missing")?;
        for w in words {
            let speaker = match label(w.get("speaker")) {
                Some(s) => format!("speaker {s}"),
                None => format!("channel {ch}"),
            };
            let t = text(w.get("punctuated_word"))
                .or_else(|| text(w.get("word")))
                .unwrap_or("");
            pieces.push(Piece {
                speaker,
                start_ms: secs_ms(w.get("start")),
                end_ms: secs_ms(w.get("end")),
                text: t.to_string(),
            });
        }
    }
    pieces.sort_by_key(|p| p.start_ms.unwrap_or(0));
    let turns = join(pieces, rule);
    if turns.is_empty() {
        return Err("no utterances and no words".into());
    }
    Ok(turns)
}
