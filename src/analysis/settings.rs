//! Every threshold the analysis uses, named, documented and defaulted. A rules
//! file can override any of them (`[moments]`, `[timing]` tables); the README
//! lists them with their defaults.

use serde::{Deserialize, Serialize};

/// How a customer turn's anger is read and how moments open, close and are graded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MomentSettings {
    /// Intensity (−1..1, the model's reading of the human −4..+4 rating scale)
    /// at which a turn's intensity reading of anger is full: −0.7 ≈ a rating of −2.8
    /// (set for the default model: its soup reads strong negatives more strongly).
    pub intensity_full: f32,
    /// The negative class's log-odds at which that reading is full: 7 ≈ a
    /// negative probability of 0.999. The probability saturates on any mild
    /// complaint, its log-odds keeps grading (0.99 → 4.6, 0.9999 → 9.2).
    pub odds_full: f32,
    /// Share of the model part taken from the log-odds reading; the rest from
    /// intensity. 0 reads intensity alone, as calltone did before.
    pub odds_weight: f32,
    /// A customer turn at or above this anger is angry: it opens a moment.
    pub open_at: f32,
    /// An open moment closes once `close_after` customer turns in a row fall below this.
    pub close_at: f32,
    pub close_after: usize,
    /// Customer turns over which anger must be sustained for a moment to be
    /// graded above annoyed...
    pub sustain_turns: usize,
    /// ...with at least this many of them angry (at or above `open_at`).
    pub sustain_angry: usize,
    /// Sustained anger (the mean over `sustain_turns` turns starting at an
    /// angry one) at which a moment is frustrated / irate. A turn with an
    /// intent cue (escalation, cancelling, a threat…) counts on its own.
    pub frustrated_at: f32,
    pub irate_at: f32,
    /// Anger added per cue, by kind. Intensifiers (capitals, `!!!`, profanity,
    /// strong words) count only as far as the turn is not read as positive;
    /// intent cues count fully.
    pub intensifier_weight: f32,
    pub intent_weight: f32,
    /// Customer turns over which the sentiment trend is measured.
    pub trend_turns: usize,
    /// A fall in score of at least this much per customer turn over the trend
    /// window counts as anger building (adds `trend_weight`).
    pub trend_drop: f32,
    pub trend_weight: f32,
    /// Anger added by a timing cue (interrupting the agent, a speech-rate jump;
    /// half of it for a long silence after the agent spoke).
    pub timing_weight: f32,
    /// After a moment, the customer counts as recovered when the mean score of
    /// their next turns (at most `recover_turns`) reaches this.
    pub recovered_at: f32,
    pub recover_turns: usize,
}

impl Default for MomentSettings {
    fn default() -> Self {
        Self {
            intensity_full: 0.7,
            odds_full: 7.0,
            odds_weight: 0.5,
            open_at: 0.36,
            close_at: 0.25,
            close_after: 2,
            sustain_turns: 3,
            sustain_angry: 2,
            // Chosen on the moment sets' tuning part only, by `calltone
            // calibrate --detection 0.85` (docs/moments.md): at 0.9 it would
            // double the false alarms for three points of detection.
            frustrated_at: 0.50,
            irate_at: 0.8,
            intensifier_weight: 0.15,
            intent_weight: 0.45,
            trend_turns: 3,
            trend_drop: 0.3,
            trend_weight: 0.05,
            timing_weight: 0.1,
            recovered_at: 0.0,
            recover_turns: 3,
        }
    }
}

/// Timing: what counts as an interruption, a silence, a speech-rate jump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimingSettings {
    /// A turn that starts this long (ms) before the previous speaker's turn
    /// ends interrupts it.
    pub interrupt_min_ms: u64,
    /// A gap between turns at least this long (ms) is non-talk time (a silence).
    pub silence_min_ms: u64,
    /// A customer turn spoken this many times faster than the customer's
    /// median words per minute is a speech-rate jump...
    pub rate_jump: f32,
    /// ...counted only for turns of at least this many words.
    pub rate_min_words: usize,
}

impl Default for TimingSettings {
    fn default() -> Self {
        Self {
            interrupt_min_ms: 300,
            silence_min_ms: 3000,
            rate_jump: 1.4,
            rate_min_words: 6,
        }
    }
}
