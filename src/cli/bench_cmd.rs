//! `calltone bench`: the real pipeline on a corpus (default: the first
//! 20,000 chit-chat messages, the workload the speed bar is set on), timed
//! by stage, with throughput as a fraction of this machine's fp32 ceiling.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::args::BenchArgs;
use super::plans;
use crate::data::chitchat::first_messages;
use crate::engine::ceiling::{device_gemm, flops_per_token, machine, DeviceGemm, Machine};
use crate::engine::{ScoreOptions, ScoreStats, Scorer};
use crate::model::fast::LayerFormat;
use crate::model::load_model;
use crate::pipeline::peak_memory::peak_memory_mib;
use crate::pipeline::prepare::{load_rules, CallOutput};
use crate::pipeline::threads::configure_threads;
use crate::report::{OutputFormat, RecordSink};
use crate::transcript::inputs::{expand_filtered, read_bytes, PathFilter};
use crate::transcript::{read_conversations, Conversation, ReadLimits, RoleHints};

#[derive(Serialize)]
struct Stages {
    read: f64,
    tokenize: f64,
    infer: f64,
    analyse: f64,
    write: f64,
}

#[derive(Serialize)]
struct BenchReport {
    corpus: String,
    model: String,
    /// What ran the encoder (the CPU kernel path, or the GPU precision).
    engine: String,
    threads: usize,
    calls: usize,
    turns: usize,
    score: ScoreStats,
    seconds: f64,
    turns_per_second: f64,
    real_tokens_per_second: f64,
    /// Tokens the model actually ran per second of the model stage (tokenize + infer).
    model_tokens_per_second: f64,
    padding_overhead: f64,
    stages: Stages,
    peak_memory_mib: Option<f64>,
    flops_per_token: f64,
    machine: Machine,
    /// On a GPU: its own matrix-multiply rate, which the GEMM ceiling then
    /// comes from (the CPU figures in `machine` describe the host).
    device_gemm: Option<DeviceGemm>,
    /// Tokens/s the estimated peak and the measured GEMM peak would allow.
    ceiling_tokens_per_second: Option<f64>,
    gemm_ceiling_tokens_per_second: f64,
    fraction_of_ceiling: Option<f64>,
    fraction_of_gemm_ceiling: f64,
}

fn files_corpus(args: &BenchArgs) -> anyhow::Result<Vec<Conversation>> {
    let filter = PathFilter::new(&[], &[]).map_err(anyhow::Error::msg)?;
    let (inputs, failures) = expand_filtered(&args.paths, &filter);
    if let Some(f) = failures.first() {
        anyhow::bail!("{f}");
    }
    let limits = ReadLimits::default();
    let mut out = Vec::new();
    for input in &inputs {
        let bytes = read_bytes(input, limits.max_file_bytes)?;
        out.extend(read_conversations(
            &input.label(),
            &bytes,
            None,
            &limits,
            &RoleHints::default(),
        )?);
    }
    Ok(out)
}

