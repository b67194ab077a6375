//! The model's reading of one turn, as reported.

use serde::{Deserialize, Serialize};

use crate::engine::UnitScore;
use crate::model::Polarity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnScore {
    pub label: Polarity,
    pub negative: f32,
    pub neutral: f32,
    pub positive: f32,
    /// `positive - negative`, in [-1, 1].
    pub score: f32,
    /// Signed strength in [-1, 1].
    pub intensity: f32,
    /// Windows the turn was split into (1 unless it was longer than the model's input).
    pub windows: usize,
}

impl From<&UnitScore> for TurnScore {
    fn from(u: &UnitScore) -> Self {
        let s = &u.score;
        TurnScore {
            label: s.label(),
            negative: s.negative,
            neutral: s.neutral,
            positive: s.positive,
            score: s.score(),
            intensity: s.intensity,
            windows: u.windows,
        }
    }
}

/// A call's unit scores as turn scores.
pub fn turn_scores(units: &[Option<UnitScore>]) -> Vec<Option<TurnScore>> {
    units
        .iter()
        .map(|u| u.as_ref().map(TurnScore::from))
        .collect()
}
