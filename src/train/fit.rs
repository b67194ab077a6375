//! The training loop. The encoder's own weights stay frozen; rank-r LoRA
//! adapters on every projection of the top `adapt_layers` layers, and the
//! head (class logits + intensity) are trained with AdamW. Layers below the
//! adapted ones never change, so their output is computed once per example
//! and cached: each epoch then costs only the adapted layers.
//!
//! Loss: cross-entropy on negative / neutral / positive, plus a weighted
//! squared error between the intensity output and the human mean rating / 4.
//! Where the individual ratings are known, the class target is soft: the
//! chance of each class if the raters were drawn again (`class_chances`), so
//! an item raters split on does not teach a coin-flip label with full weight.
//!
//! Batches: each epoch shuffles the examples, sorts pools of 64 batches by
//! length (little padding) and shuffles the batches, so every epoch sees new
//! batch mixes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::data::labelled::Example;
use crate::model::adapter::{lora_name, write_head, HeadManifest, LoraSpec, MANIFEST_FORMAT};
use crate::model::config::EncoderConfig;
use crate::model::encoder::{mean_pool, Encoder, Mode, LAYER_PARTS};
use crate::model::linear::{Linear, LoraAdapter};
use crate::model::source::ModelFiles;
use crate::model::tokenize::{encode_plain, load_tokenizer};
use crate::model::weights::Weights;
use crate::model::{ModelError, Polarity};
use crate::setup::sha256_file;
use crate::text::windows::Wrapping;

#[derive(Debug, Clone, Serialize)]
pub struct TrainOptions {
    pub epochs: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub lora_rank: usize,
    pub lora_alpha: f64,
    /// How many of the top encoder layers get adapters.
    pub adapt_layers: usize,
    /// Training texts are cut to this many tokens (specials included).
    pub max_tokens: usize,
    pub intensity_weight: f64,
    pub dropout: f64,
    pub seed: u64,
    /// Soft class targets from the rater spread (where known).
    pub soft_labels: bool,
    /// The same length-sorted batches every epoch (the pre-2026-12 recipe).
    pub fixed_batches: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 3,
            learning_rate: 1e-3,
            batch_size: 32,
            lora_rank: 8,
            lora_alpha: 16.0,
            adapt_layers: 6,
            max_tokens: 96,
            intensity_weight: 1.0,
            dropout: 0.1,
            seed: 20261124,
            soft_labels: true,
            fixed_batches: false,
        }
    }
}

/// The trainable parameters and the encoder they are attached to.
struct Trainable {
    encoder: Encoder,
    classes: Linear,
    intensity: Linear,
    vars: Vec<(String, Var)>,
}

fn var_from(
    rng: &mut StdRng,
    shape: (usize, usize),
    scale: f32,
    dev: &Device,
) -> candle_core::Result<Var> {
    let n = shape.0 * shape.1;
    let v: Vec<f32> = (0..n)
        .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * scale)
        .collect();
    Var::from_vec(v, shape, dev)
}

fn build(
    mut encoder: Encoder,
    opts: &TrainOptions,
    classes_n: usize,
    rng: &mut StdRng,
) -> candle_core::Result<Trainable> {
    let dev = encoder.device().clone();
    let h = encoder.config.hidden_size;
    let n_layers = encoder.layers.len();
    let mut vars = Vec::new();
    for layer in n_layers - opts.adapt_layers.min(n_layers)..n_layers {
        for part in LAYER_PARTS {
            let lin = encoder.layers[layer].part_mut(part).expect("known part");
            let (out_dim, in_dim) = lin.weight.dims2()?;
            // A: uniform ±1/√in, B: zero, so training starts at the base model.
            let a = var_from(
                rng,
                (opts.lora_rank, in_dim),
                1.0 / (in_dim as f32).sqrt(),
                &dev,
            )?;
            let b = Var::zeros((out_dim, opts.lora_rank), DType::F32, &dev)?;
            lin.adapter = Some(LoraAdapter {
                a: a.as_tensor().clone(),
                b: b.as_tensor().clone(),
                scale: opts.lora_alpha / opts.lora_rank as f64,
            });
            vars.push((lora_name(layer, part, "a"), a));
            vars.push((lora_name(layer, part, "b"), b));
        }
    }
    let cw = var_from(rng, (classes_n, h), 0.02, &dev)?;
    let cb = Var::zeros(classes_n, DType::F32, &dev)?;
    let iw = var_from(rng, (1, h), 0.02, &dev)?;
    let ib = Var::zeros(1, DType::F32, &dev)?;
    let classes = Linear::new(cw.as_tensor().clone(), Some(cb.as_tensor().clone()));
    let intensity = Linear::new(iw.as_tensor().clone(), Some(ib.as_tensor().clone()));
    vars.push(("head.classes.weight".into(), cw));
    vars.push(("head.classes.bias".into(), cb));
    vars.push(("head.intensity.weight".into(), iw));
    vars.push(("head.intensity.bias".into(), ib));
    Ok(Trainable {
        encoder,
        classes,
        intensity,
        vars,
    })
}

