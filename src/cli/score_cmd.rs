//! `calltone score`: read → score → summarise → write, chunk by chunk, so
//! memory stays flat however many files there are. A bad file is reported
//! with its reason and the batch goes on; the exit code says whether any failed.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::args::ScoreArgs;
use super::call_output::{load_rules, CallOutput, PreparedCall};
use super::output_target::OutputTarget;
use super::peak_memory::peak_memory_mib;
use super::report_output::{emit_reports, parse_gates, TextTo};
use super::{Stopped, EXIT_GATE, EXIT_OK, EXIT_PARTIAL};
use crate::analysis::turn_scores;
use crate::engine::batching::call_groups;
use crate::engine::shard::content_hash;
use crate::engine::{ScoreOptions, Scorer};
use crate::report::records::ShardRecord;
use crate::report::resume::ResumeIndex;
use crate::report::{OutputFormat, RecordSink};
use crate::transcript::identity::CallIds;
use crate::transcript::inputs::{expand_filtered, input_chunks, read_bytes, Input, PathFilter};
use crate::transcript::{read_conversations, Conversation, ReadError, ReadLimits, RoleHints};

/// A call read and waiting to be scored, with its place in the whole input.
struct Pending {
    seq: usize,
    hash: String,
    conv: Conversation,
}

/// Files read together (in parallel), at most this many and about this many
/// bytes: enough to keep the cores busy, bounded so memory stays flat.
const FILES_PER_CHUNK: usize = 64;
const BYTES_PER_CHUNK: u64 = 32 << 20;
/// Turns scored and written together: enough for full, length-sorted
/// batches, few enough that memory stays flat on a file of millions.
const TURNS_PER_GROUP: usize = 8192;
/// Renamed calls named one by one on standard error; the rest are counted.
const RENAMES_NAMED: usize = 5;

pub fn configure_threads(threads: Option<usize>) {
    let n = threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    // One pool for everything: rayon's workers also run candle's matmuls, so
    // reading, tokenizing and the model never oversubscribe the cores.
    // candle sizes its matmul parallelism from this variable; keep it equal
    // to the pool so a GEMM never asks for more threads than exist. Set before
    // any worker thread starts.
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
}

