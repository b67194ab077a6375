//! Transcripts on disk → records: read → name → shard → resume → score →
//! analyse → write, chunk by chunk, so memory stays flat however many files
//! there are. A bad file is named with its reason and the batch goes on; a
//! model error fails only its calls; a write error stops the run with what it
//! finished kept ([`Stopped`]).

use std::path::PathBuf;

use anyhow::Context;
use rayon::prelude::*;

use super::output_target::OutputTarget;
use super::prepare::{CallOutput, PreparedCall};
use super::progress::Progress;
use super::Stopped;
use crate::analysis::Rules;
use crate::engine::batching::call_groups;
use crate::engine::shard::{content_hash, Shard};
use crate::engine::{ScoreOptions, Scorer};
use crate::model::SentimentModel;
use crate::report::records::ShardRecord;
use crate::report::resume::ResumeIndex;
use crate::report::{OutputFormat, RecordSink};
use crate::transcript::identity::CallIds;
use crate::transcript::inputs::{expand_filtered, input_chunks, read_bytes, Input, PathFilter};
use crate::transcript::{
    read_conversations, Conversation, Format, ReadError, ReadLimits, RoleHints,
};

/// Files read together (in parallel), at most this many and about this many
/// bytes: enough to keep the cores busy, bounded so memory stays flat.
const FILES_PER_CHUNK: usize = 64;
const BYTES_PER_CHUNK: u64 = 32 << 20;
/// Turns scored and written together: enough for full, length-sorted
/// batches, few enough that memory stays flat on a file of millions.
const TURNS_PER_GROUP: usize = 8192;
/// Renamed calls named one by one; the rest are counted.
pub const RENAMES_NAMED: usize = 5;

/// What to read, how to score it and where the records go.
pub struct ScorePlan {
    /// Files, folders (read recursively, through `filter`), `-` for standard input.
    pub paths: Vec<PathBuf>,
    pub filter: PathFilter,
    /// A forced transcript format; `None`: detected per file.
    pub input_format: Option<Format>,
    pub limits: ReadLimits,
    pub hints: RoleHints,
    /// Score only this shard's calls.
    pub shard: Option<Shard>,
    /// Copy the calls an interrupted run finished (JSONL to a file only).
    pub resume: bool,
    /// `None`: standard output.
    pub output: Option<PathBuf>,
    pub format: OutputFormat,
    /// Padded tokens per model batch; `None`: the device's (`ScoreOptions::for_device`).
    pub token_budget: Option<usize>,
    pub rules: Rules,
    pub redact: bool,
    /// Keep every call's analysis for a report at the end.
    pub keep_for_report: bool,
    /// Read the next chunk of files on another thread while this one is
    /// scored; `None`: on a GPU yes, on the CPU no (there the model already
    /// keeps every core busy). The records are the same either way.
    pub read_ahead: Option<bool>,
}

/// What a run did.
#[derive(Default)]
pub struct ScoreRun {
    /// Inputs named (files found plus paths that could not be read).
    pub inputs: usize,
    pub calls: usize,
    pub turns: usize,
    /// Calls copied from the interrupted run (`resume`).
    pub resumed: usize,
    /// Every input or call that failed, with its reason (each also noted).
    pub failures: Vec<ReadError>,
    /// Calls given a new id because an earlier input had used theirs.
    pub renamed: usize,
    /// Calls where no speaker is the customer.
    pub without_customer: Vec<String>,
    /// With `keep_for_report`: every call written, for the reports.
    pub kept: Vec<PreparedCall>,
}

/// A call read and waiting to be scored, with its place in the whole input.
struct Pending {
    seq: usize,
    hash: String,
    conv: Conversation,
}

