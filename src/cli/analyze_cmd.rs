//! `calltone analyze`: re-apply moment settings, rules and redaction to saved
//! results without running the model, so a new rule reaches old calls too.

use std::process::ExitCode;

use super::args::AnalyzeArgs;
use super::call_output::{load_rules, CallOutput};
use super::output_target::OutputTarget;
use super::saved_inputs::for_each_saved;
use super::{Stopped, EXIT_OK, EXIT_PARTIAL};
use crate::report::RecordSink;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let rules = load_rules(args.analysis.rules.as_deref())?;
    let mut target = OutputTarget::open(args.output.as_deref())?;
    let out_name = target.name();
    let wrote = Stopped::writing(&out_name);
    let mut sink = RecordSink::new(&mut target, args.format).map_err(&wrote)?;
    let (mut calls, mut turns) = (0usize, 0usize);
    let (inputs, failures) = for_each_saved(&args.paths, |saved| {
        for call in &saved {
            let model = call.model();
            let output = CallOutput {
                rules: &rules,
                redact: !args.analysis.no_redact,
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
    if !args.quiet {
        crate::say!(
            "calltone: analysed {calls} calls, {turns} turns from {} inputs; {} failed",
            inputs,
            failures.len()
        );
    }
    Ok(ExitCode::from(if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}
