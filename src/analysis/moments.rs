//! Irate moments: spans of customer turns where anger is present or building.
//!
//! A moment opens at a customer turn whose anger reaches `open_at` (taking in
//! the customer turn just before it when that one was already above
//! `close_at`: anger building) and closes once `close_after` customer turns in
//! a row fall below `close_at`, so it does not flicker on one calmer sentence.
//! It is graded by its sustained anger: the mean over `sustain_turns`
//! customer turns starting at an angry one, of which `sustain_angry` must be
//! angry, or one turn's anger where it carries an intent cue. So one bad
//! sentence about the weather is annoyed at most, never an irate customer.

use serde::{Deserialize, Serialize};

use super::anger::{Evidence, TurnAnger};
use super::settings::MomentSettings;
use crate::transcript::{Role, Turn};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Calm,
    Annoyed,
    Frustrated,
    Irate,
}

impl Severity {
    pub fn of(anger: f32, m: &MomentSettings) -> Severity {
        if anger >= m.irate_at {
            Severity::Irate
        } else if anger >= m.frustrated_at {
            Severity::Frustrated
        } else if anger >= m.open_at {
            Severity::Annoyed
        } else {
            Severity::Calm
        }
    }

    /// The worst severity among `moments`; calm when there are none.
    pub fn worst_of(moments: &[Moment]) -> Severity {
        moments
            .iter()
            .map(|m| m.severity)
            .max()
            .unwrap_or(Severity::Calm)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Calm => "calm",
            Severity::Annoyed => "annoyed",
            Severity::Frustrated => "frustrated",
            Severity::Irate => "irate",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "calm" => Some(Severity::Calm),
            "annoyed" => Some(Severity::Annoyed),
            "frustrated" => Some(Severity::Frustrated),
            "irate" => Some(Severity::Irate),
            _ => None,
        }
    }
}

/// What the agent said just before the moment: the likely trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Trigger {
    pub turn: usize,
    pub speaker: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Moment {
    pub start_turn: usize,
    pub end_turn: usize,
    /// Where anger was already building (annoyed) before the moment proper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_from: Option<usize>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    pub severity: Severity,
    /// The sustained anger the severity was read from (0..1).
    pub anger: f32,
    pub peak_turn: usize,
    pub peak_anger: f32,
    /// The customer turns in the moment.
    pub customer_turns: Vec<usize>,
    pub evidence: Vec<Evidence>,
    pub trigger: Option<Trigger>,
    /// Whether the customer's later turns came back to `recovered_at`; null
    /// when the call ends with the moment.
    pub recovered: Option<bool>,
    /// The first later customer turn at or above `recovered_at`.
    pub recovered_turn: Option<usize>,
}

/// Index ranges (into `angers`) of the spans, with hysteresis.
fn spans(angers: &[TurnAnger], m: &MomentSettings) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, usize)> = None; // (start, last active)
    let mut below = 0;
    for (i, a) in angers.iter().enumerate() {
        match open {
            None if a.anger >= m.open_at => {
                let start = if i > 0
                    && angers[i - 1].anger >= m.close_at
                    && out.last().is_none_or(|&(_, e)| e < i - 1)
                {
                    i - 1
                } else {
                    i
                };
                open = Some((start, i));
                below = 0;
            }
            None => {}
            Some((start, _)) if a.anger >= m.close_at => {
                open = Some((start, i));
                below = 0;
            }
            Some((start, last)) => {
                below += 1;
                if below >= m.close_after.max(1) {
                    out.push((start, last));
                    open = None;
                }
            }
        }
    }
    if let Some(span) = open {
        out.push(span);
    }
    out
}

/// The anger each turn of a span starts to sustain (see the module doc):
/// the mean over the window from it when it is angry and enough of the
/// window is, its own anger when it carries an intent cue, else 0. Windows
/// past the span's end count as calm turns, so a lone last outburst is not
/// sustained anger.
fn sustained_from(span: &[TurnAnger], m: &MomentSettings) -> Vec<f32> {
    let w = m.sustain_turns.max(1);
    span.iter()
        .enumerate()
        .map(|(i, a)| {
            let own = if a.intent { a.anger } else { 0.0 };
            if a.anger < m.open_at {
                return own;
            }
            let window = &span[i..(i + w).min(span.len())];
            let angry = window.iter().filter(|b| b.anger >= m.open_at).count();
            let mean = window.iter().map(|b| b.anger).sum::<f32>() / w as f32;
            if angry >= m.sustain_angry {
                own.max(mean)
            } else {
                own
            }
        })
        .collect()
}