/// Runs `plan` with `model`; reports progress and failures to `progress`.
pub fn score(
    plan: &ScorePlan,
    model: &SentimentModel,
    progress: &dyn Progress,
) -> anyhow::Result<ScoreRun> {
    let on_gpu = !model.device.is_cpu();
    let scorer = Scorer::new(model, ScoreOptions::for_device(on_gpu, plan.token_budget));
    let (inputs, failures) = expand_filtered(&plan.paths, &plan.filter);
    for f in &failures {
        progress.note(&format!("calltone: {f}"));
    }
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        anyhow::bail!("`-` (standard input) can be given only once");
    }
    let mut run = ScoreRun {
        inputs: inputs.len() + failures.len(),
        failures,
        ..ScoreRun::default()
    };
    progress.start(inputs.len());

    let jsonl = plan.format == OutputFormat::Jsonl;
    if plan.resume && (!jsonl || plan.keep_for_report) {
        anyhow::bail!(
            "--resume works with JSONL records and without report outputs; \
             run `calltone report` on the finished file instead"
        );
    }
    let resume = match (&plan.output, plan.resume) {
        (Some(out), true) => ResumeIndex::load(out)
            .with_context(|| format!("cannot resume from {}.partial", out.display()))?,
        _ => ResumeIndex::default(),
    };
    let mut target = if jsonl {
        OutputTarget::open_resumable(plan.output.as_deref())?
    } else {
        OutputTarget::open(plan.output.as_deref())?
    };
    // From here on the run has started: a write error stops it with what it
    // finished kept, and a model error fails only its calls.
    let out_name = target.name();
    let wrote = Stopped::writing(&out_name);
    let mut sink = RecordSink::new(&mut target, plan.format).map_err(&wrote)?;
    let output = CallOutput {
        rules: &plan.rules,
        redact: plan.redact,
        model: &model.name,
    };
    let chunks = input_chunks(&inputs, FILES_PER_CHUNK, BYTES_PER_CHUNK);
    let mut reader = ChunkReader::default();
    let mut seq = 0usize;
    // Each chunk read is scored and written whole, in input order.
    let mut score_chunk = |read: ReadChunk| -> anyhow::Result<()> {
        seq = read.seq_after;
        run.renamed += read.renamed;
        run.failures.extend(read.failures);
        let calls_here = read.calls;
        let sizes: Vec<usize> = calls_here.iter().map(|c| c.conv.turns.len()).collect();
        for group in call_groups(&sizes, TURNS_PER_GROUP) {
            let group = &calls_here[group];
            let earlier: Vec<Option<Vec<u8>>> = group
                .iter()
                .map(|c| resume.records(&c.conv.id, &c.hash, c.seq))
                .collect::<std::io::Result<_>>()
                .map_err(|e| Stopped::new("reading the interrupted run's records", e))?;
            let to_score: Vec<&Conversation> = group
                .iter()
                .zip(&earlier)
                .filter(|(_, e)| e.is_none())
                .map(|(c, _)| &c.conv)
                .collect();
            let mut prepared = match scorer.score_call_refs(&to_score) {
                Ok(scored) => Some(output.prepare_all(&to_score, &scored).into_iter()),
                Err(e) => {
                    // Only these calls fail; each is named, and the run goes on.
                    for conv in &to_score {
                        let failure = ReadError {
                            path: conv.source.clone(),
                            reason: format!("call {:?}: the model failed: {e}", conv.id),
                        };
                        progress.note(&format!("calltone: {failure}"));
                        run.failures.push(failure);
                    }
                    None
                }
            };
            for (call, earlier) in group.iter().zip(earlier) {
                match earlier {
                    Some(block) => {
                        sink.write_jsonl_block(&block).map_err(&wrote)?;
                        run.resumed += 1;
                    }
                    None => {
                        let Some(mut prepared) = prepared.as_mut().and_then(Iterator::next) else {
                            continue; // its model batch failed: named above
                        };
                        prepared.seq = Some(call.seq);
                        prepared.content_hash = Some(call.hash.clone());
                        output
                            .write_prepared(&mut sink, &prepared)
                            .map_err(&wrote)?;
                        if plan.keep_for_report {
                            run.kept.push(prepared);
                        }
                    }
                }
                run.calls += 1;
                run.turns += call.conv.turns.len();
                if !call.conv.has_customer() {
                    run.without_customer.push(call.conv.id.clone());
                }
            }
            // A checkpoint: what an interruption leaves is whole calls, bar the last.
            sink.flush().map_err(&wrote)?;
        }
        progress.advance(read.files, run.turns);
        Ok(())
    };
    if plan.read_ahead.unwrap_or(on_gpu) {
        // The CPU reads and parses chunk k+1 while the model scores chunk k:
        // a GPU then never waits on the files. One chunk ahead at most, so
        // memory stays flat; an error while scoring drops the channel and
        // the reader stops at its next chunk.
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let (ahead, next) = std::sync::mpsc::sync_channel::<ReadChunk>(1);
            let chunks = &chunks;
            scope.spawn(move || {
                for chunk in chunks {
                    if ahead.send(reader.read(plan, chunk, progress)).is_err() {
                        break;
                    }
                }
            });
            next.into_iter().try_for_each(&mut score_chunk)
        })?;
    } else {
        for chunk in &chunks {
            score_chunk(reader.read(plan, chunk, progress))?;
        }
    }
    if let (Some(shard), true) = (plan.shard, jsonl) {
        sink.write_shard_record(&ShardRecord::new(
            vec![shard.to_string()],
            Vec::new(),
            run.calls,
            seq,
        ))
        .map_err(&wrote)?;
    }
    sink.finish().map_err(&wrote)?;
    progress.finish();
    target.finish()?;
    Ok(run)
}

