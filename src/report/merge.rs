//! `calltone merge`: shard outputs back into one file, in the order a single
//! machine would have written it. Each shard's JSONL holds whole calls (turn
//! records, then the call record) in input order, each call record carrying
//! its place in the whole input (`seq`); merging is a k-way merge on `seq`
//! that copies every call's lines byte for byte, so the result is identical
//! to a one-machine run, in constant memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::transcript::ReadError;

/// One shard output, read call by call.
struct Calls {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    last_seq: Option<usize>,
}

/// A call's records as written, and its place in the input.
struct Block {
    seq: usize,
    call_id: String,
    bytes: Vec<u8>,
}

impl Calls {
    fn open(path: &Path) -> Result<Self, ReadError> {
        let file = File::open(path).map_err(|e| fail(path, e.to_string()))?;
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::new(file),
            line: 0,
            last_seq: None,
        })
    }

    fn error(&self, reason: impl Into<String>) -> ReadError {
        fail(&self.path, format!("line {}: {}", self.line, reason.into()))
    }

    fn next(&mut self) -> Result<Option<Block>, ReadError> {
        let mut bytes = Vec::new();
        loop {
            let start = bytes.len();
            let n = self
                .reader
                .read_until(b'\n', &mut bytes)
                .map_err(|e| fail(&self.path, e.to_string()))?;
            if n == 0 {
                if bytes.is_empty() {
                    return Ok(None);
                }
                return Err(self.error(
                    "turn records without their call record: an unfinished output? \
                     (finish it with `score --resume`)",
                ));
            }
            self.line += 1;
            let line = &bytes[start..];
            if line.iter().all(u8::is_ascii_whitespace) {
                bytes.truncate(start);
                continue;
            }
            if !line.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            let record: serde_json::Value = serde_json::from_slice(&bytes[start..])
                .map_err(|e| self.error(format!("not a JSON record ({e})")))?;
            match record["type"].as_str() {
                Some("turn") => continue,
                Some("call") => {}
                _ => return Err(self.error("not a calltone turn or call record")),
            }
            let call_id = record["call_id"].as_str().unwrap_or_default().to_string();
            let Some(seq) = record["seq"].as_u64().map(|s| s as usize) else {
                return Err(self.error(format!(
                    "call {call_id:?} has no `seq`: merge needs outputs of `calltone score` \
                     (this version or later)"
                )));
            };
            if self.last_seq.is_some_and(|last| seq <= last) {
                return Err(self.error(format!(
                    "call {call_id:?} is out of input order (seq {seq}): not one run's output"
                )));
            }
            self.last_seq = Some(seq);
            return Ok(Some(Block {
                seq,
                call_id,
                bytes,
            }));
        }
    }
}

fn fail(path: &Path, reason: String) -> ReadError {
    ReadError {
        path: path.display().to_string(),
        reason,
    }
}

/// Merges shard outputs into `out`; returns the number of calls written.
/// Fails (naming the file and line) on anything that would make the merged
/// result differ from a single run: a damaged or unfinished file, a call in
/// two inputs, records out of order.
pub fn merge_outputs(paths: &[PathBuf], out: &mut impl Write) -> Result<usize, MergeError> {
    let mut inputs: Vec<Calls> = paths
        .iter()
        .map(|p| Calls::open(p))
        .collect::<Result<_, _>>()?;
    let mut heads: Vec<Option<Block>> = inputs
        .iter_mut()
        .map(Calls::next)
        .collect::<Result<_, _>>()?;
    let mut written = 0;
    loop {
        let mut best: Option<usize> = None;
        for (i, head) in heads.iter().enumerate() {
            let Some(block) = head else { continue };
            match best {
                Some(b) if heads[b].as_ref().map(|h| h.seq) == Some(block.seq) => {
                    return Err(MergeError::Read(inputs[i].error(format!(
                        "call {:?} (seq {}) is also in {}: shards overlap",
                        block.call_id,
                        block.seq,
                        inputs[b].path.display()
                    ))));
                }
                Some(b) if heads[b].as_ref().is_some_and(|h| h.seq < block.seq) => {}
                _ => best = Some(i),
            }
        }
        let Some(i) = best else { break };
        let block = heads[i].take().expect("chosen head exists");
        out.write_all(&block.bytes)?;
        written += 1;
        heads[i] = inputs[i].next()?;
    }
    Ok(written)
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("writing the merged output: {0}")]
    Write(#[from] io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, seq: usize) -> String {
        format!(
            "{{\"type\":\"turn\",\"call_id\":\"{id}\",\"turn\":0}}\n\
             {{\"type\":\"call\",\"call_id\":\"{id}\",\"seq\":{seq}}}\n"
        )
    }

    fn files(contents: &[String]) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let paths = contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = dir.path().join(format!("shard-{i}.jsonl"));
                std::fs::write(&p, c).unwrap();
                p
            })
            .collect();
        (dir, paths)
    }

    #[test]
    fn interleaved_shards_merge_in_input_order() {
        let (_d, paths) = files(&[
            call("a", 0) + &call("d", 3) + &call("e", 4),
            String::new(),
            call("b", 1) + &call("c", 2) + &call("f", 5),
        ]);
        let mut out = Vec::new();
        assert_eq!(merge_outputs(&paths, &mut out).unwrap(), 6);
        let want: String = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .enumerate()
            .map(|(i, id)| call(id, i))
            .collect();
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn overlaps_gaps_in_records_and_damage_are_named() {
        let cases = [
            (vec![call("a", 0), call("a", 0)], "shards overlap"),
            (vec![call("b", 2) + &call("a", 1)], "out of input order"),
            (
                vec![call("a", 0) + "{\"type\":\"turn\"}\n"],
                "unfinished output",
            ),
            (
                vec![call("a", 0) + "{not json\n"],
                "line 3: not a JSON record",
            ),
            (
                vec!["{\"type\":\"call\",\"call_id\":\"x\"}\n".to_string()],
                "has no `seq`",
            ),
        ];
        for (contents, want) in cases {
            let (_d, paths) = files(&contents);
            let err = merge_outputs(&paths, &mut Vec::new())
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err:?} lacks {want:?}");
            assert!(err.contains("shard-"), "{err:?} names no file");
        }
    }
}
