//! `calltone analyze`: re-apply moment settings, rules and redaction to saved
//! results without running the model, so a new rule reaches old calls too.

use std::process::ExitCode;

use super::args::AnalyzeArgs;
use super::{EXIT_OK, EXIT_PARTIAL};
use crate::pipeline::prepare::load_rules;
use crate::pipeline::reanalyse::Reanalysis;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let reanalysis = Reanalysis {
        rules: load_rules(args.analysis.rules.as_deref())?,
        redact: !args.analysis.no_redact,
    };
    let done = reanalysis.write_records(&args.paths, args.output.as_deref(), args.format)?;
    if !args.quiet {
        crate::say!(
            "calltone: analysed {} calls, {} turns from {} inputs; {} failed",
            done.calls,
            done.turns,
            done.inputs,
            done.failures.len()
        );
    }
    Ok(ExitCode::from(if done.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}
