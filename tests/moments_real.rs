//! The moments analysis with the real default model: the bundled examples
//! read the way a supervisor would read them, and a sample of the moments
//! test sets (`calltone eval --moments`) stays where it was measured.
//! Needs `calltone setup --data` (the README's test command runs it).

mod common;

use common::cli::assert_success;

use assert_cmd::Command;
use calltone::analysis::{analyse_call, turn_scores, Rules};
use calltone::data::moment_sets::{build_sets, SetSpec, Unit, ANGRY_RATING};
use calltone::data::parts::Part;
use calltone::data::vader::vader_dev;
use calltone::engine::{ScoreOptions, Scorer};
use calltone::eval::moment_bar::{measure, MeasuredCall};
use calltone::model::{ModelSource, SentimentModel};
use calltone::setup;
use candle_core::{DType, Device};
use serde_json::Value;

fn example_calls() -> Vec<Value> {
    let out = Command::cargo_bin("calltone")
        .unwrap()
        .args(["score", "-q", "examples/"])
        .output()
        .unwrap();
    assert_success(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["type"] == "call")
        .collect()
}

fn cues(moment: &Value) -> Vec<String> {
    moment["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cue"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn examples_read_the_way_a_supervisor_would() {
    let calls = example_calls();
    let by_id = |id: &str| calls.iter().find(|c| c["call_id"] == id).unwrap().clone();

    assert_eq!(
        by_id("calm-billing-question")["moments"],
        serde_json::json!([])
    );

    let chat = by_id("chat-refund-2291");
    assert!(chat["moments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["severity"] == "annoyed"));

    let recovered = by_id("irate-then-recovered");
    let m = &recovered["moments"].as_array().unwrap()[..];
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["severity"], "irate");
    assert_eq!(m[0]["start_turn"], 1);
    assert_eq!(m[0]["recovered"], true);
    assert_eq!(m[0]["trigger"]["turn"], 0);
    let c = cues(&m[0]);
    assert!(
        c.contains(&"repeat_contact".into()) && c.contains(&"already_told".into()),
        "{c:?}"
    );

    let bad = by_id("ends-badly");
    let m = &bad["moments"].as_array().unwrap()[..];
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["severity"], "irate");
    assert!(m[0]["recovered"].is_null(), "the call ends angry");
    let c = cues(&m[0]);
    assert!(
        c.contains(&"cancel".into()) && c.contains(&"churn_threat".into()),
        "{c:?}"
    );
    // The customer's sentiment falls from start to end.
    let customer = bad["metrics"]["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["role"] == "customer")
        .unwrap()
        .clone();
    assert!(customer["shift"].as_f64().unwrap() < -0.5, "{customer}");
}

#[test]
fn a_sample_of_the_moment_sets_stays_where_it_was_measured() {
    // As `calltone` does: one thread pool for tokenizing and the model's GEMMs.
    calltone::pipeline::threads::configure_threads(None);
    let log = &mut std::io::stderr();
    let dev = vader_dev(&setup::ensure_vader(log).expect("setup --data")).unwrap();
    let chitchat_dir = setup::ensure(&setup::CHITCHAT, log).expect("setup --data");
    let chitchat: Value =
        serde_json::from_slice(&std::fs::read(chitchat_dir.join("dataset.json")).unwrap()).unwrap();
    let negatives: Vec<String> = dev
        .into_iter()
        .filter(|e| e.rating.is_some_and(|r| r <= ANGRY_RATING))
        .map(|e| e.text)
        .collect();
    let spec = SetSpec {
        calm: 40,
        angry: 40,
        seed: 20261202,
        unit: Unit::Turn,
        part: Part::Test,
    };
    let sets = build_sets(&chitchat, &negatives, &spec).unwrap();
    let convs: Vec<_> = sets.calm.into_iter().chain(sets.angry).collect();

    let model = SentimentModel::load(&ModelSource::Default, DType::F32, &Device::Cpu).unwrap();
    let scorer = Scorer::new(&model, ScoreOptions::default());
    let rules = Rules::default();
    let analysed: Vec<_> = scorer
        .score_calls(&convs)
        .unwrap()
        .iter()
        .zip(&convs)
        .map(|(units, c)| analyse_call(&c.turns, &turn_scores(units), c.channel, &rules))
        .collect();
    let bar = measure(
        convs
            .iter()
            .zip(&analysed)
            .map(|(c, a)| MeasuredCall::of(c, a)),
    );
    eprintln!("{bar:#?}");
    assert_eq!((bar.calm_conversations, bar.angry_conversations), (40, 40));
    // Guards around what the full sets measure (README): a regression in the
    // model or the analysis moves these.
    assert!(bar.detection_rate >= 0.75, "{bar:?}");
    assert!(bar.false_alarm_reading_rate <= 0.15, "{bar:?}");
    // Per turn, anger tells the inserted sentences from calm ones (0.95 on the full sets).
    assert!(bar.turn_separation_auc >= 0.9, "{bar:?}");
    let readings: usize = bar.by_length.iter().map(|l| l.readings).sum();
    assert_eq!(readings, bar.calm_readings);
}
