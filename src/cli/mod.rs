//! The command line: what the user typed (`args`) and one file per command
//! that wires the library's stages together. No analysis lives here.

pub mod analyze_cmd;
pub mod args;
pub mod bench_cmd;
pub mod bench_stream;
pub mod call_output;
pub mod eval_cmd;
pub mod eval_moments_cmd;
pub mod help_files;
pub mod load_model;
pub mod merge_cmd;
pub mod output_target;
pub mod peak_memory;
pub mod report_cmd;
pub mod report_output;
pub mod saved_inputs;
pub mod score_cmd;
pub mod setup_cmd;
pub mod stream_cmd;
pub mod train_cmd;
pub mod version;

use std::process::ExitCode;

/// Exit codes, part of the interface contract.
pub const EXIT_OK: u8 = 0;
/// Some inputs failed; the others were processed and written.
pub const EXIT_PARTIAL: u8 = 1;
/// The command line was wrong, or the run could not start.
pub const EXIT_USAGE: u8 = 2;
/// A `--fail-on` condition was met (the report was still written).
pub const EXIT_GATE: u8 = 3;

/// A run that had started and could not go on (a full disk, a closed
/// pipe other than standard output's): what it had finished is kept (a
/// score's `FILE.partial`, for `--resume`), and it exits with
/// [`EXIT_PARTIAL`], not as a usage error. Its source keeps the cause, so
/// a closed standard output is still recognised as one.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Stopped {
    pub what: String,
    #[source]
    pub source: std::io::Error,
}

impl Stopped {
    pub fn new(what: impl Into<String>, source: std::io::Error) -> Self {
        Self {
            what: what.into(),
            source,
        }
    }

    /// Names `output` on a write error: `writing OUT.partial: No space left on device`.
    pub fn writing(output: &str) -> impl Fn(std::io::Error) -> Stopped + '_ {
        move |e| Stopped::new(format!("writing {output}"), e)
    }
}

pub fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        args::Command::Setup(a) => setup_cmd::run(a),
        args::Command::Train(a) => train_cmd::run(a),
        args::Command::Eval(a) => eval_cmd::run(a),
        args::Command::Score(a) => score_cmd::run(a),
        args::Command::Analyze(a) => analyze_cmd::run(a),
        args::Command::Report(a) => report_cmd::run(a),
        args::Command::Stream(a) => stream_cmd::run(a),
        args::Command::Merge(a) => merge_cmd::run(a),
        args::Command::Bench(a) => bench_cmd::run(a),
        args::Command::Schema => {
            print!("{}", crate::report::schema::record_schema());
            Ok(ExitCode::SUCCESS)
        }
        args::Command::Completions(a) => help_files::completions(a),
        args::Command::Man(a) => help_files::man(a),
    }
}
