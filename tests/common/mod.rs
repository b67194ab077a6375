//! Test helpers: tiny random-weight models in real Hugging Face layouts
//! (config.json, tokenizer.json, model.safetensors) written to a temp dir.
#![allow(dead_code)]

pub mod cli;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

pub const HIDDEN: usize = 32;
pub const INTER: usize = 64;
pub const LAYERS: usize = 2;
pub const HEADS: usize = 4;
pub const WORDS: [&str; 24] = [
    "the", "call", "was", "great", "terrible", "i", "am", "angry", "happy", "thanks", "cancel",
    "my", "account", "manager", "now", "fix", "this", "please", "you", "are", "useless", "lovely",
    "service", "again",
];

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    Bert,
    Roberta,
    DistilBert,
}

pub fn vocab_size() -> usize {
    4 + WORDS.len()
}

pub fn tokenizer_json() -> String {
    let mut vocab = serde_json::Map::new();
    for (i, t) in ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        .iter()
        .chain(WORDS.iter())
        .enumerate()
    {
        vocab.insert(t.to_string(), serde_json::json!(i));
    }
    let special = |id: u32, content: &str| {
        serde_json::json!({"id": id, "content": content, "single_word": false, "lstrip": false,
                           "rstrip": false, "normalized": false, "special": true})
    };
    serde_json::json!({
        "version": "1.0",
        "truncation": {"max_length": 8, "strategy": "LongestFirst", "stride": 0, "direction": "Right"},
        "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": [special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]")],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
    .to_string()
}

pub fn config_json(layout: Layout, labels: &[&str]) -> String {
    let id2label: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), serde_json::json!(l)))
        .collect();
    match layout {
        Layout::DistilBert => serde_json::json!({
            "model_type": "distilbert", "vocab_size": vocab_size(), "dim": HIDDEN, "n_layers": LAYERS,
            "n_heads": HEADS, "hidden_dim": INTER, "activation": "gelu", "max_position_embeddings": 64,
            "id2label": id2label, "pad_token_id": 0
        }),
        _ => serde_json::json!({
            "model_type": if layout == Layout::Bert { "bert" } else { "xlm-roberta" },
            "vocab_size": vocab_size(), "hidden_size": HIDDEN, "num_hidden_layers": LAYERS,
            "num_attention_heads": HEADS, "intermediate_size": INTER, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": if layout == Layout::Bert { 64 } else { 66 },
            "type_vocab_size": if layout == Layout::Bert { 2 } else { 1 },
            "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "pad_token_id": if layout == Layout::Bert { 0 } else { 1 },
            "position_embedding_type": "absolute", "use_cache": true,
            "id2label": id2label
        }),
    }
    .to_string()
}

/// Random weights named as the layout's checkpoints name them.
pub fn random_weights(layout: Layout, labels: usize, seed: u64) -> HashMap<String, Tensor> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut w = HashMap::new();
    let mut put = |name: String, dims: &[usize], scale: f32, offset: f32| {
        let n: usize = dims.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| offset + (rng.random::<f32>() * 2.0 - 1.0) * scale)
            .collect();
        w.insert(name, Tensor::from_vec(v, dims, &Device::Cpu).unwrap());
    };
    let (h, i) = (HIDDEN, INTER);
    let (p, positions) = match layout {
        Layout::Bert => ("bert.", 64),
        Layout::Roberta => ("roberta.", 66),
        Layout::DistilBert => ("distilbert.", 64),
    };
    put(
        format!("{p}embeddings.word_embeddings.weight"),
        &[vocab_size(), h],
        0.5,
        0.0,
    );
    put(
        format!("{p}embeddings.position_embeddings.weight"),
        &[positions, h],
        0.5,
        0.0,
    );
    if layout != Layout::DistilBert {
        put(
            format!("{p}embeddings.token_type_embeddings.weight"),
            &[if layout == Layout::Bert { 2 } else { 1 }, h],
            0.5,
            0.0,
        );
    }
    put(format!("{p}embeddings.LayerNorm.weight"), &[h], 0.1, 1.0);
    put(format!("{p}embeddings.LayerNorm.bias"), &[h], 0.1, 0.0);
    let names: Vec<(String, usize, usize)> = if layout == Layout::DistilBert {
        vec![
            ("attention.q_lin".into(), h, h),
            ("attention.k_lin".into(), h, h),
            ("attention.v_lin".into(), h, h),
            ("attention.out_lin".into(), h, h),
            ("ffn.lin1".into(), i, h),
            ("ffn.lin2".into(), h, i),
        ]
    } else {
        vec![
            ("attention.self.query".into(), h, h),
            ("attention.self.key".into(), h, h),
            ("attention.self.value".into(), h, h),
            ("attention.output.dense".into(), h, h),
            ("intermediate.dense".into(), i, h),
            ("output.dense".into(), h, i),
        ]
    };
    let norms: [&str; 2] = if layout == Layout::DistilBert {
        ["sa_layer_norm", "output_layer_norm"]
    } else {
        ["attention.output.LayerNorm", "output.LayerNorm"]
    };
    let stack = if layout == Layout::DistilBert {
        "transformer.layer"
    } else {
        "encoder.layer"
    };
    for l in 0..LAYERS {
        for (n, o, inp) in &names {
            put(
                format!("{p}{stack}.{l}.{n}.weight"),
                &[*o, *inp],
                1.0 / (*inp as f32).sqrt(),
                0.0,
            );
            put(format!("{p}{stack}.{l}.{n}.bias"), &[*o], 0.05, 0.0);
        }
        for n in norms {
            put(format!("{p}{stack}.{l}.{n}.weight"), &[h], 0.1, 1.0);
            put(format!("{p}{stack}.{l}.{n}.bias"), &[h], 0.1, 0.0);
        }
    }
    match layout {
        Layout::Bert => {
            put("bert.pooler.dense.weight".into(), &[h, h], 0.3, 0.0);
            put("bert.pooler.dense.bias".into(), &[h], 0.1, 0.0);
            put("classifier.weight".into(), &[labels, h], 0.5, 0.0);
            put("classifier.bias".into(), &[labels], 0.1, 0.0);
        }
        Layout::Roberta => {
            put("classifier.dense.weight".into(), &[h, h], 0.3, 0.0);
            put("classifier.dense.bias".into(), &[h], 0.1, 0.0);
            put("classifier.out_proj.weight".into(), &[labels, h], 0.5, 0.0);
            put("classifier.out_proj.bias".into(), &[labels], 0.1, 0.0);
        }
        Layout::DistilBert => {
            put("pre_classifier.weight".into(), &[h, h], 0.3, 0.0);
            put("pre_classifier.bias".into(), &[h], 0.1, 0.0);
            put("classifier.weight".into(), &[labels, h], 0.5, 0.0);
            put("classifier.bias".into(), &[labels], 0.1, 0.0);
        }
    }
    w
}

/// Writes a complete tiny model directory and returns its seed for messages.
pub fn write_model(dir: &Path, layout: Layout, labels: &[&str]) -> u64 {
    let seed: u64 = rand::rng().random();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), config_json(layout, labels)).unwrap();
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json()).unwrap();
    let w = random_weights(layout, labels.len(), seed);
    candle_core::safetensors::save(&w, dir.join("model.safetensors")).unwrap();
    seed
}
