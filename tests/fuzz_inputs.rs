//! Property-based fuzzing of everything else calltone reads: saved results
//! (`analyze`, `report`, `merge`, `--resume` read them) truncated,
//! reordered, duplicated and mixed with foreign records; rules TOML; and
//! `stream`'s input lines. Each must give a result or an error naming the
//! file or line, never a panic, and a saved call is never fused with
//! another. The suite runs a few thousand cases a property
//! (`CALLTONE_FUZZ_CASES=N` for a campaign), with overflow checks on in
//! calltone's own code (Cargo.toml's release profile turns them on for it).

use calltone::analysis::{Rules, TurnScore};
use calltone::model::Polarity;
use calltone::pipeline::prepare::CallOutput;
use calltone::report::merge::merge_outputs;
use calltone::report::resume::ResumeIndex;
use calltone::report::{read_saved, OutputFormat, RecordSink};
use calltone::transcript::jsonl::turn_from_json;
use calltone::transcript::stream_lines::{read_lines, InputLine};
use calltone::transcript::{Channel, Conversation, Role, Turn};
use proptest::prelude::*;

const WORDS: [&str; 12] = [
    "thanks", "refund", "manager", "terrible", "hello", "my", "bill", "is", "wrong", "again",
    "great", "cancel",
];

/// A made-up call: its id and, per turn, (customer?, words, negative).
type FakeCall = (usize, Vec<(bool, usize, f32)>);

/// Real records: `score`'s JSONL for random calls, written by the same
/// code `score` uses, from scores made up per turn.
fn results(calls: &[FakeCall]) -> Vec<u8> {
    let rules = Rules::default();
    let output = CallOutput {
        rules: &rules,
        redact: true,
        model: "fuzz",
    };
    let mut sink = RecordSink::new(Vec::new(), OutputFormat::Jsonl).unwrap();
    for (seq, (id, turns)) in calls.iter().enumerate() {
        let conv = Conversation {
            id: format!("call-{id}"),
            source: "fuzz.jsonl".into(),
            format: "jsonl".into(),
            channel: Channel::Voice,
            turns: turns
                .iter()
                .enumerate()
                .map(|(i, (customer, words, _))| Turn {
                    speaker: if *customer { "Customer" } else { "Agent" }.into(),
                    role: if *customer {
                        Role::Customer
                    } else {
                        Role::Agent
                    },
                    role_inferred: false,
                    start_ms: Some(i as u64 * 1000),
                    end_ms: Some(i as u64 * 1000 + 900),
                    wall_clock_ms: None,
                    text: (0..*words)
                        .map(|w| WORDS[(w * 7 + i) % WORDS.len()])
                        .collect::<Vec<_>>()
                        .join(" "),
                })
                .collect(),
            meta: Default::default(),
        };
        let scores: Vec<Option<TurnScore>> = turns
            .iter()
            .map(|(_, words, neg)| {
                (*words > 0).then(|| {
                    let neg = neg.clamp(0.0, 1.0);
                    let pos = (1.0 - neg) / 2.0;
                    TurnScore {
                        label: if neg > 0.5 {
                            Polarity::Negative
                        } else {
                            Polarity::Positive
                        },
                        negative: neg,
                        neutral: pos,
                        positive: pos,
                        score: pos - neg,
                        intensity: pos - neg,
                        windows: 1,
                    }
                })
            })
            .collect();
        let mut prepared = output.prepare(&conv, &scores);
        prepared.seq = Some(seq);
        prepared.content_hash = Some(format!("{id:032x}"));
        output.write_prepared(&mut sink, &prepared).unwrap();
    }
    sink.finish().unwrap()
}

fn calls_strategy() -> impl Strategy<Value = Vec<FakeCall>> {
    proptest::collection::vec(
        (
            0usize..1000,
            proptest::collection::vec((any::<bool>(), 0usize..6, 0.0f32..1.0), 1..6),
        ),
        1..5,
    )
    .prop_map(|mut calls| {
        // Distinct ids, as `score` writes them.
        calls.sort_by_key(|c| c.0);
        calls.dedup_by_key(|c| c.0);
        calls
    })
}

/// Damage to a results file, line by line.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(usize),
    Swap(usize, usize),
    Duplicate(usize),
    Foreign(usize, String),
    Flip(usize, u8),
}

