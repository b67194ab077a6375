//! Who talked over whom, the silences between turns, and how fast each turn
//! was spoken. Only turns with a real duration count: chat messages have a
//! time but no length, so overtalk and speech rate do not apply to them, and
//! a slow chat reply is not a silence.

use serde::{Deserialize, Serialize};

use super::settings::TimingSettings;
use crate::transcript::{Channel, Turn};

/// Timing facts of one turn (all `None`/0 where the transcript has no durations).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnTiming {
    /// The turn of another speaker this one started over, if any.
    pub interrupts: Option<usize>,
    /// Milliseconds this turn overlapped the turn it interrupted.
    pub overlap_ms: u64,
    /// Silence between the end of the previous talk and this turn's start,
    /// when it reaches the silence setting.
    pub silence_before_ms: Option<u64>,
    pub words: usize,
    pub words_per_minute: Option<f32>,
}

/// Whether a turn has a duration we can trust.
pub fn has_duration(turn: &Turn, channel: Channel) -> bool {
    channel != Channel::Chat && matches!((turn.start_ms, turn.end_ms), (Some(s), Some(e)) if e > s)
}

/// True when the call is spoken with times: most turns have durations.
pub fn is_timed_voice(turns: &[Turn], channel: Channel) -> bool {
    let timed = turns.iter().filter(|t| has_duration(t, channel)).count();
    timed > 0 && timed * 2 >= turns.len()
}

pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

pub fn turn_timings(turns: &[Turn], channel: Channel, s: &TimingSettings) -> Vec<TurnTiming> {
    let voice = is_timed_voice(turns, channel);
    // End of talk so far, and the latest-ending turn per position, to find
    // whom a turn talks over.
    let mut talk_end: Option<u64> = None;
    let mut out = Vec::with_capacity(turns.len());
    for (i, t) in turns.iter().enumerate() {
        let words = word_count(&t.text);
        let mut timing = TurnTiming {
            words,
            ..TurnTiming::default()
        };
        if voice && has_duration(t, channel) {
            let (start, end) = (t.start_ms.unwrap_or(0), t.end_ms.unwrap_or(0));
            let minutes = (end - start) as f32 / 60_000.0;
            if end - start >= 1000 && words > 0 {
                timing.words_per_minute = Some(words as f32 / minutes);
            }
            // The most recent earlier turn of another speaker still talking
            // well after this one starts.
            let talked_over = turns[..i].iter().enumerate().rev().take(8).find(|(_, p)| {
                p.speaker != t.speaker
                    && has_duration(p, channel)
                    && p.start_ms.unwrap_or(0) <= start
                    && p.end_ms.unwrap_or(0) >= start + s.interrupt_min_ms
            });
            if let Some((j, p)) = talked_over {
                timing.interrupts = Some(j);
                timing.overlap_ms = p.end_ms.unwrap_or(0).min(end) - start;
            }
            if let Some(prev_end) = talk_end {
                if start >= prev_end + s.silence_min_ms {
                    timing.silence_before_ms = Some(start - prev_end);
                }
            }
            talk_end = Some(talk_end.map_or(end, |e| e.max(end)));
        }
        out.push(timing);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Role;

    fn turn(speaker: &str, start: u64, end: u64, text: &str) -> Turn {
        Turn {
            speaker: speaker.into(),
            role: if speaker == "A" {
                Role::Agent
            } else {
                Role::Customer
            },
            role_inferred: false,
            start_ms: Some(start),
            end_ms: Some(end),
            wall_clock_ms: None,
            text: text.into(),
        }
    }

    #[test]
    fn interruption_overlap_silence_and_rate() {
        let turns = vec![
            turn("A", 0, 4000, "how can I help you today with your account"),
            turn("C", 3000, 6000, "my bill is wrong again"),
            turn("A", 10_000, 12_000, "let me check"),
            turn("C", 11_900, 13_000, "ok"),
        ];
        let t = turn_timings(&turns, Channel::Voice, &TimingSettings::default());
        assert_eq!(t[1].interrupts, Some(0));
        assert_eq!(t[1].overlap_ms, 1000);
        assert_eq!(t[2].silence_before_ms, Some(4000));
        // 100 ms of overlap is under the 300 ms interruption setting.
        assert_eq!(t[3].interrupts, None);
        assert_eq!(t[1].words, 5);
        assert!((t[1].words_per_minute.unwrap() - 100.0).abs() < 1e-3);
    }

    #[test]
    fn chat_has_no_overtalk_silence_or_rate() {
        let turns = vec![
            turn("A", 0, 4000, "hello"),
            turn("C", 3000, 9000, "hi there"),
            turn("A", 60_000, 61_000, "sorry for the wait"),
        ];
        let t = turn_timings(&turns, Channel::Chat, &TimingSettings::default());
        assert!(t.iter().all(|x| x.interrupts.is_none()
            && x.silence_before_ms.is_none()
            && x.words_per_minute.is_none()));
    }

    #[test]
    fn untimed_turns_have_only_word_counts() {
        let mut turns = vec![turn("A", 0, 0, "hello there"), turn("C", 0, 0, "hi")];
        turns[1].start_ms = None;
        let t = turn_timings(&turns, Channel::Voice, &TimingSettings::default());
        assert_eq!(t[0].words, 2);
        assert!(t.iter().all(|x| x.words_per_minute.is_none()));
    }
}
