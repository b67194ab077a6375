//! `calltone train`: fit the head, then measure it on the dev split and write
//! its provenance next to it.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::args::TrainArgs;
use crate::data::labelled::read_labelled;
use crate::data::rotten_tomatoes::read_rotten_tomatoes;
use crate::data::vader::vader_split;
use crate::eval::run::evaluate;
use crate::model::{ModelSource, SentimentModel};
use crate::setup::{self, ENCODER, VADER};
use crate::train::fit::{fit, TrainOptions};
use crate::train::soup::average_heads;

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let mut err = std::io::stderr();
    let enc = setup::ensure(&ENCODER, &mut err)?;
    let files = ModelSource::Dir(enc.clone()).files()?;
    let (mut train, dev, data_desc) = match &args.data {
        Some(path) => {
            let ex = read_labelled(path)?;
            (ex, Vec::new(), json!({"file": path.display().to_string()}))
        }
        None => {
            let dir = setup::ensure_vader(&mut err)?;
            let mut split = vader_split(&dir)?;
            let mut desc = json!({"package": format!("{}=={}", VADER.name, VADER.version), "sha256": VADER.archive_sha256,
                   "train": "VADER tweets + Amazon (first halves by id), movie and NYT snippets (all)",
                   "dev": "second halves by id of VADER tweets and Amazon snippets"});
            if args.rotten_tomatoes {
                let rt = setup::ensure(&setup::ROTTEN_TOMATOES, &mut err)?;
                let extra = read_rotten_tomatoes(&rt.join("rotten_tomatoes_corpus_full.csv.bz2"))?;
                crate::say!("train: + {} Rotten Tomatoes snippets", extra.len());
                desc["extra"] = json!({
                    "package": format!("{}=={}", setup::ROTTEN_TOMATOES.name, setup::ROTTEN_TOMATOES.version),
                    "sha256": setup::ROTTEN_TOMATOES.archive_sha256,
                    "train": format!("{} Rotten Tomatoes snippets (fresh / rotten; plots left out)", extra.len()),
                });
                split.train.extend(extra);
            }
            (split.train, split.dev, desc)
        }
    };
    if args.subsample > 1 {
        train = train.into_iter().step_by(args.subsample).collect();
    }
    let opts = TrainOptions {
        epochs: args.epochs,
        learning_rate: args.learning_rate,
        batch_size: args.batch_size,
        lora_rank: args.rank,
        adapt_layers: args.adapt_layers,
        seed: args.seed,
        soft_labels: !args.hard_labels,
        fixed_batches: args.fixed_batches,
        intensity_weight: args.intensity_weight,
        ..TrainOptions::default()
    };
    let (seconds, final_loss, soup_of) = if args.average.is_empty() {
        let outcome = fit(&files, &train, &opts, &args.output, &mut err)?;
        crate::say!(
            "train: done in {:.0}s, head written to {}",
            outcome.seconds,
            outcome.head_dir.display()
        );
        (outcome.seconds, Some(outcome.final_loss), None)
    } else {
        average_heads(&args.average, &args.output)?;
        crate::say!(
            "train: averaged {} heads into {}",
            args.average.len(),
            args.output.display()
        );
        let sources: Vec<serde_json::Value> = args
            .average
            .iter()
            .map(|d| {
                std::fs::read_to_string(d.join("provenance.json"))
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_else(|| json!({"dir": d.display().to_string()}))
            })
            .collect();
        (0.0, None, Some(sources))
    };
    let metrics = if dev.is_empty() {
        None
    } else {
        let model = SentimentModel::load(
            &ModelSource::Dir(args.output.clone()),
            candle_core::DType::F32,
            &candle_core::Device::Cpu,
        )?;
        let r = evaluate(&model, &dev)?;
        crate::say!(
            "dev: binary accuracy {:.4} (n={}), strong-negative AUC {:.4}, 3-class accuracy {:.4}, macro-F1 {:.4}, Spearman {:.4}",
            r.binary_accuracy,
            r.binary_examples,
            r.strong_negative_auc.unwrap_or(f64::NAN),
            r.accuracy,
            r.macro_f1,
            r.spearman.unwrap_or(f64::NAN)
        );
        Some(r)
    };
    let provenance = json!({
        "encoder": {"package": format!("{}=={}", ENCODER.name, ENCODER.version), "wheel_sha256": ENCODER.archive_sha256,
                    "model_safetensors_sha256": setup::ENCODER_SHA256},
        "data": data_desc,
        "train_examples": train.len(),
        // A soup's own settings are its sources' (in soup_of).
        "options": if soup_of.is_some() { json!(null) } else { json!(opts) },
        "seconds": seconds,
        "final_loss": final_loss,
        "soup_of": soup_of,
        "dev_metrics": metrics,
        "command": std::env::args().collect::<Vec<_>>().join(" "),
    });
    let path = args.output.join("provenance.json");
    let tmp = args.output.join("provenance.json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&provenance)? + "\n")
        .with_context(|| tmp.display().to_string())?;
    std::fs::rename(&tmp, &path).with_context(|| path.display().to_string())?;
    Ok(ExitCode::SUCCESS)
}
