//! The last steps every command that writes records shares for one call:
//! redact what will be written, analyse, and hand the records to the sink. The model has already
//! read the original text; from here on only the redacted copy is used, so
//! evidence quotes never leak what the redaction removed.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;

use crate::analysis::batch::CallView;
use crate::analysis::{
    analyse_call, summarise_call, turn_scores, CallAnalysis, CallSummary, Rules, TurnScore,
};
use crate::engine::UnitScore;
use crate::report::records::{call_record, turn_records};
use crate::report::RecordSink;
use crate::text::redact::redact_conversation;
use crate::transcript::Conversation;

/// Loads `--rules FILE`, or the defaults without one.
pub fn load_rules(path: Option<&Path>) -> anyhow::Result<Rules> {
    let Some(path) = path else {
        return Ok(Rules::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rules file {}", path.display()))?;
    Rules::from_toml(&text).with_context(|| format!("rules file {}", path.display()))
}

/// How scored calls become records: the rules to analyse with, whether to
/// redact, and the model named in the call records.
pub struct CallOutput<'a> {
    pub rules: &'a Rules,
    pub redact: bool,
    pub model: &'a str,
}

/// A call ready to write or report: the conversation as it will be shown
/// (redacted unless asked otherwise), its scores, summary and analysis.
pub struct PreparedCall {
    pub conv: Conversation,
    pub scores: Vec<Option<TurnScore>>,
    pub summary: CallSummary,
    pub analysis: CallAnalysis,
    /// Place in the whole input and content fingerprint (see `CallRecord`).
    pub seq: Option<usize>,
    pub content_hash: Option<String>,
}

impl PreparedCall {
    /// The call as the batch roll-up sees it.
    pub fn view(&self) -> CallView<'_> {
        CallView {
            conv: &self.conv,
            summary: &self.summary,
            analysis: &self.analysis,
        }
    }
}

impl CallOutput<'_> {
    pub fn prepare(&self, conv: &Conversation, scores: &[Option<TurnScore>]) -> PreparedCall {
        let shown = if self.redact {
            redact_conversation(conv)
        } else {
            conv.clone()
        };
        let summary = summarise_call(&shown.turns, scores);
        let analysis = analyse_call(&shown.turns, scores, shown.channel, self.rules);
        PreparedCall {
            conv: shown,
            scores: scores.to_vec(),
            summary,
            analysis,
            seq: None,
            content_hash: None,
        }
    }

    /// [`CallOutput::prepare`] for calls scored together: `units` holds
    /// every turn of `convs`, in order.
    pub fn prepare_each(
        &self,
        convs: &[Conversation],
        units: &[Option<UnitScore>],
    ) -> Vec<PreparedCall> {
        let mut rest = units;
        let per_call: Vec<&[Option<UnitScore>]> = convs
            .iter()
            .map(|c| {
                let (mine, after) = rest.split_at(c.turns.len());
                rest = after;
                mine
            })
            .collect();
        let convs: Vec<&Conversation> = convs.iter().collect();
        self.prepare_all(&convs, &per_call)
    }

    /// [`CallOutput::prepare`] for many calls, `units[i]` holding
    /// `convs[i]`'s turns, across rayon's threads and in order. Analysis is
    /// pure (one call's records never depend on another's), and done one call
    /// after another it was a stage every core but one waited for.
    pub fn prepare_all<U: AsRef<[Option<UnitScore>]> + Sync>(
        &self,
        convs: &[&Conversation],
        units: &[U],
    ) -> Vec<PreparedCall> {
        convs
            .par_iter()
            .zip(units)
            .map(|(c, u)| self.prepare(c, &turn_scores(u.as_ref())))
            .collect()
    }

    pub fn write_prepared<W: Write>(
        &self,
        sink: &mut RecordSink<W>,
        p: &PreparedCall,
    ) -> std::io::Result<()> {
        let mut record = call_record(&p.conv, &p.summary, &p.analysis, self.model);
        record.seq = p.seq;
        record.content_hash = p.content_hash.clone();
        sink.write_call(&record, &turn_records(&p.conv, &p.scores, &p.analysis))
    }

    pub fn write<W: Write>(
        &self,
        sink: &mut RecordSink<W>,
        conv: &Conversation,
        scores: &[Option<TurnScore>],
    ) -> std::io::Result<()> {
        self.write_prepared(sink, &self.prepare(conv, scores))
    }
}
