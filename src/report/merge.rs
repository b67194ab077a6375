//! `calltone merge`: shard outputs back into one file, in the order a single
//! machine would have written it. Each shard's JSONL holds whole calls (turn
//! records, then the call record) in input order, each call record carrying
//! its place in the whole input (`seq`); merging is a k-way merge on `seq`
//! that copies every call's lines byte for byte, so the result is identical
//! to a one-machine run, in memory that grows only with the number of calls
//! (their ids are kept, to refuse a call that appears twice).
//!
//! Each shard's output ends with a [`ShardRecord`] (`K/N`, its calls, the
//! input's calls). Before anything is written those are read from the
//! files' last lines, and a set with a shard missing is refused, naming the
//! missing shards, unless the caller allows it; then the result ends with a
//! record that lists what it lacks.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::records::{ShardRecord, SHARD_RECORD};
use crate::transcript::ReadError;

/// One shard output, read call by call.
struct Calls {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    last_seq: Option<usize>,
    /// Calls read so far (checked against the shard record's count).
    calls: usize,
    shard_record_seen: bool,
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
            calls: 0,
            shard_record_seen: false,
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
            if self.shard_record_seen {
                return Err(self.error("records after the shard record: not one run's output"));
            }
            match record["type"].as_str() {
                Some("turn") => continue,
                Some("call") => {}
                Some(SHARD_RECORD) if start == 0 => {
                    // Read (from the file's end) before merging; not copied.
                    self.shard_record_seen = true;
                    bytes.truncate(start);
                    continue;
                }
                Some(SHARD_RECORD) => {
                    return Err(self
                        .error("turn records without their call record before the shard record"))
                }
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
            self.calls += 1;
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

/// What a merge wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub calls: usize,
    /// Shards of the run that were not among the inputs (`K/N` each).
    pub missing: Vec<String>,
    /// False when the inputs carried no shard records (older outputs), so
    /// no shard could be checked for.
    pub checked: bool,
}

/// The shard record at the end of a file, if it has one.
fn shard_record_of(path: &Path) -> Result<Option<ShardRecord>, ReadError> {
    const TAIL: u64 = 64 << 10;
    let mut file = File::open(path).map_err(|e| fail(path, e.to_string()))?;
    let len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| fail(path, e.to_string()))?;
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL)))
        .map_err(|e| fail(path, e.to_string()))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)
        .map_err(|e| fail(path, e.to_string()))?;
    let last = tail
        .split(|b| *b == b'\n')
        .rev()
        .find(|l| !l.iter().all(u8::is_ascii_whitespace));
    let Some(last) = last else { return Ok(None) };
    if !last.windows(14).any(|w| w == br#""type":"shard""#) {
        return Ok(None);
    }
    serde_json::from_slice(last)
        .map(Some)
        .map_err(|e| fail(path, format!("last line: a damaged shard record ({e})")))
}

/// Parses `K/N`.
fn shard_parts(s: &str) -> Option<(usize, usize)> {
    let (k, n) = s.split_once('/')?;
    let (k, n) = (k.parse().ok()?, n.parse().ok()?);
    (k < n).then_some((k, n))
}

