//! `calltone eval --moments`: build the calm and angry test conversations
//! (or load saved ones), score them, analyse them and print the bar.

use std::process::ExitCode;

use anyhow::Context;

use super::args::EvalArgs;
use super::plans;
use crate::analysis::Severity;
use crate::analysis::{analyse_call, turn_scores, TurnScore};
use crate::data::moment_sets::{build_sets, SetSpec, ANGRY_RATING};
use crate::data::moment_sets::{truth_of, Truth};
use crate::data::vader::vader_dev;
use crate::engine::{ScoreOptions, Scorer};
use crate::eval::moment_bar::{measure, MeasuredCall, MomentBar};
use crate::eval::supervisor_list::{list_precision, ListPrecision, Ranked};
use crate::model::load_model;
use crate::pipeline::calibrate::rate_with_interval;
use crate::pipeline::output_target::OutputTarget;
use crate::pipeline::prepare::{load_rules, CallOutput};
use crate::pipeline::threads::configure_threads;
use crate::report::{read_saved, OutputFormat, RecordSink};
use crate::setup;
use crate::transcript::Conversation;

/// The test conversations with their turns' scores.
struct ScoredSets {
    convs: Vec<Conversation>,
    scores: Vec<Vec<Option<TurnScore>>>,
    model: String,
}

