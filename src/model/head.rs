//! Classification heads: what turns encoder hidden states into class logits.
//! Hugging Face heads read the first token; calltone's own head reads the
//! mean of all tokens and adds an intensity regressor.

use candle_core::{Result as CResult, Tensor};

use super::config::{EncoderConfig, Family};
use super::encoder::mean_pool;
use super::linear::Linear;
use super::weights::Weights;
use super::ModelError;

#[derive(Clone)]
pub enum Head {
    /// calltone: mean pooling → class logits, and → tanh intensity in [-1, 1].
    Calltone { classes: Linear, intensity: Linear },
    /// `BertForSequenceClassification`: tanh pooler on [CLS] → classifier.
    BertPooler { pooler: Linear, classifier: Linear },
    /// `RobertaForSequenceClassification`: dense → tanh → out_proj on <s>.
    Roberta { dense: Linear, out_proj: Linear },
    /// `DistilBertForSequenceClassification`: pre_classifier → ReLU → classifier.
    DistilBert { pre: Linear, classifier: Linear },
}

/// What a head produces for a batch.
pub struct HeadOutput {
    /// `[B, C]`
    pub logits: Tensor,
    /// `[B]`, only for heads trained to predict it.
    pub intensity: Option<Tensor>,
}

fn dense(w: &Weights, base: &str, out_dim: usize, in_dim: usize) -> Result<Linear, ModelError> {
    let weight = w.get_shaped(&format!("{base}.weight"), &[out_dim, in_dim])?;
    let bias = w.get_shaped(&format!("{base}.bias"), &[out_dim])?;
    Ok(Linear::new(weight, Some(bias)))
}

impl Head {
    /// The Hugging Face sequence-classification head that matches the family.
    pub fn load_hf(w: &Weights, config: &EncoderConfig) -> Result<Self, ModelError> {
        let h = config.hidden_size;
        let c = config.labels.len();
        if c == 0 {
            return Err(ModelError::BadFile {
                path: w.path().to_path_buf(),
                reason: "config.json has no id2label: not a sequence-classification model".into(),
            });
        }
        Ok(match config.family {
            Family::Bert => Head::BertPooler {
                pooler: dense(w, "pooler.dense", h, h)?,
                classifier: dense(w, "classifier", c, h)?,
            },
            Family::Roberta => Head::Roberta {
                dense: dense(w, "classifier.dense", h, h)?,
                out_proj: dense(w, "classifier.out_proj", c, h)?,
            },
            Family::DistilBert => Head::DistilBert {
                pre: dense(w, "pre_classifier", h, h)?,
                classifier: dense(w, "classifier", c, h)?,
            },
        })
    }

    /// calltone's head from its own weights file (`head.classes.*`, `head.intensity.*`).
    pub fn load_calltone(w: &Weights, hidden: usize, classes: usize) -> Result<Self, ModelError> {
        Ok(Head::Calltone {
            classes: dense(w, "head.classes", classes, hidden)?,
            intensity: dense(w, "head.intensity", 1, hidden)?,
        })
    }

    pub fn forward(&self, hidden: &Tensor, mask: &Tensor) -> CResult<HeadOutput> {
        let first = hidden.narrow(1, 0, 1)?.squeeze(1)?;
        let pooled = match self {
            Head::Calltone { .. } => mean_pool(hidden, mask)?,
            _ => first.clone(),
        };
        self.forward_features(&first, &pooled)
    }

    /// The head on what it reads: the first token's hidden state `[B, H]`
    /// and the mean over each row's tokens `[B, H]`.
    pub fn forward_features(&self, first: &Tensor, pooled: &Tensor) -> CResult<HeadOutput> {
        Ok(match self {
            Head::Calltone { classes, intensity } => HeadOutput {
                logits: classes.forward(pooled)?,
                intensity: Some(intensity.forward(pooled)?.squeeze(1)?.tanh()?),
            },
            Head::BertPooler { pooler, classifier } => HeadOutput {
                logits: classifier.forward(&pooler.forward(first)?.tanh()?)?,
                intensity: None,
            },
            Head::Roberta { dense, out_proj } => HeadOutput {
                logits: out_proj.forward(&dense.forward(first)?.tanh()?)?,
                intensity: None,
            },
            Head::DistilBert { pre, classifier } => HeadOutput {
                logits: classifier.forward(&pre.forward(first)?.relu()?)?,
                intensity: None,
            },
        })
    }
}
