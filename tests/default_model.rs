//! The committed default model on the bundled examples: it loads from the
//! cache `calltone setup` fills, merges its adapters, and reads the examples
//! the way a person would.

use calltone::engine::{ScoreOptions, Scorer};
use calltone::model::{ModelSource, Polarity, SentimentModel};
use candle_core::{DType, Device};

fn model() -> SentimentModel {
    SentimentModel::load(&ModelSource::Default, DType::F32, &Device::Cpu)
        .expect("the default model needs `cargo run --release -- setup` first (the README's test command runs it)")
}

#[test]
fn reads_clear_sentiment_the_way_people_do() {
    let m = model();
    let scorer = Scorer::new(&m, ScoreOptions::default());
    let angry = [
        "This is ridiculous. I've lost three days of work and I want to speak to your manager.",
        "Unbelievable. This is the worst service I've ever had. Cancel my account.",
        "That is NOT what I was told. Your own staff lied to me.",
    ];
    let happy = [
        "That was quick, thank you so much. Have a great day.",
        "oh brilliant, thanks for sorting it so fast",
        "Great, I appreciate that. Thanks Sam.",
    ];
    let texts: Vec<&str> = angry.iter().chain(happy.iter()).copied().collect();
    let s = scorer.score(&texts).unwrap();
    for (t, u) in texts.iter().zip(&s) {
        let u = u.as_ref().unwrap();
        let want = if angry.contains(t) {
            Polarity::Negative
        } else {
            Polarity::Positive
        };
        assert_eq!(u.score.label(), want, "{t:?}: {:?}", u.score);
    }
    // Intensity follows the ratings' direction.
    assert!(s[..3]
        .iter()
        .all(|u| u.as_ref().unwrap().score.intensity < 0.0));
    assert!(s[3..]
        .iter()
        .all(|u| u.as_ref().unwrap().score.intensity > 0.0));
}

#[test]
fn a_long_turn_is_windowed_not_cut() {
    let m = model();
    let scorer = Scorer::new(&m, ScoreOptions::default());
    let calm =
        "I called to ask about the opening hours of the branch on the high street. ".repeat(20);
    let long =
        format!("{calm} And honestly your staff were rude, useless and I am furious about it!");
    let s = scorer.score(&[&long, &calm]).unwrap();
    let long_s = s[0].as_ref().unwrap();
    assert!(long_s.windows >= 2, "{} windows", long_s.windows);
    // The angry tail is seen: the most negative window is more negative than the calm text.
    assert!(long_s.max_negative > s[1].as_ref().unwrap().max_negative + 0.2);
}

/// Every turn of the bundled examples, plus one long turn that is windowed.
fn example_texts() -> Vec<String> {
    use calltone::transcript::read_conversations;
    let mut texts: Vec<String> = Vec::new();
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let calls = read_conversations(
            &path.to_string_lossy(),
            &bytes,
            None,
            &Default::default(),
            &Default::default(),
        )
        .unwrap();
        texts.extend(
            calls
                .iter()
                .flat_map(|c| c.turns.iter().map(|t| t.text.clone())),
        );
    }
    texts.push("Please check the order status again, it has been weeks. ".repeat(40));
    assert!(texts.len() > 30);
    texts
}

/// The real model on every turn of the bundled examples (and a windowed
/// long turn): calltone's fp32 kernels give the reference encoder's scores
/// within 1e-4 on every probability and the intensity.
#[test]
fn fast_kernels_score_the_examples_as_the_reference_does() {
    use calltone::model::Precision;
    let texts = example_texts();
    let reference = model();
    let mut fast = model();
    fast.set_precision(Precision::Fp32).unwrap();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let want = Scorer::new(&reference, ScoreOptions::default())
        .score(&refs)
        .unwrap();
    let got = Scorer::new(&fast, ScoreOptions::default())
        .score(&refs)
        .unwrap();
    for (t, (w, g)) in texts.iter().zip(want.iter().zip(&got)) {
        let (w, g) = (&w.as_ref().unwrap().score, &g.as_ref().unwrap().score);
        for (a, b) in [
            (w.negative, g.negative),
            (w.neutral, g.neutral),
            (w.positive, g.positive),
            (w.intensity, g.intensity),
        ] {
            assert!((a - b).abs() < 1e-4, "{t:?}: reference {a} vs fast {b}");
        }
    }
}

/// On calltone's kernels batches run side by side, and a thread waiting in
/// one batch's loops may start another: many small batches on four threads
/// must give every text exactly (bit for bit) what one batch on one thread
/// gives, in fp32 and in int8 (whose inputs are quantised row by row).
#[test]
fn batches_side_by_side_score_as_one_batch_on_one_thread() {
    use calltone::model::Precision;
    let texts = example_texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    };
    let small = ScoreOptions {
        token_budget: 64,
        max_batch: 4,
        overlap_texts: None,
    };
    let whole = ScoreOptions {
        token_budget: 1 << 20,
        max_batch: 1 << 20,
        overlap_texts: None,
    };
    for precision in [Precision::Fp32, Precision::Int8] {
        let mut m = model();
        m.set_precision(precision).unwrap();
        let (apart, stats) = pool(4)
            .install(|| Scorer::new(&m, small.clone()).score_with_stats(&refs))
            .unwrap();
        let (together, one) = pool(1)
            .install(|| Scorer::new(&m, whole.clone()).score_with_stats(&refs))
            .unwrap();
        assert!(stats.batches >= 8, "{} batches", stats.batches);
        assert_eq!(one.batches, 1);
        for (t, (a, b)) in texts.iter().zip(apart.iter().zip(&together)) {
            assert_eq!(a, b, "{precision:?}, {t:?}");
        }
    }
}

/// Tokenizing the next texts while the model scores the last ones (what a
/// GPU run does) gives every text exactly what tokenizing all of them
/// first gives, with the same statistics but the batch count, on several
/// threads and on one (where the two take turns instead of deadlocking).
#[test]
fn tokenizing_while_scoring_gives_the_same_scores() {
    let texts = example_texts();
    let mut refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Repeats and an empty text, as real calls have.
    refs.extend_from_slice(&[refs[0], "   ", refs[3]]);
    // calltone's kernels score a row the same bit for bit whatever batch
    // it is in (the test above), so any difference is the overlap's.
    let mut m = model();
    m.set_precision(calltone::model::Precision::Fp32).unwrap();
    let all_first = ScoreOptions::default();
    let (want, want_stats) = Scorer::new(&m, all_first.clone())
        .score_with_stats(&refs)
        .unwrap();
    for (threads, step) in [(4, 3), (1, 5), (2, 1000)] {
        let overlapped = ScoreOptions {
            overlap_texts: Some(step),
            ..all_first.clone()
        };
        let (got, stats) = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| Scorer::new(&m, overlapped).score_with_stats(&refs))
            .unwrap();
        assert_eq!(got, want, "{threads} threads, steps of {step}");
        assert_eq!(
            (
                stats.texts,
                stats.distinct,
                stats.windows,
                stats.real_tokens
            ),
            (
                want_stats.texts,
                want_stats.distinct,
                want_stats.windows,
                want_stats.real_tokens
            )
        );
        assert_eq!(stats.workload_tokens, want_stats.workload_tokens);
        assert!(stats.batches >= want_stats.batches);
    }
}
