//! The moments bar, measured: false alarms on calm conversations and
//! detection on angry ones (see `moment_sets`).

use serde::Serialize;

use super::moment_sets::{truth_of, Truth};
use crate::analysis::{Moment, Severity};
use crate::transcript::{Role, Turn};

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
}

fn rate(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// Measures the bar over analysed conversations: (id, turns, moments).
pub fn measure<'a>(
    calls: impl IntoIterator<Item = (&'a str, &'a [Turn], &'a [Moment])>,
) -> MomentBar {
    let mut bar = MomentBar::default();
    let mut calm_alarm: std::collections::BTreeMap<String, bool> = Default::default();
    for (id, turns, moments) in calls {
        let alarms: Vec<&Moment> = moments.iter().filter(|m| m.severity >= ALARM).collect();
        match truth_of(id) {
            Some(Truth::Calm { conversation }) => {
                bar.calm_readings += 1;
                bar.false_alarm_readings += usize::from(!alarms.is_empty());
                bar.calm_readings_with_any_moment += usize::from(!moments.is_empty());
                *calm_alarm.entry(conversation).or_default() |= !alarms.is_empty();
            }
            Some(Truth::Angry {
                first_turn,
                last_turn,
            }) => {
                bar.angry_conversations += 1;
                let worst = moments
                    .iter()
                    .map(|m| m.severity)
                    .max()
                    .unwrap_or(Severity::Calm);
                bar.angry_worst_severity[worst as usize] += 1;
                let customer_index = |turn: usize| {
                    turns[..turn]
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
        let calls: Vec<(&str, &[Turn], &[Moment])> = vec![
            ("calm/x/a", &t, &none),
            ("calm/x/b", &t, &alarm),
            ("calm/y/a", &t, &annoyed),
            ("calm/y/b", &t, &none),
            ("angry/p/9-13", &t, &on_time),
            ("angry/q/9-13", &t, &early),
            ("angry/r/9-13", &t, &annoyed),
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
            (3, 1, 2)
        );
        assert_eq!(b.detected_within_one_call_turn, 0);
        assert_eq!(b.angry_worst_severity, [0, 1, 2, 0]);
    }
}
