//! A QA team's own rules, applied to any call, old or new: a TOML file of
//! categories, each with a condition built from phrase matches, sentiment of
//! a role over a window, interruptions, non-talk time and moments, combined
//! with `all` / `any` / `not`. The same file may override moment and timing
//! settings (`[moments]`, `[timing]`). Parsing takes a string: no I/O here.
//!
//! ```toml
//! [moments]
//! open_at = 0.5
//!
//! [[category]]
//! name = "asked for a manager"
//! when = { phrase = { text = ["manager", "supervisor"], role = "customer" } }
//!
//! [[category]]
//! name = "ended unhappy"
//! when = { all = [
//!   { sentiment = { role = "customer", last_turns = 2, below = -0.3 } },
//!   { not = { phrase = { text = "thank you", role = "customer", last_turns = 2 } } },
//! ] }
//! ```

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::call_metrics::CallMetrics;
use super::moments::{Moment, Severity};
use super::settings::{MomentSettings, TimingSettings};
use super::turn_score::TurnScore;
use crate::transcript::{CallSpan, Role, Turn};

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{0}")]
    Toml(String),
    #[error("category {category:?}: {reason}")]
    Category { category: String, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum MatchMode {
    /// Whole words, any case, any spacing.
    #[default]
    Exact,
    /// A regular expression (case-insensitive).
    Pattern,
}

/// Which of a role's turns a condition looks at (default: the whole call).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowSpec {
    first_seconds: Option<f64>,
    last_seconds: Option<f64>,
    first_turns: Option<usize>,
    last_turns: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhraseSpec {
    text: OneOrMany,
    #[serde(default, rename = "match")]
    mode: MatchMode,
    role: Option<String>,
    first_seconds: Option<f64>,
    last_seconds: Option<f64>,
    first_turns: Option<usize>,
    last_turns: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SentimentSpec {
    role: Option<String>,
    below: Option<f32>,
    above: Option<f32>,
    /// The scale `below`/`above` are written on: 1 (−1..1, default), 5 or 100.
    #[serde(default = "unit_scale")]
    scale: f32,
    first_seconds: Option<f64>,
    last_seconds: Option<f64>,
    first_turns: Option<usize>,
    last_turns: Option<usize>,
}

fn unit_scale() -> f32 {
    1.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterruptionSpec {
    /// Role of whoever interrupts (default: anyone).
    by: Option<String>,
    over: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NonTalkSpec {
    /// Total non-talk time over this many seconds.
    over_seconds: Option<f64>,
    /// One silence over this many seconds.
    longest_over_seconds: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MomentSpec {
    /// At least this severity (default annoyed).
    severity: Option<String>,
    /// Only moments the customer did not recover from.
    #[serde(default)]
    unrecovered: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ConditionSpec {
    Phrase(PhraseSpec),
    Sentiment(SentimentSpec),
    Interruptions(InterruptionSpec),
    NonTalk(NonTalkSpec),
    Moment(MomentSpec),
    All(Vec<ConditionSpec>),
    Any(Vec<ConditionSpec>),
    Not(Box<ConditionSpec>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategorySpec {
    name: String,
    #[serde(default)]
    description: Option<String>,
    when: ConditionSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSpec {
    #[serde(default)]
    moments: MomentSettings,
    #[serde(default)]
    timing: TimingSettings,
    #[serde(default, rename = "category")]
    categories: Vec<CategorySpec>,
}

#[derive(Debug, Clone)]
enum Window {
    Whole,
    FirstMs(u64),
    LastMs(u64),
    FirstTurns(usize),
    LastTurns(usize),
}

#[derive(Debug, Clone)]
enum Condition {
    Phrase {
        patterns: Vec<Regex>,
        role: Option<Role>,
        window: Window,
    },
    Sentiment {
        role: Option<Role>,
        below: Option<f32>,
        above: Option<f32>,
        window: Window,
    },
    Interruptions {
        by: Option<Role>,
        over: usize,
    },
    NonTalk {
        over_ms: Option<u64>,
        longest_over_ms: Option<u64>,
    },
    Moment {
        severity: Severity,
        unrecovered: bool,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

#[derive(Debug, Clone)]
pub struct CategoryRule {
    pub name: String,
    pub description: Option<String>,
    condition: Condition,
}

/// A parsed rules file: settings plus categories, ready to apply.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub moments: MomentSettings,
    pub timing: TimingSettings,
    pub categories: Vec<CategoryRule>,
}

/// A category a call fell into, with the turns that matched (phrase and
/// sentiment conditions; empty for call-level conditions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CategoryMatch {
    pub name: String,
    pub turns: Vec<usize>,
}

fn parse_role(r: &Option<String>) -> Result<Option<Role>, String> {
    match r.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("any") => Ok(None),
        Some("agent") => Ok(Some(Role::Agent)),
        Some("customer") => Ok(Some(Role::Customer)),
        Some("bot") => Ok(Some(Role::Bot)),
        Some("unknown") => Ok(Some(Role::Unknown)),
        Some(other) => Err(format!(
            "role {other:?} is not one of agent, customer, bot, unknown, any"
        )),
    }
}

fn window(w: WindowSpec) -> Result<Window, String> {
    let given = [
        w.first_seconds.is_some(),
        w.last_seconds.is_some(),
        w.first_turns.is_some(),
        w.last_turns.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given > 1 {
        return Err(
            "give at most one of first_seconds, last_seconds, first_turns, last_turns".into(),
        );
    }
    let ms = |s: f64| -> Result<u64, String> {
        if s.is_finite() && s >= 0.0 {
            Ok((s * 1000.0) as u64)
        } else {
            Err(format!("{s} is not a number of seconds"))
        }
    };
    Ok(match w {
        WindowSpec {
            first_seconds: Some(s),
            ..
        } => Window::FirstMs(ms(s)?),
        WindowSpec {
            last_seconds: Some(s),
            ..
        } => Window::LastMs(ms(s)?),
        WindowSpec {
            first_turns: Some(n),
            ..
        } => Window::FirstTurns(n),
        WindowSpec {
            last_turns: Some(n),
            ..
        } => Window::LastTurns(n),
        _ => Window::Whole,
    })
}

fn phrase_regex(text: &str, mode: MatchMode) -> Result<Regex, String> {
    let source = match mode {
        MatchMode::Pattern => format!("(?i){text}"),
        MatchMode::Exact => {
            let words: Vec<String> = text.split_whitespace().map(regex::escape).collect();
            if words.is_empty() {
                return Err("an empty phrase matches everything".into());
            }
            // Word boundaries only where the phrase starts/ends with a word character.
            let lead = if text.trim_start().starts_with(|c: char| c.is_alphanumeric()) {
                r"\b"
            } else {
                ""
            };
            let tail = if text.trim_end().ends_with(|c: char| c.is_alphanumeric()) {
                r"\b"
            } else {
                ""
            };
            format!(r"(?i){lead}{}{tail}", words.join(r"\s+"))
        }
    };
    Regex::new(&source).map_err(|e| format!("phrase {text:?}: {e}"))
}

fn compile(c: ConditionSpec) -> Result<Condition, String> {
    Ok(match c {
        ConditionSpec::Phrase(p) => {
            let texts = match p.text {
                OneOrMany::One(t) => vec![t],
                OneOrMany::Many(v) => v,
            };
            if texts.is_empty() {
                return Err("phrase needs at least one text".into());
            }
            Condition::Phrase {
                patterns: texts
                    .iter()
                    .map(|t| phrase_regex(t, p.mode))
                    .collect::<Result<_, _>>()?,
                role: parse_role(&p.role)?,
                window: window(WindowSpec {
                    first_seconds: p.first_seconds,
                    last_seconds: p.last_seconds,
                    first_turns: p.first_turns,
                    last_turns: p.last_turns,
                })?,
            }
        }
        ConditionSpec::Sentiment(s) => {
            if s.below.is_none() && s.above.is_none() {
                return Err("sentiment needs `below` or `above`".into());
            }
            if !(s.scale == 1.0 || s.scale == 5.0 || s.scale == 100.0) {
                return Err(format!("scale {} is not 1, 5 or 100", s.scale));
            }
            Condition::Sentiment {
                role: parse_role(&s.role)?,
                below: s.below.map(|v| v / s.scale),
                above: s.above.map(|v| v / s.scale),
                window: window(WindowSpec {
                    first_seconds: s.first_seconds,
                    last_seconds: s.last_seconds,
                    first_turns: s.first_turns,
                    last_turns: s.last_turns,
                })?,
            }
        }
        ConditionSpec::Interruptions(i) => Condition::Interruptions {
            by: parse_role(&i.by)?,
            over: i.over,
        },
        ConditionSpec::NonTalk(n) => {
            let ms = |s: Option<f64>| s.map(|s| (s.max(0.0) * 1000.0) as u64);
            if n.over_seconds.is_none() && n.longest_over_seconds.is_none() {
                return Err("non_talk needs `over_seconds` or `longest_over_seconds`".into());
            }
            Condition::NonTalk {
                over_ms: ms(n.over_seconds),
                longest_over_ms: ms(n.longest_over_seconds),
            }
        }
        ConditionSpec::Moment(m) => Condition::Moment {
            severity: match m.severity.as_deref() {
                None => Severity::Annoyed,
                Some(s) => Severity::parse(s).ok_or_else(|| {
                    format!("severity {s:?} is not one of calm, annoyed, frustrated, irate")
                })?,
            },
            unrecovered: m.unrecovered,
        },
        ConditionSpec::All(v) => {
            Condition::All(v.into_iter().map(compile).collect::<Result<_, _>>()?)
        }
        ConditionSpec::Any(v) => {
            Condition::Any(v.into_iter().map(compile).collect::<Result<_, _>>()?)
        }
        ConditionSpec::Not(c) => Condition::Not(Box::new(compile(*c)?)),
    })
}

impl Rules {
    /// Parses a rules file's text; errors name the category and the reason.
    pub fn from_toml(text: &str) -> Result<Rules, RulesError> {
        let spec: RulesSpec = toml::from_str(text).map_err(|e| RulesError::Toml(e.to_string()))?;
        let mut categories = Vec::new();
        for c in spec.categories {
            let condition = compile(c.when).map_err(|reason| RulesError::Category {
                category: c.name.clone(),
                reason,
            })?;
            categories.push(CategoryRule {
                name: c.name,
                description: c.description,
                condition,
            });
        }
        Ok(Rules {
            moments: spec.moments,
            timing: spec.timing,
            categories,
        })
    }
}

/// What a rule can look at in one call.
pub struct CallFacts<'a> {
    pub turns: &'a [Turn],
    pub scores: &'a [Option<TurnScore>],
    pub metrics: &'a CallMetrics,
    pub moments: &'a [Moment],
}

impl CallFacts<'_> {
    /// Turns of a role within a window, in order.
    fn select(&self, role: Option<Role>, w: &Window) -> Vec<usize> {
        let of_role: Vec<usize> = (0..self.turns.len())
            .filter(|&i| role.is_none_or(|r| self.turns[i].role == r))
            .collect();
        let span = CallSpan::of(self.turns);
        let (call_start, call_end) = (span.first_ms, span.last_ms);
        match *w {
            Window::Whole => of_role,
            Window::FirstTurns(n) => of_role.into_iter().take(n).collect(),
            Window::LastTurns(n) => {
                let skip = of_role.len().saturating_sub(n);
                of_role.into_iter().skip(skip).collect()
            }
            // Turns without times cannot be placed in a time window.
            Window::FirstMs(ms) => of_role
                .into_iter()
                .filter(|&i| {
                    matches!((self.turns[i].start_ms, call_start), (Some(s), Some(a)) if s < a + ms)
                })
                .collect(),
            Window::LastMs(ms) => of_role
                .into_iter()
                .filter(|&i| {
                    let t = &self.turns[i];
                    matches!((t.end_ms.or(t.start_ms), call_end), (Some(e), Some(b)) if e + ms > b)
                })
                .collect(),
        }
    }

    /// `Some(turns)` when the condition holds, with the turns that made it so.
    fn eval(&self, c: &Condition) -> Option<Vec<usize>> {
        match c {
            Condition::Phrase {
                patterns,
                role,
                window,
            } => {
                let hits: Vec<usize> = self
                    .select(*role, window)
                    .into_iter()
                    .filter(|&i| patterns.iter().any(|p| p.is_match(&self.turns[i].text)))
                    .collect();
                (!hits.is_empty()).then_some(hits)
            }
            Condition::Sentiment {
                role,
                below,
                above,
                window,
            } => {
                let scored: Vec<(usize, f32)> = self
                    .select(*role, window)
                    .into_iter()
                    .filter_map(|i| self.scores[i].as_ref().map(|s| (i, s.score)))
                    .collect();
                if scored.is_empty() {
                    return None;
                }
                let mean = scored.iter().map(|x| x.1).sum::<f32>() / scored.len() as f32;
                let ok = below.is_none_or(|b| mean < b) && above.is_none_or(|a| mean > a);
                ok.then(|| scored.iter().map(|x| x.0).collect())
            }
            Condition::Interruptions { by, over } => {
                let n = self
                    .metrics
                    .interruptions
                    .iter()
                    .filter(|x| by.is_none_or(|r| self.turns[x.turn].role == r))
                    .count();
                (n > *over).then(Vec::new)
            }
            Condition::NonTalk {
                over_ms,
                longest_over_ms,
            } => {
                let total = self.metrics.non_talk_ms.unwrap_or(0);
                let longest = self.metrics.longest_silence_ms.unwrap_or(0);
                let ok = over_ms.is_none_or(|o| total > o)
                    && longest_over_ms.is_none_or(|o| longest > o);
                ok.then(Vec::new)
            }
            Condition::Moment {
                severity,
                unrecovered,
            } => {
                let hits: Vec<usize> = self
                    .moments
                    .iter()
                    .filter(|m| {
                        m.severity >= *severity && (!unrecovered || m.recovered != Some(true))
                    })
                    .map(|m| m.peak_turn)
                    .collect();
                (!hits.is_empty()).then_some(hits)
            }
            Condition::All(cs) => {
                let mut turns = Vec::new();
                for c in cs {
                    turns.extend(self.eval(c)?);
                }
                turns.sort_unstable();
                turns.dedup();
                Some(turns)
            }
            Condition::Any(cs) => {
                let mut any = false;
                let mut turns = Vec::new();
                for c in cs {
                    if let Some(t) = self.eval(c) {
                        any = true;
                        turns.extend(t);
                    }
                }
                turns.sort_unstable();
                turns.dedup();
                any.then_some(turns)
            }
            Condition::Not(c) => match self.eval(c) {
                Some(_) => None,
                None => Some(Vec::new()),
            },
        }
    }
}

/// The categories a call falls into, in the rules file's order.
pub fn categorise(rules: &Rules, facts: &CallFacts) -> Vec<CategoryMatch> {
    rules
        .categories
        .iter()
        .filter_map(|c| {
            facts.eval(&c.condition).map(|turns| CategoryMatch {
                name: c.name.clone(),
                turns,
            })
        })
        .collect()
}
