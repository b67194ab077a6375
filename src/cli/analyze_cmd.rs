//! `calltone analyze`: re-apply moment settings, rules and redaction to saved
//! results without running the model, so a new rule reaches old calls too.

use std::process::ExitCode;

use super::args::AnalyzeArgs;
use super::call_output::{load_rules, CallOutput};
use super::output_target::OutputTarget;
use super::{EXIT_OK, EXIT_PARTIAL};
use crate::report::{read_saved, RecordSink};
use crate::transcript::inputs::{expand_filtered, read_bytes, PathFilter};

/// Results files larger than this are refused (a night of calls is far smaller).
const MAX_RESULTS_BYTES: u64 = 4 << 30;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let rules = load_rules(args.analysis.rules.as_deref())?;
    let filter = PathFilter::new(&[], &[]).map_err(anyhow::Error::msg)?;
    let (inputs, mut failures) = expand_filtered(&args.paths, &filter);
    for f in &failures {
        eprintln!("calltone: {f}");
    }
    let mut target = OutputTarget::open(args.output.as_deref())?;
    let mut sink = RecordSink::new(&mut target, args.format)?;
    let (mut calls, mut turns) = (0usize, 0usize);
    for input in &inputs {
        let saved = read_bytes(input, MAX_RESULTS_BYTES)
            .and_then(|bytes| read_saved(&input.label(), &bytes));
        let saved = match saved {
            Ok(s) => s,
            Err(e) => {
                eprintln!("calltone: {e}");
                failures.push(e);
                continue;
            }
        };
        for call in &saved {
            let model = call.model();
            let output = CallOutput {
                rules: &rules,
                redact: !args.analysis.no_redact,
                model: &model,
            };
            output.write(&mut sink, &call.conversation(), &call.scores())?;
            calls += 1;
            turns += call.turns.len();
        }
    }
    sink.finish()?;
    target.finish()?;
    if !args.quiet {
        eprintln!(
            "calltone: analysed {calls} calls, {turns} turns from {} inputs; {} failed",
            inputs.len(),
            failures.len()
        );
    }
    Ok(ExitCode::from(if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}
