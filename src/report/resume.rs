//! Resumable JSONL output. `score -o OUT` writes `OUT.partial` and renames
//! it to `OUT` only when the run finishes, so `OUT` is never half-written.
//! An interrupted run leaves `OUT.partial`; `score --resume` sets it aside
//! (as `OUT.partial-1`, `-2`, …), indexes every complete call in it (and in
//! `OUT`, if a finished run is being extended), and copies those calls'
//! records instead of scoring them again. A call counts as done only with
//! its call record written in full; a torn last line is ignored.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The working file beside `target`.
pub fn partial_path(target: &Path) -> PathBuf {
    suffixed(target, ".partial")
}

fn suffixed(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    target.with_file_name(name)
}

/// Earlier pieces set aside by `--resume` (`OUT.partial-N`), in order.
fn set_aside(target: &Path) -> Vec<PathBuf> {
    (1..)
        .map(|n| suffixed(target, &format!(".partial-{n}")))
        .take_while(|p| p.exists())
        .collect()
}

/// Where one finished call's records sit in an earlier file.
#[derive(Clone, Copy)]
struct Block {
    file: usize,
    offset: u64,
    len: u64,
    seq: Option<usize>,
}

/// Where each finished call's records sit in earlier output.
#[derive(Default)]
pub struct ResumeIndex {
    files: Vec<PathBuf>,
    /// (call id, content hash) → its block.
    blocks: HashMap<(String, String), Block>,
}

impl ResumeIndex {
    /// Sets an interrupted run's `OUT.partial` aside and indexes it, the
    /// pieces set aside before, and a finished `OUT`.
    pub fn load(target: &Path) -> io::Result<Self> {
        let partial = partial_path(target);
        if partial.exists() {
            let n = set_aside(target).len() + 1;
            std::fs::rename(&partial, suffixed(target, &format!(".partial-{n}")))?;
        }
        let mut index = Self::default();
        let mut sources = Vec::new();
        if target.exists() {
            sources.push(target.to_path_buf());
        }
        sources.extend(set_aside(target));
        for path in sources {
            index.add(&path)?;
        }
        Ok(index)
    }

    fn add(&mut self, path: &Path) -> io::Result<()> {
        let file_no = self.files.len();
        self.files.push(path.to_path_buf());
        let mut reader = BufReader::new(File::open(path)?);
        let (mut offset, mut block_start) = (0u64, 0u64);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 || line.last() != Some(&b'\n') {
                break; // end, or a torn last line
            }
            offset += n as u64;
            if !line.windows(13).any(|w| w == br#""type":"call""#) {
                continue;
            }
            let Ok(call) = serde_json::from_slice::<serde_json::Value>(&line) else {
                break; // damaged: nothing after it is trusted
            };
            let id = call["call_id"].as_str();
            let hash = call["content_hash"].as_str();
            if let (Some(id), Some(hash)) = (id, hash) {
                let seq = call["seq"].as_u64().map(|s| s as usize);
                let block = Block {
                    file: file_no,
                    offset: block_start,
                    len: offset - block_start,
                    seq,
                };
                self.blocks
                    .insert((id.to_string(), hash.to_string()), block);
            }
            block_start = offset;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The records written earlier for this call (its turn records and call
    /// record, as bytes), if its content and place in the input are unchanged.
    pub fn records(&self, call_id: &str, hash: &str, seq: usize) -> io::Result<Option<Vec<u8>>> {
        if self.blocks.is_empty() {
            return Ok(None); // not resuming: no key to build per call
        }
        let Some(b) = self.blocks.get(&(call_id.to_string(), hash.to_string())) else {
            return Ok(None);
        };
        if b.seq != Some(seq) {
            return Ok(None); // the input changed around it: score it again
        }
        let mut f = File::open(&self.files[b.file])?;
        f.seek(SeekFrom::Start(b.offset))?;
        let mut bytes = vec![0u8; b.len as usize];
        f.read_exact(&mut bytes)?;
        Ok(Some(bytes))
    }
}

/// The working file of a resumable run; `commit` renames it into place and
/// removes the pieces earlier runs left.
pub struct PartialFile {
    target: PathBuf,
    partial: PathBuf,
    out: BufWriter<File>,
}

impl PartialFile {
    pub fn create(target: &Path) -> io::Result<Self> {
        let partial = partial_path(target);
        let out = BufWriter::new(File::create(&partial)?);
        Ok(Self {
            target: target.to_path_buf(),
            partial,
            out,
        })
    }

    /// The working file (`OUT.partial`).
    pub fn partial(&self) -> &Path {
        &self.partial
    }

    pub fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.partial, &self.target)?;
        for piece in set_aside(&self.target) {
            std::fs::remove_file(piece)?;
        }
        Ok(())
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_lines(id: &str, hash: &str, seq: usize) -> String {
        format!(
            "{{\"type\":\"turn\",\"call_id\":\"{id}\",\"turn\":0}}\n\
             {{\"type\":\"call\",\"call_id\":\"{id}\",\"seq\":{seq},\"content_hash\":\"{hash}\"}}\n"
        )
    }

    #[test]
    fn an_interrupted_partial_file_is_indexed_up_to_its_last_whole_call() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        let whole = format!("{}{}", call_lines("a", "h1", 0), call_lines("b", "h2", 1));
        // A third call cut off mid-record, as a killed process leaves it.
        let torn =
            "{\"type\":\"turn\",\"call_id\":\"c\"}\n{\"type\":\"call\",\"call_id\":\"c\",\"se";
        std::fs::write(partial_path(&target), format!("{whole}{torn}")).unwrap();
        let index = ResumeIndex::load(&target).unwrap();
        assert_eq!(index.len(), 2);
        assert!(!partial_path(&target).exists(), "set aside");
        let b = index.records("b", "h2", 1).unwrap().unwrap();
        assert_eq!(String::from_utf8(b).unwrap(), call_lines("b", "h2", 1));
        assert!(index.records("b", "other-hash", 1).unwrap().is_none());
        assert!(
            index.records("b", "h2", 7).unwrap().is_none(),
            "moved in the input"
        );
        assert!(index.records("c", "h3", 2).unwrap().is_none());

        // A second interruption: both pieces are indexed, and a finished run
        // removes them.
        std::fs::write(partial_path(&target), call_lines("d", "h4", 3)).unwrap();
        let index = ResumeIndex::load(&target).unwrap();
        assert_eq!(index.len(), 3);
        let mut out = PartialFile::create(&target).unwrap();
        out.write_all(whole.as_bytes()).unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), whole);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the output remains");
    }
}
