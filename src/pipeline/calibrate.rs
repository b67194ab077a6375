//! `calibrate`'s stage: saved results and a team's labels → the fitted
//! moment settings, written as a rules file (atomically). The search itself
//! is `analysis::calibration`; this joins the labels to the calls and says
//! what could not be used.

use std::path::PathBuf;

use anyhow::Context;

use super::saved::for_each_saved;
use crate::analysis::calibration::{
    calibrate, wilson, CalibrateOptions, Calibration, Counts, LabelledCall,
};
use crate::analysis::{Rules, TurnScore};
use crate::data::call_labels::parse_labels;
use crate::report::atomic::AtomicFile;
use crate::transcript::{Conversation, ReadError};

pub struct CalibratePlan {
    /// Saved results (`score` output): files, folders or `-`.
    pub results: Vec<PathBuf>,
    /// CSV `call_id,label[,start_turn]`.
    pub labels: PathBuf,
    /// Every setting the search does not vary, and the base compared against.
    pub base: Rules,
    pub options: CalibrateOptions,
    /// The rules file to write.
    pub output: PathBuf,
}

pub struct CalibrateRun {
    pub calibration: Calibration,
    /// Calls in the results with a label, and without one (not used).
    pub labelled: usize,
    pub unlabelled: usize,
    /// Every label line, result file or labelled call that could not be
    /// used, with its reason (each also said on standard error).
    pub failures: Vec<String>,
}

/// Labelled calls named when their call is missing from the results; the rest are counted.
const MISSING_NAMED: usize = 5;

pub fn run_calibration(plan: &CalibratePlan) -> anyhow::Result<CalibrateRun> {
    let text = std::fs::read_to_string(&plan.labels)
        .with_context(|| format!("cannot read labels {}", plan.labels.display()))?;
    let labels = parse_labels(&text);
    let mut failures: Vec<String> = Vec::new();
    for e in labels.errors {
        let line = format!("{}: {e}", plan.labels.display());
        crate::say!("calltone: {line}");
        failures.push(line);
    }
    let mut calls: Vec<(Conversation, Vec<Option<TurnScore>>)> = Vec::new();
    let (_, read_failures) = for_each_saved(&plan.results, |saved| {
        calls.extend(saved.iter().map(|s| (s.conversation(), s.scores())));
        Ok(())
    })?;
    failures.extend(read_failures.iter().map(ReadError::to_string));

    let by_id: std::collections::HashMap<&str, usize> = calls
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.id.as_str(), i))
        .collect();
    let mut labelled = Vec::new();
    let mut missing = Vec::new();
    for l in &labels.labels {
        match by_id.get(l.call_id.as_str()) {
            Some(&i) => {
                let (conv, scores) = &calls[i];
                labelled.push(LabelledCall {
                    id: &conv.id,
                    turns: &conv.turns,
                    scores,
                    channel: conv.channel,
                    label: l.label,
                    start_turn: l.start_turn,
                });
            }
            None => missing.push(l.call_id.as_str()),
        }
    }
    if !missing.is_empty() {
        let named: Vec<&str> = missing.iter().take(MISSING_NAMED).copied().collect();
        let more = missing.len().saturating_sub(MISSING_NAMED);
        let line = format!(
            "{}: {} labelled call{} not in the results ({}{}); left out",
            plan.labels.display(),
            missing.len(),
            if missing.len() == 1 { " is" } else { "s are" },
            named.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        crate::say!("calltone: {line}");
        failures.push(line);
    }
    let calibration = calibrate(&labelled, &plan.base, &plan.options)?;
    write_rules(plan, &calibration, labelled.len())?;
    Ok(CalibrateRun {
        labelled: labelled.len(),
        unlabelled: calls.len() - labelled.len(),
        calibration,
        failures,
    })
}

/// `41.2%`
pub fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// `91.2% (88.4–93.4)`: a rate with its 95% interval.
pub fn rate_with_interval(k: usize, n: usize) -> String {
    let (lo, hi) = wilson(k, n);
    let rate = if n == 0 { 0.0 } else { k as f64 / n as f64 };
    format!("{} ({:.1}–{:.1})", pct(rate), 100.0 * lo, 100.0 * hi)
}

/// The trade-off table's lines (also written into the rules file as comments).
pub fn trade_off_lines(c: &Calibration) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<14} {:<22} {:<22} {:>9}",
        "frustrated_at", "detection (95% CI)", "false alarms (95% CI)", "precision"
    )];
    let row = |name: String, k: &Counts| {
        format!(
            "{name:<14} {:<22} {:<22} {:>9}",
            rate_with_interval(k.detected, k.angry),
            rate_with_interval(k.false_alarms, k.calm),
            pct(k.precision())
        )
    };
    for t in &c.trade_off {
        let mark = if t.chosen { " <- chosen" } else { "" };
        lines.push(row(format!("{:.2}", t.point.frustrated_at), &t.counts) + mark);
    }
    lines.push(row("base settings".into(), &c.base));
    lines
}

fn write_rules(plan: &CalibratePlan, c: &Calibration, labelled: usize) -> anyhow::Result<()> {
    let cv = &c.cross_validated;
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    line(format!(
        "# calltone calibrate: moment settings fitted to {labelled} labelled calls \
         ({} calm, {} frustrated or irate, {} annoyed)",
        c.fitted.calm, c.fitted.angry, c.fitted.annoyed
    ));
    line(format!(
        "# Rule: a frustrated-or-worse moment on at least {} of the frustrated or irate calls, \
         then the fewest on calm calls ({} settings searched){}.",
        pct(plan.options.target_detection),
        c.points_searched,
        if c.reached_target {
            ""
        } else {
            "; no setting reached that share, so the best detection minus false-alarm rate was taken"
        }
    ));
    line(format!(
        "# Expected on new calls ({}-fold cross-validation): detection {}, false alarms {}.",
        c.folds,
        rate_with_interval(cv.detected, cv.angry),
        rate_with_interval(cv.false_alarms, cv.calm)
    ));
    line("# On the labelled calls themselves (flattering):".into());
    for l in trade_off_lines(c) {
        line(format!("#   {l}"));
    }
    line(
        "# Use: calltone score --rules THIS_FILE ... or calltone analyze --rules THIS_FILE RESULTS"
            .into(),
    );
    line(String::new());
    let moments = toml::to_string(&c.settings).context("writing the [moments] table")?;
    let timing = toml::to_string(&plan.base.timing).context("writing the [timing] table")?;
    line(format!("[moments]\n{moments}"));
    line(format!("[timing]\n{timing}"));
    // What is written must read back as the same settings.
    let back = Rules::from_toml(&text).context("the rules file written does not read back")?;
    anyhow::ensure!(
        back.moments == c.settings,
        "the rules file written does not read back as the fitted settings"
    );
    let mut file = AtomicFile::create(&plan.output)
        .with_context(|| format!("cannot write {}", plan.output.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    file.commit()
        .with_context(|| format!("cannot write {}", plan.output.display()))?;
    Ok(())
}
