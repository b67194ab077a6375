//! `calltone setup`: fetch and verify what the default model needs.

use std::process::ExitCode;

use super::args::SetupArgs;
use crate::model::setup;

pub fn run(args: SetupArgs) -> anyhow::Result<ExitCode> {
    let mut err = std::io::stderr();
    let dir = setup::ensure(&setup::ENCODER, &mut err)?;
    eprintln!("encoder: {}", dir.display());
    if args.data {
        let v = setup::ensure_vader(&mut err)?;
        eprintln!("vader ratings: {}", v.display());
        let c = setup::ensure(&setup::CHITCHAT, &mut err)?;
        eprintln!("chit-chat conversations: {}", c.display());
        let r = setup::ensure(&setup::ROTTEN_TOMATOES, &mut err)?;
        eprintln!("rotten tomatoes snippets: {}", r.display());
    }
    Ok(ExitCode::SUCCESS)
}