/// Finds the moments of a call from its customer turns' anger (in call order).
pub fn find_moments(turns: &[Turn], angers: &[TurnAnger], m: &MomentSettings) -> Vec<Moment> {
    let mut moments = Vec::new();
    let found = spans(angers, m);
    for (k, &(s, e)) in found.iter().enumerate() {
        let span = &angers[s..=e];
        let from = sustained_from(span, m);
        // A moment is at least annoyed, whatever the windows say.
        let floor = span
            .iter()
            .map(|a| a.anger)
            .fold(0.0, f32::max)
            .min(m.open_at);
        let anger = from.iter().copied().fold(floor, f32::max);
        let severity = Severity::of(anger, m);
        // Above annoyed, the moment starts where anger of its severity first
        // is sustained; an annoyed lead-up before that is kept as `building_from`.
        let first = if severity > Severity::Annoyed {
            from.iter()
                .position(|&v| Severity::of(v, m) > Severity::Annoyed)
                .unwrap_or(0)
        } else {
            0
        };
        let s_first = s + first;
        let peak = span
            .iter()
            .max_by(|a, b| a.anger.total_cmp(&b.anger))
            .expect("a span is never empty");
        let (start_turn, end_turn) = (angers[s_first].turn, angers[e].turn);
        let trigger = turns[..start_turn]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, t)| t.role == Role::Agent && !t.text.trim().is_empty())
            .map(|(i, t)| Trigger {
                turn: i,
                speaker: t.speaker.clone(),
                text: t.text.clone(),
            });
        // Recovery: the customer turns after the moment, up to the next one.
        let next_start = found.get(k + 1).map_or(angers.len(), |&(ns, _)| ns);
        let after = &angers[e + 1..next_start];
        let window = &after[..after.len().min(m.recover_turns.max(1))];
        let recovered = if window.is_empty() {
            None
        } else {
            let mean = window.iter().map(|a| a.score).sum::<f32>() / window.len() as f32;
            Some(mean >= m.recovered_at)
        };
        let recovered_turn = after
            .iter()
            .find(|a| a.score >= m.recovered_at)
            .map(|a| a.turn);
        moments.push(Moment {
            start_turn,
            end_turn,
            start_ms: turns[start_turn].start_ms,
            end_ms: turns[end_turn].end_ms.or(turns[end_turn].start_ms),
            severity,
            building_from: (first > 0).then_some(angers[s].turn),
            anger,
            peak_turn: peak.turn,
            peak_anger: peak.anger,
            customer_turns: span.iter().map(|a| a.turn).collect(),
            evidence: span.iter().flat_map(|a| a.evidence.clone()).collect(),
            trigger,
            recovered,
            recovered_turn,
        });
    }
    moments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn angers(values: &[(f32, f32)]) -> Vec<TurnAnger> {
        // Customer turns at odd positions; agent turns between them.
        values
            .iter()
            .enumerate()
            .map(|(i, &(anger, score))| TurnAnger {
                turn: 2 * i + 1,
                anger,
                score,
                intent: false,
                evidence: vec![],
            })
            .collect()
    }

    fn call(n: usize) -> Vec<Turn> {
        (0..2 * n + 1)
            .map(|i| Turn {
                speaker: if i % 2 == 0 { "Agent" } else { "Cust" }.into(),
                role: if i % 2 == 0 {
                    Role::Agent
                } else {
                    Role::Customer
                },
                role_inferred: false,
                start_ms: Some(i as u64 * 1000),
                end_ms: Some(i as u64 * 1000 + 900),
                wall_clock_ms: None,
                text: format!("turn {i}"),
            })
            .collect()
    }

    #[test]
    fn hysteresis_keeps_one_moment_through_a_calmer_turn() {
        let m = MomentSettings::default();
        let a = angers(&[
            (0.0, 0.5),
            (0.7, -0.7),
            (0.2, -0.1), // one calmer turn: stays open
            (0.9, -0.9),
            (0.1, 0.2),
            (0.0, 0.4), // two below close_at: closed after (0.9)
            (0.0, 0.5),
        ]);
        let ms = find_moments(&call(7), &a, &m);
        assert_eq!(ms.len(), 1);
        let mo = &ms[0];
        assert_eq!((mo.start_turn, mo.end_turn), (3, 7));
        assert_eq!(mo.peak_turn, 7);
        assert_eq!(mo.customer_turns, vec![3, 5, 7]);
        assert_eq!(mo.trigger.as_ref().unwrap().turn, 2);
        assert_eq!(mo.start_ms, Some(3000));
        assert_eq!(mo.end_ms, Some(7900));
        assert_eq!(mo.recovered, Some(true));
        assert_eq!(mo.recovered_turn, Some(9));
    }

    #[test]
    fn one_bad_sentence_is_annoyed_sustained_anger_counts() {
        let m = MomentSettings::default();
        let lone = find_moments(
            &call(3),
            &angers(&[(0.0, 0.3), (1.0, -0.9), (0.0, 0.3)]),
            &m,
        );
        assert_eq!(lone[0].severity, Severity::Annoyed);
        let three = find_moments(
            &call(5),
            &angers(&[
                (0.0, 0.3),
                (0.95, -0.9),
                (0.85, -0.8),
                (0.9, -0.8),
                (0.0, 0.3),
            ]),
            &m,
        );
        assert_eq!(three[0].severity, Severity::Irate);
        assert!((three[0].anger - 0.9).abs() < 1e-6);
        // Two angry turns of three, mean 0.63: frustrated.
        let two = find_moments(
            &call(5),
            &angers(&[
                (0.0, 0.3),
                (0.9, -0.9),
                (0.3, -0.3),
                (0.7, -0.6),
                (0.0, 0.3),
            ]),
            &m,
        );
        assert_eq!(two[0].severity, Severity::Frustrated);
        let mut intent = angers(&[(0.0, 0.3), (0.7, -0.5), (0.0, 0.3)]);
        intent[1].intent = true;
        assert_eq!(
            find_moments(&call(3), &intent, &m)[0].severity,
            Severity::Frustrated
        );
    }

    #[test]
    fn building_anger_starts_the_moment_one_turn_early() {
        let m = MomentSettings::default();
        let a = angers(&[(0.0, 0.3), (0.3, -0.3), (0.7, -0.7), (0.8, -0.8)]);
        let ms = find_moments(&call(4), &a, &m);
        // Sustained anger (0.7 + 0.8) / 3 = 0.5 from turn 5: frustrated there,
        // with the annoyed lead-up at turn 3 kept as where it was building.
        assert_eq!(ms[0].severity, Severity::Frustrated);
        assert_eq!((ms[0].start_turn, ms[0].building_from), (5, Some(3)));
        // Below frustrated, the moment starts where the anger started building.
        let mild = MomentSettings {
            frustrated_at: 0.54,
            ..MomentSettings::default()
        };
        let ms = find_moments(&call(4), &a, &mild);
        assert_eq!((ms[0].severity, ms[0].start_turn), (Severity::Annoyed, 3));
        // The call ends angry: recovery unknown.
        assert_eq!(ms[0].recovered, None);
    }

    #[test]
    fn unrecovered_when_later_turns_stay_negative() {
        let m = MomentSettings::default();
        let a = angers(&[
            (0.7, -0.7),
            (0.7, -0.7),
            (0.1, -0.2),
            (0.1, -0.3),
            (0.1, -0.2),
        ]);
        let ms = find_moments(&call(5), &a, &m);
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].recovered, Some(false));
        assert_eq!(ms[0].recovered_turn, None);
    }

    #[test]
    fn separate_moments_and_severity_names() {
        let m = MomentSettings::default();
        let a = angers(&[(0.7, -0.7), (0.0, 0.5), (0.0, 0.5), (0.7, -0.7)]);
        let ms = find_moments(&call(4), &a, &m);
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].recovered, Some(true));
        assert_eq!(
            serde_json::to_string(&Severity::Irate).unwrap(),
            "\"irate\""
        );
        assert_eq!(Severity::parse("Frustrated"), Some(Severity::Frustrated));
        assert!(Severity::Irate > Severity::Annoyed);
    }
}