fn print(r: &BenchReport) {
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    println!("corpus                 {}", r.corpus);
    println!("model                  {} ({} threads)", r.model, r.threads);
    println!("engine                 {}", r.engine);
    println!(
        "calls / turns          {} / {} ({} distinct texts, {} windows, {} batches)",
        r.calls, r.turns, r.score.distinct, r.score.windows, r.score.batches
    );
    println!(
        "real tokens            {} in the workload; {} run after repeats were merged (+{} padding: {:.1}% overhead)",
        r.score.workload_tokens,
        r.score.real_tokens,
        r.score.padded_tokens - r.score.real_tokens,
        100.0 * r.padding_overhead
    );
    println!(
        "end to end             {:.2} s: {:.0} turns/s, {:.0} real tokens/s",
        r.seconds, r.turns_per_second, r.real_tokens_per_second
    );
    println!(
        "model stage            {:.0} real tokens/s (tokenize + infer)",
        r.model_tokens_per_second
    );
    let s = &r.stages;
    println!(
        "stages (s)             read {:.2} · tokenize {:.2} · infer {:.2} · analyse {:.2} · write {:.2}",
        s.read, s.tokenize, s.infer, s.analyse, s.write
    );
    if let Some(m) = r.peak_memory_mib {
        println!("peak memory            {m:.0} MiB");
    }
    let m = &r.machine;
    println!(
        "machine                {} × {} ({}, {} GHz), {:.1} MFLOP/token",
        m.cores,
        m.model_name,
        m.vector,
        m.ghz.map_or_else(|| "?".into(), |g| format!("{g:.2}")),
        r.flops_per_token / 1e6
    );
    if let (Some(c), Some(f)) = (r.ceiling_tokens_per_second, r.fraction_of_ceiling) {
        println!(
            "fp32 ceiling           {:.0} tokens/s ({:.0} GFLOP/s estimated at {} FLOP/cycle): at {}",
            c,
            m.estimated_gflops.unwrap_or(0.0),
            m.flop_per_cycle,
            pct(f)
        );
    }
    match &r.device_gemm {
        Some(g) => println!(
            "GPU GEMM ceiling       {:.0} tokens/s ({:.0} GFLOP/s measured, {} {}×{}×{}): at {}",
            r.gemm_ceiling_tokens_per_second,
            g.gflops,
            g.dtype,
            g.shape[0],
            g.shape[1],
            g.shape[2],
            pct(r.fraction_of_gemm_ceiling)
        ),
        None => println!(
            "GEMM ceiling           {:.0} tokens/s ({:.0} G ops/s measured in this format): at {}",
            r.gemm_ceiling_tokens_per_second,
            m.measured_gemm_gflops,
            pct(r.fraction_of_gemm_ceiling)
        ),
    }
    let g = &m.gemm;
    let shape = format!("GEMM {}×{}×{}", g.shape[0], g.shape[1], g.shape[2]);
    println!(
        "{shape:<22} gemm crate fp32 {:.0} GFLOP/s · calltone fp32 {:.0} · bf16 {:.0} · int8 {:.0} G ops/s",
        g.gemm_crate_gflops, g.calltone_fp32_gflops, g.calltone_bf16_gflops, g.calltone_int8_gops
    );
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let counts: Vec<usize> = args.threads.iter().map(|&n| usize::from(n)).collect();
    // The global pool: the one count, or the most of several (the scaling
    // runs build a pool of each count and run inside it).
    configure_threads(counts.iter().copied().max());
    let threads = rayon::current_num_threads();
    let model = load_model(&plans::model_choice(&args.model))?;
    let rules = load_rules(None)?;

    let started = Instant::now();
    let (corpus, convs) = if args.paths.is_empty() {
        (
            match args.skip_messages {
                0 => format!("chit-chat, first {} messages", args.messages),
                skip => format!(
                    "chit-chat, {} messages after the first {skip}",
                    args.messages
                ),
            },
            first_messages(args.skip_messages, args.messages)?,
        )
    } else {
        (format!("{} paths", args.paths.len()), files_corpus(&args)?)
    };
    let read = started.elapsed();
    if args.stream {
        let r = super::bench_stream::run(&model, &rules, &convs, corpus)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            super::bench_stream::print(&r);
        }
        return Ok(ExitCode::SUCCESS);
    }

    let scorer = Scorer::new(
        &model,
        ScoreOptions::for_device(!model.device.is_cpu(), args.batch_tokens),
    );
    if counts.len() > 1 {
        let output = CallOutput {
            rules: &rules,
            redact: true,
            model: &model.name,
        };
        let workload = super::bench_scaling::Workload {
            convs: &convs,
            corpus,
            read,
        };
        let r = super::bench_scaling::run(&output, &scorer, workload, &counts, args.repeat)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            super::bench_scaling::print(&r);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let texts: Vec<&str> = convs
        .iter()
        .flat_map(|c| c.turns.iter().map(|t| t.text.as_str()))
        .collect();
    if let Some(path) = &args.texts_out {
        let lines: String = texts
            .iter()
            .map(|t| serde_json::to_string(t).map(|j| j + "\n"))
            .collect::<Result<_, _>>()?;
        let mut file = crate::report::atomic::AtomicFile::create(path)?;
        std::io::Write::write_all(&mut file, lines.as_bytes())?;
        file.commit()?;
    }
    let model_started = Instant::now();
    let (mut units, mut stats) = scorer.score_with_stats(&texts)?;
    let mut model_time = model_started.elapsed();
    for _ in 1..args.repeat {
        let again = Instant::now();
        let (u, s) = scorer.score_with_stats(&texts)?;
        if again.elapsed() < model_time {
            (units, stats, model_time) = (u, s, again.elapsed());
        }
    }

    let t = Instant::now();
    let output = CallOutput {
        rules: &rules,
        redact: true,
        model: &model.name,
    };
    let prepared = output.prepare_each(&convs, &units);
    let analyse = t.elapsed();
    let t = Instant::now();
    let mut sink = RecordSink::new(std::io::sink(), OutputFormat::Jsonl)?;
    for p in &prepared {
        output.write_prepared(&mut sink, p)?;
    }
    sink.finish()?;
    let write = t.elapsed();
    // With --repeat, only the fastest model run counts.
    let total = read + model_time + analyse + write;

    let mean_len = stats.real_tokens as f64 / stats.windows.max(1) as f64;
    let fpt = flops_per_token(&model.encoder.config, mean_len);
    let format = model.layer_format().unwrap_or(LayerFormat::Fp32);
    let m = machine(&model.encoder.config, threads, format);
    let on_gpu = !model.device.is_cpu();
    // A GPU run is measured against the GPU: its own multiply at the
    // encoder's feed-forward shape and the batch size it ran.
    let device_gemm = if on_gpu {
        let c = &model.encoder.config;
        Some(device_gemm(
            &model.device,
            model.precision().dtype(),
            scorer.options.token_budget,
            c.hidden_size,
            c.intermediate_size,
        )?)
    } else {
        None
    };
    let secs = |d: Duration| d.as_secs_f64();
    // Throughput is measured on the workload (every turn's tokens, repeats
    // included), as an outside engine scoring every turn would be.
    let real_tps = stats.workload_tokens as f64 / secs(total).max(1e-9);
    // The vector-width estimate is an fp32 figure: shown for fp32 only.
    let ceiling = m
        .estimated_gflops
        .filter(|_| format == LayerFormat::Fp32 && !on_gpu)
        .map(|g| g * 1e9 / fpt);
    let gemm_ceiling = device_gemm
        .as_ref()
        .map_or(m.measured_gemm_gflops, |g| g.gflops)
        * 1e9
        / fpt;
    let report = BenchReport {
        corpus,
        model: model.name.clone(),
        engine: model.engine(),
        threads,
        calls: convs.len(),
        turns: texts.len(),
        seconds: secs(total),
        turns_per_second: texts.len() as f64 / secs(total).max(1e-9),
        real_tokens_per_second: real_tps,
        model_tokens_per_second: stats.real_tokens as f64
            / (secs(stats.tokenize) + secs(stats.infer)).max(1e-9),
        padding_overhead: stats.padded_tokens as f64 / stats.real_tokens.max(1) as f64 - 1.0,
        stages: Stages {
            read: secs(read),
            tokenize: secs(stats.tokenize),
            infer: secs(stats.infer),
            analyse: secs(analyse),
            write: secs(write),
        },
        peak_memory_mib: peak_memory_mib(),
        flops_per_token: fpt,
        ceiling_tokens_per_second: ceiling,
        gemm_ceiling_tokens_per_second: gemm_ceiling,
        fraction_of_ceiling: ceiling.map(|c| real_tps / c),
        fraction_of_gemm_ceiling: real_tps / gemm_ceiling.max(1e-9),
        machine: m,
        device_gemm,
        score: stats,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(ExitCode::SUCCESS)
}
