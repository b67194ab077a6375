//! Criterion benches for each stage: reading, batching, model scoring (only
//! when `calltone setup` has fetched the encoder), redaction, analysis and
//! writing. `calltone bench` measures the whole pipeline on a real corpus.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use calltone::analysis::{analyse_call, summarise_call, Rules, TurnScore};
use calltone::engine::batching::length_batches;
use calltone::engine::{ScoreOptions, Scorer};
use calltone::model::Polarity;
use calltone::model::{ModelSource, SentimentModel};
use calltone::report::records::{call_record, turn_records};
use calltone::report::{OutputFormat, RecordSink};
use calltone::text::redact::redact_conversation;
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

/// A plain-text transcript read as `calltone score` would.
fn read_plain(text: &str) -> Vec<calltone::transcript::Conversation> {
    read_conversations(
        "bench.txt",
        text.as_bytes(),
        None,
        &ReadLimits::default(),
        &RoleHints::default(),
    )
    .unwrap()
}

fn read(c: &mut Criterion) {
    let text = transcript(600);
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("plain_600_turns", |b| b.iter(|| read_plain(&text)));
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

/// A read call with made-up scores: what analysis and writing cost per call.
fn scored_call() -> (calltone::transcript::Conversation, Vec<Option<TurnScore>>) {
    let conv = read_plain(&transcript(60)).remove(0);
    let scores = (0..conv.turns.len())
        .map(|i| {
            let s = ((i * 37 % 19) as f32 / 9.0) - 1.0;
            Some(TurnScore {
                label: Polarity::Neutral,
                negative: (-s).max(0.0),
                neutral: 1.0 - s.abs(),
                positive: s.max(0.0),
                score: s,
                intensity: 0.6 * s,
                windows: 1,
            })
        })
        .collect();
    (conv, scores)
}

fn analyse_and_write(c: &mut Criterion) {
    let (conv, scores) = scored_call();
    let rules = Rules::default();
    let mut g = c.benchmark_group("analyse");
    g.throughput(Throughput::Elements(conv.turns.len() as u64));
    g.bench_function("redact_60_turns", |b| b.iter(|| redact_conversation(&conv)));
    g.bench_function("analyse_60_turns", |b| {
        b.iter(|| analyse_call(&conv.turns, &scores, conv.channel, &rules))
    });
    let analysis = analyse_call(&conv.turns, &scores, conv.channel, &rules);
    let summary = summarise_call(&conv.turns, &scores);
    g.bench_function("write_jsonl_60_turns", |b| {
        b.iter(|| {
            let mut sink = RecordSink::new(Vec::new(), OutputFormat::Jsonl).unwrap();
            sink.write_call(
                &call_record(&conv, &summary, &analysis, "bench"),
                &turn_records(&conv, &scores, &analysis),
            )
            .unwrap();
            sink.finish().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, read, batching, scoring, analyse_and_write);
criterion_main!(benches);
