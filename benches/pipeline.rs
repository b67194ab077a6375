//! Criterion benches for each stage: reading, batching, and model scoring
//! (the last one only when `calltone setup` has fetched the encoder).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use calltone::engine::batching::length_batches;
use calltone::engine::{ScoreOptions, Scorer};
use calltone::model::{ModelSource, SentimentModel};
use calltone::transcript::{read_conversations, ReadLimits, RoleHints};

const LINES: [&str; 6] = [
    "Agent: Thank you for calling, how can I help you today?",
    "Customer: My internet has been down since Monday and this is the third time I'm calling.",
    "Agent: I'm sorry to hear that. Can I take your account number, please?",
    "Customer: I already gave it twice! This is ridiculous, I want to speak to your manager.",
    "Agent: I understand. I've escalated this to our network team as urgent.",
    "Customer: Okay, thank you for actually sorting it out.",
];

fn transcript(turns: usize) -> String {
    (0..turns)
        .map(|i| {
            format!(
                "[00:{:02}:{:02}] {}\n",
                i / 60 % 60,
                i % 60,
                LINES[i % LINES.len()]
            )
        })
        .collect()
}

fn read(c: &mut Criterion) {
    let text = transcript(600);
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("plain_600_turns", |b| {
        b.iter(|| {
            read_conversations(
                "bench.txt",
                text.as_bytes(),
                None,
                &ReadLimits::default(),
                &RoleHints::default(),
            )
            .unwrap()
        })
    });
    g.finish();
}

fn batching(c: &mut Criterion) {
    let lengths: Vec<usize> = (0..20_000).map(|i| 3 + (i * 7919) % 60).collect();
    let mut g = c.benchmark_group("batching");
    g.throughput(Throughput::Elements(lengths.len() as u64));
    g.bench_function("length_batches_20k", |b| {
        b.iter(|| length_batches(&lengths, 4096, 128))
    });
    g.finish();
}

fn scoring(c: &mut Criterion) {
    let Ok(model) = SentimentModel::load(
        &ModelSource::Default,
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
    ) else {
        eprintln!("scoring bench skipped: run `calltone setup` first");
        return;
    };
    let mut g = c.benchmark_group("score");
    g.sample_size(10);
    for n in [32usize, 256] {
        // Distinct texts, so the per-text cache does not hide the model's cost.
        let texts: Vec<String> = (0..n)
            .map(|i| format!("{} (ref {i})", &LINES[i % LINES.len()][10..]))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let scorer = Scorer::new(&model, ScoreOptions::default());
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("turns", n), &refs, |b, r| {
            b.iter(|| scorer.score(r).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, read, batching, scoring);
criterion_main!(benches);
