//! `calltone eval`: score labelled text and print the measures.

use std::process::ExitCode;

use super::args::EvalArgs;
use crate::eval::labelled::read_labelled;
use crate::eval::run::evaluate;
use crate::model::setup;
use crate::train::corpus::vader_dev;

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    if args.moments {
        return super::eval_moments_cmd::run(args);
    }
    // clap requires --data unless --dev is given: without a file, the dev split.
    let examples = match &args.data {
        Some(p) => read_labelled(p)?,
        None => vader_dev(&setup::ensure_vader(&mut std::io::stderr())?)?,
    };
    let model = crate::cli::load_model::load_model(&args.model)?;
    let r = evaluate(&model, &examples)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
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
    }
    Ok(ExitCode::SUCCESS)
}
