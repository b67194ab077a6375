//! Moments while the call is still going: turns arrive one at a time (from
//! many calls at once), each call's analysis is redone on what it has so
//! far, and an event is raised the moment a customer's anger reaches the
//! alert severity, when it escalates further, when the customer recovers,
//! and when the call ends. Same analysis, settings and evidence as batch
//! mode; pure (the caller scores turns and says what time it is), with
//! memory bounded by an idle timeout, a cap on open calls and a cap on the
//! turns kept per call.

use std::collections::HashMap;

use serde::Serialize;

use super::call_analysis::analyse_call;
use super::moments::{Moment, Severity};
use super::rules::Rules;
use super::turn_score::TurnScore;
use crate::transcript::detect::channel_of;
use crate::transcript::{Format, Turn};

#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// A call with no new turn for this long (ms) is closed.
    pub idle_timeout_ms: u64,
    /// At most this many open calls; beyond it the longest idle one is closed.
    pub max_calls: usize,
    /// Turns kept per call; older ones leave the analysis (their numbers stay).
    pub max_turns: usize,
    /// Raise an alert when a moment reaches this severity.
    pub alert_at: Severity,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            idle_timeout_ms: 15 * 60 * 1000,
            max_calls: 10_000,
            max_turns: 1_000,
            alert_at: Severity::Irate,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A moment reached the alert severity.
    Alert,
    /// An alerted moment reached a higher severity.
    Escalated,
    /// The customer came back after an alerted moment.
    Recovered,
    /// The call was closed (its end was announced, it went idle, or room
    /// was needed for other calls).
    Ended,
}

/// One line of `calltone stream`'s output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveEvent {
    pub event: EventKind,
    pub call_id: String,
    /// The turn (numbered from 0 in the call) that raised the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The moment as batch mode reports it (turn numbers in the whole call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moment: Option<Moment>,
    /// For `ended`: `end`, `idle` or `capacity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// For `ended`: turns seen and alerts raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turns: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<usize>,
}

impl LiveEvent {
    fn new(event: EventKind, call_id: &str) -> Self {
        Self {
            event,
            call_id: call_id.to_string(),
            turn: None,
            severity: None,
            moment: None,
            reason: None,
            turns: None,
            alerts: None,
        }
    }
}

/// An alerted moment, in whole-call turn numbers.
struct Alerted {
    start: usize,
    end: usize,
    severity: Severity,
    recovered: bool,
}

struct LiveCall {
    turns: Vec<Turn>,
    scores: Vec<Option<TurnScore>>,
    /// Turns dropped from the front (only past `max_turns`).
    offset: usize,
    last_seen_ms: u64,
    alerted: Vec<Alerted>,
}

pub struct LiveCalls<'r> {
    calls: HashMap<String, LiveCall>,
    settings: LiveSettings,
    rules: &'r Rules,
}

impl<'r> LiveCalls<'r> {
    pub fn new(settings: LiveSettings, rules: &'r Rules) -> Self {
        Self {
            calls: HashMap::new(),
            settings,
            rules,
        }
    }

    pub fn open_calls(&self) -> usize {
        self.calls.len()
    }

    /// A new turn of `call_id` at stream time `now_ms`, with its score.
    /// Returns the events it raises (and those of calls that went idle).
    pub fn push(
        &mut self,
        call_id: &str,
        turn: Turn,
        score: Option<TurnScore>,
        now_ms: u64,
    ) -> Vec<LiveEvent> {
        let mut events = self.expire(now_ms);
        if !self.calls.contains_key(call_id) && self.calls.len() >= self.settings.max_calls.max(1) {
            let oldest = self
                .calls
                .iter()
                .min_by_key(|(id, c)| (c.last_seen_ms, (*id).clone()))
                .map(|(id, _)| id.clone());
            if let Some(id) = oldest {
                events.extend(self.end(&id, "capacity"));
            }
        }
        let call = self
            .calls
            .entry(call_id.to_string())
            .or_insert_with(|| LiveCall {
                turns: Vec::new(),
                scores: Vec::new(),
                offset: 0,
                last_seen_ms: now_ms,
                alerted: Vec::new(),
            });
        call.last_seen_ms = now_ms;
        call.turns.push(turn);
        call.scores.push(score);
        if call.turns.len() > self.settings.max_turns.max(2) {
            let drop = call.turns.len() / 2;
            call.turns.drain(..drop);
            call.scores.drain(..drop);
            call.offset += drop;
        }
        events.extend(Self::update(call, call_id, &self.settings, self.rules));
        events
    }

