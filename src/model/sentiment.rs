//! A loaded sentiment classifier: tokenizer + encoder + head, with its labels
//! mapped to negative / neutral / positive. Scores batches of token ids.

use candle_core::{DType, Device, Tensor};
use serde::Serialize;
use tokenizers::Tokenizer;

use super::adapter::{merge_lora, HeadManifest};
use super::config::EncoderConfig;
use super::encoder::{Encoder, Mode};
use super::fast::{FastEncoder, FastHead, LayerFormat, Pooled};
use super::flat_encoder::FlatEncoder;
use super::gpu::GpuEncoder;
use super::gpu_fault::GpuFault;
use super::head::Head;
use super::polarity::{polarities, Polarity};
use super::precision::Precision;
use super::source::ModelSource;
use super::tokenize::load_tokenizer;
use super::weights::Weights;
use super::ModelError;

/// The model's reading of one text (or window).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TextScore {
    pub negative: f32,
    pub neutral: f32,
    pub positive: f32,
    /// Signed strength in [-1, 1]: learned from human ratings for calltone's
    /// head, `positive - negative` for other models.
    pub intensity: f32,
}

impl TextScore {
    /// `positive - negative`, in [-1, 1].
    pub fn score(&self) -> f32 {
        self.positive - self.negative
    }

    pub fn label(&self) -> Polarity {
        let p = [self.negative, self.neutral, self.positive];
        let i = (0..3).fold(0, |best, i| if p[i] > p[best] { i } else { best });
        Polarity::ALL[i]
    }
}

/// Class probabilities per row, and intensity per row when the head has one.
pub type BatchOutput = (Vec<Vec<f32>>, Option<Vec<f32>>);

pub struct SentimentModel {
    pub name: String,
    pub tokenizer: Tokenizer,
    pub encoder: Encoder,
    pub head: Head,
    pub labels: Vec<String>,
    polarity_of: Vec<Polarity>,
    /// The longest input the model takes, special tokens included.
    pub max_tokens: usize,
    pub device: Device,
    /// The calltone head directory the model came from, if it is ours
    /// (where `precisions.json` lives).
    pub head_dir: Option<std::path::PathBuf>,
    /// calltone's own CPU kernels, when chosen (see [`Precision`]).
    fast: Option<(FastEncoder, FastHead)>,
    /// calltone's own GPU kernels, when the model runs on a CUDA GPU (the
    /// head runs on the CPU, on the pooled rows).
    gpu: Option<(GpuEncoder, FastHead)>,
    /// Whether the GPU failed mid-run, and the CPU kernels that took over.
    gpu_fault: GpuFault,
    precision: Precision,
}

impl SentimentModel {
    pub fn load(source: &ModelSource, dtype: DType, device: &Device) -> Result<Self, ModelError> {
        let files = source.files()?;
        let mut config = EncoderConfig::from_file(&files.config)?;
        let tokenizer = load_tokenizer(&files.tokenizer)?;
        let weights = Weights::load(&files.weights, dtype, device)?.with_prefix_for(
            "embeddings.word_embeddings.weight",
            &["", "bert.", "roberta.", "distilbert.", "model."],
        )?;
        let mut encoder = Encoder::load(&weights, &config)?;
        let mut max_tokens = config.max_tokens();
        let head = match &files.head {
            Some(dir) => {
                let manifest = HeadManifest::read(dir)?;
                let hw = Weights::load(&HeadManifest::weights_path(dir), dtype, device)?;
                if let Some(spec) = &manifest.lora {
                    merge_lora(&mut encoder, &hw, spec)?;
                }
                config.labels = manifest.labels.clone();
                max_tokens = max_tokens.min(manifest.window_tokens);
                Head::load_calltone(&hw, config.hidden_size, manifest.labels.len())?
            }
            None => Head::load_hf(&weights, &config)?,
        };
        let polarity_of = polarities(&config.labels).map_err(|reason| ModelError::BadFile {
            path: files.config.clone(),
            reason,
        })?;
        Ok(Self {
            name: files.name,
            tokenizer,
            encoder,
            head,
            labels: config.labels.clone(),
            polarity_of,
            max_tokens,
            device: device.clone(),
            head_dir: files.head.clone(),
            fast: None,
            gpu: None,
            gpu_fault: GpuFault::default(),
            precision: Precision::Reference,
        })
    }

