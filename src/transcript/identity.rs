//! One identity per call in a batch. A call's id comes from its transcript
//! (a `call_id` field, a vendor's conversation id) or, failing that, from its
//! file's name, and two inputs can give the same one: `day1/c1.txt` and
//! `day2/c1.txt` are both `c1`. Every later record (`report`, `analyze`,
//! `merge`, `--resume`) keys on the id, so two calls under one id would be
//! counted as one. The rule, stable for the same inputs in the same order:
//!
//! - the first call with an id keeps it;
//! - a later call whose id is taken, from another input, is named
//!   `ID@INPUT`, INPUT being the path as read (`c1@day2/c1.txt`);
//! - if that is taken too (one file naming two calls alike), `#2`, `#3`, …
//!   are added (`c1@day2/c1.txt#2`).
//!
//! Each renaming is returned so the caller can say so on standard error.

use std::collections::HashMap;

use super::Conversation;

/// A call that was given a new id, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub source: String,
    pub was: String,
    pub now: String,
    /// The input where the id was first used.
    pub first_in: String,
}

impl std::fmt::Display for Renamed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: call id {:?} is already used by a call from {}; this call is named {:?}",
            self.source, self.was, self.first_in, self.now
        )
    }
}

/// The ids given so far in a batch, with the input each came from.
#[derive(Debug, Default)]
pub struct CallIds {
    taken: HashMap<String, String>,
}

impl CallIds {
    /// Makes `conv.id` unique in the batch (see the module's rule); returns
    /// the renaming when there was one.
    pub fn assign(&mut self, conv: &mut Conversation) -> Option<Renamed> {
        let Some(first_in) = self.taken.get(&conv.id).cloned() else {
            self.taken.insert(conv.id.clone(), conv.source.clone());
            return None;
        };
        let base = format!("{}@{}", conv.id, conv.source);
        let mut now = base.clone();
        let mut n = 1;
        while self.taken.contains_key(&now) {
            n += 1;
            now = format!("{base}#{n}");
        }
        self.taken.insert(now.clone(), conv.source.clone());
        let was = std::mem::replace(&mut conv.id, now.clone());
        Some(Renamed {
            source: conv.source.clone(),
            was,
            now,
            first_in,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Channel;

    fn call(id: &str, source: &str) -> Conversation {
        Conversation {
            id: id.into(),
            source: source.into(),
            format: "plain".into(),
            channel: Channel::Unknown,
            turns: Vec::new(),
            meta: Default::default(),
        }
    }

    #[test]
    fn later_calls_under_a_taken_id_are_named_by_their_input() {
        let mut ids = CallIds::default();
        let mut names = Vec::new();
        for (id, source) in [
            ("c1", "day1/c1.txt"),
            ("c2", "day1/c2.txt"),
            ("c1", "day2/c1.txt"),
            ("c1", "day2/c1.txt"),           // one file naming two calls alike
            ("c1@day2/c1.txt", "odd.jsonl"), // an id that looks like a renaming
        ] {
            let mut c = call(id, source);
            let renamed = ids.assign(&mut c);
            assert_eq!(renamed.is_some(), c.id != id);
            names.push(c.id);
        }
        assert_eq!(
            names,
            [
                "c1",
                "c2",
                "c1@day2/c1.txt",
                "c1@day2/c1.txt#2",
                "c1@day2/c1.txt@odd.jsonl"
            ]
        );
        let mut c = call("c2", "day3/c2.txt");
        let r = ids.assign(&mut c).unwrap();
        assert_eq!(r.first_in, "day1/c2.txt");
        assert!(r
            .to_string()
            .contains("already used by a call from day1/c2.txt"));
    }
}
