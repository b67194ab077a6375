//! `calltone merge`: shard outputs into one, written atomically; any
//! problem fails the whole merge (a partial merge would look complete).

use std::process::ExitCode;

use super::args::MergeArgs;
use super::output_target::OutputTarget;
use super::EXIT_OK;
use crate::report::merge::merge_outputs;

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut target = OutputTarget::open(args.output.as_deref())?;
    let calls = merge_outputs(&args.paths, &mut target)?;
    target.finish()?;
    if !args.quiet {
        eprintln!(
            "calltone: merged {calls} calls from {} files",
            args.paths.len()
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}
