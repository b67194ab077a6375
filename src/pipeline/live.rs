//! Turns arriving one at a time → live events: each turn is scored as it
//! comes, redacted for everything written, and handed to the open calls'
//! analysis (`stream`, `bench --stream`).

use crate::analysis::live::{LiveCalls, LiveEvent};
use crate::analysis::turn_scores;
use crate::engine::Scorer;
use crate::model::ModelError;
use crate::text::redact::redact;
use crate::transcript::Turn;

/// The open calls and what scores their turns.
pub struct LiveScoring<'s, 'm, 'r> {
    pub scorer: &'s Scorer<'m>,
    pub calls: LiveCalls<'r>,
    pub redact: bool,
}

impl LiveScoring<'_, '_, '_> {
    /// Scores `turn` of `call_id` and returns the events it raises. The
    /// model reads the original text; the call keeps the redacted one.
    pub fn turn(
        &mut self,
        call_id: &str,
        mut turn: Turn,
        now_ms: u64,
    ) -> Result<Vec<LiveEvent>, ModelError> {
        let units = self.scorer.score(&[turn.text.as_str()])?;
        let score = turn_scores(&units).pop().flatten();
        if self.redact {
            turn.text = redact(&turn.text).into_owned();
        }
        Ok(self.calls.push(call_id, turn, score, now_ms))
    }
}