    fn update(
        call: &mut LiveCall,
        call_id: &str,
        settings: &LiveSettings,
        rules: &Rules,
    ) -> Vec<LiveEvent> {
        let channel = channel_of(Format::Jsonl, &call.turns);
        let analysis = analyse_call(&call.turns, &call.scores, channel, rules);
        let latest = call.offset + call.turns.len() - 1;
        let mut events = Vec::new();
        for m in analysis.moments {
            if m.severity < settings.alert_at {
                continue;
            }
            let m = shifted(m, call.offset);
            let seen = call
                .alerted
                .iter_mut()
                .find(|a| a.start <= m.end_turn && m.start_turn <= a.end);
            let kind = match seen {
                None => {
                    call.alerted.push(Alerted {
                        start: m.start_turn,
                        end: m.end_turn,
                        severity: m.severity,
                        recovered: false,
                    });
                    Some(EventKind::Alert)
                }
                Some(a) => {
                    a.start = a.start.min(m.start_turn);
                    a.end = a.end.max(m.end_turn);
                    if m.severity > a.severity {
                        a.severity = m.severity;
                        Some(EventKind::Escalated)
                    } else if m.recovered == Some(true) && !a.recovered {
                        a.recovered = true;
                        Some(EventKind::Recovered)
                    } else {
                        None
                    }
                }
            };
            if let Some(kind) = kind {
                let mut e = LiveEvent::new(kind, call_id);
                e.turn = Some(if kind == EventKind::Recovered {
                    m.recovered_turn.unwrap_or(latest)
                } else {
                    latest
                });
                e.severity = Some(m.severity);
                e.moment = Some(m);
                events.push(e);
            }
        }
        events
    }

    /// Closes a call (its end was announced, or for `reason`).
    pub fn end(&mut self, call_id: &str, reason: &'static str) -> Option<LiveEvent> {
        let call = self.calls.remove(call_id)?;
        let mut e = LiveEvent::new(EventKind::Ended, call_id);
        e.reason = Some(reason);
        e.turns = Some(call.offset + call.turns.len());
        e.alerts = Some(call.alerted.len());
        Some(e)
    }

    /// Closes every call idle for longer than the timeout.
    pub fn expire(&mut self, now_ms: u64) -> Vec<LiveEvent> {
        let timeout = self.settings.idle_timeout_ms;
        let mut idle: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, c)| now_ms.saturating_sub(c.last_seen_ms) > timeout)
            .map(|(id, _)| id.clone())
            .collect();
        idle.sort();
        idle.iter().filter_map(|id| self.end(id, "idle")).collect()
    }
}

