//! How angry one customer turn reads, from every signal we have, each kept as
//! evidence: the model's negative probability and intensity, the trend over
//! the last few customer turns, lexical cues, and timing cues.
//!
//! anger = model part + cues + trend + timing, clipped to [0, 1], where
//! - model part = the mean (weighted by `odds_weight`) of two readings of how
//!   negative the turn is, each in 0..1: `-intensity / intensity_full` (on the
//!   human rating scale) and `logit(negative) / odds_full` (the negative
//!   class's log-odds). The probability itself saturates on any mild
//!   complaint ("that's unfortunate" reads 0.99 negative) but its log-odds
//!   keeps grading, and the two readings err on different turns: together
//!   they tell strongly negative turns from chit-chat's mild gripes better
//!   than either (README, "How well it works");
//! - when the turn carries an intent cue the model part is at least the
//!   negative probability, and a positive reading never subtracts: "kindly
//!   fix this now" is not made calm by "kindly";
//! - each intensifier cue adds `intensifier_weight × (1 − positive)`;
//! - each intent cue adds `intent_weight`;
//! - a falling trend adds `trend_weight`; each timing cue adds `timing_weight`.

use serde::{Deserialize, Serialize};

use super::cues::Cue;
use super::lexical_cues::{lexical_cues, CueKind};
use super::settings::{MomentSettings, TimingSettings};
use super::timing::TurnTiming;
use super::turn_score::TurnScore;

/// One piece of evidence behind a turn's anger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    pub turn: usize,
    pub cue: Cue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f32>,
}

/// A scored customer turn's anger and why.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnAnger {
    pub turn: usize,
    pub anger: f32,
    pub score: f32,
    /// Carries an intent cue: enough on its own to grade a moment.
    pub intent: bool,
    pub evidence: Vec<Evidence>,
}

/// The inputs for one customer turn.
pub struct CustomerTurn<'a> {
    pub turn: usize,
    pub text: &'a str,
    pub score: &'a TurnScore,
    pub timing: &'a TurnTiming,
    /// Whether the turn it interrupted (if any) was the agent's.
    pub interrupted_agent: bool,
    /// Whether the turn before it was the agent's (for silences).
    pub after_agent: bool,
}

/// Least-squares slope of the scores, per turn.
pub fn slope(ys: &[f32]) -> f32 {
    let n = ys.len() as f32;
    if ys.len() < 2 {
        return 0.0;
    }
    let mx = (n - 1.0) / 2.0;
    let my = ys.iter().sum::<f32>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f32 - mx;
        num += dx * (y - my);
        den += dx * dx;
    }
    num / den
}

