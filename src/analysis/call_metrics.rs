//! The numbers call-analytics suites report, per speaker and per call:
//! sentiment (mean, by quarter of the call, start-to-end shift, longest
//! negative run) on our −1..1 scale and on the −5..+5 and −100..+100 scales
//! other tools use; talk time, non-talk time, interruptions, words per minute.

use serde::{Deserialize, Serialize};

use super::timing::{is_timed_voice, TurnTiming};
use super::turn_score::TurnScore;
use crate::transcript::{CallSpan, Channel, Role, Turn};

/// A turn scoring at or below this counts towards a negative run.
pub const NEGATIVE_AT: f32 = -0.25;

/// One sentiment value on the three scales.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scaled {
    /// −1..1 (`positive − negative`).
    pub score: f32,
    /// −5..+5.
    pub score_5: f32,
    /// −100..+100.
    pub score_100: f32,
}

impl Scaled {
    pub fn of(score: f32) -> Scaled {
        Scaled {
            score,
            score_5: score * 5.0,
            score_100: score * 100.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NegativeRun {
    pub turns: usize,
    pub start_turn: usize,
    pub end_turn: usize,
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpeakerMetrics {
    pub speaker: String,
    pub role: Role,
    pub turns: usize,
    pub scored_turns: usize,
    pub mean: Option<Scaled>,
    /// Mean score in each quarter of the call (by time when the call is timed,
    /// else by turn position); null where the speaker said nothing scored.
    pub by_quarter: [Option<f32>; 4],
    /// Mean score of the first and of the last third of the speaker's scored
    /// turns, and end − start.
    pub start: Option<Scaled>,
    pub end: Option<Scaled>,
    pub shift: Option<f32>,
    pub longest_negative_run: Option<NegativeRun>,
    pub words: usize,
    /// Talk time in ms (timed voice calls only).
    pub talk_ms: Option<u64>,
    pub words_per_minute: Option<f32>,
    /// Times this speaker started over someone else / was talked over.
    pub interruptions_made: usize,
    pub interrupted: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Interruption {
    pub turn: usize,
    pub by: String,
    pub of: String,
    pub overlap_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallMetrics {
    /// From the first turn's start to the last turn's end: the same as the
    /// call record's `duration_ms` (`CallSpan::duration_ms`).
    pub duration_ms: Option<u64>,
    /// Time with someone talking, and silences of at least the silence setting.
    pub talk_ms: Option<u64>,
    pub non_talk_ms: Option<u64>,
    pub silences: usize,
    pub longest_silence_ms: Option<u64>,
    pub interruptions: Vec<Interruption>,
    pub speakers: Vec<SpeakerMetrics>,
}

fn mean(xs: &[f32]) -> Option<f32> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f32>() / xs.len() as f32)
}

/// Which quarter of the call each turn falls in.
fn quarters(turns: &[Turn], timed: bool) -> Vec<usize> {
    let n = turns.len().max(1);
    let span = CallSpan::of(turns);
    let (first, last) = (span.first_ms, span.last_ms);
    turns
        .iter()
        .enumerate()
        .map(|(i, t)| match (timed, first, last, t.start_ms) {
            (true, Some(a), Some(b), Some(s)) if b > a => {
                (((s - a) as f64 / (b - a) as f64 * 4.0) as usize).min(3)
            }
            _ => (i * 4 / n).min(3),
        })
        .collect()
}

fn longest_negative_run(turns: &[Turn], mine: &[(usize, f32)]) -> Option<NegativeRun> {
    let mut best: Option<(usize, usize, usize)> = None; // (len, start idx, end idx)
    let mut run_start = None;
    for (k, &(_, s)) in mine.iter().enumerate() {
        if s <= NEGATIVE_AT {
            let start = *run_start.get_or_insert(k);
            let len = k - start + 1;
            if best.is_none_or(|(l, _, _)| len > l) {
                best = Some((len, start, k));
            }
        } else {
            run_start = None;
        }
    }
    best.map(|(len, s, e)| {
        let (a, b) = (&turns[mine[s].0], &turns[mine[e].0]);
        NegativeRun {
            turns: len,
            start_turn: mine[s].0,
            end_turn: mine[e].0,
            duration_ms: match (a.start_ms, b.end_ms) {
                (Some(x), Some(y)) if y >= x => Some(y - x),
                _ => None,
            },
        }
    })
}

/// Speakers in order of first appearance.
fn speakers(turns: &[Turn]) -> Vec<(&str, Role)> {
    let mut out: Vec<(&str, Role)> = Vec::new();
    for t in turns {
        if !out.iter().any(|(s, _)| *s == t.speaker) {
            out.push((&t.speaker, t.role));
        }
    }
    out
}

pub fn call_metrics(
    turns: &[Turn],
    scores: &[Option<TurnScore>],
    timings: &[TurnTiming],
    channel: Channel,
) -> CallMetrics {
    let timed = is_timed_voice(turns, channel);
    let quarter = quarters(turns, timed);
    let interruptions: Vec<Interruption> = timings
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.interrupts.map(|j| Interruption {
                turn: i,
                by: turns[i].speaker.clone(),
                of: turns[j].speaker.clone(),
                overlap_ms: t.overlap_ms,
            })
        })
        .collect();
    let speakers = speakers(turns)
        .into_iter()
        .map(|(name, role)| {
            let idx: Vec<usize> = (0..turns.len())
                .filter(|&i| turns[i].speaker == name)
                .collect();
            let mine: Vec<(usize, f32)> = idx
                .iter()
                .filter_map(|&i| scores[i].as_ref().map(|s| (i, s.score)))
                .collect();
            let values: Vec<f32> = mine.iter().map(|m| m.1).collect();
            let mut by_quarter = [None; 4];
            for (q, slot) in by_quarter.iter_mut().enumerate() {
                let qs: Vec<f32> = mine
                    .iter()
                    .filter(|(i, _)| quarter[*i] == q)
                    .map(|m| m.1)
                    .collect();
                *slot = mean(&qs);
            }
            let words: usize = idx.iter().map(|&i| timings[i].words).sum();
            let talk_ms = timed.then(|| {
                idx.iter()
                    .filter_map(|&i| match (turns[i].start_ms, turns[i].end_ms) {
                        (Some(s), Some(e)) if e > s => Some(e - s),
                        _ => None,
                    })
                    .sum::<u64>()
            });
            let words_per_minute = talk_ms
                .filter(|&ms| ms >= 1000)
                .map(|ms| words as f32 / (ms as f32 / 60_000.0));
            // Mean of the first and of the last third of the speaker's scored
            // turns (one turn each in short calls), as in the call summary.
            let k = values.len().div_ceil(3);
            let (start, end) = (mean(&values[..k]), mean(&values[values.len() - k..]));
            SpeakerMetrics {
                speaker: name.to_string(),
                role,
                turns: idx.len(),
                scored_turns: values.len(),
                mean: mean(&values).map(Scaled::of),
                by_quarter,
                start: start.map(Scaled::of),
                end: end.map(Scaled::of),
                shift: start.zip(end).map(|(a, b)| b - a),
                longest_negative_run: longest_negative_run(turns, &mine),
                words,
                talk_ms,
                words_per_minute,
                interruptions_made: interruptions.iter().filter(|x| x.by == name).count(),
                interrupted: interruptions.iter().filter(|x| x.of == name).count(),
            }
        })
        .collect();

    let duration_ms = CallSpan::of(turns).duration_ms();
    let (talk_ms, non_talk_ms, silences, longest) = if timed {
        // Union of talk intervals; the gaps are silences when long enough.
        let mut spans: Vec<(u64, u64)> = turns
            .iter()
            .filter_map(|t| match (t.start_ms, t.end_ms) {
                (Some(s), Some(e)) if e > s => Some((s, e)),
                _ => None,
            })
            .collect();
        spans.sort_unstable();
        let mut talk = 0;
        let mut gaps = Vec::new();
        let mut cur: Option<(u64, u64)> = None;
        for (s, e) in spans {
            match cur {
                Some((cs, ce)) if s <= ce => cur = Some((cs, ce.max(e))),
                Some((cs, ce)) => {
                    talk += ce - cs;
                    gaps.push(s - ce);
                    cur = Some((s, e));
                }
                None => cur = Some((s, e)),
            }
        }
        if let Some((cs, ce)) = cur {
            talk += ce - cs;
        }
        let silent: Vec<u64> = timings.iter().filter_map(|t| t.silence_before_ms).collect();
        (
            Some(talk),
            Some(silent.iter().sum()),
            silent.len(),
            silent.iter().copied().max(),
        )
    } else {
        (None, None, 0, None)
    };
    CallMetrics {
        duration_ms,
        talk_ms,
        non_talk_ms,
        silences,
        longest_silence_ms: longest,
        interruptions,
        speakers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::settings::TimingSettings;
    use crate::analysis::timing::turn_timings;
    use crate::model::Polarity;

    fn turn(speaker: &str, role: Role, start: u64, end: u64, text: &str) -> Turn {
        Turn {
            speaker: speaker.into(),
            role,
            role_inferred: false,
            start_ms: Some(start),
            end_ms: Some(end),
            wall_clock_ms: None,
            text: text.into(),
        }
    }

    fn s(score: f32) -> Option<TurnScore> {
        Some(TurnScore {
            label: Polarity::Neutral,
            negative: (-score).max(0.0),
            neutral: 0.0,
            positive: score.max(0.0),
            score,
            intensity: score,
            windows: 1,
        })
    }

    #[test]
    fn per_speaker_and_call_numbers() {
        use Role::*;
        let turns = vec![
            turn("Ann", Agent, 0, 2000, "hello how can I help"),
            turn(
                "Bob",
                Customer,
                2500,
                6500,
                "my internet is down again today",
            ),
            turn("Ann", Agent, 6000, 8000, "sorry to hear that"),
            turn("Bob", Customer, 12_000, 15_000, "this is the third outage"),
            turn("Ann", Agent, 15_100, 17_000, "let me fix it"),
            turn("Bob", Customer, 17_500, 19_500, "thanks that really works"),
        ];
        let scores = vec![s(0.5), s(-0.5), s(0.0), s(-0.8), s(0.3), s(0.6)];
        let timings = turn_timings(&turns, Channel::Voice, &TimingSettings::default());
        let m = call_metrics(&turns, &scores, &timings, Channel::Voice);
        assert_eq!(m.duration_ms, Some(19_500));
        // Talk: [0,2000] [2500,8000] [12000,15000] [15100,17000] [17500,19500].
        assert_eq!(m.talk_ms, Some(2000 + 5500 + 3000 + 1900 + 2000));
        assert_eq!((m.silences, m.non_talk_ms), (1, Some(4000)));
        assert_eq!(m.interruptions.len(), 1);
        assert_eq!(
            (
                m.interruptions[0].by.as_str(),
                m.interruptions[0].of.as_str()
            ),
            ("Ann", "Bob")
        );
        let bob = &m.speakers[1];
        assert_eq!(
            (bob.speaker.as_str(), bob.role, bob.turns),
            ("Bob", Customer, 3)
        );
        assert!((bob.mean.unwrap().score + 0.7 / 3.0).abs() < 1e-6);
        assert!((bob.mean.unwrap().score_100 + 70.0 / 3.0).abs() < 1e-4);
        assert!((bob.shift.unwrap() - 1.1).abs() < 1e-6);
        assert_eq!(bob.by_quarter[0], Some(-0.5));
        assert_eq!(bob.by_quarter[1], None);
        assert_eq!(bob.by_quarter[2], Some(-0.8));
        assert_eq!(bob.by_quarter[3], Some(0.6));
        let run = bob.longest_negative_run.as_ref().unwrap();
        assert_eq!((run.turns, run.start_turn, run.end_turn), (2, 1, 3));
        assert_eq!(run.duration_ms, Some(12_500));
        assert_eq!(bob.talk_ms, Some(9000));
        assert_eq!(bob.words, 15);
        assert!((bob.words_per_minute.unwrap() - 100.0).abs() < 1e-3);
        assert_eq!((bob.interrupted, m.speakers[0].interruptions_made), (1, 1));
    }

    #[test]
    fn untimed_chat_has_sentiment_but_no_talk_time() {
        let turns = vec![
            turn("a", Role::Agent, 0, 0, "hi"),
            turn("c", Role::Customer, 0, 0, "hello"),
        ];
        let timings = turn_timings(&turns, Channel::Chat, &TimingSettings::default());
        let m = call_metrics(&turns, &[s(0.2), None], &timings, Channel::Chat);
        assert_eq!((m.talk_ms, m.non_talk_ms), (None, None));
        assert_eq!(m.speakers[1].mean, None);
        assert_eq!(m.speakers[0].by_quarter, [Some(0.2), None, None, None]);
    }
}