fn score_sets(args: &EvalArgs) -> anyhow::Result<ScoredSets> {
    let log = &mut std::io::stderr();
    let dev = vader_dev(&setup::ensure_vader(log)?)?;
    let chitchat_path = setup::ensure(&setup::CHITCHAT, log)?.join("dataset.json");
    let chitchat: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&chitchat_path)
            .with_context(|| format!("cannot read {}", chitchat_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", chitchat_path.display()))?;
    let negatives: Vec<String> = dev
        .into_iter()
        .filter(|e| e.rating.is_some_and(|r| r <= ANGRY_RATING))
        .map(|e| e.text)
        .collect();
    let spec = SetSpec {
        calm: args.calm,
        angry: args.angry,
        seed: args.seed,
        unit: args.unit,
        part: args.part,
    };
    let sets = build_sets(&chitchat, &negatives, &spec).map_err(anyhow::Error::msg)?;
    let convs: Vec<Conversation> = sets.calm.into_iter().chain(sets.angry).collect();

    let model = load_model(&plans::model_choice(&args.model))?;
    let scorer = Scorer::new(&model, ScoreOptions::default());
    crate::say!(
        "calltone: scoring {} conversations ({} turns)",
        convs.len(),
        convs.iter().map(|c| c.turns.len()).sum::<usize>()
    );
    let scores = scorer
        .score_calls(&convs)?
        .iter()
        .map(|u| turn_scores(u))
        .collect();
    Ok(ScoredSets {
        convs,
        scores,
        model: model.name.clone(),
    })
}

fn print(bar: &MomentBar) {
    println!(
        "calm conversations                    {}",
        bar.calm_conversations
    );
    println!(
        "  with a frustrated/irate moment      {} ({:.2}%)  [bar: <= 2%]",
        bar.false_alarm_conversations,
        100.0 * bar.false_alarm_rate
    );
    println!(
        "  readings (one per customer side)    {} with an alarm of {} ({:.2}%)",
        bar.false_alarm_readings,
        bar.calm_readings,
        100.0 * bar.false_alarm_reading_rate
    );
    println!(
        "  readings with any moment (annoyed+) {}",
        bar.calm_readings_with_any_moment
    );
    println!(
        "angry conversations                   {}",
        bar.angry_conversations
    );
    println!(
        "  found, starting within one turn     {} ({:.2}%)  [bar: >= 90%]",
        bar.detected,
        100.0 * bar.detection_rate
    );
    println!(
        "  found, within one call turn         {}",
        bar.detected_within_one_call_turn
    );
    println!(
        "  found anywhere in the angry turns   {}",
        bar.detected_anywhere
    );
    let [c, a, f, i] = bar.angry_worst_severity;
    println!("  worst severity: none {c}, annoyed {a}, frustrated {f}, irate {i}");
    println!("calm readings by length (customer turns), with an alarm");
    let mut from = 1;
    for l in &bar.by_length {
        let range = match l.max_customer_turns {
            Some(max) => format!("{from}-{max}"),
            None => format!("{from} or more"),
        };
        from = l.max_customer_turns.map_or(from, |m| m + 1);
        println!(
            "  {range:<36}{} of {} ({:.2}%)",
            l.with_alarm,
            l.readings,
            100.0 * l.rate
        );
    }
    println!(
        "  per 1,000 calm customer turns       {:.2} alarms ({} in {})",
        bar.false_alarms_per_1000_customer_turns, bar.false_alarm_moments, bar.calm_customer_turns
    );
    println!(
        "per-turn separation (ROC AUC of anger, inserted vs calm customer turns): {:.4}",
        bar.turn_separation_auc
    );
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    configure_threads(None);
    let rules = load_rules(args.rules.as_deref())?;
    let ScoredSets {
        convs,
        scores,
        model,
    } = match &args.results {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let saved = read_saved(&path.display().to_string(), &bytes)?;
            ScoredSets {
                model: saved.first().map(|s| s.model()).unwrap_or_default(),
                convs: saved.iter().map(|s| s.conversation()).collect(),
                scores: saved.iter().map(|s| s.scores()).collect(),
            }
        }
        None => score_sets(&args)?,
    };
    if let Some(path) = &args.save_results {
        let mut target = OutputTarget::open(Some(path))?;
        let mut sink = RecordSink::new(&mut target, OutputFormat::Jsonl)?;
        let out = CallOutput {
            rules: &rules,
            redact: false,
            model: &model,
        };
        for (c, s) in convs.iter().zip(&scores) {
            out.write(&mut sink, c, s)?;
        }
        sink.finish()?;
        target.finish()?;
    }
    let analyses: Vec<_> = convs
        .iter()
        .zip(&scores)
        .map(|(c, s)| analyse_call(&c.turns, s, c.channel, &rules))
        .collect();
    let bar = measure(
        convs
            .iter()
            .zip(&analyses)
            .map(|(c, a)| MeasuredCall::of(c, a)),
    );
    let ranked: Vec<Ranked> = convs
        .iter()
        .zip(&analyses)
        .filter_map(|(c, a)| {
            let angry = match truth_of(&c.id)? {
                Truth::Angry { .. } => true,
                Truth::Calm { .. } => false,
            };
            Some(Ranked {
                worst: Severity::worst_of(&a.moments),
                anger: a.moments.iter().map(|m| m.anger).fold(0.0, f32::max),
                angry,
            })
        })
        .collect();
    let lists: Vec<ListPrecision> = [0.02, 0.10]
        .iter()
        .map(|&share| list_precision(&ranked, share, LIST_DRAWS, args.seed))
        .collect();
    if args.json {
        let mut v = serde_json::to_value(&bar)?;
        v["supervisor_list"] = serde_json::to_value(&lists)?;
        v["part"] = args.part.name().into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("model                                 {model}");
        println!("part                                  {}", args.part.name());
        print(&bar);
        print_by_severity(&bar);
        print_lists(&lists);
    }
    Ok(ExitCode::SUCCESS)
}

/// Draws of angry calls per mix for the supervisor's list (the calm calls are all used).
const LIST_DRAWS: usize = 50;

fn print_by_severity(bar: &MomentBar) {
    println!("by alarm level (95% intervals)        false alarms (calm readings)   detected (angry, within one turn)");
    for row in &bar.by_severity {
        println!(
            "  {:<36}{:<31}{}",
            format!("{} or worse", row.at_least.as_str()),
            rate_with_interval(row.false_alarm_readings, row.calm_readings),
            rate_with_interval(row.detected, row.angry_conversations)
        );
    }
}

fn print_lists(lists: &[ListPrecision]) {
    println!("the worst-calls list (severity, then sustained anger): angry calls among its top");
    for l in lists {
        let at: Vec<String> =
            l.at.iter()
                .map(|(share, p)| format!("top {:.0}%: {:.1}%", 100.0 * share, 100.0 * p))
                .collect();
        println!(
            "  {:.0}% of {} calls angry ({} draws)      {}",
            100.0 * l.angry_share,
            l.calls,
            l.draws,
            at.join(" · ")
        );
    }
}
