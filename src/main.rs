//! calltone's entry point: parse, run, and turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

use calltone::cli::{self, args::Cli};

fn main() -> ExitCode {
    // Before anything starts the CUDA driver (or any other thread): where
    // it keeps the kernels it compiles (`device::kernel_cache_env`).
    #[cfg(feature = "cuda")]
    for (name, value) in
        calltone::model::device::kernel_cache_env(&calltone::setup::cache_dir(), |k| {
            std::env::var_os(k)
        })
    {
        std::env::set_var(name, value);
    }
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
            calltone::say!("calltone: {e:#}");
            // A run that stopped part way kept what it had finished: exit 1,
            // as for inputs that failed. Anything else stopped it before it began.
            if e.chain().any(|c| c.is::<calltone::pipeline::Stopped>()) {
                ExitCode::from(cli::EXIT_PARTIAL)
            } else {
                ExitCode::from(cli::EXIT_USAGE)
            }
        }
    }
}
