//! The command line's words → the library's plans: what each flag means to
//! the pipeline, in one place, so every command reads them alike.

use super::args::{ModelArg, ReportOutputArgs, ScoreArgs};
use crate::analysis::gates::Gate;
use crate::model::ModelChoice;
use crate::pipeline::prepare::load_rules;
use crate::pipeline::reports::ReportPlan;
use crate::pipeline::score::ScorePlan;
use crate::transcript::inputs::PathFilter;
use crate::transcript::words::TurnJoin;
use crate::transcript::{ReadLimits, RoleHints};

pub fn model_choice(arg: &ModelArg) -> ModelChoice {
    ModelChoice {
        model: arg.model.clone(),
        precision: arg.precision,
        device: arg.device,
        kernel: arg.kernel,
    }
}

/// The reports asked for; a `--fail-on` that does not parse is an error.
pub fn report_plan(args: &ReportOutputArgs) -> anyhow::Result<ReportPlan> {
    let gates = args
        .fail_on
        .iter()
        .map(|g| Gate::parse(g))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    Ok(ReportPlan {
        top: args.top,
        sort: args.sort,
        html: args.html.clone(),
        calls_csv: args.calls_csv.clone(),
        agents_csv: args.agents_csv.clone(),
        gates,
        width: args.width,
    })
}

/// `score`'s plan; `reports` decides whether calls are kept for a report.
pub fn score_plan(args: &ScoreArgs, reports: &ReportPlan) -> anyhow::Result<ScorePlan> {
    Ok(ScorePlan {
        paths: args.paths.clone(),
        filter: PathFilter::new(&args.include, &args.exclude).map_err(anyhow::Error::msg)?,
        input_format: args.input_format,
        limits: ReadLimits {
            max_file_bytes: args.max_file_bytes,
            max_turn_bytes: args.max_turn_bytes,
            turn_join: TurnJoin {
                max_pause_ms: args.turn_pause_ms,
            },
        },
        hints: RoleHints {
            agent: args.agent.clone(),
            customer: args.customer.clone(),
        },
        shard: args.shard,
        resume: args.resume,
        output: args.output.clone(),
        format: args.format,
        token_budget: args.batch_tokens,
        rules: load_rules(args.analysis.rules.as_deref())?,
        redact: !args.analysis.no_redact,
        // A report needs every call's analysis at the end, so only then are they kept.
        keep_for_report: args.report || reports.needs_batch(),
        read_ahead: None,
    })
}
