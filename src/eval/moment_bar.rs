//! The moments bar, measured: false alarms on calm conversations and
//! detection on angry ones (see `moment_sets`).

use serde::Serialize;

use super::metrics::roc_auc;
use crate::analysis::{CallAnalysis, Moment, Severity};
use crate::data::moment_sets::{truth_of, Truth};
use crate::transcript::{Conversation, Role, Turn};

/// A moment at or above this severity is an alarm.
pub const ALARM: Severity = Severity::Frustrated;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MomentBar {
    /// Distinct calm conversations, and readings of them (one per participant as customer).
    pub calm_conversations: usize,
    pub calm_readings: usize,
    /// Conversations where either reading has a frustrated-or-worse moment.
    pub false_alarm_conversations: usize,
    pub false_alarm_rate: f64,
    pub false_alarm_readings: usize,
    pub false_alarm_reading_rate: f64,
    /// Readings with any moment at all (annoyed included).
    pub calm_readings_with_any_moment: usize,
    pub angry_conversations: usize,
    /// A frustrated-or-worse moment covering the angry turns and starting
    /// within one customer turn of the first of them.
    pub detected: usize,
    pub detection_rate: f64,
    /// ...and starting within one turn of it in the call's own numbering.
    pub detected_within_one_call_turn: usize,
    /// A frustrated-or-worse moment overlapping the angry turns at all.
    pub detected_anywhere: usize,
    /// Worst severity found per angry conversation: calm (none), annoyed, frustrated, irate.
    pub angry_worst_severity: [usize; 4],
    /// Scored customer turns over all calm readings, and the frustrated-or-worse
    /// moments among them: a rate that does not depend on how long the
    /// conversations are (long chats have more chances to alarm).
    pub calm_customer_turns: usize,
    pub false_alarm_moments: usize,
    pub false_alarms_per_1000_customer_turns: f64,
    /// Calm readings by their number of scored customer turns.
    pub by_length: Vec<LengthBucket>,
    /// How well one customer turn's anger tells the inserted strongly
    /// negative turns from the calm readings' customer turns (ROC AUC): the
    /// limit every moment rule built on it works within.
    pub turn_separation_auc: f64,
    /// The same counts with the alarm at each severity: annoyed or worse,
    /// frustrated or worse, irate.
    pub by_severity: Vec<SeverityRow>,
}

/// Calm readings alarmed and angry conversations detected (starting within
/// one customer turn) with the alarm at `at_least`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityRow {
    pub at_least: Severity,
    pub calm_readings: usize,
    pub false_alarm_readings: usize,
    pub angry_conversations: usize,
    pub detected: usize,
}

const LEVELS: [Severity; 3] = [Severity::Annoyed, Severity::Frustrated, Severity::Irate];

/// Calm readings of up to `max_customer_turns` scored customer turns (the
/// last bucket has no limit), and how many of them alarm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LengthBucket {
    pub max_customer_turns: Option<usize>,
    pub readings: usize,
    pub with_alarm: usize,
    pub rate: f64,
}

/// Upper ends of the reading-length buckets (customer turns); one more bucket takes the rest.
const LENGTH_BUCKETS: [usize; 3] = [10, 20, 40];

/// One analysed test conversation.
pub struct MeasuredCall<'a> {
    pub id: &'a str,
    pub turns: &'a [Turn],
    pub moments: &'a [Moment],
    /// Each turn's anger (scored customer turns only).
    pub anger_by_turn: &'a [Option<f32>],
}

impl<'a> MeasuredCall<'a> {
    /// A test conversation with its analysis.
    pub fn of(conversation: &'a Conversation, analysis: &'a CallAnalysis) -> Self {
        Self {
            id: &conversation.id,
            turns: &conversation.turns,
            moments: &analysis.moments,
            anger_by_turn: &analysis.anger_by_turn,
        }
    }
}

