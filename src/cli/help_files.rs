//! `calltone completions SHELL` and `calltone man`: generated from the
//! command-line definitions themselves (clap_complete, clap_mangen), so
//! they list exactly the flags the binary takes.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs, ManArgs};

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "calltone", &mut out);
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The roff of one command's page.
fn page(cmd: clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    Ok(out)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let Some(dir) = args.out_dir else {
        std::io::stdout().write_all(&page(cmd)?)?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut pages = vec![("calltone.1".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands() {
        let page = sub
            .clone()
            .display_name(format!("calltone-{}", sub.get_name()))
            .bin_name(format!("calltone {}", sub.get_name()));
        pages.push((format!("calltone-{}.1", sub.get_name()), page));
    }
    for (file, cmd) in pages {
        let path = dir.join(&file);
        let mut out = crate::report::atomic::AtomicFile::create(&path)?;
        out.write_all(&page(cmd)?)?;
        out.commit()
            .with_context(|| format!("writing {}", path.display()))?;
        crate::say!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
