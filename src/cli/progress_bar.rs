//! The file progress bar `score` draws on a terminal's standard error.

use std::sync::OnceLock;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::progress::Progress;

/// A bar over input files, drawn only when `show` (a terminal, not `--quiet`);
/// notes are printed above it either way.
pub struct FileBar {
    show: bool,
    started: Instant,
    bar: OnceLock<ProgressBar>,
}

impl FileBar {
    pub fn new(show: bool, started: Instant) -> Self {
        Self {
            show,
            started,
            bar: OnceLock::new(),
        }
    }
}

impl Progress for FileBar {
    fn start(&self, files: usize) {
        let target = if self.show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(files as u64), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {pos}/{len} files {wide_bar} {per_sec} eta {eta} {msg}",
            )
            .expect("valid template"),
        );
        let _ = self.bar.set(bar);
    }

    fn note(&self, line: &str) {
        match self.bar.get() {
            Some(bar) => bar.suspend(|| crate::say!("{line}")),
            None => crate::say!("{line}"),
        }
    }

    fn advance(&self, files: usize, turns: usize) {
        if let Some(bar) = self.bar.get() {
            bar.inc(files as u64);
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{turns} turns, {:.0} turns/s", turns as f64 / secs));
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