    /// Chooses how inference runs: calltone's kernels (fp32 on the CPU) or
    /// candle's encoder (the reference, and every GPU precision; the dtype
    /// is chosen at load). Training always uses candle's encoder.
    pub fn set_precision(&mut self, precision: Precision) -> Result<(), ModelError> {
        // calltone's kernels are the CPU's fp32 and int8 paths; everything
        // else is candle's.
        let format = match precision {
            Precision::Fp32 => Some(LayerFormat::Fp32),
            Precision::Int8 => Some(LayerFormat::Int8),
            Precision::Bf16 if self.device.is_cpu() => Some(LayerFormat::Bf16),
            _ => None,
        };
        self.fast = match (format, &self.device) {
            (Some(format), Device::Cpu) => Some((
                FastEncoder::from_encoder(&self.encoder, format)?,
                FastHead::from_head(&self.head)?,
            )),
            (Some(_), _) if precision == Precision::Int8 => {
                return Err(ModelError::Unavailable(
                    "--precision int8 runs on the CPU only (calltone's kernels)".into(),
                ))
            }
            _ => None,
        };
        self.precision = precision;
        Ok(())
    }

    /// Runs inference on a CUDA GPU with calltone's kernels in `precision`
    /// (bf16, f16 or fp32): the weights, loaded on the CPU in f32, go up
    /// once. `Ok(Some(why))`, and nothing changed, when the kernels cannot
    /// run this model (the caller then runs candle's encoder on the GPU).
    pub fn use_gpu_kernels(
        &mut self,
        device: &Device,
        precision: Precision,
    ) -> Result<Option<String>, ModelError> {
        let Device::Cuda(cuda) = device else {
            return Err(ModelError::Unavailable(
                "calltone's GPU kernels run on a CUDA device".into(),
            ));
        };
        if let Some(why) = FlatEncoder::unsupported(&self.encoder) {
            return Ok(Some(why));
        }
        let built =
            super::gpu::archs::parse_cuda_arch_list(super::gpu::BUILT_FOR).unwrap_or_default();
        if let Some((major, minor)) = super::device::compute_capability(device) {
            let cc = (major * 10 + minor) as u32;
            if !super::gpu::archs::loads_on(&built, cc) {
                return Ok(Some(format!(
                    "this GPU (compute capability {major}.{minor}) is older than every \
                     architecture they were built for, sm_{}",
                    super::gpu::BUILT_FOR.replace(',', ", sm_")
                )));
            }
        }
        let flat = FlatEncoder::from_encoder(&self.encoder)?;
        if let Some(why) = GpuEncoder::unsupported(&flat) {
            return Ok(Some(why));
        }
        let encoder = GpuEncoder::new(&flat, cuda, precision)?;
        self.gpu = Some((encoder, FastHead::from_head(&self.head)?));
        self.fast = None;
        self.device = device.clone();
        self.precision = precision;
        Ok(None)
    }

    /// Whether a batch is padded to its longest row (candle's encoder) or
    /// run ragged (calltone's kernels).
    pub fn pads_batches(&self) -> bool {
        self.fast.is_none() && self.gpu.is_none()
    }

    /// What runs the encoder, for summaries: `fp32 on the avx512 CPU path`,
    /// `int8 (avx512-vnni) on the avx512 CPU path`, `reference (candle)
    /// fp32`, or the GPU precision.
    pub fn engine(&self) -> String {
        let path = crate::model::fast::cpu::active();
        match self.precision {
            Precision::Fp32 if self.fast.is_some() => format!("fp32 on the {path} CPU path"),
            Precision::Int8 if self.fast.is_some() => format!(
                "int8 ({}) on the {path} CPU path",
                crate::model::fast::cpu::Int8Kernel::for_path(path)
            ),
            Precision::Bf16 if self.fast.is_some() => format!(
                "bf16 ({}) on the {path} CPU path",
                crate::model::fast::gemm_bf16::Bf16Kernel::for_path(path)
            ),
            p if self.gpu.is_some() => format!(
                "{p} on calltone's GPU kernels ({}){}",
                super::device::name(&self.device),
                if self.gpu_fault.happened() {
                    format!(", then fp32 on the {path} CPU path after the GPU failed")
                } else {
                    String::new()
                }
            ),
            Precision::Reference => format!(
                "candle's reference encoder, fp32{}",
                if self.device.is_cpu() {
                    ""
                } else {
                    " on the GPU"
                }
            ),
            p => format!(
                "{p} (candle) on {}",
                super::device::name(self.encoder.device())
            ),
        }
    }

