//! Amazon Transcribe standard output: `results.items[]` words with string
//! second times and `alternatives[0].content`; the speaker comes from the
//! item's `speaker_label`, or (older output) from `speaker_labels.segments[]`
//! matched by start time, or from `channel_label` / `channel_labels.channels[]`
//! when channel identification was used. Punctuation items have no times and
//! attach to the word before them.

use std::collections::HashMap;

use serde_json::Value;

use super::json_util::{arr, label, secs_ms, text};
use super::words::{join, Piece, TurnJoin};
use super::Turn;

pub fn sniff(v: &Value) -> bool {
    v.pointer("/results/items").is_some_and(Value::is_array)
        || v.pointer("/results/channel_labels/channels")
            .is_some_and(Value::is_array)
}

/// start_time (as written) → speaker label, from the segment lists.
fn speakers_by_start(v: &Value) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for seg in arr(v.pointer("/results/speaker_labels/segments"))
        .into_iter()
        .flatten()
    {
        let seg_label = label(seg.get("speaker_label"));
        for item in arr(seg.get("items")).into_iter().flatten() {
            if let (Some(start), Some(l)) = (
                label(item.get("start_time")),
                label(item.get("speaker_label")).or_else(|| seg_label.clone()),
            ) {
                map.insert(start, l);
            }
        }
    }
    map
}

pub fn read(v: &Value, rule: TurnJoin) -> Result<Vec<Turn>, String> {
    let by_start = speakers_by_start(v);
    let items: Vec<(Option<String>, &Value)> =
        match arr(v.pointer("/results/items")).filter(|i| !i.is_empty()) {
            Some(items) => items.iter().map(|i| (None, i)).collect(),
            None => arr(v.pointer("/results/channel_labels/channels"))
                .into_iter()
                .flatten()
                .flat_map(|ch| {
                    let l = label(ch.get("channel_label"));
                    arr(ch.get("items"))
                        .into_iter()
                        .flatten()
                        .map(move |i| (l.clone(), i))
                })
                .collect(),
        };
    if items.is_empty() {
        return Err("results.items is empty".into());
    }
    let mut pieces: Vec<Piece> = Vec::with_capacity(items.len());
    let mut last_speaker = String::from("speaker");
    for (channel, item) in items {
        let content = text(item.pointer("/alternatives/0/content")).unwrap_or("");
        let start = label(item.get("start_time"));
        let speaker = label(item.get("speaker_label"))
            .or_else(|| start.as_ref().and_then(|s| by_start.get(s).cloned()))
            .or_else(|| label(item.get("channel_label")))
            .or(channel)
            .unwrap_or_else(|| last_speaker.clone());
        last_speaker = speaker.clone();
        pieces.push(Piece {
            speaker,
            start_ms: secs_ms(item.get("start_time")),
            end_ms: secs_ms(item.get("end_time")),
            text: content.to_string(),
        });
    }
    // Channel lists come one channel after another: put the words in time order,
    // keeping each untimed punctuation mark right after its word.
    let mut keyed: Vec<(u64, usize, Piece)> = Vec::with_capacity(pieces.len());
    let mut last = 0u64;
    for (i, p) in pieces.into_iter().enumerate() {
        if let Some(s) = p.start_ms {
            last = s;
        }
        keyed.push((last, i, p));
    }
    keyed.sort_by_key(|(t, i, _)| (*t, *i));
    let turns = join(keyed.into_iter().map(|(_, _, p)| p).collect(), rule);
    if turns.is_empty() {
        return Err("no words".into());
    }
    Ok(turns)
}
