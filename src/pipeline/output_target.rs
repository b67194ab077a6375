//! Where a command's records go: a file written atomically (temp file +
//! rename, so a crash never leaves half a file) or buffered standard output.

use std::io::{self, BufWriter, Stdout, Write};
use std::path::Path;

use anyhow::Context;

use super::Stopped;
use crate::report::atomic::AtomicFile;
use crate::report::resume::PartialFile;

pub enum OutputTarget {
    File(AtomicFile),
    /// JSONL from `score`: FILE.partial, renamed into place at the end.
    Partial(PartialFile),
    Stdout(BufWriter<Stdout>),
}

impl OutputTarget {
    pub fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match path {
            Some(p) => OutputTarget::File(
                AtomicFile::create(p).with_context(|| format!("cannot write {}", p.display()))?,
            ),
            None => OutputTarget::Stdout(BufWriter::new(io::stdout())),
        })
    }

    /// Like `open`, but a file is written as FILE.partial, which an
    /// interrupted run leaves for `score --resume`.
    pub fn open_resumable(path: Option<&Path>) -> anyhow::Result<Self> {
        Ok(match path {
            Some(p) => OutputTarget::Partial(
                PartialFile::create(p).with_context(|| format!("cannot write {}", p.display()))?,
            ),
            None => Self::open(None)?,
        })
    }

    /// What is being written, for error messages: the file (for a resumable
    /// one, `FILE.partial`, where an interrupted run's calls stay) or
    /// standard output.
    pub fn name(&self) -> String {
        match self {
            OutputTarget::File(f) => f.target().display().to_string(),
            OutputTarget::Partial(f) => f.partial().display().to_string(),
            OutputTarget::Stdout(_) => "standard output".into(),
        }
    }

    /// Makes the output visible: renames the file into place, or flushes.
    pub fn finish(self) -> Result<(), Stopped> {
        match self {
            OutputTarget::File(f) => {
                let name = f.target().display().to_string();
                f.commit()
                    .map_err(|e| Stopped::new(format!("could not finish {name}"), e))
            }
            OutputTarget::Partial(f) => {
                let name = f.partial().display().to_string();
                f.commit().map_err(|e| {
                    Stopped::new(format!("could not finish {name} (kept for --resume)"), e)
                })
            }
            OutputTarget::Stdout(mut s) => s
                .flush()
                .map_err(|e| Stopped::new("writing standard output", e)),
        }
    }
}

impl Write for OutputTarget {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutputTarget::File(f) => f.write(buf),
            OutputTarget::Partial(f) => f.write(buf),
            OutputTarget::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            OutputTarget::File(f) => f.flush(),
            OutputTarget::Partial(f) => f.flush(),
            OutputTarget::Stdout(s) => s.flush(),
        }
    }
}
