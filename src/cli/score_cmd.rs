//! `calltone score`: read → score → summarise → write, chunk by chunk, so
//! memory stays flat however many files there are. A bad file is reported
//! with its reason and the batch goes on; the exit code says whether any failed.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::args::ScoreArgs;
use super::{EXIT_OK, EXIT_PARTIAL};
use crate::analysis::{summarise_call, TurnScore};
use crate::engine::{ScoreOptions, Scorer};
use crate::model::{ModelSource, SentimentModel};
use crate::report::atomic::AtomicFile;
use crate::report::records::{call_record, turn_records};
use crate::report::RecordSink;
use crate::transcript::inputs::{expand_filtered, read_bytes, Input, PathFilter};
use crate::transcript::{read_conversations, Conversation, ReadError, ReadLimits, RoleHints};

/// Files read and scored together; bounds memory on huge batches.
const FILES_PER_CHUNK: usize = 256;

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
    let source = ModelSource::parse(args.model.model.as_deref())?;
    let model = SentimentModel::load(&source, candle_core::DType::F32, &candle_core::Device::Cpu)?;
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
        eprintln!("calltone: {f}");
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

    let (mut file_out, mut std_out) = match &args.output {
        Some(p) => (
            Some(AtomicFile::create(p).with_context(|| format!("cannot write {}", p.display()))?),
            None,
        ),
        None => (
            None,
            Some(std::io::BufWriter::new(std::io::stdout().lock())),
        ),
    };
    let writer: &mut dyn Write = match (&mut file_out, &mut std_out) {
        (Some(f), _) => f,
        (_, Some(s)) => s,
        _ => unreachable!(),
    };
    let mut sink = RecordSink::new(writer, args.format)?;
    let (mut calls, mut turns) = (0usize, 0usize);
    for chunk in inputs.chunks(FILES_PER_CHUNK) {
        let read: Vec<Result<Vec<Conversation>, ReadError>> = chunk
            .par_iter()
            .map(|input| {
                let bytes = read_bytes(input, limits.max_file_bytes)?;
                read_conversations(&input.label(), &bytes, args.input_format, &limits, &hints)
            })
            .collect();
        let mut convs = Vec::new();
        for r in read {
            match r {
                Ok(c) => convs.extend(c),
                Err(e) => {
                    bar.suspend(|| eprintln!("calltone: {e}"));
                    failures.push(e);
                }
            }
        }
        let texts: Vec<&str> = convs
            .iter()
            .flat_map(|c| c.turns.iter().map(|t| t.text.as_str()))
            .collect();
        let unit_scores = scorer.score(&texts)?;
        let mut offset = 0;
        for conv in &convs {
            let n = conv.turns.len();
            let scores: Vec<Option<TurnScore>> = unit_scores[offset..offset + n]
                .iter()
                .map(|u| u.as_ref().map(TurnScore::from))
                .collect();
            offset += n;
            let summary = summarise_call(&conv.turns, &scores);
            sink.write_call(
                &call_record(conv, &summary, &model.name),
                &turn_records(conv, &scores),
            )?;
            calls += 1;
            turns += n;
        }
        bar.inc(chunk.len() as u64);
    }
    sink.finish()?;
    bar.finish_and_clear();
    if let Some(f) = file_out {
        f.commit().context("could not finish the output file")?;
    } else if let Some(mut s) = std_out {
        s.flush()?;
    }
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "calltone: scored {calls} calls, {turns} turns from {} inputs in {secs:.1}s; {} failed",
            inputs.len() + unreadable_paths,
            failures.len()
        );
    }
    Ok(ExitCode::from(if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }))
}
