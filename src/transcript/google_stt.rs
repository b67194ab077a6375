//! Google Cloud Speech-to-Text responses: `results[].alternatives[0]` with
//! `words[{word, startTime, endTime, speakerTag}]`; times are `"1.500s"`
//! strings (REST) or `{seconds, nanos}` objects (client libraries). With
//! diarization Google repeats every word, tagged, in the LAST result only, so
//! that result is used; without it each result becomes a piece of speech of
//! its `channelTag` (or one speaker).

use serde_json::Value;

use super::json_util::{arr, label, num, text};
use super::time::seconds_to_ms;
use super::words::{join, Piece, TurnJoin};
use super::Turn;

pub fn sniff(v: &Value) -> bool {
    arr(v.get("results")).is_some_and(|r| {
        !r.is_empty()
            && r.iter()
                .all(|x| x.get("alternatives").is_some_and(Value::is_array))
    })
}

/// `"1.5s"`, `1.5`, or `{ "seconds": "1", "nanos": 500000000 }` → ms.
fn gtime(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Object(o) => {
            let s = num(o.get("seconds")).unwrap_or(0.0);
            let n = num(o.get("nanos")).unwrap_or(0.0);
            seconds_to_ms(s + n / 1e9)
        }
        other => num(Some(other)).and_then(seconds_to_ms),
    }
}

pub fn read(v: &Value, rule: TurnJoin) -> Result<Vec<Turn>, String> {
    let results = arr(v.get("results")).ok_or("no results array")?;
    let tagged = results.iter().rev().find(|r| {
        arr(r.pointer("/alternatives/0/words"))
            .is_some_and(|w| w.iter().any(|x| x.get("speakerTag").is_some()))
    });
    let pieces: Vec<Piece> = match tagged {
        Some(r) => arr(r.pointer("/alternatives/0/words"))
            .into_iter()
            .flatten()
            .map(|w| Piece {
                speaker: label(w.get("speakerTag"))
                    .map(|t| format!("speaker {t}"))
                    .unwrap_or_else(|| "speaker".into()),
                start_ms: gtime(w.get("startTime")),
                end_ms: gtime(w.get("endTime")),
                text: text(w.get("word")).unwrap_or("").to_string(),
            })
            .collect(),
        None => results
            .iter()
            .filter_map(|r| {
                let alt = r.pointer("/alternatives/0")?;
                let words = arr(alt.get("words"));
                let start = words
                    .and_then(|w| w.first())
                    .and_then(|w| gtime(w.get("startTime")));
                let end = words
                    .and_then(|w| w.last())
                    .and_then(|w| gtime(w.get("endTime")))
                    .or_else(|| gtime(r.get("resultEndTime")));
                Some(Piece {
                    speaker: label(r.get("channelTag"))
                        .map(|c| format!("channel {c}"))
                        .unwrap_or_else(|| "speaker".into()),
                    start_ms: start,
                    end_ms: end,
                    text: text(alt.get("transcript")).unwrap_or("").trim().to_string(),
                })
            })
            .collect(),
    };
    let turns = join(pieces, rule);
    if turns.is_empty() {
        return Err("no words or transcripts".into());
    }
    Ok(turns)
}
