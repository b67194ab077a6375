//! Pure functions from scores to what a supervisor reads: turn scores, the
//! anger in each customer turn, irate moments, call metrics and rule
//! categories. No I/O, no file formats.

pub mod anger;
pub mod batch;
pub mod calibration;
pub mod call_analysis;
pub mod call_metrics;
pub mod call_summary;
pub mod cues;
pub mod gates;
pub mod lexical_cues;
pub mod live;
pub mod moments;
pub mod rules;
pub mod settings;
pub mod timing;
pub mod triggers;
pub mod turn_score;

pub use call_analysis::{analyse_call, CallAnalysis};
pub use call_summary::{summarise_call, CallSummary, RoleSentiment};
pub use cues::Cue;
pub use moments::{Moment, Severity};
pub use rules::{CategoryMatch, Rules, RulesError};
pub use settings::{MomentSettings, TimingSettings};
pub use turn_score::{turn_scores, TurnScore};
