//! Where a model comes from, its architecture, its head and its device.
//! A model is a directory: `config.json`, `tokenizer.json`,
//! `model.safetensors`, plus, for calltone's own model, the trained head.

pub mod adapter;
pub mod config;
pub mod device;
pub mod embedded_head;
pub mod encoder;
pub mod fast;
pub mod fast_gelu;
pub mod flat_encoder;
pub mod gpu;
pub mod gpu_fault;
pub mod head;
pub mod linear;
pub mod load;
pub mod polarity;
pub mod precision;
pub mod precision_record;
pub mod sentiment;
pub mod source;
pub mod tokenize;
pub mod weights;

use std::path::{Path, PathBuf};

pub use load::{load_model, ModelChoice};
pub use polarity::Polarity;
pub use precision::Precision;
pub use sentiment::{SentimentModel, TextScore};
pub use source::ModelSource;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: file not found", .0.display())]
    MissingFile(PathBuf),
    #[error("{}: {reason}", path.display())]
    BadFile { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Unavailable(String),
    /// The GPU failed running the encoder (not the input: rows are checked
    /// before they go up).
    #[error("GPU: {0}")]
    Gpu(String),
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

impl ModelError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
