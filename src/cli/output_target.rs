//! Where a command's records go: a file written atomically (temp file +
//! rename, so a crash never leaves half a file) or buffered standard output.

use std::io::{self, BufWriter, Stdout, Write};
use std::path::Path;

use anyhow::Context;

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

    /// Makes the output visible: renames the file into place, or flushes.
    pub fn finish(self) -> anyhow::Result<()> {
        match self {
            OutputTarget::File(f) => f.commit().context("could not finish the output file"),
            OutputTarget::Partial(f) => f.commit().context("could not finish the output file"),
            OutputTarget::Stdout(mut s) => Ok(s.flush()?),
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
