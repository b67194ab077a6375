//! calltone: finds irate-customer moments in call and chat transcripts.
//!
//! Data flows one way: `transcript` (read files) → `text` (scoring units) →
//! `engine` (batched model inference) → `analysis` (pure functions over
//! scores) → `report` (writers). `pipeline` runs those stages for a command
//! from a plan; `cli` only parses, builds the plan and maps the outcome to an
//! exit code. `model` says what the engine runs; `train` and `eval` make and
//! measure the default model.

/// `eprintln!` for calltone's messages to a person: a closed or full
/// standard error (`calltone … 2>&1 | head -1`) loses the message instead of
/// panicking, so a run whose output goes elsewhere is not stopped by it.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod analysis;
pub mod cli;
pub mod data;
pub mod engine;
pub mod eval;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod setup;
pub mod text;
pub mod train;
pub mod transcript;
