//! The command line: what the user typed (`args`) and one file per command
//! that wires the library's stages together. No analysis lives here.

pub mod analyze_cmd;
pub mod args;
pub mod bench_cmd;
pub mod bench_scaling;
pub mod bench_stream;
pub mod calibrate_cmd;
pub mod eval_cmd;
pub mod eval_moments_cmd;
pub mod help_files;
pub mod merge_cmd;
pub mod plans;
pub mod progress_bar;
pub mod report_cmd;
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

pub fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        args::Command::Setup(a) => setup_cmd::run(a),
        args::Command::Train(a) => train_cmd::run(a),
        args::Command::Eval(a) => eval_cmd::run(a),
        args::Command::Score(a) => score_cmd::run(a),
        args::Command::Analyze(a) => analyze_cmd::run(a),
        args::Command::Report(a) => report_cmd::run(a),
        args::Command::Stream(a) => stream_cmd::run(a),
        args::Command::Calibrate(a) => calibrate_cmd::run(a),
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
