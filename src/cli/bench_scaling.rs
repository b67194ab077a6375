//! `calltone bench --threads 2,4,8,16`: the same workload with each thread
//! count in turn, on a pool of exactly that many threads, and how throughput
//! grows with them (the speed issue's bar: 16 cores at least 6× 2 cores).
//! The corpus is read once; each count runs score → analyse → write.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::Scorer;
use crate::pipeline::prepare::CallOutput;
use crate::report::{OutputFormat, RecordSink};
use crate::transcript::Conversation;

#[derive(Debug, Serialize)]
pub struct ScalingBench {
    pub corpus: String,
    pub model: String,
    pub engine: String,
    /// Reading the corpus, once for every count (on one thread).
    pub read_seconds: f64,
    pub rows: Vec<ScalingRow>,
}

#[derive(Debug, Serialize)]
pub struct ScalingRow {
    pub threads: usize,
    pub seconds: f64,
    /// Every turn's tokens over read + score + analyse + write.
    pub real_tokens_per_second: f64,
    /// Tokens run over tokenize + infer.
    pub model_tokens_per_second: f64,
    /// This row's end-to-end throughput over the first row's.
    pub speedup: f64,
}

/// The workload, read once.
pub struct Workload<'a> {
    pub convs: &'a [Conversation],
    pub corpus: String,
    pub read: Duration,
}

/// Runs the workload with each of `counts` threads (in the order given;
/// the first row is the base of `speedup`). With `repeat`, the fastest run
/// of each count counts.
pub fn run(
    output: &CallOutput<'_>,
    scorer: &Scorer<'_>,
    workload: Workload<'_>,
    counts: &[usize],
    repeat: usize,
) -> anyhow::Result<ScalingBench> {
    let Workload {
        convs,
        corpus,
        read,
    } = workload;
    let texts: Vec<&str> = convs
        .iter()
        .flat_map(|c| c.turns.iter().map(|t| t.text.as_str()))
        .collect();
    let mut rows: Vec<ScalingRow> = Vec::new();
    for &threads in counts {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()?;
        let mut best: Option<(Duration, f64, usize)> = None;
        for _ in 0..repeat.max(1) {
            let (elapsed, model_tps, workload) = pool.install(|| -> anyhow::Result<_> {
                let started = Instant::now();
                let (units, stats) = scorer.score_with_stats(&texts)?;
                let model_secs = (stats.tokenize + stats.infer).as_secs_f64();
                let prepared = output.prepare_each(convs, &units);
                let mut sink = RecordSink::new(std::io::sink(), OutputFormat::Jsonl)?;
                for p in &prepared {
                    output.write_prepared(&mut sink, p)?;
                }
                sink.finish()?;
                Ok((
                    started.elapsed(),
                    stats.real_tokens as f64 / model_secs.max(1e-9),
                    stats.workload_tokens,
                ))
            })?;
            if best.is_none_or(|(b, _, _)| elapsed < b) {
                best = Some((elapsed, model_tps, workload));
            }
        }
        let (elapsed, model_tps, workload) = best.expect("at least one run");
        let seconds = (read + elapsed).as_secs_f64();
        let tps = workload as f64 / seconds.max(1e-9);
        let base = rows.first().map_or(tps, |r| r.real_tokens_per_second);
        rows.push(ScalingRow {
            threads,
            seconds,
            real_tokens_per_second: tps,
            model_tokens_per_second: model_tps,
            speedup: tps / base.max(1e-9),
        });
    }
    Ok(ScalingBench {
        corpus,
        model: scorer.model.name.clone(),
        engine: scorer.model.engine(),
        read_seconds: read.as_secs_f64(),
        rows,
    })
}

pub fn print(r: &ScalingBench) {
    println!("corpus                 {}", r.corpus);
    println!("model                  {}", r.model);
    println!("engine                 {}", r.engine);
    println!("read (once)            {:.2} s", r.read_seconds);
    let base = r.rows.first().map_or(0, |row| row.threads);
    println!(
        "{:>7}  {:>9}  {:>22}  {:>24}  {:>12}",
        "threads",
        "seconds",
        "real tokens/s (e2e)",
        "model tokens/s (stage)",
        format!("× {base} thr")
    );
    for row in &r.rows {
        println!(
            "{:>7}  {:>9.2}  {:>22.0}  {:>24.0}  {:>12.2}",
            row.threads,
            row.seconds,
            row.real_tokens_per_second,
            row.model_tokens_per_second,
            row.speedup
        );
    }
}