/// What training produced.
pub struct TrainOutcome {
    pub head_dir: PathBuf,
    pub seconds: f64,
    pub final_loss: f64,
}

/// Token ids (with specials) of each text, cut to `max_tokens`.
fn tokenize_all(
    files: &ModelFiles,
    texts: &[&str],
    max_tokens: usize,
) -> Result<Vec<Vec<u32>>, ModelError> {
    use rayon::prelude::*;
    let tok = load_tokenizer(&files.tokenizer)?;
    let wrap = Wrapping::of(&tok);
    let room = max_tokens.saturating_sub(wrap.overhead()).max(1);
    Ok(texts
        .par_iter()
        .map(|t| {
            let (ids, _) = encode_plain(&tok, t);
            let mut row = wrap.prefix.clone();
            row.extend_from_slice(&ids[..ids.len().min(room)]);
            row.extend_from_slice(&wrap.suffix);
            row
        })
        .collect())
}

fn pad_stack(rows: &[&Tensor], width: usize) -> candle_core::Result<Tensor> {
    let padded: Vec<Tensor> = rows
        .iter()
        .map(|t| {
            let len = t.dim(0)?;
            t.pad_with_zeros(0, 0, width - len)
        })
        .collect::<candle_core::Result<_>>()?;
    Tensor::stack(&padded, 0)
}

fn mask_for(lengths: &[usize], width: usize, dev: &Device) -> candle_core::Result<Tensor> {
    let mut m = vec![0f32; lengths.len() * width];
    for (i, &l) in lengths.iter().enumerate() {
        m[i * width..i * width + l].fill(1.0);
    }
    Tensor::from_vec(m, (lengths.len(), width), dev)
}

fn dropout(x: &Tensor, p: f64, rng: &mut StdRng) -> candle_core::Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let n = x.elem_count();
    let keep = 1.0 / (1.0 - p) as f32;
    let m: Vec<f32> = (0..n)
        .map(|_| if rng.random::<f64>() < p { 0.0 } else { keep })
        .collect();
    x.mul(&Tensor::from_vec(m, x.shape(), x.device())?)
}