/// One chunk of inputs, read: this shard's calls, named and numbered, and
/// what happened on the way.
struct ReadChunk {
    files: usize,
    calls: Vec<Pending>,
    failures: Vec<ReadError>,
    /// Calls renamed in this chunk.
    renamed: usize,
    /// Calls numbered so far in the whole input (every shard's).
    seq_after: usize,
}

/// Reads chunks in input order, giving every call its id and its place in
/// the whole input, then keeping this shard's calls. Every shard names and
/// numbers every call alike, so their outputs merge.
#[derive(Default)]
struct ChunkReader {
    ids: CallIds,
    seq: usize,
    renamed: usize,
}

impl ChunkReader {
    /// Reads one chunk's files in parallel.
    fn read(&mut self, plan: &ScorePlan, chunk: &[Input], progress: &dyn Progress) -> ReadChunk {
        let read: Vec<Result<Vec<Conversation>, ReadError>> = chunk
            .par_iter()
            .map(|input| {
                let bytes = read_bytes(input, plan.limits.max_file_bytes)?;
                read_conversations(
                    &input.label(),
                    &bytes,
                    plan.input_format,
                    &plan.limits,
                    &plan.hints,
                )
            })
            .collect();
        let mut out = ReadChunk {
            files: chunk.len(),
            calls: Vec::new(),
            failures: Vec::new(),
            renamed: 0,
            seq_after: 0,
        };
        for r in read {
            match r {
                Ok(convs) => {
                    for mut conv in convs {
                        // Before the shard test: every shard names every call alike.
                        if let Some(r) = self.ids.assign(&mut conv) {
                            self.renamed += 1;
                            out.renamed += 1;
                            if self.renamed <= RENAMES_NAMED {
                                progress.note(&format!("calltone: {r}"));
                            }
                        }
                        let place = self.seq;
                        self.seq += 1;
                        if plan.shard.is_some_and(|s| !s.keeps(&conv.id)) {
                            continue;
                        }
                        out.calls.push(Pending {
                            seq: place,
                            hash: content_hash(&conv),
                            conv,
                        });
                    }
                }
                Err(e) => {
                    progress.note(&format!("calltone: {e}"));
                    out.failures.push(e);
                }
            }
        }
        out.seq_after = self.seq;
        out
    }
}
