//! Saved results → analysed again, without the model: the per-turn scores in
//! a results file are kept, and the rules, moment settings and redaction of
//! this run are applied anew (`analyze` writes records, `report` reports).

use std::path::PathBuf;

use super::output_target::OutputTarget;
use super::prepare::{CallOutput, PreparedCall};
use super::saved::for_each_saved;
use super::Stopped;
use crate::analysis::Rules;
use crate::report::{OutputFormat, RecordSink};
use crate::transcript::ReadError;

/// How saved calls are analysed again.
pub struct Reanalysis {
    pub rules: Rules,
    pub redact: bool,
}

/// What a re-analysis did.
pub struct Reanalysed {
    /// Result files named.
    pub inputs: usize,
    pub calls: usize,
    pub turns: usize,
    /// Files that could not be read and calls left out, each with its reason
    /// (also said on standard error).
    pub failures: Vec<ReadError>,
}

impl Reanalysis {
    /// Analyses the calls in `paths` and writes their records to `output`
    /// (standard output when `None`), atomically.
    pub fn write_records(
        &self,
        paths: &[PathBuf],
        output: Option<&std::path::Path>,
        format: OutputFormat,
    ) -> anyhow::Result<Reanalysed> {
        let mut target = OutputTarget::open(output)?;
        let out_name = target.name();
        let wrote = Stopped::writing(&out_name);
        let mut sink = RecordSink::new(&mut target, format).map_err(&wrote)?;
        let (mut calls, mut turns) = (0usize, 0usize);
        let (inputs, failures) = for_each_saved(paths, |saved| {
            for call in &saved {
                let model = call.model();
                let output = CallOutput {
                    rules: &self.rules,
                    redact: self.redact,
                    model: &model,
                };
                let mut prepared = output.prepare(&call.conversation(), &call.scores());
                // Keep where the call sat in its run, so analysed shards still merge.
                if let Some(record) = &call.call {
                    prepared.seq = record.seq;
                    prepared.content_hash = record.content_hash.clone();
                }
                output
                    .write_prepared(&mut sink, &prepared)
                    .map_err(&wrote)?;
                calls += 1;
                turns += call.turns.len();
            }
            Ok(())
        })?;
        sink.finish().map_err(&wrote)?;
        target.finish()?;
        Ok(Reanalysed {
            inputs,
            calls,
            turns,
            failures,
        })
    }

    /// Analyses the calls in `paths` for a report; also returns the model
    /// the first call names and the failures.
    pub fn prepare(
        &self,
        paths: &[PathBuf],
    ) -> anyhow::Result<(Vec<PreparedCall>, String, Vec<ReadError>)> {
        let mut calls = Vec::new();
        let mut model = String::new();
        let (_, failures) = for_each_saved(paths, |saved| {
            for s in saved {
                if model.is_empty() {
                    model = s.model();
                }
                let output = CallOutput {
                    rules: &self.rules,
                    redact: self.redact,
                    model: &model,
                };
                calls.push(output.prepare(&s.conversation(), &s.scores()));
            }
            Ok(())
        })?;
        Ok((calls, model, failures))
    }
}
