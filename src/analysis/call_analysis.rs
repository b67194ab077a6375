//! One call, analysed: timing, each customer turn's anger, the moments, the
//! call metrics and the rule categories. Pure: same inputs, same answer, so
//! `calltone analyze` on saved results matches what `score` wrote.

use serde::{Deserialize, Serialize};

use super::anger::{turn_anger, CustomerTurn, TurnAnger};
use super::call_metrics::{call_metrics, CallMetrics};
use super::moments::{find_moments, Moment};
use super::rules::{categorise, CallFacts, CategoryMatch, Rules};
use super::timing::turn_timings;
use super::turn_score::TurnScore;
use crate::transcript::{Channel, Role, Turn};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallAnalysis {
    pub moments: Vec<Moment>,
    pub metrics: CallMetrics,
    pub categories: Vec<CategoryMatch>,
    /// Each turn's anger (customer turns that were scored; `None` elsewhere).
    pub anger_by_turn: Vec<Option<f32>>,
}

fn median(mut xs: Vec<f32>) -> Option<f32> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f32::total_cmp);
    Some(xs[xs.len() / 2])
}

/// Each scored customer turn's anger, in call order.
fn customer_anger(
    turns: &[Turn],
    scores: &[Option<TurnScore>],
    timings: &[super::timing::TurnTiming],
    rules: &Rules,
) -> Vec<TurnAnger> {
    let customer_wpm = median(
        turns
            .iter()
            .zip(timings)
            .filter(|(t, x)| t.role == Role::Customer && x.words >= rules.timing.rate_min_words)
            .filter_map(|(_, x)| x.words_per_minute)
            .collect(),
    );
    let mut previous = Vec::new();
    let mut out = Vec::new();
    for (i, t) in turns.iter().enumerate() {
        let Some(score) = scores[i].as_ref().filter(|_| t.role == Role::Customer) else {
            continue;
        };
        let timing = &timings[i];
        let input = CustomerTurn {
            turn: i,
            text: &t.text,
            score,
            timing,
            interrupted_agent: timing
                .interrupts
                .is_some_and(|j| turns[j].role == Role::Agent),
            after_agent: i > 0 && turns[i - 1].role == Role::Agent,
        };
        out.push(turn_anger(
            &input,
            &previous,
            customer_wpm,
            &rules.moments,
            &rules.timing,
        ));
        previous.push(score.score);
    }
    out
}

/// Each scored customer turn's anger, in call order: the part of the
/// analysis that reads the words (for `calibrate`, which varies the rest).
pub fn customer_angers(
    turns: &[Turn],
    scores: &[Option<TurnScore>],
    channel: Channel,
    rules: &Rules,
) -> Vec<TurnAnger> {
    let timings = turn_timings(turns, channel, &rules.timing);
    customer_anger(turns, scores, &timings, rules)
}

pub fn analyse_call(
    turns: &[Turn],
    scores: &[Option<TurnScore>],
    channel: Channel,
    rules: &Rules,
) -> CallAnalysis {
    let timings = turn_timings(turns, channel, &rules.timing);
    let angers = customer_anger(turns, scores, &timings, rules);
    let moments = find_moments(turns, &angers, &rules.moments);
    let metrics = call_metrics(turns, scores, &timings, channel);
    let categories = categorise(
        rules,
        &CallFacts {
            turns,
            scores,
            metrics: &metrics,
            moments: &moments,
        },
    );
    let mut anger_by_turn = vec![None; turns.len()];
    for a in &angers {
        anger_by_turn[a.turn] = Some(a.anger);
    }
    CallAnalysis {
        moments,
        metrics,
        categories,
        anger_by_turn,
    }
}
