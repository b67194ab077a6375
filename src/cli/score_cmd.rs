//! `calltone score`: the flags → a plan, the pipeline's score stage
//! (`pipeline::score`), then the reports asked for, the summary line and the
//! exit code.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use super::args::ScoreArgs;
use super::progress_bar::FileBar;
use super::{plans, EXIT_GATE, EXIT_OK, EXIT_PARTIAL};
use crate::model::load_model;
use crate::pipeline::peak_memory::peak_memory_mib;
use crate::pipeline::prepare::PreparedCall;
use crate::pipeline::reports::{emit_reports, TextTo};
use crate::pipeline::score::{score, ScoreRun, RENAMES_NAMED};
use crate::pipeline::threads::configure_threads;

pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    configure_threads(args.threads);
    let started = Instant::now();
    let reports = plans::report_plan(&args.report_output)?;
    let plan = plans::score_plan(&args, &reports)?;
    let model = load_model(&plans::model_choice(&args.model))?;
    let bar = FileBar::new(!args.quiet && std::io::stderr().is_terminal(), started);
    let run = score(&plan, &model, &bar)?;

    let mut failed_gates = Vec::new();
    if plan.keep_for_report {
        let text_to = match (args.report, args.output.is_some()) {
            (false, _) => TextTo::Nowhere,
            (true, true) => TextTo::Stdout,
            (true, false) => TextTo::Stderr,
        };
        let refs: Vec<&PreparedCall> = run.kept.iter().collect();
        failed_gates = emit_reports(&refs, &reports, text_to, &model.name)?;
        for g in &failed_gates {
            crate::say!("calltone: --fail-on {g}");
        }
    }
    if !args.quiet {
        summarise(&args, &run, started, &model.engine());
    }
    Ok(ExitCode::from(if !failed_gates.is_empty() {
        EXIT_GATE
    } else if run.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}

/// The summary lines on standard error: what was scored, how fast, what failed.
fn summarise(args: &ScoreArgs, run: &ScoreRun, started: Instant, engine: &str) {
    let secs = started.elapsed().as_secs_f64();
    let shard = args
        .shard
        .map_or_else(String::new, |s| format!(" (shard {s})"));
    let resumed = if args.resume {
        format!(", {} of them copied from the interrupted run", run.resumed)
    } else {
        String::new()
    };
    let memory =
        peak_memory_mib().map_or_else(String::new, |m| format!(", peak memory {m:.0} MiB"));
    crate::say!(
        "calltone: scored {} calls{shard}{resumed}, {} turns from {} inputs in {secs:.1}s{memory} ({engine}); {} failed",
        run.calls,
        run.turns,
        run.inputs,
        run.failures.len()
    );
    if run.renamed > RENAMES_NAMED {
        crate::say!(
            "calltone: {} calls were given new ids because another input had used \
             theirs (the first {RENAMES_NAMED} are named above; the rule: ID@INPUT)",
            run.renamed
        );
    }
    if let Some(note) = no_customer_note(&run.without_customer) {
        crate::say!("calltone: {note}");
    }
}

/// What to tell the user about calls where no speaker is the customer: no
/// moments could be looked for there, and a flag would fix it. Names at most
/// three calls, so a large batch gets one line.
fn no_customer_note(call_ids: &[String]) -> Option<String> {
    const NAMED: usize = 3;
    let (first, rest) = call_ids.split_at(call_ids.len().min(NAMED));
    if first.is_empty() {
        return None;
    }
    let more = if rest.is_empty() {
        String::new()
    } else {
        format!(" and {} more", rest.len())
    };
    Some(format!(
        "{n} call{s} had no speaker the transcript or its opening script marks as the customer \
         ({ids}{more}), so no moments were looked for there; name the customer's speaker label \
         with --customer LABEL or the agent's with --agent LABEL",
        n = call_ids.len(),
        s = if call_ids.len() == 1 { "" } else { "s" },
        ids = first.join(", "),
    ))
}

#[cfg(test)]
mod tests {
    use super::no_customer_note;

    #[test]
    fn the_no_customer_note_names_three_calls_and_counts_the_rest() {
        assert_eq!(no_customer_note(&[]), None);
        let one = no_customer_note(&["c1".to_string()]).unwrap();
        assert!(
            one.starts_with("1 call had") && one.contains("(c1)"),
            "{one}"
        );
        let ids: Vec<String> = (1..=5).map(|i| format!("c{i}")).collect();
        let five = no_customer_note(&ids).unwrap();
        assert!(
            five.starts_with("5 calls had") && five.contains("(c1, c2, c3 and 2 more)"),
            "{five}"
        );
        assert!(five.contains("--customer LABEL"));
    }
}