/// The shards a set of inputs holds and lacks, from their shard records;
/// refuses records of different runs or a shard given twice.
fn shard_coverage(
    paths: &[PathBuf],
    records: &[Option<ShardRecord>],
) -> Result<Option<(usize, Vec<String>, usize)>, ReadError> {
    let with = records.iter().filter(|r| r.is_some()).count();
    if with == 0 {
        return Ok(None);
    }
    if let Some(i) = records.iter().position(Option::is_none) {
        return Err(fail(
            &paths[i],
            "no shard record at its end, unlike the other inputs: not a finished \
             `score --shard K/N` output (an interrupted one? finish it with `score --resume`)"
                .into(),
        ));
    }
    let mut count = None;
    let mut input_calls = None;
    let mut have: HashMap<usize, &Path> = HashMap::new();
    for (path, record) in paths.iter().zip(records.iter().flatten()) {
        if input_calls.is_some_and(|m| m != record.input_calls) {
            return Err(fail(
                path,
                format!(
                    "its run read {} calls, another input's read {}: shards of different runs \
                     (or of different inputs) cannot be merged",
                    record.input_calls,
                    input_calls.unwrap_or_default()
                ),
            ));
        }
        input_calls = Some(record.input_calls);
        for s in &record.shards {
            let Some((k, n)) = shard_parts(s) else {
                return Err(fail(path, format!("shard record: {s:?} is not K/N")));
            };
            if count.is_some_and(|c| c != n) {
                return Err(fail(
                    path,
                    format!(
                        "shard {s} is of a {n}-way split, the others of {}",
                        count.unwrap_or(0)
                    ),
                ));
            }
            count = Some(n);
            if let Some(other) = have.insert(k, path) {
                return Err(fail(
                    path,
                    format!("shard {s} is also in {}: shards overlap", other.display()),
                ));
            }
        }
    }
    let n = count.unwrap_or(0);
    let missing = (0..n)
        .filter(|k| !have.contains_key(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    Ok(Some((n, missing, input_calls.unwrap_or(0))))
}

/// Merges shard outputs into `out`. Fails (naming the file and line) on
/// anything that would make the merged result differ from a single run: a
/// damaged or unfinished file, a call in two inputs, records out of order,
/// and a shard missing from the set unless `allow_missing`, when the
/// result ends with a shard record listing what it lacks. Nothing is
/// written when the set of shards is incomplete and not allowed.
pub fn merge_outputs(
    paths: &[PathBuf],
    out: &mut impl Write,
    allow_missing: bool,
) -> Result<Merged, MergeError> {
    let records: Vec<Option<ShardRecord>> = paths
        .iter()
        .map(|p| shard_record_of(p))
        .collect::<Result<_, _>>()?;
    let coverage = shard_coverage(paths, &records)?;
    if let Some((n, missing, _)) = &coverage {
        if !missing.is_empty() && !allow_missing {
            return Err(MergeError::Missing(format!(
                "shards {} of the {n}-way run are missing (the inputs hold {}); \
                 merge them all, or pass --allow-missing for a result marked partial",
                missing.join(", "),
                present(&records).join(", ")
            )));
        }
    }
    let mut inputs: Vec<Calls> = paths
        .iter()
        .map(|p| Calls::open(p))
        .collect::<Result<_, _>>()?;
    let mut heads: Vec<Option<Block>> = inputs
        .iter_mut()
        .map(Calls::next)
        .collect::<Result<_, _>>()?;
    let mut ids: HashMap<String, usize> = HashMap::new();
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
        if let Some(other) = ids.insert(block.call_id.clone(), block.seq) {
            return Err(MergeError::Read(inputs[i].error(format!(
                "call {:?} appears twice (seq {other} and {}): two calls under one id \
                 are not merged",
                block.call_id, block.seq
            ))));
        }
        out.write_all(&block.bytes)?;
        written += 1;
        heads[i] = inputs[i].next()?;
    }
    for (input, record) in inputs.iter().zip(&records) {
        if let Some(r) = record {
            if r.calls != input.calls {
                return Err(MergeError::Read(fail(
                    &input.path,
                    format!(
                        "holds {} calls but its shard record says {}: a damaged file",
                        input.calls, r.calls
                    ),
                )));
            }
        }
    }
    let Some((_, missing, input_calls)) = coverage else {
        return Ok(Merged {
            calls: written,
            missing: Vec::new(),
            checked: false,
        });
    };
    if missing.is_empty() && written != input_calls {
        return Err(MergeError::Missing(format!(
            "the shards hold {written} of the input's {input_calls} calls"
        )));
    }
    if !missing.is_empty() {
        ShardRecord::new(present(&records), missing.clone(), written, input_calls)
            .write_line(out)?;
    }
    Ok(Merged {
        calls: written,
        missing,
        checked: true,
    })
}

/// The shards the inputs hold, in order.
fn present(records: &[Option<ShardRecord>]) -> Vec<String> {
    let set: BTreeSet<(usize, String)> = records
        .iter()
        .flatten()
        .flat_map(|r| r.shards.iter())
        .map(|s| (shard_parts(s).map_or(0, |(k, _)| k), s.clone()))
        .collect();
    set.into_iter().map(|(_, s)| s).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{0}")]
    Missing(String),
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

    /// Why merging these files (as shard outputs) is refused.
    fn refusal(contents: &[String]) -> String {
        let (_d, paths) = files(contents);
        merge_outputs(&paths, &mut Vec::new(), false)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn interleaved_shards_merge_in_input_order() {
        let (_d, paths) = files(&[
            call("a", 0) + &call("d", 3) + &call("e", 4),
            String::new(),
            call("b", 1) + &call("c", 2) + &call("f", 5),
        ]);
        let mut out = Vec::new();
        assert_eq!(merge_outputs(&paths, &mut out, false).unwrap().calls, 6);
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
            let err = refusal(&contents);
            assert!(err.contains(want), "{err:?} lacks {want:?}");
            assert!(err.contains("shard-"), "{err:?} names no file");
        }
    }

    fn shard_file(calls: &[(&str, usize)], k: usize, n: usize, input_calls: usize) -> String {
        let mut s: String = calls.iter().map(|(id, seq)| call(id, *seq)).collect();
        s += &serde_json::to_string(&ShardRecord::new(
            vec![format!("{k}/{n}")],
            Vec::new(),
            calls.len(),
            input_calls,
        ))
        .unwrap();
        s + "\n"
    }

    #[test]
    fn a_missing_shard_is_refused_by_name_or_marked_when_allowed() {
        let s0 = shard_file(&[("a", 0), ("d", 3)], 0, 3, 5);
        let s1 = shard_file(&[("b", 1)], 1, 3, 5);
        let s2 = shard_file(&[("c", 2), ("e", 4)], 2, 3, 5);
        // All three: the result is the calls alone, as one machine writes them.
        let (_d, paths) = files(&[s0.clone(), s1, s2.clone()]);
        let mut out = Vec::new();
        let merged = merge_outputs(&paths, &mut out, false).unwrap();
        assert_eq!((merged.calls, merged.checked), (5, true));
        let want: String = ["a", "b", "c", "d", "e"]
            .iter()
            .enumerate()
            .map(|(i, id)| call(id, i))
            .collect();
        assert_eq!(String::from_utf8(out).unwrap(), want);
        // Shard 1 lost: refused, naming it, and nothing written.
        let (_d, paths) = files(&[s0, s2]);
        let mut out = Vec::new();
        let err = merge_outputs(&paths, &mut out, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shards 1/3 of the 3-way run are missing"),
            "{err}"
        );
        assert!(out.is_empty());
        // Allowed: merged, and the result says what it lacks.
        let merged = merge_outputs(&paths, &mut out, true).unwrap();
        assert_eq!(merged.missing, ["1/3"]);
        let text = String::from_utf8(out).unwrap();
        let last: ShardRecord = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last.shards, ["0/3", "2/3"]);
        assert_eq!(last.missing, ["1/3"]);
        assert_eq!((last.calls, last.input_calls), (4, 5));
    }

    #[test]
    fn shard_sets_that_do_not_fit_together_are_refused() {
        let cases = [
            (
                vec![
                    shard_file(&[("a", 0)], 0, 2, 2),
                    shard_file(&[("b", 1)], 1, 2, 3),
                ],
                "shards of different runs",
            ),
            (
                vec![
                    shard_file(&[("a", 0)], 0, 2, 2),
                    shard_file(&[("b", 1)], 1, 3, 2),
                ],
                "of a 3-way split",
            ),
            (
                vec![shard_file(&[("a", 0)], 0, 2, 2), call("b", 1)],
                "no shard record at its end",
            ),
            (
                vec![shard_file(&[("a", 0)], 0, 2, 2), shard_file(&[], 0, 2, 2)],
                "shard 0/2 is also in",
            ),
            (
                vec![
                    shard_file(&[("a", 0)], 0, 2, 3),
                    shard_file(&[("b", 1)], 1, 2, 3),
                ],
                "hold 2 of the input's 3 calls",
            ),
            (vec![call("a", 0) + &call("a", 1)], "appears twice"),
        ];
        for (contents, want) in cases {
            let err = refusal(&contents);
            assert!(err.contains(want), "{err:?} lacks {want:?}");
        }
    }
}
