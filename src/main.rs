//! calltone's entry point: parse, run, and turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

use calltone::cli::{self, args::Cli};

fn main() -> ExitCode {
    let parsed = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(cli::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli::run(parsed) {
        Ok(code) => code,
        Err(e) => {
            // `calltone score … | head` closes the pipe: that is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("calltone: {e:#}");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}