    /// The dense layers' format when calltone's CPU kernels run the encoder.
    pub fn layer_format(&self) -> Option<crate::model::fast::LayerFormat> {
        self.fast.as_ref().map(|(encoder, _)| encoder.format())
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn pad_id(&self) -> u32 {
        self.encoder.config.pad_token_id
    }

    /// Right-pads a batch of token-id rows into `ids` and `mask` tensors.
    pub fn batch_tensors(&self, rows: &[&[u32]]) -> Result<(Tensor, Tensor), ModelError> {
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![self.pad_id(); rows.len() * width];
        let mut mask = vec![0u32; rows.len() * width];
        for (i, r) in rows.iter().enumerate() {
            ids[i * width..i * width + r.len()].copy_from_slice(r);
            mask[i * width..i * width + r.len()].fill(1);
        }
        let ids = Tensor::from_vec(ids, (rows.len(), width), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows.len(), width), &self.device)?;
        Ok((ids, mask))
    }

    /// Class probabilities `[B, C]` and intensity for a batch of id rows.
    pub fn forward_rows(&self, rows: &[&[u32]]) -> Result<BatchOutput, ModelError> {
        if rows.is_empty() {
            return Ok((Vec::new(), None));
        }
        if let Some((encoder, head)) = &self.fast {
            let pooled = encoder.forward(rows)?;
            return Ok(head.forward(&pooled, encoder.hidden()));
        }
        if let Some((encoder, head)) = &self.gpu {
            let pooled = self.pool_on_gpu(encoder, &[rows.to_vec()])?;
            return Ok(head.forward(&pooled, encoder.hidden()));
        }
        let (ids, mask) = self.batch_tensors(rows)?;
        let hidden = self.encoder.forward(&ids, &mask, Mode::Infer)?;
        let out = self.head.forward(&hidden, &mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&out.logits.to_dtype(DType::F32)?)?
            .to_vec2::<f32>()?;
        let intensity = match out.intensity {
            Some(t) => Some(t.to_dtype(DType::F32)?.to_vec1::<f32>()?),
            None => None,
        };
        Ok((probs, intensity))
    }

    /// Scores a batch of id rows (each already within `max_tokens`).
    pub fn score_rows(&self, rows: &[&[u32]]) -> Result<Vec<TextScore>, ModelError> {
        Ok(self.text_scores(self.forward_rows(rows)?))
    }

    /// Scores several batches: on calltone's GPU kernels in one pass (one
    /// copy up, one back), elsewhere one batch after another.
    pub fn score_batches(
        &self,
        batches: &[Vec<&[u32]>],
    ) -> Result<Vec<Vec<TextScore>>, ModelError> {
        let Some((encoder, head)) = &self.gpu else {
            return batches.iter().map(|rows| self.score_rows(rows)).collect();
        };
        let pooled = self.pool_on_gpu(encoder, batches)?;
        let mut scores = self
            .text_scores(head.forward(&pooled, encoder.hidden()))
            .into_iter();
        Ok(batches
            .iter()
            .map(|rows| scores.by_ref().take(rows.len()).collect())
            .collect())
    }

    /// Every row's pooled states on calltone's GPU kernels, or, once the
    /// GPU has failed in this run, on the CPU's fp32 kernels
    /// ([`GpuFault`]). A bad row is the input's error, not a GPU failure.
    fn pool_on_gpu(
        &self,
        encoder: &GpuEncoder,
        batches: &[Vec<&[u32]>],
    ) -> Result<Pooled, ModelError> {
        if !self.gpu_fault.happened() {
            match encoder.forward_batches(batches) {
                Err(e @ ModelError::Gpu(_)) => self.gpu_fault.record(&e),
                pooled => return pooled,
            }
        }
        self.gpu_fault.pool_on_cpu(&self.encoder, batches)
    }

    /// Each row's probabilities (and intensity) as a [`TextScore`].
    fn text_scores(&self, (probs, intensity): BatchOutput) -> Vec<TextScore> {
        probs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut s = [0f32; 3];
                for (c, &pr) in p.iter().enumerate() {
                    s[self.polarity_of[c].index()] += pr;
                }
                let intensity = match &intensity {
                    Some(v) => v[i],
                    None => s[2] - s[0],
                };
                TextScore {
                    negative: s[0],
                    neutral: s[1],
                    positive: s[2],
                    intensity,
                }
            })
            .collect()
    }

    /// Token ids of a text with special tokens.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        super::tokenize::encode(&self.tokenizer, text)
    }

    /// Scores plain texts (each must fit the model; see `text::windows`).
    pub fn score_texts(&self, texts: &[&str]) -> Result<Vec<TextScore>, ModelError> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.encode(t)).collect();
        let rows: Vec<&[u32]> = ids.iter().map(|r| r.as_slice()).collect();
        self.score_rows(&rows)
    }
}
