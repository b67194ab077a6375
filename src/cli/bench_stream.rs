//! `calltone bench --stream`: the corpus's calls all open at once, their turns
//! arriving interleaved one at a time (turn 0 of every call, then turn 1, …),
//! each scored, redacted and analysed as `calltone stream` does; per-turn
//! latency from arrival to events.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::analysis::live::{EventKind, LiveCalls, LiveSettings};
use crate::analysis::rules::Rules;
use crate::engine::{ScoreOptions, Scorer};
use crate::model::SentimentModel;
use crate::pipeline::live::LiveScoring;
use crate::transcript::Conversation;

#[derive(Debug, Serialize)]
pub struct StreamBench {
    pub corpus: String,
    pub model: String,
    pub threads: usize,
    pub calls: usize,
    pub turns: usize,
    pub seconds: f64,
    pub turns_per_second: f64,
    pub latency_ms: Latency,
    pub alerts: usize,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn run(
    model: &SentimentModel,
    rules: &Rules,
    convs: &[Conversation],
    corpus: String,
) -> anyhow::Result<StreamBench> {
    let scorer = Scorer::new(model, ScoreOptions::default());
    let mut live = LiveScoring {
        scorer: &scorer,
        calls: LiveCalls::new(LiveSettings::default(), rules),
        redact: true,
    };
    let longest = convs.iter().map(|c| c.turns.len()).max().unwrap_or(0);
    let mut latencies = Vec::new();
    let mut alerts = 0;
    let started = Instant::now();
    for t in 0..longest {
        for c in convs.iter().filter(|c| t < c.turns.len()) {
            let arrived = Instant::now();
            let now_ms = started.elapsed().as_millis() as u64;
            let events = live.turn(&c.id, c.turns[t].clone(), now_ms)?;
            alerts += events
                .iter()
                .filter(|e| e.event == EventKind::Alert)
                .count();
            latencies.push(arrived.elapsed());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(StreamBench {
        corpus,
        model: model.name.clone(),
        threads: rayon::current_num_threads(),
        calls: convs.len(),
        turns: latencies.len(),
        seconds,
        turns_per_second: latencies.len() as f64 / seconds.max(1e-9),
        latency_ms: Latency {
            p50: quantile(&latencies, 0.5),
            p90: quantile(&latencies, 0.9),
            p99: quantile(&latencies, 0.99),
            max: quantile(&latencies, 1.0),
        },
        alerts,
    })
}

pub fn print(r: &StreamBench) {
    println!(
        "corpus                 {} (stream: calls interleaved, one turn at a time)",
        r.corpus
    );
    println!("model                  {} ({} threads)", r.model, r.threads);
    println!("calls / turns          {} / {}", r.calls, r.turns);
    println!(
        "throughput             {:.0} turns/s ({:.2} s)",
        r.turns_per_second, r.seconds
    );
    println!(
        "latency per turn       p50 {:.2} ms · p90 {:.2} ms · p99 {:.2} ms · max {:.2} ms",
        r.latency_ms.p50, r.latency_ms.p90, r.latency_ms.p99, r.latency_ms.max
    );
    println!("alerts raised          {}", r.alerts);
}