fn rate(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// Measures the bar over analysed conversations.
pub fn measure<'a>(calls: impl IntoIterator<Item = MeasuredCall<'a>>) -> MomentBar {
    let mut bar = MomentBar::default();
    let mut calm_alarm: std::collections::BTreeMap<String, bool> = Default::default();
    let mut buckets = vec![(0usize, 0usize); LENGTH_BUCKETS.len() + 1];
    // Per-turn anger, and whether the turn is one of the inserted angry ones.
    let (mut turn_anger, mut turn_inserted) = (Vec::new(), Vec::new());
    let mut by_severity: Vec<SeverityRow> = LEVELS
        .iter()
        .map(|&at_least| SeverityRow {
            at_least,
            calm_readings: 0,
            false_alarm_readings: 0,
            angry_conversations: 0,
            detected: 0,
        })
        .collect();
    for call in calls {
        let MeasuredCall {
            id,
            turns,
            moments,
            anger_by_turn,
        } = call;
        let alarms: Vec<&Moment> = moments.iter().filter(|m| m.severity >= ALARM).collect();
        match truth_of(id) {
            Some(Truth::Calm { conversation }) => {
                bar.calm_readings += 1;
                for row in &mut by_severity {
                    row.calm_readings += 1;
                    row.false_alarm_readings +=
                        usize::from(moments.iter().any(|m| m.severity >= row.at_least));
                }
                bar.false_alarm_readings += usize::from(!alarms.is_empty());
                bar.calm_readings_with_any_moment += usize::from(!moments.is_empty());
                bar.false_alarm_moments += alarms.len();
                *calm_alarm.entry(conversation).or_default() |= !alarms.is_empty();
                let angers: Vec<f32> = anger_by_turn.iter().flatten().copied().collect();
                bar.calm_customer_turns += angers.len();
                let b = LENGTH_BUCKETS
                    .iter()
                    .position(|&max| angers.len() <= max)
                    .unwrap_or(LENGTH_BUCKETS.len());
                buckets[b].0 += 1;
                buckets[b].1 += usize::from(!alarms.is_empty());
                turn_inserted.extend(std::iter::repeat_n(false, angers.len()));
                turn_anger.extend(angers.iter().map(|&a| f64::from(a)));
            }
            Some(Truth::Angry {
                first_turn,
                last_turn,
            }) => {
                bar.angry_conversations += 1;
                let inserted = anger_by_turn.get(first_turn..=last_turn).unwrap_or(&[]);
                for a in inserted.iter().flatten() {
                    turn_anger.push(f64::from(*a));
                    turn_inserted.push(true);
                }
                let worst = Severity::worst_of(moments);
                bar.angry_worst_severity[worst as usize] += 1;
                let customer_index = |turn: usize| {
                    // Ids come from saved files: a turn past the call's end counts all of it.
                    turns[..turn.min(turns.len())]
                        .iter()
                        .filter(|t| t.role == Role::Customer)
                        .count() as i64
                };
                let overlapping: Vec<&&Moment> = alarms
                    .iter()
                    .filter(|m| m.start_turn <= last_turn && m.end_turn >= first_turn)
                    .collect();
                bar.detected_anywhere += usize::from(!overlapping.is_empty());
                let near = |m: &&&Moment| {
                    (customer_index(m.start_turn) - customer_index(first_turn)).abs() <= 1
                };
                bar.detected += usize::from(overlapping.iter().any(near));
                for row in &mut by_severity {
                    row.angry_conversations += 1;
                    row.detected += usize::from(moments.iter().any(|m| {
                        m.severity >= row.at_least
                            && m.start_turn <= last_turn
                            && m.end_turn >= first_turn
                            && near(&&m)
                    }));
                }
                bar.detected_within_one_call_turn += usize::from(
                    overlapping
                        .iter()
                        .any(|m| m.start_turn.abs_diff(first_turn) <= 1),
                );
            }
            None => {}
        }
    }
    bar.calm_conversations = calm_alarm.len();
    bar.false_alarm_conversations = calm_alarm.values().filter(|a| **a).count();
    bar.false_alarm_rate = rate(bar.false_alarm_conversations, bar.calm_conversations);
    bar.false_alarm_reading_rate = rate(bar.false_alarm_readings, bar.calm_readings);
    bar.detection_rate = rate(bar.detected, bar.angry_conversations);
    bar.false_alarms_per_1000_customer_turns =
        1000.0 * rate(bar.false_alarm_moments, bar.calm_customer_turns);
    bar.by_length = buckets
        .iter()
        .enumerate()
        .map(|(i, &(readings, with_alarm))| LengthBucket {
            max_customer_turns: LENGTH_BUCKETS.get(i).copied(),
            readings,
            with_alarm,
            rate: rate(with_alarm, readings),
        })
        .collect();
    bar.turn_separation_auc = roc_auc(&turn_anger, &turn_inserted);
    bar.by_severity = by_severity;
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(n: usize) -> Vec<Turn> {
        (0..n)
            .map(|i| Turn {
                speaker: String::new(),
                role: if i % 2 == 0 {
                    Role::Agent
                } else {
                    Role::Customer
                },
                role_inferred: false,
                start_ms: None,
                end_ms: None,
                wall_clock_ms: None,
                text: String::new(),
            })
            .collect()
    }

    fn moment(start: usize, end: usize, severity: Severity) -> Moment {
        Moment {
            start_turn: start,
            end_turn: end,
            building_from: None,
            start_ms: None,
            end_ms: None,
            severity,
            anger: 0.7,
            peak_turn: start,
            peak_anger: 0.7,
            customer_turns: vec![],
            evidence: vec![],
            trigger: None,
            recovered: None,
            recovered_turn: None,
        }
    }

    #[test]
    fn counts_alarms_and_detections() {
        let t = turns(20);
        let none: Vec<Moment> = vec![];
        let alarm = vec![moment(3, 5, Severity::Irate)];
        let annoyed = vec![moment(3, 3, Severity::Annoyed)];
        let early = vec![moment(5, 13, Severity::Frustrated)]; // two customer turns early
        let on_time = vec![moment(7, 13, Severity::Frustrated)]; // one customer turn early

        // Customer turns (odd) read calm at 0.1, except turns 3 and 5 (0.5) of
        // the alarming calm reading, and the inserted turns 9..=13.
        let calm_anger: Vec<Option<f32>> = (0..20).map(|i| (i % 2 == 1).then_some(0.1)).collect();
        let mut alarm_anger = calm_anger.clone();
        alarm_anger[3] = Some(0.5);
        alarm_anger[5] = Some(0.5);
        let mut angry_anger = calm_anger.clone();
        for (i, a) in [(9, 0.15), (11, 0.9), (13, 0.7)] {
            angry_anger[i] = Some(a);
        }
        let short: Vec<Turn> = turns(6);
        let short_anger: Vec<Option<f32>> = (0..6).map(|i| (i % 2 == 1).then_some(0.2)).collect();
        let call = |id, turns, moments, anger_by_turn| MeasuredCall {
            id,
            turns,
            moments,
            anger_by_turn,
        };
        let calls = vec![
            call("calm/x/a", &t, &none, &calm_anger),
            call("calm/x/b", &t, &alarm, &alarm_anger),
            call("calm/y/a", &t, &annoyed, &calm_anger),
            call("calm/y/b", &short, &none, &short_anger),
            call("angry/p/9-13", &t, &on_time, &angry_anger),
            call("angry/q/9-13", &t, &early, &angry_anger),
            call("angry/r/9-13", &t, &annoyed, &angry_anger),
            // A saved file's id may point past the call: no panic, nothing inserted.
            call("angry/s/90-99", &t, &none, &calm_anger),
        ];
        let b = measure(calls);
        assert_eq!((b.calm_conversations, b.calm_readings), (2, 4));
        assert_eq!(
            (b.false_alarm_conversations, b.false_alarm_readings),
            (1, 1)
        );
        assert_eq!(b.false_alarm_rate, 0.5);
        assert_eq!(b.calm_readings_with_any_moment, 2);
        assert_eq!(
            (b.angry_conversations, b.detected, b.detected_anywhere),
            (4, 1, 2)
        );
        assert_eq!(b.detected_within_one_call_turn, 0);
        assert_eq!(b.angry_worst_severity, [1, 1, 2, 0]);
        // 10 + 10 + 10 + 3 calm customer turns, one alarm among them.
        assert_eq!((b.calm_customer_turns, b.false_alarm_moments), (33, 1));
        assert!((b.false_alarms_per_1000_customer_turns - 1000.0 / 33.0).abs() < 1e-9);
        let lengths: Vec<(Option<usize>, usize, usize)> = b
            .by_length
            .iter()
            .map(|l| (l.max_customer_turns, l.readings, l.with_alarm))
            .collect();
        assert_eq!(
            lengths,
            [
                (Some(10), 4, 1),
                (Some(20), 0, 0),
                (Some(40), 0, 0),
                (None, 0, 0)
            ]
        );
        // Inserted turns (0.15, 0.9, 0.7 in each of three calls) against the 33
        // calm ones (0.1 ×28, 0.2 ×3, 0.5 ×2): the 0.15s beat only the 0.1s.
        let expected = (6.0 * 33.0 + 3.0 * 28.0) / (9.0 * 33.0);
        assert!((b.turn_separation_auc - expected).abs() < 1e-12);
    }
}
