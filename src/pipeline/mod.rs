//! The stages a command runs, as a library: read transcripts → shard →
//! resume → score → analyse → records → sinks and reports. `cli/` parses
//! the command line into plans ([`score::ScorePlan`],
//! [`reports::ReportPlan`]), calls the stage it needs here, and maps what
//! comes back to an exit code; nothing below depends on `cli/`.
//!
//! - [`score`]: transcripts on disk → records, chunk by chunk (`score`).
//! - [`prepare`]: one scored call → redacted, summarised, analysed, written
//!   (every command that writes records).
//! - [`calibrate`]: saved results and a team's labels → fitted moment settings.
//! - [`live`]: turns arriving one at a time → live events (`stream`).
//! - [`reports`]: prepared calls → terminal report, HTML, CSVs, `--fail-on`.
//! - [`saved`], [`reanalyse`]: result files read back and analysed anew
//!   (`analyze`, `report`).
//! - [`output_target`], [`stopped`]: where records go, and what a write
//!   error that stops a run looks like.

pub mod calibrate;
pub mod live;
pub mod output_target;
pub mod peak_memory;
pub mod prepare;
pub mod progress;
pub mod reanalyse;
pub mod reports;
pub mod saved;
pub mod score;
pub mod stopped;
pub mod threads;

pub use stopped::Stopped;