/// Trains a head on `train` and writes it to `out_dir`.
pub fn fit(
    files: &ModelFiles,
    train: &[Example],
    opts: &TrainOptions,
    out_dir: &Path,
    log: &mut dyn Write,
) -> Result<TrainOutcome, ModelError> {
    let started = Instant::now();
    let dev = Device::Cpu;
    let config = EncoderConfig::from_file(&files.config)?;
    let weights = Weights::load(&files.weights, DType::F32, &dev)?.with_prefix_for(
        "embeddings.word_embeddings.weight",
        &["", "bert.", "roberta.", "distilbert."],
    )?;
    let encoder = Encoder::load(&weights, &config)?;
    let n_layers = encoder.layers.len();
    let frozen = n_layers - opts.adapt_layers.min(n_layers);
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let labels: Vec<String> = Polarity::ALL
        .iter()
        .map(|p| p.as_str().to_string())
        .collect();
    let model = build(encoder, opts, labels.len(), &mut rng)?;

    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let ids = tokenize_all(files, &texts, opts.max_tokens)?;
    let lengths: Vec<usize> = ids.iter().map(|r| r.len()).collect();
    let _ = writeln!(
        log,
        "train: {} examples, {} tokens; adapters on layers {frozen}..{n_layers}, rank {}",
        train.len(),
        lengths.iter().sum::<usize>(),
        opts.lora_rank
    );

    // Cache the frozen part: embeddings and layers below the adapters.
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut cached: Vec<Option<Tensor>> = vec![None; train.len()];
    for chunk in order.chunks(128) {
        let width = chunk.iter().map(|&i| lengths[i]).max().unwrap_or(1);
        let mut flat = vec![config.pad_token_id; chunk.len() * width];
        for (r, &i) in chunk.iter().enumerate() {
            flat[r * width..r * width + lengths[i]].copy_from_slice(&ids[i]);
        }
        let idt = Tensor::from_vec(flat, (chunk.len(), width), &dev)?;
        let cl: Vec<usize> = chunk.iter().map(|&i| lengths[i]).collect();
        let mask = mask_for(&cl, width, &dev)?;
        let x = model.encoder.embed(&idt, Mode::Infer)?;
        let bias = model.encoder.mask_bias(&mask)?;
        let x = model.encoder.run_layers(x, &bias, 0, frozen, Mode::Infer)?;
        for (r, &i) in chunk.iter().enumerate() {
            cached[i] = Some(x.get(r)?.narrow(0, 0, lengths[i])?.contiguous()?);
        }
    }
    let cached: Vec<Tensor> = cached
        .into_iter()
        .map(|t| t.expect("every example cached"))
        .collect();
    let _ = writeln!(
        log,
        "train: frozen layers cached in {:.0}s",
        started.elapsed().as_secs_f64()
    );

    let class_targets: Vec<[f32; 3]> = train
        .iter()
        .map(|e| match e.class_target {
            Some(t) if opts.soft_labels => t,
            _ => {
                let mut t = [0.0; 3];
                t[e.label.index()] = 1.0;
                t
            }
        })
        .collect();
    let ratings: Vec<(f32, f32)> = train
        .iter()
        .map(|e| match e.rating {
            Some(r) => ((r / 4.0).clamp(-1.0, 1.0), 1.0),
            None => (0.0, 0.0),
        })
        .collect();

    let fixed: Vec<Vec<usize>> = order.chunks(opts.batch_size).map(|c| c.to_vec()).collect();
    let total_steps = fixed.len() * opts.epochs;
    let params = ParamsAdamW {
        lr: opts.learning_rate,
        weight_decay: 0.01,
        ..Default::default()
    };
    let mut adam = AdamW::new(model.vars.iter().map(|(_, v)| v.clone()).collect(), params)?;
    let warmup = (total_steps / 20).max(1);
    let mut step = 0usize;
    let mut running = 0.0f64;
    let train_start = Instant::now();
    let mut last_loss = f64::NAN;
    for epoch in 0..opts.epochs {
        let epoch_batches = if opts.fixed_batches {
            let mut b = fixed.clone();
            b.shuffle(&mut rng);
            b
        } else {
            bucketed_batches(&lengths, opts.batch_size, &mut rng)
        };
        for batch in &epoch_batches {
            let lr = if step < warmup {
                opts.learning_rate * (step + 1) as f64 / warmup as f64
            } else {
                opts.learning_rate * total_steps.saturating_sub(step) as f64
                    / (total_steps - warmup).max(1) as f64
            };
            adam.set_learning_rate(lr);
            let width = batch.iter().map(|&i| lengths[i]).max().unwrap_or(1);
            let rows: Vec<&Tensor> = batch.iter().map(|&i| &cached[i]).collect();
            let x = pad_stack(&rows, width)?;
            let bl: Vec<usize> = batch.iter().map(|&i| lengths[i]).collect();
            let mask = mask_for(&bl, width, &dev)?;
            let bias = model.encoder.mask_bias(&mask)?;
            let hidden = model
                .encoder
                .run_layers(x, &bias, frozen, n_layers, Mode::Train)?;
            let pooled = dropout(&mean_pool(&hidden, &mask)?, opts.dropout, &mut rng)?;
            let logits = model.classes.forward(&pooled)?;
            let targets = Tensor::from_vec(
                batch
                    .iter()
                    .flat_map(|&i| class_targets[i])
                    .collect::<Vec<f32>>(),
                (batch.len(), class_targets[0].len()),
                &dev,
            )?;
            let ce = soft_cross_entropy(&logits, &targets)?;
            let inten = model
                .intensity
                .forward(&pooled)?
                .squeeze(D::Minus1)?
                .tanh()?;
            let (tv, tw): (Vec<f32>, Vec<f32>) = batch.iter().map(|&i| ratings[i]).unzip();
            let rated = tw.iter().sum::<f32>().max(1.0);
            let tv = Tensor::from_vec(tv, batch.len(), &dev)?;
            let tw = Tensor::from_vec(tw, batch.len(), &dev)?;
            let se = ((inten - tv)?.sqr()? * tw)?
                .sum_all()?
                .affine(1.0 / rated as f64, 0.0)?;
            let loss = (ce + se.affine(opts.intensity_weight, 0.0)?)?;
            adam.backward_step(&loss)?;
            let l = loss.to_scalar::<f32>()? as f64;
            running = if step == 0 {
                l
            } else {
                0.98 * running + 0.02 * l
            };
            last_loss = running;
            step += 1;
            if step.is_multiple_of(25) || step == total_steps {
                let el = train_start.elapsed().as_secs_f64();
                let eta = el / step as f64 * (total_steps - step) as f64;
                let _ = writeln!(
                    log,
                    "train: epoch {}/{} step {step}/{total_steps} loss {running:.4} lr {lr:.2e} {:.1} ex/s eta {:.0}m{:02.0}s",
                    epoch + 1,
                    opts.epochs,
                    (step * opts.batch_size) as f64 / el,
                    (eta / 60.0).floor(),
                    eta % 60.0
                );
            }
        }
    }
    save(&model, files, opts, &labels, frozen, n_layers, out_dir)?;
    Ok(TrainOutcome {
        head_dir: out_dir.to_path_buf(),
        seconds: started.elapsed().as_secs_f64(),
        final_loss: last_loss,
    })
}

