//! `calltone eval`: score labelled text and print the measures.

use std::process::ExitCode;

use std::collections::BTreeMap;

use serde_json::json;

use super::args::EvalArgs;
use crate::data::labelled::read_labelled;
use crate::data::rotten_tomatoes::held_out;
use crate::data::vader::vader_split;
use crate::eval::run::{report, score_examples, EvalReport};
use crate::model::precision_record::{Measured, PrecisionRecord};
use crate::model::SentimentModel;
use crate::setup;

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    if args.moments {
        return super::eval_moments_cmd::run(args);
    }
    if args.record {
        check_record_target(args.model.model.as_deref())?;
    }
    // clap requires --data unless --dev is given: without a file, the dev split.
    let (examples, sources) = match &args.data {
        Some(p) => (read_labelled(p)?, Vec::new()),
        None if args.test => {
            let log = &mut std::io::stderr();
            let split = vader_split(&setup::ensure_vader(log)?)?;
            let rt = setup::ensure(&setup::ROTTEN_TOMATOES, log)?
                .join("rotten_tomatoes_corpus_full.csv.bz2");
            let (examples, dropped) = held_out(&rt, &split.train)?;
            crate::say!(
                "calltone: test set: {} Rotten Tomatoes snippets; {dropped} more left out as \
                 near-duplicates of training texts",
                examples.len()
            );
            (examples, Vec::new())
        }
        None => {
            let split = vader_split(&setup::ensure_vader(&mut std::io::stderr())?)?;
            crate::say!(
                "calltone: dev split: {} texts; {} more left out as near-duplicates of training \
                 texts (same words up to case, punctuation and stretched letters)",
                split.dev.len(),
                split.dropped_near_duplicates
            );
            (split.dev, split.dev_sources)
        }
    };
    let model = crate::model::load_model(&super::plans::model_choice(&args.model))?;
    let scores = score_examples(&model, &examples)?;
    let r = report(&examples, &scores);
    if args.record {
        record_precision(&model, &r)?;
    }
    // The dev split's parts measured alone (same scores).
    let by_source: BTreeMap<&str, EvalReport> = sources
        .iter()
        .map(|(name, range)| {
            let part = report(&examples[range.clone()], &scores[range.clone()]);
            (*name, part)
        })
        .collect();
    if args.json {
        let mut v = serde_json::to_value(&r)?;
        if !by_source.is_empty() {
            v["by_source"] = json!(by_source);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let opt = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "n/a".into());
        println!("model                      {}", model.name);
        println!("examples                   {}", r.examples);
        println!("accuracy (3-class)         {:.4}", r.accuracy);
        println!("macro-F1 (3-class)         {:.4}", r.macro_f1);
        println!(
            "binary accuracy            {:.4}  (n={}, non-neutral)",
            r.binary_accuracy, r.binary_examples
        );
        println!(
            "strong-negative ROC AUC    {}  (rating <= -2)",
            opt(r.strong_negative_auc)
        );
        println!("Spearman vs rating         {}", opt(r.spearman));
        for (name, p) in &by_source {
            println!(
                "  {name:<24} binary {:.4} (n={}), AUC {} (n={})",
                p.binary_accuracy,
                p.binary_examples,
                opt(p.strong_negative_auc),
                p.examples
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--record`: this precision's dev measures into the model's record.
/// `--record` writes beside a head the user can rebuild from: not into
/// the cache copy of the head built into the binary. Checked before the
/// minutes of scoring.
fn check_record_target(model_arg: Option<&str>) -> anyhow::Result<()> {
    let default = matches!(
        crate::model::ModelSource::parse(model_arg)?,
        crate::model::ModelSource::Default
    );
    if default && std::env::var_os("CALLTONE_HEAD_DIR").is_none() {
        anyhow::bail!(
            "--record: the default head is built into the binary; record into its source \
             directory instead: --model models/calltone-sentiment (then rebuild)"
        );
    }
    Ok(())
}

fn record_precision(model: &SentimentModel, r: &EvalReport) -> anyhow::Result<()> {
    let Some(dir) = &model.head_dir else {
        anyhow::bail!(
            "--record: {} is not a calltone head, so it has no precisions.json",
            model.name
        );
    };
    let Some(auc) = r.strong_negative_auc else {
        anyhow::bail!("--record: the dev split gave no strong-negative AUC");
    };
    let measured = Measured {
        binary_accuracy: r.binary_accuracy,
        strong_negative_auc: auc,
        examples: r.examples,
        engine: model.engine(),
    };
    let record = PrecisionRecord::read(dir)?
        .unwrap_or_default()
        .with(model.precision(), measured);
    let path = PrecisionRecord::path(dir);
    let mut file = crate::report::atomic::AtomicFile::create(&path)?;
    std::io::Write::write_all(&mut file, record.to_json().as_bytes())?;
    file.commit()?;
    crate::say!(
        "calltone: recorded {} in {}",
        model.precision(),
        path.display()
    );
    Ok(())
}
