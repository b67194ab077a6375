//! Pure functions from scores to what a supervisor reads: turn scores, call
//! summaries (and, later, moments and metrics). No I/O, no file formats.

pub mod call_summary;
pub mod turn_score;

pub use call_summary::{summarise_call, CallSummary, RoleSentiment};
pub use turn_score::TurnScore;