/// Cross-entropy against target distributions (one-hot targets give the
/// usual cross-entropy): mean over rows of −Σ target · log softmax(logits).
fn soft_cross_entropy(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let rows = logits.dim(0)? as f64;
    (logp * targets)?.sum_all()?.affine(-1.0 / rows, 0.0)
}

/// One epoch's batches: examples shuffled, each pool of 64 batches sorted by
/// length (so a batch pads little), then the batches shuffled.
fn bucketed_batches(lengths: &[usize], batch_size: usize, rng: &mut StdRng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(rng);
    let mut batches = Vec::new();
    for pool in order.chunks_mut(batch_size * 64) {
        pool.sort_by_key(|&i| lengths[i]);
        batches.extend(pool.chunks(batch_size).map(|c| c.to_vec()));
    }
    batches.shuffle(rng);
    batches
}

fn save(
    model: &Trainable,
    files: &ModelFiles,
    opts: &TrainOptions,
    labels: &[String],
    frozen: usize,
    n_layers: usize,
    out_dir: &Path,
) -> Result<(), ModelError> {
    let tensors: HashMap<String, Tensor> = model
        .vars
        .iter()
        .map(|(n, v)| (n.clone(), v.as_tensor().detach()))
        .collect();
    let manifest = HeadManifest {
        format: MANIFEST_FORMAT.into(),
        labels: labels.to_vec(),
        encoder_sha256: sha256_file(&files.weights)?,
        lora: Some(LoraSpec {
            rank: opts.lora_rank,
            alpha: opts.lora_alpha,
            layers: (frozen..n_layers).collect(),
        }),
        window_tokens: 128,
    };
    write_head(out_dir, &tensors, &manifest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_cross_entropy_on_one_hot_targets_is_cross_entropy() {
        let mut rng = StdRng::seed_from_u64(7);
        let logits: Vec<f32> = (0..24).map(|_| rng.random::<f32>() * 6.0 - 3.0).collect();
        let labels: Vec<u32> = (0..8).map(|_| rng.random_range(0..3)).collect();
        let mut one_hot = vec![0f32; 24];
        for (r, &l) in labels.iter().enumerate() {
            one_hot[r * 3 + l as usize] = 1.0;
        }
        let dev = Device::Cpu;
        let logits = Tensor::from_vec(logits, (8, 3), &dev).unwrap();
        let targets = Tensor::from_vec(one_hot, (8, 3), &dev).unwrap();
        let ours = soft_cross_entropy(&logits, &targets)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let labels = Tensor::from_vec(labels, 8, &dev).unwrap();
        let theirs = candle_nn::loss::cross_entropy(&logits, &labels)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((ours - theirs).abs() < 1e-5, "{ours} vs {theirs}");
    }

    #[test]
    fn soft_targets_are_learned_as_given() {
        // The loss is smallest where softmax(logits) equals the target.
        let dev = Device::Cpu;
        let target = Tensor::from_vec(vec![0.2f32, 0.3, 0.5], (1, 3), &dev).unwrap();
        let loss_at = |p: [f32; 3]| {
            let logits = Tensor::from_vec(p.map(f32::ln).to_vec(), (1, 3), &dev).unwrap();
            soft_cross_entropy(&logits, &target)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        let best = loss_at([0.2, 0.3, 0.5]);
        assert!(best < loss_at([0.1, 0.3, 0.6]));
        assert!(best < loss_at([0.3, 0.3, 0.4]));
        assert!(best < loss_at([0.0001, 0.0001, 0.9998]));
    }

    #[test]
    fn bucketed_batches_cover_every_example_once_and_change_each_epoch() {
        let mut rng = StdRng::seed_from_u64(3);
        let lengths: Vec<usize> = (0..5_000).map(|_| rng.random_range(3..96)).collect();
        let first = bucketed_batches(&lengths, 32, &mut rng);
        let second = bucketed_batches(&lengths, 32, &mut rng);
        for batches in [&first, &second] {
            // As many batches as fixed chunks (the learning-rate schedule counts on it).
            assert_eq!(batches.len(), lengths.len().div_ceil(32));
            let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
            seen.sort();
            assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
            assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 32));
        }
        assert_ne!(first, second);
        // Sorted pools: a batch spans a narrow length range on average.
        let spread: usize = first
            .iter()
            .map(|b| {
                let (lo, hi) = b.iter().fold((usize::MAX, 0), |(lo, hi), &i| {
                    (lo.min(lengths[i]), hi.max(lengths[i]))
                });
                hi - lo
            })
            .sum();
        assert!(
            spread / first.len() < 10,
            "mean spread {}",
            spread / first.len()
        );
    }
}
