//! Fits the moment settings to a team's own labelled calls (`calltone
//! calibrate`). What a supervisor is alerted to is a call with a moment of
//! *frustrated* or worse, so that is what is fitted: among the settings on a
//! stated grid that find at least the target share of the calls labelled
//! frustrated or irate, the one that raises that alarm on the fewest calls
//! labelled calm. Pure: the calls come already scored (saved results), and
//! the search re-runs only the analysis.
//!
//! How good the fitted settings are is measured by cross-validation: the
//! labelled calls are cut into folds, the search is run on all folds but one
//! and measured on that one, in turn; the held-out counts are added up. That
//! is the number to expect on new calls, not the (flattering) figure on the
//! calls the settings were chosen on.

use rayon::prelude::*;
use serde::Serialize;

use super::call_analysis::customer_angers;
use super::moments::{find_moments, Severity};
use super::rules::Rules;
use super::settings::MomentSettings;
use super::turn_score::TurnScore;
use crate::transcript::{Channel, Role, Turn};

/// What a person said a call was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Calm,
    Annoyed,
    Frustrated,
    Irate,
}

impl Label {
    pub fn parse(s: &str) -> Option<Label> {
        match s.trim().to_ascii_lowercase().as_str() {
            "calm" => Some(Label::Calm),
            "annoyed" => Some(Label::Annoyed),
            "frustrated" => Some(Label::Frustrated),
            "irate" => Some(Label::Irate),
            _ => None,
        }
    }
}

/// A scored call and its label.
pub struct LabelledCall<'a> {
    pub id: &'a str,
    pub turns: &'a [Turn],
    pub scores: &'a [Option<TurnScore>],
    pub channel: Channel,
    pub label: Label,
    /// Where the anger starts (a turn index), when the labeller said: then a
    /// detection must start within one customer turn of it.
    pub start_turn: Option<usize>,
}

/// Fewest calls of each side (calm; frustrated or irate) calibrate fits to.
/// At 20 a detection rate's 95% interval is still about ±20 points: fewer,
/// and the search would fit noise.
pub const MIN_PER_SIDE: usize = 20;

/// One point of the search: the settings it varies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub odds_weight: f32,
    pub intent_weight: f32,
    pub open_at: f32,
    pub sustain_turns: usize,
    pub sustain_angry: usize,
    pub frustrated_at: f32,
}

impl Point {
    /// `base` with this point's settings. `close_at` keeps its distance
    /// below `open_at`; `irate_at` stays at least 0.1 above `frustrated_at`.
    pub fn apply(&self, base: &MomentSettings) -> MomentSettings {
        let gap = (base.open_at - base.close_at).max(0.0);
        MomentSettings {
            odds_weight: self.odds_weight,
            intent_weight: self.intent_weight,
            open_at: self.open_at,
            close_at: if self.open_at == base.open_at {
                base.close_at
            } else {
                (self.open_at - gap).max(0.0)
            },
            sustain_turns: self.sustain_turns,
            sustain_angry: self.sustain_angry,
            frustrated_at: self.frustrated_at,
            irate_at: base.irate_at.max(self.frustrated_at + 0.1).min(1.0),
            ..base.clone()
        }
    }

    pub fn of(m: &MomentSettings) -> Point {
        Point {
            odds_weight: m.odds_weight,
            intent_weight: m.intent_weight,
            open_at: m.open_at,
            sustain_turns: m.sustain_turns,
            sustain_angry: m.sustain_angry,
            frustrated_at: m.frustrated_at,
        }
    }
}

/// The settings searched, each over a stated range.
#[derive(Debug, Clone, Serialize)]
pub struct Grid {
    pub odds_weight: Vec<f32>,
    pub intent_weight: Vec<f32>,
    pub open_at: Vec<f32>,
    /// (sustain_turns, sustain_angry)
    pub sustain: Vec<(usize, usize)>,
    pub frustrated_at: Vec<f32>,
}

