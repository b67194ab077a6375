//! Word-level (and caption-cue) transcripts become turns: consecutive pieces
//! of one speaker are joined, and a new turn starts when the speaker changes
//! or after a pause longer than `TurnJoin::max_pause_ms`.

use super::{Role, Turn};

/// How pieces of speech are joined into turns.
#[derive(Debug, Clone, Copy)]
pub struct TurnJoin {
    /// A silence longer than this (ms) between two pieces of one speaker
    /// starts a new turn. Default 1,500 ms: longer than a breath, shorter
    /// than a deliberate pause for the other side to answer.
    pub max_pause_ms: u64,
}

impl Default for TurnJoin {
    fn default() -> Self {
        Self { max_pause_ms: 1500 }
    }
}

/// One timed piece of speech: a word or a caption cue.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub speaker: String,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    pub text: String,
}

/// Joins pieces into turns (roles left `Unknown` for the caller to assign).
pub fn join(pieces: Vec<Piece>, rule: TurnJoin) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for p in pieces {
        let text = p.text.trim();
        if text.is_empty() {
            continue;
        }
        let continues = turns.last().is_some_and(|t| {
            t.speaker == p.speaker
                && match (t.end_ms, p.start_ms) {
                    (Some(end), Some(start)) => start.saturating_sub(end) <= rule.max_pause_ms,
                    _ => true,
                }
        });
        if continues {
            let t = turns.last_mut().expect("checked");
            // Punctuation tokens attach to the word before them.
            if !text.starts_with(['.', ',', '?', '!', ';', ':']) {
                t.text.push(' ');
            }
            t.text.push_str(text);
            t.end_ms = p.end_ms.or(t.end_ms);
        } else {
            turns.push(Turn {
                speaker: p.speaker,
                role: Role::Unknown,
                role_inferred: false,
                wall_clock_ms: None,
                start_ms: p.start_ms,
                end_ms: p.end_ms,
                text: text.to_string(),
            });
        }
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str, a: u64, b: u64, t: &str) -> Piece {
        Piece {
            speaker: s.into(),
            start_ms: Some(a),
            end_ms: Some(b),
            text: t.into(),
        }
    }

    #[test]
    fn joins_by_speaker_and_pause() {
        let turns = join(
            vec![
                w("A", 0, 300, "hello"),
                w("A", 350, 600, "there"),
                w("A", 600, 600, "."),
                w("B", 700, 900, "hi"),
                w("B", 5000, 5200, "anyone?"),
            ],
            TurnJoin::default(),
        );
        let texts: Vec<&str> = turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, vec!["hello there.", "hi", "anyone?"]);
        assert_eq!((turns[0].start_ms, turns[0].end_ms), (Some(0), Some(600)));
    }
}