/// A moment with its turn numbers moved from the kept window to the call.
fn shifted(mut m: Moment, offset: usize) -> Moment {
    if offset == 0 {
        return m;
    }
    m.start_turn += offset;
    m.end_turn += offset;
    m.peak_turn += offset;
    m.building_from = m.building_from.map(|t| t + offset);
    m.recovered_turn = m.recovered_turn.map(|t| t + offset);
    m.customer_turns.iter_mut().for_each(|t| *t += offset);
    m.evidence.iter_mut().for_each(|e| e.turn += offset);
    if let Some(t) = &mut m.trigger {
        t.turn += offset;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Polarity;
    use crate::transcript::Role;

    fn turn(role: Role, text: &str) -> Turn {
        Turn {
            speaker: format!("{role:?}"),
            role,
            role_inferred: false,
            start_ms: None,
            end_ms: None,
            wall_clock_ms: None,
            text: text.into(),
        }
    }

    /// A reading of `intensity` (−1 furious … +1 delighted).
    fn score(intensity: f32) -> Option<TurnScore> {
        let neg = ((-intensity).max(0.0) * 0.95).min(0.97);
        let pos = (intensity.max(0.0) * 0.95).min(0.97);
        Some(TurnScore {
            label: if neg > pos {
                Polarity::Negative
            } else {
                Polarity::Positive
            },
            negative: neg,
            neutral: 1.0 - neg - pos,
            positive: pos,
            score: pos - neg,
            intensity,
            windows: 1,
        })
    }

    /// A call that turns irate over three customer turns, then recovers.
    fn script() -> Vec<(Role, &'static str, f32)> {
        vec![
            (Role::Agent, "Thanks for calling, how can I help?", 0.6),
            (Role::Customer, "My order never arrived.", -0.3),
            (Role::Agent, "Can I have your account number again?", 0.0),
            (
                Role::Customer,
                "This is the THIRD time I'm calling! Unbelievable!",
                -0.95,
            ),
            (Role::Agent, "I understand.", 0.1),
            (
                Role::Customer,
                "I want to speak to your manager. Cancel my account!",
                -0.97,
            ),
            (
                Role::Agent,
                "I'm refunding it now and sending a new one today.",
                0.4,
            ),
            (Role::Customer, "Okay, thank you, that is great.", 0.8),
            (Role::Agent, "Anything else?", 0.3),
            (Role::Customer, "No, that's all, thanks so much.", 0.85),
        ]
    }

    #[test]
    fn alerts_when_anger_builds_then_says_recovered_and_ended() {
        let rules = Rules::default();
        let mut live = LiveCalls::new(LiveSettings::default(), &rules);
        let mut events = Vec::new();
        for (i, (role, text, s)) in script().into_iter().enumerate() {
            // Another call interleaved, calm throughout.
            events.extend(live.push("calm", turn(role, "fine thanks"), score(0.5), i as u64));
            events.extend(live.push("c1", turn(role, text), score(s), i as u64));
        }
        events.extend(live.end("c1", "end"));
        let kinds: Vec<(EventKind, &str)> = events
            .iter()
            .map(|e| (e.event, e.call_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (EventKind::Alert, "c1"),
                (EventKind::Recovered, "c1"),
                (EventKind::Ended, "c1"),
            ],
            "{events:#?}"
        );
        let alert = &events[0];
        assert_eq!(alert.severity, Some(Severity::Irate));
        // Raised on the turn that made it irate, with batch mode's evidence.
        assert!(alert.turn == Some(3) || alert.turn == Some(5), "{alert:?}");
        let m = alert.moment.as_ref().unwrap();
        assert!(m
            .evidence
            .iter()
            .any(|e| e.quote.as_deref().is_some_and(|q| q.contains("THIRD time"))));
        assert_eq!(events[1].turn, Some(7));
        assert_eq!(events[2].turns, Some(10));
        assert_eq!(events[2].alerts, Some(1));
        assert_eq!(live.open_calls(), 1, "the calm call is still open");
    }

    #[test]
    fn memory_is_bounded_by_idle_timeout_open_calls_and_turns() {
        let rules = Rules::default();
        let settings = LiveSettings {
            idle_timeout_ms: 1_000,
            max_calls: 5,
            max_turns: 40,
            alert_at: Severity::Irate,
        };
        let mut live = LiveCalls::new(settings, &rules);
        let mut ended = Vec::new();
        // 20 calls that never end, one turn each per tick.
        for tick in 0..100u64 {
            let id = format!("call-{}", tick % 20);
            for e in live.push(&id, turn(Role::Customer, "hello"), score(0.2), tick) {
                ended.push(e);
            }
            assert!(live.open_calls() <= 5);
        }
        assert!(ended
            .iter()
            .all(|e| e.event == EventKind::Ended && e.reason == Some("capacity")));
        assert_eq!(ended.len(), 95);
        // Later, everything idle is closed.
        let idle = live.expire(100 + 1_001);
        assert_eq!(idle.len(), 5);
        assert!(idle.iter().all(|e| e.reason == Some("idle")));
        assert_eq!(live.open_calls(), 0);

        // One endless call keeps at most max_turns turns, numbered in the whole call.
        for t in 0..500u64 {
            live.push(
                "endless",
                turn(Role::Customer, "still here"),
                score(0.1),
                2_000 + t,
            );
        }
        assert!(live.calls["endless"].turns.len() <= 40);
        assert_eq!(
            live.calls["endless"].scores.len(),
            live.calls["endless"].turns.len()
        );
        let e = live.end("endless", "end").unwrap();
        assert_eq!(e.turns, Some(500));
    }
}
