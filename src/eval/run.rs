//! Scores labelled examples with a model and computes the report `eval` prints.

use serde::Serialize;

use super::metrics::{accuracy, macro_f1, roc_auc, spearman};
use crate::data::labelled::{Example, NEUTRAL_BAND};
use crate::engine::{ScoreOptions, Scorer};
use crate::model::{ModelError, Polarity, SentimentModel, TextScore};

/// Ratings at or below this are "strongly negative" (the AUC target).
pub const STRONG_NEGATIVE: f32 = -2.0;

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub examples: usize,
    /// Three-way accuracy over all examples.
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Sign of `positive - negative` against the sign of the truth, on
    /// examples that are not neutral (|rating| ≥ 0.5 where rated).
    pub binary_accuracy: f64,
    pub binary_examples: usize,
    /// ROC AUC of the negative probability for rating ≤ -2 (rated data only).
    pub strong_negative_auc: Option<f64>,
    /// Spearman correlation of intensity with the human rating.
    pub spearman: Option<f64>,
    /// The same two measures read from the intensity output instead of the
    /// class probabilities (sign of intensity; AUC of -intensity).
    pub binary_accuracy_by_intensity: f64,
    pub strong_negative_auc_by_intensity: Option<f64>,
}

/// Computes the report from scores already made (pure).
pub fn report(examples: &[Example], scores: &[TextScore]) -> EvalReport {
    let truth: Vec<usize> = examples.iter().map(|e| e.label.index()).collect();
    let pred: Vec<usize> = scores.iter().map(|s| s.label().index()).collect();
    let polar: Vec<usize> = (0..examples.len())
        .filter(|&i| match examples[i].rating {
            Some(r) => r.abs() >= NEUTRAL_BAND,
            None => examples[i].label != Polarity::Neutral,
        })
        .collect();
    let bin_pred: Vec<bool> = polar.iter().map(|&i| scores[i].score() > 0.0).collect();
    let bin_pred_int: Vec<bool> = polar.iter().map(|&i| scores[i].intensity > 0.0).collect();
    let bin_truth: Vec<bool> = polar
        .iter()
        .map(|&i| examples[i].label == Polarity::Positive)
        .collect();
    let rated: Vec<usize> = (0..examples.len())
        .filter(|&i| examples[i].rating.is_some())
        .collect();
    let (auc, rho, auc_int) = if rated.len() >= 2 {
        let neg: Vec<f64> = rated.iter().map(|&i| scores[i].negative as f64).collect();
        let strong: Vec<bool> = rated
            .iter()
            .map(|&i| examples[i].rating.unwrap() <= STRONG_NEGATIVE)
            .collect();
        let inten: Vec<f64> = rated.iter().map(|&i| scores[i].intensity as f64).collect();
        let r: Vec<f64> = rated
            .iter()
            .map(|&i| examples[i].rating.unwrap() as f64)
            .collect();
        let auc = roc_auc(&neg, &strong);
        let neg_inten: Vec<f64> = inten.iter().map(|x| -x).collect();
        let auc_int = roc_auc(&neg_inten, &strong);
        (
            Some(auc).filter(|a| !a.is_nan()),
            Some(spearman(&inten, &r)).filter(|a| !a.is_nan()),
            Some(auc_int).filter(|a| !a.is_nan()),
        )
    } else {
        (None, None, None)
    };
    EvalReport {
        examples: examples.len(),
        accuracy: accuracy(&pred, &truth),
        macro_f1: macro_f1(&pred, &truth, 3),
        binary_accuracy: accuracy(&bin_pred, &bin_truth),
        binary_examples: polar.len(),
        strong_negative_auc: auc,
        spearman: rho,
        binary_accuracy_by_intensity: accuracy(&bin_pred_int, &bin_truth),
        strong_negative_auc_by_intensity: auc_int,
    }
}

/// Scores every example and reports.
pub fn evaluate(model: &SentimentModel, examples: &[Example]) -> Result<EvalReport, ModelError> {
    Ok(report(examples, &score_examples(model, examples)?))
}

/// Scores every example (an unscorable one, e.g. empty text, reads neutral).
pub fn score_examples(
    model: &SentimentModel,
    examples: &[Example],
) -> Result<Vec<TextScore>, ModelError> {
    let scorer = Scorer::new(model, ScoreOptions::default());
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let scored = scorer.score(&texts)?;
    let neutral = TextScore {
        negative: 0.0,
        neutral: 1.0,
        positive: 0.0,
        intensity: 0.0,
    };
    Ok(scored
        .into_iter()
        .map(|s| s.map(|u| u.score).unwrap_or_else(|| neutral.clone()))
        .collect())
}
