//! What sets customers off: phrases (one to three words) that recur in and
//! just before frustrated or irate moments across a batch, ranked against
//! calls without any moment, so the cause can be fixed for the next customer.
//!
//! Each call counts once per phrase (one talkative call cannot dominate). A
//! phrase's *lift* is its smoothed share of angry calls over its smoothed
//! share of calm calls; phrases found in fewer than `MIN_CALLS` angry calls,
//! phrases of stopwords only and redaction placeholders are left out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::batch::CallView;
use super::moments::Severity;

/// A phrase must come up in at least this many angry calls to be reported.
pub const MIN_CALLS: usize = 2;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerPhrase {
    pub phrase: String,
    /// Angry calls with the phrase in or just before a moment.
    pub angry_calls: usize,
    /// Calm calls (no moment at all) with the phrase anywhere.
    pub calm_calls: usize,
    pub lift: f32,
}

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "for", "with", "by",
    "from", "is", "are", "was", "were", "be", "been", "it", "its", "it's", "this", "that", "i",
    "i'm", "im", "me", "my", "you", "your", "we", "our", "he", "she", "they", "them", "so", "do",
    "does", "did", "have", "has", "had", "just", "can", "will", "would", "could", "not", "no",
    "yes", "ok", "okay", "oh", "um", "uh", "as", "about", "there", "what", "all", "get", "got",
    "let", "let's", "am", "up", "out", "like", "then", "than", "too", "very", "there's", "here",
    "i've", "i'd", "i'll", "you're", "we're", "that's", "he's", "she's", "they're",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '[' || c == ']'))
        .filter(|w| !w.is_empty() && !w.starts_with('['))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The distinct 1–3 word phrases of some texts.
fn phrases<'a>(texts: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for text in texts {
        let w = words(text);
        for n in 1..=3 {
            for g in w.windows(n) {
                if g.iter().all(|x| STOPWORDS.contains(&x.as_str())) {
                    continue;
                }
                // A phrase should not start or end on a stopword ("the bill" → "bill").
                if n > 1
                    && (STOPWORDS.contains(&g[0].as_str())
                        || STOPWORDS.contains(&g[n - 1].as_str()))
                {
                    continue;
                }
                out.insert(g.join(" "));
            }
        }
    }
    out
}

/// The texts in and just before a call's angry moments: each moment's
/// trigger (the agent's turn before it) and its customer turns.
fn angry_texts<'a>(v: &'a CallView) -> Vec<&'a str> {
    let mut out = Vec::new();
    for m in v
        .analysis
        .moments
        .iter()
        .filter(|m| m.severity >= Severity::Frustrated)
    {
        if let Some(t) = &m.trigger {
            out.push(v.conv.turns[t.turn].text.as_str());
        }
        out.extend(
            m.customer_turns
                .iter()
                .map(|&i| v.conv.turns[i].text.as_str()),
        );
    }
    out
}

/// The `top` phrases that most set this batch's customers off.
pub fn trigger_phrases(views: &[CallView], top: usize) -> Vec<TriggerPhrase> {
    let mut angry: BTreeMap<String, usize> = BTreeMap::new();
    let mut calm: BTreeMap<String, usize> = BTreeMap::new();
    let (mut n_angry, mut n_calm) = (0usize, 0usize);
    for v in views {
        let texts = angry_texts(v);
        if !texts.is_empty() {
            n_angry += 1;
            for p in phrases(texts.into_iter()) {
                *angry.entry(p).or_default() += 1;
            }
        } else if v.analysis.moments.is_empty() {
            n_calm += 1;
            for p in phrases(v.conv.turns.iter().map(|t| t.text.as_str())) {
                *calm.entry(p).or_default() += 1;
            }
        }
    }
    let mut out: Vec<TriggerPhrase> = angry
        .into_iter()
        .filter(|(_, a)| *a >= MIN_CALLS)
        .map(|(phrase, a)| {
            let c = calm.get(&phrase).copied().unwrap_or(0);
            let share_angry = (a as f32 + 0.5) / (n_angry as f32 + 1.0);
            let share_calm = (c as f32 + 0.5) / (n_calm as f32 + 1.0);
            TriggerPhrase {
                phrase,
                angry_calls: a,
                calm_calls: c,
                lift: share_angry / share_calm,
            }
        })
        .filter(|t| t.lift > 1.0)
        .collect();
    // Strongest lift first; among equals, the more common and the longer phrase.
    out.sort_by(|a, b| {
        b.lift
            .total_cmp(&a.lift)
            .then(b.angry_calls.cmp(&a.angry_calls))
            .then(b.phrase.len().cmp(&a.phrase.len()))
    });
    // Drop a phrase that only repeats a longer one already listed with the same calls.
    let mut kept: Vec<TriggerPhrase> = Vec::new();
    for t in out {
        let shadowed = kept.iter().any(|k| {
            k.angry_calls == t.angry_calls
                && k.calm_calls == t.calm_calls
                && k.phrase.contains(&t.phrase)
        });
        if !shadowed {
            kept.push(t);
        }
        if kept.len() == top {
            break;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_skip_stopwords_and_placeholders() {
        let p = phrases(["Your account number [NUMBER] is on hold"].into_iter());
        assert!(p.contains("account number"));
        assert!(p.contains("hold"));
        assert!(!p.contains("your account"));
        assert!(!p.iter().any(|x| x.contains("number]") || x.contains('[')));
        assert!(!p.contains("is on"));
    }
}