impl Default for Grid {
    /// 5 × 3 × 5 × 2 × up to 26 (frustrated_at at least 0.04 above open_at):
    /// 3,720 points, the defaults among them.
    fn default() -> Self {
        Self {
            odds_weight: vec![0.0, 0.25, 0.5, 0.75, 1.0],
            intent_weight: vec![0.3, 0.45, 0.6],
            open_at: vec![0.28, 0.32, 0.36, 0.40, 0.44],
            sustain: vec![(3, 2), (2, 2)],
            frustrated_at: (0..26).map(|i| 0.40 + 0.02 * i as f32).collect(),
        }
    }
}

impl Grid {
    fn points(&self) -> Vec<Point> {
        let mut out = Vec::new();
        for &odds_weight in &self.odds_weight {
            for &intent_weight in &self.intent_weight {
                for &open_at in &self.open_at {
                    for &(sustain_turns, sustain_angry) in &self.sustain {
                        // Frustrated must sit above the anger that opens a
                        // moment, or every moment is frustrated.
                        for &frustrated_at in
                            self.frustrated_at.iter().filter(|&&f| f >= open_at + 0.04)
                        {
                            out.push(Point {
                                odds_weight,
                                intent_weight,
                                open_at,
                                sustain_turns,
                                sustain_angry,
                                frustrated_at,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// How a set of settings did on a set of labelled calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Calls labelled frustrated or irate, and those with a frustrated-or-worse moment.
    pub angry: usize,
    pub detected: usize,
    /// Calls labelled calm, and those with a frustrated-or-worse moment.
    pub calm: usize,
    pub false_alarms: usize,
    /// Calls labelled annoyed (neither side), and those alarmed.
    pub annoyed: usize,
    pub annoyed_alarmed: usize,
}

impl Counts {
    pub fn detection(&self) -> f64 {
        ratio(self.detected, self.angry)
    }

    pub fn false_alarm_rate(&self) -> f64 {
        ratio(self.false_alarms, self.calm)
    }

    /// Of the alarmed calls labelled calm or angry, the angry share, at the
    /// labelled calls' own mix.
    pub fn precision(&self) -> f64 {
        ratio(self.detected, self.detected + self.false_alarms)
    }

    fn add(&mut self, o: &Counts) {
        self.angry += o.angry;
        self.detected += o.detected;
        self.calm += o.calm;
        self.false_alarms += o.false_alarms;
        self.annoyed += o.annoyed;
        self.annoyed_alarmed += o.annoyed_alarmed;
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// Wilson's 95% interval for `k` successes in `n`.
pub fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n, z) = (k as f64, n as f64, 1.96f64);
    let p = k / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * ((p * (1.0 - p) + z * z / (4.0 * n)) / n).sqrt() / (1.0 + z * z / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Whether each call raised the alarm at each point: `alarm[point][call]`.
struct Outcomes {
    points: Vec<Point>,
    alarm: Vec<Vec<bool>>,
}

/// Whether `call`, analysed with `m` (anger read as in `angers`), raises a
/// frustrated-or-worse alarm (for an angry call with a start, one starting
/// within one customer turn of it).
fn alarmed(call: &LabelledCall, angers: &[super::anger::TurnAnger], m: &MomentSettings) -> bool {
    let moments = find_moments(call.turns, angers, m);
    let customer_index = |turn: usize| {
        call.turns[..turn.min(call.turns.len())]
            .iter()
            .filter(|t| t.role == Role::Customer)
            .count() as i64
    };
    moments.iter().any(|mo| {
        mo.severity >= Severity::Frustrated
            && match (call.label, call.start_turn) {
                (Label::Frustrated | Label::Irate, Some(start)) => {
                    (customer_index(mo.start_turn) - customer_index(start)).abs() <= 1
                }
                _ => true,
            }
    })
}

fn outcomes(calls: &[LabelledCall], grid: &Grid, base: &Rules) -> Outcomes {
    let points = grid.points();
    let per_call: Vec<Vec<bool>> = calls
        .par_iter()
        .map(|call| {
            let mut row = Vec::with_capacity(points.len());
            let mut angers_for: Option<((u32, u32), Vec<super::anger::TurnAnger>)> = None;
            for p in &points {
                // Anger per turn depends only on the cue and model weights:
                // read once per pair (points are ordered by them).
                let key = (p.odds_weight.to_bits(), p.intent_weight.to_bits());
                if angers_for.as_ref().is_none_or(|(k, _)| *k != key) {
                    let rules = Rules {
                        moments: p.apply(&base.moments),
                        ..base.clone()
                    };
                    let angers = customer_angers(call.turns, call.scores, call.channel, &rules);
                    angers_for = Some((key, angers));
                }
                let angers = &angers_for.as_ref().expect("set above").1;
                row.push(alarmed(call, angers, &p.apply(&base.moments)));
            }
            row
        })
        .collect();
    let alarm = (0..points.len())
        .map(|p| per_call.iter().map(|row| row[p]).collect())
        .collect();
    Outcomes { points, alarm }
}

fn counts_of(calls: &[LabelledCall], alarm: &[bool], subset: &[usize]) -> Counts {
    let mut c = Counts::default();
    for &i in subset {
        let a = alarm[i];
        match calls[i].label {
            Label::Calm => {
                c.calm += 1;
                c.false_alarms += usize::from(a);
            }
            Label::Annoyed => {
                c.annoyed += 1;
                c.annoyed_alarmed += usize::from(a);
            }
            Label::Frustrated | Label::Irate => {
                c.angry += 1;
                c.detected += usize::from(a);
            }
        }
    }
    c
}

/// The search's rule on `subset`. A point qualifies when its detection
/// clears the target by one standard error (`sqrt(t(1-t)/n)`): the best of
/// thousands of points that only just reach the target on these calls falls
/// short of it on new ones. Among qualifying points, the fewest false
/// alarms; points within one standard error of that count as tied, and the
/// tie goes to the point nearest the base settings (then the fewest false
/// alarms), so noise does not move settings far. When no point qualifies,
/// the largest detection minus false-alarm rate (Youden's J) by the same
/// tie rule: taking the most detection whatever it costs would alarm on
/// half the calm calls. Returns the point's index and whether any qualified.
fn choose(
    calls: &[LabelledCall],
    o: &Outcomes,
    subset: &[usize],
    target: f64,
    defaults: &Point,
) -> (usize, bool) {
    let distance = |p: &Point| {
        (p.odds_weight - defaults.odds_weight).abs()
            + (p.intent_weight - defaults.intent_weight).abs()
            + (p.open_at - defaults.open_at).abs()
            + (p.frustrated_at - defaults.frustrated_at).abs()
            + (p.sustain_turns.abs_diff(defaults.sustain_turns)
                + p.sustain_angry.abs_diff(defaults.sustain_angry)) as f32
    };
    let scored: Vec<(usize, Counts)> = (0..o.points.len())
        .map(|p| (p, counts_of(calls, &o.alarm[p], subset)))
        .collect();
    let (angry, calm) = scored
        .first()
        .map_or((0, 0), |(_, c)| (c.angry.max(1), c.calm.max(1)));
    let margin = (target * (1.0 - target) / angry as f64).sqrt();
    let qualifying: Vec<&(usize, Counts)> = scored
        .iter()
        .filter(|(_, c)| c.detection() >= target + margin)
        .collect();
    let reached = !qualifying.is_empty();
    // What is minimised: false alarms, or (fallback) false alarms − detection.
    let cost = |c: &Counts| {
        if reached {
            c.false_alarm_rate()
        } else {
            c.false_alarm_rate() - c.detection()
        }
    };
    let pool: Vec<&(usize, Counts)> = if reached {
        qualifying
    } else {
        scored.iter().collect()
    };
    let best = pool
        .iter()
        .map(|(_, c)| cost(c))
        .fold(f64::INFINITY, f64::min);
    let fa = best.clamp(0.0, 1.0);
    let tolerance = (fa.max(0.5 / calm as f64) * (1.0 - fa) / calm as f64).sqrt();
    let chosen = pool
        .into_iter()
        .filter(|(_, c)| cost(c) <= best + tolerance)
        .min_by(|(pa, a), (pb, b)| {
            distance(&o.points[*pa])
                .total_cmp(&distance(&o.points[*pb]))
                .then(cost(a).total_cmp(&cost(b)))
        })
        .expect("the grid is not empty");
    (chosen.0, reached)
}

/// What calibrate is asked for.
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    /// Share of frustrated-or-irate calls the settings must find.
    pub target_detection: f64,
    /// Cross-validation folds.
    pub folds: usize,
    pub grid: Grid,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        Self {
            target_detection: 0.9,
            folds: 5,
            grid: Grid::default(),
        }
    }
}

/// One row of the trade-off table.
#[derive(Debug, Clone, Serialize)]
pub struct TradeOff {
    pub point: Point,
    pub counts: Counts,
    pub chosen: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// The fitted settings (the base rules' others kept).
    pub settings: MomentSettings,
    pub chosen: Point,
    /// Whether any point reached the target detection on all labelled calls.
    pub reached_target: bool,
    /// The chosen settings on the calls they were chosen on (flattering).
    pub fitted: Counts,
    /// The base settings on the same calls.
    pub base: Counts,
    /// The search measured on calls it did not see, fold by fold, added up.
    pub cross_validated: Counts,
    pub folds: usize,
    /// At the chosen settings, `frustrated_at` a few steps either way.
    pub trade_off: Vec<TradeOff>,
    pub points_searched: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error(
        "too few labelled calls to fit to: {calm} calm and {angry} frustrated or irate \
         ({annoyed} annoyed, used for neither); calibrate needs at least {MIN_PER_SIDE} of each \
         side (with fewer, a detection or false-alarm rate moves by more than ±20 points at 95% \
         and the search would fit noise)"
    )]
    TooFew {
        calm: usize,
        angry: usize,
        annoyed: usize,
    },
}

/// FNV-1a of the call id: a fold assignment no input order changes.
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Folds with each label spread evenly over them.
fn folds(calls: &[LabelledCall], k: usize) -> Vec<usize> {
    let mut fold = vec![0; calls.len()];
    for label in [Label::Calm, Label::Annoyed, Label::Frustrated, Label::Irate] {
        let mut of_label: Vec<usize> = (0..calls.len())
            .filter(|&i| calls[i].label == label)
            .collect();
        of_label.sort_by_key(|&i| (stable_hash(calls[i].id), i));
        for (rank, &i) in of_label.iter().enumerate() {
            fold[i] = rank % k.max(1);
        }
    }
    fold
}

/// Fits the settings to `calls` (see the module doc). `base` gives every
/// setting the search does not vary.
pub fn calibrate(
    calls: &[LabelledCall],
    base: &Rules,
    options: &CalibrateOptions,
) -> Result<Calibration, CalibrationError> {
    let all: Vec<usize> = (0..calls.len()).collect();
    let count = |l: fn(Label) -> bool| calls.iter().filter(|c| l(c.label)).count();
    let calm = count(|l| l == Label::Calm);
    let angry = count(|l| l >= Label::Frustrated);
    if calm < MIN_PER_SIDE || angry < MIN_PER_SIDE {
        return Err(CalibrationError::TooFew {
            calm,
            angry,
            annoyed: count(|l| l == Label::Annoyed),
        });
    }
    let o = outcomes(calls, &options.grid, base);
    let defaults = Point::of(&base.moments);
    let target = options.target_detection;
    let (chosen_index, reached_target) = choose(calls, &o, &all, target, &defaults);
    let chosen = o.points[chosen_index];

    let k = options.folds.max(2);
    let fold = folds(calls, k);
    let mut cross_validated = Counts::default();
    for f in 0..k {
        let train: Vec<usize> = all.iter().copied().filter(|&i| fold[i] != f).collect();
        let held: Vec<usize> = all.iter().copied().filter(|&i| fold[i] == f).collect();
        let (p, _) = choose(calls, &o, &train, target, &defaults);
        cross_validated.add(&counts_of(calls, &o.alarm[p], &held));
    }

    // The base settings may lie off the grid: analyse them directly.
    let base_alarm: Vec<bool> = calls
        .par_iter()
        .map(|c| {
            let angers = customer_angers(c.turns, c.scores, c.channel, base);
            alarmed(c, &angers, &base.moments)
        })
        .collect();
    let trade_off = o
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            Point {
                frustrated_at: chosen.frustrated_at,
                ..**p
            } == chosen
                && (p.frustrated_at - chosen.frustrated_at).abs() < 0.11
        })
        .map(|(i, p)| TradeOff {
            point: *p,
            counts: counts_of(calls, &o.alarm[i], &all),
            chosen: i == chosen_index,
        })
        .collect();
    Ok(Calibration {
        settings: chosen.apply(&base.moments),
        chosen,
        reached_target,
        fitted: counts_of(calls, &o.alarm[chosen_index], &all),
        base: counts_of(calls, &base_alarm, &all),
        cross_validated,
        folds: k,
        trade_off,
        points_searched: o.points.len(),
    })
}

/// The fewest false alarms any grid point raises on `calls` while detecting
/// at least `target` of the angry ones (no margin, no tie rule): the best
/// achievable, to judge a calibration by on calls it did not see. `None`
/// when no point detects that many.
pub fn best_at(
    calls: &[LabelledCall],
    base: &Rules,
    grid: &Grid,
    target: f64,
) -> Option<(Point, Counts)> {
    let o = outcomes(calls, grid, base);
    let all: Vec<usize> = (0..calls.len()).collect();
    (0..o.points.len())
        .map(|p| (o.points[p], counts_of(calls, &o.alarm[p], &all)))
        .filter(|(_, c)| c.detection() >= target)
        .min_by(|(_, a), (_, b)| a.false_alarm_rate().total_cmp(&b.false_alarm_rate()))
}

/// How `settings` do on `calls`.
pub fn measure_settings(calls: &[LabelledCall], base: &Rules, settings: &MomentSettings) -> Counts {
    let rules = Rules {
        moments: settings.clone(),
        ..base.clone()
    };
    let alarm: Vec<bool> = calls
        .par_iter()
        .map(|c| {
            let angers = customer_angers(c.turns, c.scores, c.channel, &rules);
            alarmed(c, &angers, &rules.moments)
        })
        .collect();
    let all: Vec<usize> = (0..calls.len()).collect();
    counts_of(calls, &alarm, &all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_hold_the_rate_and_narrow_with_more_calls() {
        let (lo, hi) = wilson(90, 100);
        assert!(
            lo < 0.9 && hi > 0.9 && (0.82..0.84).contains(&lo),
            "{lo} {hi}"
        );
        let (lo2, hi2) = wilson(900, 1000);
        assert!(hi2 - lo2 < hi - lo);
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    #[test]
    fn the_default_grid_holds_the_default_settings() {
        let d = Point::of(&MomentSettings::default());
        let points = Grid::default().points();
        assert_eq!(points.len(), 3720);
        assert!(
            points
                .iter()
                .any(|p| (p.odds_weight - d.odds_weight).abs() < 1e-6
                    && (p.intent_weight - d.intent_weight).abs() < 1e-6
                    && (p.open_at - d.open_at).abs() < 1e-6
                    && (p.sustain_turns, p.sustain_angry) == (d.sustain_turns, d.sustain_angry)
                    && (p.frustrated_at - d.frustrated_at).abs() < 1e-6),
            "{d:?}"
        );
        let m = d.apply(&MomentSettings::default());
        assert_eq!(
            m,
            MomentSettings::default(),
            "applying the defaults changes nothing"
        );
    }

    #[test]
    fn labels_parse_in_any_case_and_refuse_others() {
        assert_eq!(Label::parse(" Irate "), Some(Label::Irate));
        assert_eq!(Label::parse("calm"), Some(Label::Calm));
        assert_eq!(Label::parse("angry"), None);
    }
}