fn quote_of(text: &str) -> String {
    const MAX: usize = 160;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// How negative the model reads the turn, 0..1: intensity and the negative
/// class's log-odds, each scaled to its full point and kept in 0..1 (a reading
/// of positive on one cannot cancel the other), mixed by `odds_weight`.
pub fn model_strength(s: &TurnScore, m: &MomentSettings) -> f32 {
    let by_intensity = (-s.intensity / m.intensity_full.max(1e-3)).clamp(0.0, 1.0);
    // Clamped so that a probability of exactly 0 or 1 stays finite.
    let p = s.negative.clamp(1e-6, 1.0 - 1e-6);
    let by_odds = ((p / (1.0 - p)).ln() / m.odds_full.max(1e-3)).clamp(0.0, 1.0);
    let w = m.odds_weight.clamp(0.0, 1.0);
    ((1.0 - w) * by_intensity + w * by_odds).clamp(0.0, 1.0)
}

/// Reads each customer turn in order; `previous_scores` carries the trend.
pub fn turn_anger(
    t: &CustomerTurn,
    previous_scores: &[f32],
    customer_median_wpm: Option<f32>,
    m: &MomentSettings,
    timing: &TimingSettings,
) -> TurnAnger {
    let s = t.score;
    let cues = lexical_cues(t.text);
    let intent = cues.iter().any(|c| c.kind == CueKind::Intent);
    let strength = model_strength(s, m);
    let model = if intent {
        strength.max(s.negative)
    } else {
        strength
    };
    let mut anger = model;
    let mut evidence = vec![
        Evidence {
            turn: t.turn,
            cue: Cue::Negative,
            quote: Some(quote_of(t.text)),
            value: Some(s.negative),
        },
        Evidence {
            turn: t.turn,
            cue: Cue::Intensity,
            quote: None,
            value: Some(s.intensity),
        },
    ];
    for c in &cues {
        anger += match c.kind {
            CueKind::Intensifier => m.intensifier_weight * (1.0 - s.positive),
            CueKind::Intent => m.intent_weight,
        };
        evidence.push(Evidence {
            turn: t.turn,
            cue: c.cue,
            quote: Some(c.quote.clone()),
            value: None,
        });
    }
    let k = m.trend_turns.max(2);
    if previous_scores.len() + 1 >= k {
        let mut window: Vec<f32> = previous_scores[previous_scores.len() + 1 - k..].to_vec();
        window.push(s.score);
        let trend = slope(&window);
        if trend <= -m.trend_drop && s.score < 0.0 {
            anger += m.trend_weight;
            evidence.push(Evidence {
                turn: t.turn,
                cue: Cue::Trend,
                quote: None,
                value: Some(trend),
            });
        }
    }
    if t.interrupted_agent && t.timing.interrupts.is_some() {
        anger += m.timing_weight;
        evidence.push(Evidence {
            turn: t.turn,
            cue: Cue::InterruptsAgent,
            quote: None,
            value: Some(t.timing.overlap_ms as f32),
        });
    }
    if let (Some(wpm), Some(median)) = (t.timing.words_per_minute, customer_median_wpm) {
        if t.timing.words >= timing.rate_min_words && wpm >= timing.rate_jump * median {
            anger += m.timing_weight;
            evidence.push(Evidence {
                turn: t.turn,
                cue: Cue::SpeechRateJump,
                quote: None,
                value: Some(wpm / median),
            });
        }
    }
    if let (true, Some(ms)) = (t.after_agent, t.timing.silence_before_ms) {
        // Dead air after the agent speaks is worth showing but says little alone.
        anger += 0.5 * m.timing_weight;
        evidence.push(Evidence {
            turn: t.turn,
            cue: Cue::SilenceAfterAgent,
            quote: None,
            value: Some(ms as f32),
        });
    }
    TurnAnger {
        turn: t.turn,
        anger: anger.clamp(0.0, 1.0),
        score: s.score,
        intent,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Polarity;

    pub(crate) fn score(neg: f32, pos: f32, intensity: f32) -> TurnScore {
        TurnScore {
            label: Polarity::Neutral,
            negative: neg,
            neutral: 1.0 - neg - pos,
            positive: pos,
            score: pos - neg,
            intensity,
            windows: 1,
        }
    }

    fn read(text: &str, s: &TurnScore) -> TurnAnger {
        let timing = TurnTiming::default();
        let t = CustomerTurn {
            turn: 3,
            text,
            score: s,
            timing: &timing,
            interrupted_agent: false,
            after_agent: true,
        };
        turn_anger(
            &t,
            &[],
            None,
            &MomentSettings::default(),
            &TimingSettings::default(),
        )
    }

    /// The negative probability whose log-odds is `odds` (its logistic).
    fn p_of_odds(odds: f32) -> f32 {
        1.0 / (1.0 + (-odds).exp())
    }

    #[test]
    fn model_part_mixes_intensity_and_log_odds() {
        let m = MomentSettings::default();
        // Half of the full intensity and half of the full log-odds: half the anger.
        let half = score(p_of_odds(0.5 * m.odds_full), 0.01, -0.5 * m.intensity_full);
        let a = read("this is awful", &half);
        assert!((a.anger - 0.5).abs() < 1e-4, "{}", a.anger);
        // Each reading counts by its weight: full intensity with even odds
        // (log-odds 0) gives 1 - odds_weight.
        let by_intensity = model_strength(&score(0.5, 0.0, -m.intensity_full), &m);
        assert!((by_intensity - (1.0 - m.odds_weight)).abs() < 1e-4);
        // With odds_weight 0 only intensity counts, as before the mix.
        let intensity_only = MomentSettings {
            odds_weight: 0.0,
            ..m.clone()
        };
        let s = score(0.9999, 0.0, -0.25 * m.intensity_full);
        assert!((model_strength(&s, &intensity_only) - 0.25).abs() < 1e-5);
        // A saturated probability with a mild intensity is at most annoyed:
        // it cannot grade a frustrated moment on its own...
        let mild = read("that's unfortunate", &score(0.99, 0.0, -0.1));
        assert!(mild.anger < m.frustrated_at, "{}", mild.anger);
        // ...while a strong reading on both is full anger.
        let strong = read("this is the worst", &score(0.9999, 0.0, -m.intensity_full));
        assert_eq!(strong.anger, 1.0);
        let calm = read("fine thanks", &score(0.05, 0.8, 0.5));
        assert_eq!(calm.anger, 0.0);
    }

    #[test]
    fn certain_probabilities_stay_finite() {
        let m = MomentSettings::default();
        assert_eq!(model_strength(&score(0.0, 1.0, 0.9), &m), 0.0);
        assert_eq!(model_strength(&score(1.0, 0.0, -1.0), &m), 1.0);
        // A certain negative with a neutral intensity: the odds part saturates
        // at its weight, nothing overflows.
        let s = model_strength(&score(1.0, 0.0, 0.0), &m);
        assert!(s.is_finite() && (s - m.odds_weight).abs() < 1e-4, "{s}");
    }

    #[test]
    fn politeness_does_not_cancel_an_intent() {
        // The model reads the polite words as fairly positive...
        let s = score(0.4, 0.5, 0.1);
        let plain = read("kindly look at my bill", &s);
        let demand = read("kindly fix this now", &s);
        assert!(plain.anger < 0.05);
        // ...but the demand counts in full and the positive reading is ignored.
        assert!(
            (demand.anger - (0.4 + 0.45)).abs() < 1e-5,
            "{}",
            demand.anger
        );
        assert!(demand.intent);
        assert!(demand
            .evidence
            .iter()
            .any(|e| e.cue == Cue::Demand && e.quote.as_deref() == Some("fix this now")));
    }

    #[test]
    fn intensifiers_do_not_make_delight_angry() {
        let happy = read("THIS IS AMAZING!!! thank you", &score(0.02, 0.95, 0.8));
        assert!(happy.anger < 0.02, "{}", happy.anger);
        let angry = read("THIS IS BROKEN!!! again", &score(0.99, 0.0, -0.5));
        assert!(angry.anger > 0.8, "{}", angry.anger);
    }

    #[test]
    fn a_falling_trend_is_evidence() {
        let timing = TurnTiming::default();
        let s = score(0.7, 0.1, -0.3);
        let t = CustomerTurn {
            turn: 5,
            text: "no that's not it",
            score: &s,
            timing: &timing,
            interrupted_agent: false,
            after_agent: true,
        };
        let m = MomentSettings::default();
        let a = turn_anger(&t, &[0.6, 0.1], None, &m, &TimingSettings::default());
        let trend = a.evidence.iter().find(|e| e.cue == Cue::Trend).unwrap();
        assert!((trend.value.unwrap() + 0.6).abs() < 1e-5);
        let flat = turn_anger(&t, &[-0.6, -0.6], None, &m, &TimingSettings::default());
        assert!(flat.evidence.iter().all(|e| e.cue != Cue::Trend));
        assert!((a.anger - flat.anger - m.trend_weight).abs() < 1e-5);
    }

    #[test]
    fn timing_cues_add_evidence() {
        let timing = TurnTiming {
            interrupts: Some(2),
            overlap_ms: 800,
            silence_before_ms: None,
            words: 10,
            words_per_minute: Some(300.0),
        };
        let s = score(0.6, 0.1, -0.2);
        let t = CustomerTurn {
            turn: 3,
            text: "no no no listen to me you are not",
            score: &s,
            timing: &timing,
            interrupted_agent: true,
            after_agent: true,
        };
        let a = turn_anger(
            &t,
            &[],
            Some(150.0),
            &MomentSettings::default(),
            &TimingSettings::default(),
        );
        let cues: Vec<&str> = a.evidence.iter().map(|e| e.cue.as_str()).collect();
        assert!(cues.contains(&"interrupts_agent") && cues.contains(&"speech_rate_jump"));
    }

    #[test]
    fn slope_is_least_squares() {
        assert!((slope(&[0.0, -0.5, -1.0]) + 0.5).abs() < 1e-6);
        assert_eq!(slope(&[0.3]), 0.0);
    }
}
