//! `calltone calibrate`: flags → a plan, the calibration stage, then the
//! trade-off table and the exit code (1 when a label line, a result file or
//! a labelled call could not be used; the fit still ran on the rest).

use std::process::ExitCode;

use super::args::CalibrateArgs;
use super::{EXIT_OK, EXIT_PARTIAL};
use crate::analysis::calibration::{CalibrateOptions, Grid};
use crate::pipeline::calibrate::{
    rate_with_interval, run_calibration, trade_off_lines, CalibratePlan,
};
use crate::pipeline::prepare::load_rules;
use crate::pipeline::threads::configure_threads;

pub fn run(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    configure_threads(args.threads);
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.detection),
        "--detection is a share between 0 and 1 (e.g. 0.9), not {}",
        args.detection
    );
    let plan = CalibratePlan {
        results: args.paths.clone(),
        labels: args.labels.clone(),
        base: load_rules(args.rules.as_deref())?,
        options: CalibrateOptions {
            target_detection: args.detection,
            folds: args.folds.max(2),
            grid: Grid::default(),
        },
        output: args.output.clone(),
    };
    let run = run_calibration(&plan)?;
    let c = &run.calibration;
    if args.json {
        println!("{}", serde_json::to_string_pretty(c)?);
    } else {
        let cv = &c.cross_validated;
        println!(
            "labelled calls         {} ({} calm, {} frustrated or irate, {} annoyed); {} unlabelled calls not used",
            run.labelled, c.fitted.calm, c.fitted.angry, c.fitted.annoyed, run.unlabelled
        );
        println!(
            "searched               {} settings for >= {:.0}% detection, then fewest false alarms{}",
            c.points_searched,
            100.0 * args.detection,
            if c.reached_target {
                ""
            } else {
                " (none reached it: the best detection minus false-alarm rate was taken)"
            }
        );
        let p = &c.chosen;
        println!(
            "chosen                 frustrated_at {:.2}, open_at {:.2}, odds_weight {:.2}, intent_weight {:.2}, sustain {} of {}",
            p.frustrated_at, p.open_at, p.odds_weight, p.intent_weight, p.sustain_angry, p.sustain_turns
        );
        println!(
            "expected on new calls  detection {}, false alarms {} ({}-fold cross-validation)",
            rate_with_interval(cv.detected, cv.angry),
            rate_with_interval(cv.false_alarms, cv.calm),
            c.folds
        );
        println!("on the labelled calls (the settings were chosen on these: flattering):");
        for l in trade_off_lines(c) {
            println!("  {l}");
        }
        println!("wrote                  {}", plan.output.display());
    }
    if !run.failures.is_empty() {
        crate::say!(
            "calltone: calibrate: {} label lines, files or calls could not be used (each named above)",
            run.failures.len()
        );
    }
    Ok(ExitCode::from(if run.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}