fn damage_strategy() -> impl Strategy<Value = Vec<Damage>> {
    let foreign = prop_oneof![
        Just(r#"{"type":"turn"}"#.to_string()),
        Just(r#"{"type":"call","call_id":7}"#.to_string()),
        Just(
            r#"{"type":"shard","shards":["0/2"],"calls":1,"input_calls":2,"schema":"calltone/2"}"#
                .to_string()
        ),
        Just(r#"{"schema":"calltone/2","calls":[]}"#.to_string()),
        Just("[1,2,3]".to_string()),
        "\\PC{0,40}",
    ];
    proptest::collection::vec(
        prop_oneof![
            any::<usize>().prop_map(Damage::Truncate),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::Swap(a, b)),
            any::<usize>().prop_map(Damage::Duplicate),
            (any::<usize>(), foreign).prop_map(|(a, f)| Damage::Foreign(a, f)),
            (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Damage::Flip(a, b)),
        ],
        0..4,
    )
}

fn damaged(mut bytes: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    for d in damage {
        let mut lines: Vec<Vec<u8>> = bytes
            .split_inclusive(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        let n = lines.len().max(1);
        match d {
            Damage::Truncate(at) => {
                bytes.truncate(at % (bytes.len() + 1));
                continue;
            }
            Damage::Flip(at, byte) => {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] = *byte;
                }
                continue;
            }
            Damage::Swap(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Damage::Duplicate(a) if !lines.is_empty() => {
                let l = lines[a % n].clone();
                lines.insert(a % n, l);
            }
            Damage::Foreign(a, f) => lines.insert(a % (lines.len() + 1), format!("{f}\n").into()),
            _ => {}
        }
        bytes = lines.concat();
    }
    bytes
}

/// What every reader of saved results must hold to, on any bytes.
fn read_every_way(bytes: &[u8]) {
    match read_saved("fuzz/results.jsonl", bytes) {
        Ok(calls) => {
            let mut ids: Vec<&str> = calls.iter().map(|c| c.call_id.as_str()).collect();
            ids.sort_unstable();
            let before = ids.len();
            ids.dedup();
            assert_eq!(ids.len(), before, "a call id twice: fused or duplicated");
            for c in &calls {
                assert!(
                    c.turns.iter().all(|t| t.call_id == c.call_id),
                    "turns of another call"
                );
                if let Some(record) = &c.call {
                    assert_eq!(record.call_id, c.call_id);
                }
                // What `analyze` and `report` do next: re-analyse the saved call.
                let rules = Rules::default();
                let output = CallOutput {
                    rules: &rules,
                    redact: true,
                    model: "fuzz",
                };
                let _ = output.prepare(&c.conversation(), &c.scores());
            }
        }
        Err(e) => assert_eq!(e.path, "fuzz/results.jsonl"),
    }
    // `merge` and `--resume` read the same files from disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shard.jsonl");
    std::fs::write(&path, bytes).unwrap();
    let other = dir.path().join("other.jsonl");
    std::fs::write(&other, results(&[(999_999, vec![(true, 3, 0.9)])])).unwrap();
    if let Err(e) = merge_outputs(&[path.clone(), other], &mut Vec::new(), true) {
        assert!(!e.to_string().is_empty());
    }
    let target = dir.path().join("out.jsonl");
    std::fs::rename(&path, dir.path().join("out.jsonl.partial")).unwrap();
    if let Ok(index) = ResumeIndex::load(&target) {
        let _ = index.records("call-1", "0", 0);
    }
}

const RULES: &str = r#"
[[category]]
name = "asked for a manager"
when = { phrase = { text = ["manager", "supervisor"], role = "customer" } }

[[category]]
name = "ended unhappy"
when = { all = [
  { sentiment = { role = "customer", last_turns = 2, below = -0.3 } },
  { not = { phrase = { text = "thank you", role = "customer", last_turns = 2 } } },
] }

[moments]
open_at = 0.5
"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("CALLTONE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
    ))]

    #[test]
    fn damaged_results_never_panic_or_fuse(calls in calls_strategy(), damage in damage_strategy()) {
        read_every_way(&damaged(results(&calls), &damage));
    }

    #[test]
    fn random_bytes_as_results_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        read_every_way(&bytes);
    }

    #[test]
    fn damaged_rules_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>()) {
        let mut b = RULES.as_bytes().to_vec();
        for (pos, byte) in edits {
            let i = pos % b.len();
            b[i] = byte;
        }
        b.truncate(cut % (b.len() + 1));
        if let Ok(text) = std::str::from_utf8(&b) {
            let _ = Rules::from_toml(text);
        }
    }

    #[test]
    fn random_rules_text_never_panics(text in "(\\[\\[category\\]\\]|\\[moments\\]|name = \"x\"|when = |\\{|\\}|phrase|sentiment|below = -?[0-9.]{1,4}|last_turns = [0-9]{1,3}|open_at = [0-9.e-]{1,5}|\\n|, ){0,30}") {
        let _ = Rules::from_toml(&text);
    }

    #[test]
    fn stream_lines_never_panic(bytes in proptest::collection::vec(prop_oneof![
        3 => any::<u8>(),
        1 => Just(b'\n'),
        1 => Just(b'{'),
        1 => Just(b'"'),
    ], 0..800), max_line in 1usize..200) {
        let mut numbers = Vec::new();
        read_lines(&bytes[..], max_line, |line| {
            match line {
                InputLine::Text(n, text) => {
                    numbers.push(n);
                    assert!(text.len() <= max_line);
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                        let _ = turn_from_json(&v, n, 64);
                    }
                }
                InputLine::Unreadable(n, _) => numbers.push(n),
                InputLine::Failed(e) => panic!("reading a slice cannot fail: {e}"),
            }
            true
        });
        // Every line is handed on once, numbered in order from 1.
        let want: Vec<usize> = (1..=numbers.len()).collect();
        prop_assert_eq!(numbers, want);
    }

    #[test]
    fn stream_turn_lines_with_odd_values_never_panic(
        call_id in prop_oneof![Just(serde_json::json!("c1")), Just(serde_json::json!(5)), Just(serde_json::Value::Null)],
        text in prop_oneof![Just(serde_json::json!("hello")), Just(serde_json::json!(["a"])), Just(serde_json::Value::Null), "\\PC{0,80}".prop_map(serde_json::Value::from)],
        start in prop_oneof![Just(serde_json::json!(1.5)), Just(serde_json::json!(-3)), Just(serde_json::json!(1e300)), Just(serde_json::json!("x")), Just(serde_json::json!(f64::MAX))],
    ) {
        let v = serde_json::json!({"call_id": call_id, "speaker": "Customer", "text": text, "start": start, "end": start});
        match turn_from_json(&v, 9, 64) {
            Ok(_) => {}
            Err(reason) => prop_assert!(reason.starts_with("line 9:"), "{}", reason),
        }
    }
}
