//! `calltone merge`: shard outputs into one, written atomically; any
//! problem fails the whole merge (a partial merge would look complete),
//! unless `--allow-missing` lets a set with shards lost through, marked.
//! A refused merge exits 1 (its inputs failed), a write error too.

use std::process::ExitCode;

use super::args::MergeArgs;
use super::{EXIT_OK, EXIT_PARTIAL};
use crate::pipeline::output_target::OutputTarget;
use crate::pipeline::Stopped;
use crate::report::merge::{merge_outputs, MergeError};

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut target = OutputTarget::open(args.output.as_deref())?;
    let out_name = target.name();
    let merged = match merge_outputs(&args.paths, &mut target, args.allow_missing) {
        Ok(merged) => merged,
        Err(MergeError::Write(e)) => return Err(Stopped::writing(&out_name)(e).into()),
        Err(refused) => {
            let kept = match &args.output {
                Some(p) => format!("{} was not written", p.display()),
                None => "what standard output got is incomplete".into(),
            };
            crate::say!("calltone: {refused}; {kept}");
            return Ok(ExitCode::from(EXIT_PARTIAL));
        }
    };
    target.finish()?;
    if !merged.missing.is_empty() {
        crate::say!(
            "calltone: the result is PARTIAL: shards {} are missing (its last line says so)",
            merged.missing.join(", ")
        );
    } else if !merged.checked {
        crate::say!(
            "calltone: these files carry no shard records (written by `analyze`, an older \
             calltone, or runs without --shard): merged, but no missing shard could be noticed"
        );
    }
    if !args.quiet {
        crate::say!(
            "calltone: merged {} calls from {} files",
            merged.calls,
            args.paths.len()
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}
