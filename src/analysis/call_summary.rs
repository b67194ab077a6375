//! One call at a glance: how each role's sentiment averaged and moved.

use serde::{Deserialize, Serialize};

use super::turn_score::TurnScore;
use crate::transcript::{Role, Turn};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoleSentiment {
    pub turns: usize,
    /// Mean `score` over the role's scored turns.
    pub mean_score: f32,
    pub min_score: f32,
    /// Mean of the first and of the last third of the role's scored turns
    /// (one turn each for short calls), and the shift between them.
    pub start_score: f32,
    pub end_score: f32,
    pub shift: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSummary {
    pub turns: usize,
    pub scored_turns: usize,
    pub customer: Option<RoleSentiment>,
    pub agent: Option<RoleSentiment>,
    /// True when any role was guessed rather than given.
    pub roles_inferred: bool,
}

fn role_sentiment(scores: &[f32]) -> Option<RoleSentiment> {
    if scores.is_empty() {
        return None;
    }
    let n = scores.len();
    let mean = |s: &[f32]| s.iter().sum::<f32>() / s.len() as f32;
    let k = n.div_ceil(3).max(1);
    let start = mean(&scores[..k]);
    let end = mean(&scores[n - k..]);
    Some(RoleSentiment {
        turns: n,
        mean_score: mean(scores),
        min_score: scores.iter().copied().fold(f32::INFINITY, f32::min),
        start_score: start,
        end_score: end,
        shift: end - start,
    })
}

/// Summarises a call from its turns and their scores (`None` = not scored).
pub fn summarise_call(turns: &[Turn], scores: &[Option<TurnScore>]) -> CallSummary {
    let of_role = |r: Role| -> Vec<f32> {
        turns
            .iter()
            .zip(scores)
            .filter(|(t, _)| t.role == r)
            .filter_map(|(_, s)| s.as_ref().map(|s| s.score))
            .collect()
    };
    CallSummary {
        turns: turns.len(),
        scored_turns: scores.iter().filter(|s| s.is_some()).count(),
        customer: role_sentiment(&of_role(Role::Customer)),
        agent: role_sentiment(&of_role(Role::Agent)),
        roles_inferred: turns.iter().any(|t| t.role_inferred),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Polarity;

    fn turn(role: Role) -> Turn {
        Turn {
            speaker: role.as_str().into(),
            role,
            role_inferred: false,
            wall_clock_ms: None,
            start_ms: None,
            end_ms: None,
            text: "x".into(),
        }
    }

    fn score(s: f32) -> Option<TurnScore> {
        Some(TurnScore {
            label: Polarity::Neutral,
            negative: 0.0,
            neutral: 1.0,
            positive: 0.0,
            score: s,
            intensity: s,
            windows: 1,
        })
    }

    #[test]
    fn customer_shift_from_first_to_last_third() {
        let turns = vec![
            turn(Role::Customer),
            turn(Role::Agent),
            turn(Role::Customer),
            turn(Role::Customer),
            turn(Role::Customer),
        ];
        let scores = vec![score(0.5), score(0.9), score(-0.5), None, score(-0.9)];
        let s = summarise_call(&turns, &scores);
        assert_eq!(s.scored_turns, 4);
        let c = s.customer.unwrap();
        assert_eq!(c.turns, 3);
        assert!((c.start_score - 0.5).abs() < 1e-6 && (c.end_score + 0.9).abs() < 1e-6);
        assert!((c.shift + 1.4).abs() < 1e-6);
        assert!((c.min_score + 0.9).abs() < 1e-6);
        assert_eq!(s.agent.unwrap().turns, 1);
    }
}
