//! The parts of a Hugging Face `config.json` that an encoder-classifier needs,
//! read uniformly across the BERT, RoBERTa / XLM-R and DistilBERT layouts.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::ModelError;

/// Which weight layout and embedding rules a model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Bert,
    /// RoBERTa and XLM-RoBERTa: BERT layers, positions offset past the padding id.
    Roberta,
    DistilBert,
}

/// The activation between the two feed-forward projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Exact GELU (erf), what `"gelu"` means in transformers.
    Gelu,
    /// The tanh approximation (`"gelu_new"`, `"gelu_pytorch_tanh"`).
    GeluTanh,
    Relu,
}

/// A resolved, validated encoder configuration.
#[derive(Debug, Clone)]
pub struct EncoderConfig {
    pub family: Family,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub intermediate_size: usize,
    pub max_positions: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub pad_token_id: u32,
    pub activation: Activation,
    /// Label names by class index, from `id2label`; empty for a bare encoder.
    pub labels: Vec<String>,
}

#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    // BERT / RoBERTa names
    vocab_size: Option<usize>,
    hidden_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    intermediate_size: Option<usize>,
    max_position_embeddings: Option<usize>,
    type_vocab_size: Option<usize>,
    layer_norm_eps: Option<f64>,
    pad_token_id: Option<u32>,
    hidden_act: Option<String>,
    // DistilBERT names
    dim: Option<usize>,
    n_layers: Option<usize>,
    n_heads: Option<usize>,
    hidden_dim: Option<usize>,
    activation: Option<String>,
    #[serde(default)]
    id2label: BTreeMap<String, String>,
}

impl EncoderConfig {
    /// Reads and validates `config.json`; every error names the file.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_json(&text).map_err(|reason| ModelError::BadFile {
            path: path.to_path_buf(),
            reason,
        })
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        let raw: RawConfig =
            serde_json::from_str(text).map_err(|e| format!("not a model config: {e}"))?;
        let model_type = raw.model_type.clone().unwrap_or_else(|| "bert".into());
        let family = match model_type.as_str() {
            "bert" => Family::Bert,
            "roberta" | "xlm-roberta" | "camembert" => Family::Roberta,
            "distilbert" => Family::DistilBert,
            other => {
                return Err(format!(
                    "model_type {other:?} is not supported (supported: bert, roberta, xlm-roberta, distilbert)"
                ))
            }
        };
        let need =
            |v: Option<usize>, name: &str| v.ok_or_else(|| format!("missing field {name:?}"));
        let (hidden, layers, heads, inter, act) = if family == Family::DistilBert {
            (
                need(raw.dim, "dim")?,
                need(raw.n_layers, "n_layers")?,
                need(raw.n_heads, "n_heads")?,
                need(raw.hidden_dim, "hidden_dim")?,
                raw.activation.as_deref().unwrap_or("gelu").to_string(),
            )
        } else {
            (
                need(raw.hidden_size, "hidden_size")?,
                need(raw.num_hidden_layers, "num_hidden_layers")?,
                need(raw.num_attention_heads, "num_attention_heads")?,
                need(raw.intermediate_size, "intermediate_size")?,
                raw.hidden_act.as_deref().unwrap_or("gelu").to_string(),
            )
        };
        let activation = match act.as_str() {
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => return Err(format!("activation {other:?} is not supported")),
        };
        if heads == 0 || hidden % heads != 0 {
            return Err(format!(
                "hidden size {hidden} is not divisible by {heads} heads"
            ));
        }
        let mut labels = Vec::with_capacity(raw.id2label.len());
        for i in 0..raw.id2label.len() {
            let name = raw
                .id2label
                .get(&i.to_string())
                .ok_or_else(|| format!("id2label has no entry for class {i}"))?;
            labels.push(name.clone());
        }
        Ok(Self {
            family,
            vocab_size: need(raw.vocab_size, "vocab_size")?,
            hidden_size: hidden,
            num_layers: layers,
            num_heads: heads,
            intermediate_size: inter,
            max_positions: raw.max_position_embeddings.unwrap_or(512),
            type_vocab_size: if family == Family::DistilBert {
                0
            } else {
                raw.type_vocab_size.unwrap_or(2)
            },
            layer_norm_eps: raw.layer_norm_eps.unwrap_or(1e-12),
            pad_token_id: raw
                .pad_token_id
                .unwrap_or(if family == Family::Roberta { 1 } else { 0 }),
            activation,
            labels,
        })
    }

    /// How many tokens one input may hold, special tokens included.
    pub fn max_tokens(&self) -> usize {
        match self.family {
            // RoBERTa's position table starts after the padding slot.
            Family::Roberta => self
                .max_positions
                .saturating_sub(self.pad_token_id as usize + 1),
            _ => self.max_positions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_distilbert_names_and_labels() {
        let c = EncoderConfig::from_json(
            r#"{"model_type":"distilbert","vocab_size":100,"dim":32,"n_layers":2,"n_heads":4,
               "hidden_dim":64,"id2label":{"0":"NEGATIVE","1":"POSITIVE"}}"#,
        )
        .unwrap();
        assert_eq!(c.family, Family::DistilBert);
        assert_eq!(c.hidden_size, 32);
        assert_eq!(c.labels, vec!["NEGATIVE", "POSITIVE"]);
        assert_eq!(c.type_vocab_size, 0);
    }

    #[test]
    fn rejects_unknown_architecture_and_gaps_in_labels() {
        let e = EncoderConfig::from_json(r#"{"model_type":"gpt2"}"#).unwrap_err();
        assert!(e.contains("gpt2"), "{e}");
        let e = EncoderConfig::from_json(
            r#"{"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,
               "intermediate_size":16,"id2label":{"0":"a","2":"c"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("class 1"), "{e}");
    }

    #[test]
    fn roberta_positions_leave_room_for_padding_offset() {
        let c = EncoderConfig::from_json(
            r#"{"model_type":"xlm-roberta","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,
               "num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":514,"pad_token_id":1}"#,
        )
        .unwrap();
        assert_eq!(c.max_tokens(), 512);
    }
}