pub fn run(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    configure_threads(args.threads);
    let started = Instant::now();
    let rules = load_rules(args.analysis.rules.as_deref())?;
    let gates = parse_gates(&args.report_output)?;
    let o = &args.report_output;
    // A report needs every call's analysis at the end, so only then are they kept.
    let keep_for_report = args.report
        || o.html.is_some()
        || o.calls_csv.is_some()
        || o.agents_csv.is_some()
        || !gates.is_empty();
    let mut kept: Vec<PreparedCall> = Vec::new();
    let model = crate::cli::load_model::load_model(&args.model)?;
    let scorer = Scorer::new(
        &model,
        ScoreOptions {
            token_budget: args.batch_tokens.max(64),
            ..ScoreOptions::default()
        },
    );
    let limits = ReadLimits {
        max_file_bytes: args.max_file_bytes,
        max_turn_bytes: args.max_turn_bytes,
        turn_join: crate::transcript::words::TurnJoin {
            max_pause_ms: args.turn_pause_ms,
        },
    };
    let hints = RoleHints {
        agent: args.agent.clone(),
        customer: args.customer.clone(),
    };
    let filter = PathFilter::new(&args.include, &args.exclude).map_err(anyhow::Error::msg)?;
    let (inputs, mut failures) = expand_filtered(&args.paths, &filter);
    let unreadable_paths = failures.len();
    for f in &failures {
        crate::say!("calltone: {f}");
    }
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        anyhow::bail!("`-` (standard input) can be given only once");
    }

    let show = !args.quiet && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(inputs.len() as u64),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {pos}/{len} files {wide_bar} {per_sec} eta {eta} {msg}",
        )
        .expect("valid template"),
    );

    let jsonl = args.format == OutputFormat::Jsonl;
    if args.resume && (!jsonl || keep_for_report) {
        anyhow::bail!(
            "--resume works with JSONL records and without report outputs; \
             run `calltone report` on the finished file instead"
        );
    }
    let resume = match (&args.output, args.resume) {
        (Some(out), true) => ResumeIndex::load(out)
            .with_context(|| format!("cannot resume from {}.partial", out.display()))?,
        _ => ResumeIndex::default(),
    };
    let mut target = if jsonl {
        OutputTarget::open_resumable(args.output.as_deref())?
    } else {
        OutputTarget::open(args.output.as_deref())?
    };
    // From here on the run has started: a write error stops it with what it
    // finished kept (exit 1), and a model error fails only its calls.
    let out_name = target.name();
    let wrote = Stopped::writing(&out_name);
    let mut sink = RecordSink::new(&mut target, args.format).map_err(&wrote)?;
    let output = CallOutput {
        rules: &rules,
        redact: !args.analysis.no_redact,
        model: &model.name,
    };
    let (mut calls, mut turns, mut resumed, mut seq) = (0usize, 0usize, 0usize, 0usize);
    let mut without_customer: Vec<String> = Vec::new();
    let mut ids = CallIds::default();
    let mut renamed = 0usize;
    for chunk in input_chunks(&inputs, FILES_PER_CHUNK, BYTES_PER_CHUNK) {
        let read: Vec<Result<Vec<Conversation>, ReadError>> = chunk
            .par_iter()
            .map(|input| {
                let bytes = read_bytes(input, limits.max_file_bytes)?;
                read_conversations(&input.label(), &bytes, args.input_format, &limits, &hints)
            })
            .collect();
        // Every call gets its place in the whole input, on every shard alike.
        let mut calls_here: Vec<Pending> = Vec::new();
        for r in read {
            match r {
                Ok(convs) => {
                    for mut conv in convs {
                        // Before the shard test: every shard names every call alike.
                        if let Some(r) = ids.assign(&mut conv) {
                            renamed += 1;
                            if renamed <= RENAMES_NAMED {
                                bar.suspend(|| crate::say!("calltone: {r}"));
                            }
                        }
                        let place = seq;
                        seq += 1;
                        if args.shard.is_some_and(|s| !s.keeps(&conv.id)) {
                            continue;
                        }
                        calls_here.push(Pending {
                            seq: place,
                            hash: content_hash(&conv),
                            conv,
                        });
                    }
                }
                Err(e) => {
                    bar.suspend(|| crate::say!("calltone: {e}"));
                    failures.push(e);
                }
            }
        }
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
            let mut scored = match scorer.score_call_refs(&to_score) {
                Ok(scored) => Some(scored.into_iter()),
                Err(e) => {
                    // Only these calls fail; each is named, and the run goes on.
                    for conv in &to_score {
                        let failure = ReadError {
                            path: conv.source.clone(),
                            reason: format!("call {:?}: the model failed: {e}", conv.id),
                        };
                        bar.suspend(|| crate::say!("calltone: {failure}"));
                        failures.push(failure);
                    }
                    None
                }
            };
            for (call, earlier) in group.iter().zip(earlier) {
                match earlier {
                    Some(block) => {
                        sink.write_jsonl_block(&block).map_err(&wrote)?;
                        resumed += 1;
                    }
                    None => {
                        let Some(units) = scored.as_mut().and_then(Iterator::next) else {
                            continue; // its model batch failed: named above
                        };
                        let mut prepared = output.prepare(&call.conv, &turn_scores(&units));
                        prepared.seq = Some(call.seq);
                        prepared.content_hash = Some(call.hash.clone());
                        output
                            .write_prepared(&mut sink, &prepared)
                            .map_err(&wrote)?;
                        if keep_for_report {
                            kept.push(prepared);
                        }
                    }
                }
                calls += 1;
                turns += call.conv.turns.len();
                if !call.conv.has_customer() {
                    without_customer.push(call.conv.id.clone());
                }
            }
            // A checkpoint: what an interruption leaves is whole calls, bar the last.
            sink.flush().map_err(&wrote)?;
        }
        bar.inc(chunk.len() as u64);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!("{turns} turns, {:.0} turns/s", turns as f64 / secs));
    }
    if let (Some(shard), true) = (args.shard, jsonl) {
        sink.write_shard_record(&ShardRecord::new(
            vec![shard.to_string()],
            Vec::new(),
            calls,
            seq,
        ))
        .map_err(&wrote)?;
    }
    sink.finish().map_err(&wrote)?;
    bar.finish_and_clear();
    target.finish()?;
    let mut failed_gates = Vec::new();
    if keep_for_report {
        let text_to = match (args.report, args.output.is_some()) {
            (false, _) => TextTo::Nowhere,
            (true, true) => TextTo::Stdout,
            (true, false) => TextTo::Stderr,
        };
        let refs: Vec<&PreparedCall> = kept.iter().collect();
        failed_gates = emit_reports(&refs, o, &gates, text_to, &model.name)?;
        for g in &failed_gates {
            crate::say!("calltone: --fail-on {g}");
        }
    }
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        let shard = args
            .shard
            .map_or_else(String::new, |s| format!(" (shard {s})"));
        let resumed = if args.resume {
            format!(", {resumed} of them copied from the interrupted run")
        } else {
            String::new()
        };
        let memory =
            peak_memory_mib().map_or_else(String::new, |m| format!(", peak memory {m:.0} MiB"));
        crate::say!(
            "calltone: scored {calls} calls{shard}{resumed}, {turns} turns from {} inputs in {secs:.1}s{memory} ({}); {} failed",
            inputs.len() + unreadable_paths,
            model.engine(),
            failures.len()
        );
        if renamed > RENAMES_NAMED {
            crate::say!(
                "calltone: {renamed} calls were given new ids because another input had used \
                 theirs (the first {RENAMES_NAMED} are named above; the rule: ID@INPUT)"
            );
        }
        if let Some(note) = no_customer_note(&without_customer) {
            crate::say!("calltone: {note}");
        }
    }
    Ok(ExitCode::from(if !failed_gates.is_empty() {
        EXIT_GATE
    } else if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}

/// What to tell the user about calls where no speaker is the customer: no
/// moments could be looked for there, and a flag would fix it. Names at most
/// three calls, so a large batch gets one line.
fn no_customer_note(call_ids: &[String]) -> Option<String> {
    const NAMED: usize = 3;
    let (first, rest) = call_ids.split_at(call_ids.len().min(NAMED));
    if first.is_empty() {
        return None;
    }
    let more = if rest.is_empty() {
        String::new()
    } else {
        format!(" and {} more", rest.len())
    };
    Some(format!(
        "{n} call{s} had no speaker the transcript or its opening script marks as the customer \
         ({ids}{more}), so no moments were looked for there; name the customer's speaker label \
         with --customer LABEL or the agent's with --agent LABEL",
        n = call_ids.len(),
        s = if call_ids.len() == 1 { "" } else { "s" },
        ids = first.join(", "),
    ))
}

#[cfg(test)]
mod tests {
    use super::no_customer_note;

    #[test]
    fn the_no_customer_note_names_three_calls_and_counts_the_rest() {
        assert_eq!(no_customer_note(&[]), None);
        let one = no_customer_note(&["c1".to_string()]).unwrap();
        assert!(
            one.starts_with("1 call had") && one.contains("(c1)"),
            "{one}"
        );
        let ids: Vec<String> = (1..=5).map(|i| format!("c{i}")).collect();
        let five = no_customer_note(&ids).unwrap();
        assert!(
            five.starts_with("5 calls had") && five.contains("(c1, c2, c3 and 2 more)"),
            "{five}"
        );
        assert!(five.contains("--customer LABEL"));
    }
}
