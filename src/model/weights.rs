//! Named tensors from one safetensors file, looked up under the prefixes that
//! Hugging Face checkpoints use (`bert.`, `roberta.`, `distilbert.` or none).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use super::ModelError;

pub struct Weights {
    tensors: HashMap<String, Tensor>,
    path: PathBuf,
    prefix: String,
}

impl Weights {
    /// Loads every tensor of `path`, converted to `dtype`.
    pub fn load(path: &Path, dtype: DType, device: &Device) -> Result<Self, ModelError> {
        if !path.is_file() {
            return Err(ModelError::MissingFile(path.to_path_buf()));
        }
        let raw =
            candle_core::safetensors::load(path, device).map_err(|e| ModelError::BadFile {
                path: path.to_path_buf(),
                reason: format!("not a readable safetensors file: {e}"),
            })?;
        let mut tensors = HashMap::with_capacity(raw.len());
        for (name, t) in raw {
            // Integer buffers (position_ids) stay as they are.
            let t = if t.dtype().is_float() {
                t.to_dtype(dtype)?
            } else {
                t
            };
            tensors.insert(name, t);
        }
        Ok(Self {
            tensors,
            path: path.to_path_buf(),
            prefix: String::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Picks the first prefix under which `probe` exists, so later lookups can
    /// use the bare names.
    pub fn with_prefix_for(mut self, probe: &str, prefixes: &[&str]) -> Result<Self, ModelError> {
        for p in prefixes {
            if self.tensors.contains_key(&format!("{p}{probe}")) {
                self.prefix = p.to_string();
                return Ok(self);
            }
        }
        Err(self.missing(probe))
    }

    /// A tensor by its name under the chosen prefix, or, failing that, at the
    /// root (classification heads live outside the encoder's prefix).
    pub fn get(&self, name: &str) -> Result<Tensor, ModelError> {
        let full = format!("{}{name}", self.prefix);
        self.tensors
            .get(&full)
            .or_else(|| self.tensors.get(name))
            .cloned()
            .ok_or_else(|| self.missing(name))
    }

    /// A layer-norm parameter under its modern (`weight`/`bias`) or original
    /// TensorFlow-era (`gamma`/`beta`) name.
    pub fn get_norm(&self, base: &str) -> Result<(Tensor, Tensor), ModelError> {
        let w = self
            .get(&format!("{base}.weight"))
            .or_else(|_| self.get(&format!("{base}.gamma")))?;
        let b = self
            .get(&format!("{base}.bias"))
            .or_else(|_| self.get(&format!("{base}.beta")))?;
        Ok((w, b))
    }

    /// Checks a tensor's shape; a mismatch names the file and tensor.
    pub fn get_shaped(&self, name: &str, dims: &[usize]) -> Result<Tensor, ModelError> {
        let t = self.get(name)?;
        if t.dims() != dims {
            return Err(ModelError::BadFile {
                path: self.path.clone(),
                reason: format!(
                    "tensor {name:?} has shape {:?}, expected {dims:?}",
                    t.dims()
                ),
            });
        }
        Ok(t)
    }

    fn missing(&self, name: &str) -> ModelError {
        ModelError::BadFile {
            path: self.path.clone(),
            reason: format!("tensor {:?} not found", format!("{}{name}", self.prefix)),
        }
    }
}
