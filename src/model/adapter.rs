//! calltone's trained head: its manifest (`head.json`) and weights
//! (`head.safetensors`: the class and intensity layers plus LoRA factors for
//! the encoder, which are merged into the encoder's weights at load time).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::encoder::{Encoder, LAYER_PARTS};
use super::linear::LoraAdapter;
use super::weights::Weights;
use super::ModelError;

pub const HEAD_MANIFEST: &str = "head.json";
pub const HEAD_WEIGHTS: &str = "head.safetensors";
pub const MANIFEST_FORMAT: &str = "calltone-head/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoraSpec {
    pub rank: usize,
    pub alpha: f64,
    /// Encoder layers that carry adapters.
    pub layers: Vec<usize>,
}

impl LoraSpec {
    pub fn scale(&self) -> f64 {
        self.alpha / self.rank as f64
    }
}

/// `head.json`: everything needed to rebuild the model, and where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeadManifest {
    pub format: String,
    /// Class names, in output order.
    pub labels: Vec<String>,
    /// sha256 of the encoder's `model.safetensors` the head was trained on.
    pub encoder_sha256: String,
    pub lora: Option<LoraSpec>,
    /// The longest window (tokens, specials included) the head was trained on.
    pub window_tokens: usize,
}

impl HeadManifest {
    pub fn read(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join(HEAD_MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ModelError::MissingFile(path.clone())
            } else {
                ModelError::io(&path, e)
            }
        })?;
        let m: HeadManifest = serde_json::from_str(&text).map_err(|e| ModelError::BadFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if m.format != MANIFEST_FORMAT {
            return Err(ModelError::BadFile {
                path,
                reason: format!("format {:?} is not {MANIFEST_FORMAT:?}", m.format),
            });
        }
        Ok(m)
    }

    pub fn weights_path(dir: &Path) -> PathBuf {
        dir.join(HEAD_WEIGHTS)
    }
}

/// Tensor names of one adapter factor.
pub fn lora_name(layer: usize, part: &str, factor: &str) -> String {
    format!("lora.{layer}.{part}.{factor}")
}

/// Attaches the adapters in `w` to the encoder and merges them into its weights.
pub fn merge_lora(encoder: &mut Encoder, w: &Weights, spec: &LoraSpec) -> Result<(), ModelError> {
    let dtype = encoder.dtype();
    for &layer in &spec.layers {
        let n_layers = encoder.layers.len();
        let l = encoder
            .layers
            .get_mut(layer)
            .ok_or_else(|| ModelError::BadFile {
                path: w.path().to_path_buf(),
                reason: format!("adapter for layer {layer}, but the encoder has {n_layers}"),
            })?;
        for part in LAYER_PARTS {
            let lin = l.part_mut(part).expect("known part");
            let a = w
                .get(&lora_name(layer, part, "a"))?
                .to_dtype(candle_core::DType::F32)?;
            let b = w
                .get(&lora_name(layer, part, "b"))?
                .to_dtype(candle_core::DType::F32)?;
            let (out_dim, in_dim) = lin.weight.dims2()?;
            if a.dims() != [spec.rank, in_dim] || b.dims() != [out_dim, spec.rank] {
                return Err(ModelError::BadFile {
                    path: w.path().to_path_buf(),
                    reason: format!("adapter {layer}.{part} has the wrong shape"),
                });
            }
            let f32_weight = lin.weight.to_dtype(candle_core::DType::F32)?;
            let mut merged = super::linear::Linear::new(f32_weight, None);
            merged.adapter = Some(LoraAdapter {
                a,
                b,
                scale: spec.scale(),
            });
            merged.merge_adapter()?;
            lin.weight = merged.weight.to_dtype(dtype)?;
        }
    }
    Ok(())
}

/// Writes a head (weights + manifest) into `dir`, each file whole or not at
/// all (temporary file, then rename), readable by everyone like the
/// repository's own head (the safetensors writer creates files 0600).
pub fn write_head(
    dir: &Path,
    tensors: &std::collections::HashMap<String, candle_core::Tensor>,
    manifest: &HeadManifest,
) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let tmp = dir.join(format!("{HEAD_WEIGHTS}.tmp"));
    candle_core::safetensors::save(tensors, &tmp)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| ModelError::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, dir.join(HEAD_WEIGHTS)).map_err(|e| ModelError::io(&tmp, e))?;
    let json = serde_json::to_string_pretty(manifest).expect("manifest serialises");
    let tmp = dir.join(format!("{HEAD_MANIFEST}.tmp"));
    std::fs::write(&tmp, json + "\n").map_err(|e| ModelError::io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join(HEAD_MANIFEST)).map_err(|e| ModelError::io(&tmp, e))?;
    Ok(())
}
