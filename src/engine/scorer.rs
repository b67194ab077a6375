//! Scores many texts with one model: parallel tokenizing, windows for long
//! texts, token-budget batches, a cache so a repeated text (the agent's
//! canned lines) is scored once, and results back in input order.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use super::batching::{length_batches, padded_tokens};
use crate::model::{ModelError, SentimentModel, TextScore};
use crate::text::windows::{combine, windows, Wrapping};
use crate::transcript::Conversation;

#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Padded tokens per batch.
    pub token_budget: usize,
    /// Rows per batch at most.
    pub max_batch: usize,
}

impl Default for ScoreOptions {
    /// The CPU's batches: each runs on one core (batches run side by
    /// side), and 512 tokens keep a batch's activations near that core's
    /// caches: +17% int8 over 4,096-token batches on an AMX Xeon, +5–14% in
    /// fp32, bf16 and on the AVX2 path (docs/speed.md).
    fn default() -> Self {
        Self {
            token_budget: 512,
            max_batch: 128,
        }
    }
}

impl ScoreOptions {
    /// A GPU's batches: tens of thousands of tokens, so each of the
    /// encoder's ~150 kernel launches has enough work to fill the device.
    pub const GPU: ScoreOptions = ScoreOptions {
        token_budget: 32_768,
        max_batch: 1024,
    };

    /// The batches for where the model runs; `token_budget` (at least 64)
    /// overrides the device's.
    pub fn for_device(on_gpu: bool, token_budget: Option<usize>) -> Self {
        let base = if on_gpu { Self::GPU } else { Self::default() };
        Self {
            token_budget: token_budget.map_or(base.token_budget, |t| t.max(64)),
            ..base
        }
    }
}

/// Batches calltone's GPU kernels run per copy to and from the GPU: 16 of
/// 32,768 tokens are half a million tokens, their pooled rows (f32, twice
/// the hidden width each) a few tens of MB.
pub const GPU_BATCHES_PER_COPY: usize = 16;

/// What one scoring call did and where its time went.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScoreStats {
    pub texts: usize,
    /// Texts left after identical ones were merged.
    pub distinct: usize,
    pub windows: usize,
    pub batches: usize,
    /// Tokens the model read, [CLS]/[SEP] included, padding excluded.
    pub real_tokens: usize,
    /// Tokens of every text as given, repeats included: the workload.
    pub workload_tokens: usize,
    /// Tokens computed, including the padding of each batch to its longest
    /// row where the encoder pads (the reference; calltone's kernels do not).
    pub padded_tokens: usize,
    #[serde(serialize_with = "seconds")]
    pub tokenize: Duration,
    #[serde(serialize_with = "seconds")]
    pub infer: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A text's combined score plus what the windows said.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScore {
    pub score: TextScore,
    /// How many windows the text was split into (1 for most turns).
    pub windows: usize,
    /// Content tokens (special tokens excluded).
    pub tokens: usize,
    /// The most negative window's negative probability.
    pub max_negative: f32,
}

pub struct Scorer<'m> {
    pub model: &'m SentimentModel,
    pub options: ScoreOptions,
    wrap: Wrapping,
}

impl<'m> Scorer<'m> {
    pub fn new(model: &'m SentimentModel, options: ScoreOptions) -> Self {
        let wrap = Wrapping::of(&model.tokenizer);
        Self {
            model,
            options,
            wrap,
        }
    }

    /// Scores every turn of every call together (one set of length-sorted
    /// batches for all of them), handing the scores back call by call.
    pub fn score_calls(
        &self,
        calls: &[Conversation],
    ) -> Result<Vec<Vec<Option<UnitScore>>>, ModelError> {
        let refs: Vec<&Conversation> = calls.iter().collect();
        self.score_call_refs(&refs)
    }

    /// [`Scorer::score_calls`] over borrowed calls.
    pub fn score_call_refs(
        &self,
        calls: &[&Conversation],
    ) -> Result<Vec<Vec<Option<UnitScore>>>, ModelError> {
        let texts: Vec<&str> = calls
            .iter()
            .flat_map(|c| c.turns.iter().map(|t| t.text.as_str()))
            .collect();
        let mut scores = self.score(&texts)?.into_iter();
        Ok(calls
            .iter()
            .map(|c| scores.by_ref().take(c.turns.len()).collect())
            .collect())
    }

    /// Scores `texts`; an empty (all-whitespace) text gets `None`.
    pub fn score(&self, texts: &[&str]) -> Result<Vec<Option<UnitScore>>, ModelError> {
        Ok(self.score_with_stats(texts)?.0)
    }

    /// [`Scorer::score`], also saying where the time went (for `calltone bench`).
    ///
    /// Runs on one of rayon's workers (`rayon::scope` moves a caller from
    /// outside the pool onto it): every batch's layers are a dozen parallel
    /// loops, and each one started from outside the pool is handed over and
    /// waited for across threads (a sleep and a wake-up per loop), while a
    /// worker starts them itself and works on them too. Measured 2 threads,
    /// 20,000 messages: ~10% end to end (docs/speed.md).
    pub fn score_with_stats(
        &self,
        texts: &[&str],
    ) -> Result<(Vec<Option<UnitScore>>, ScoreStats), ModelError> {
        rayon::scope(|_| self.score_on_this_thread(texts))
    }

    /// Each batch's window scores, in `batches`' order.
    ///
    /// On calltone's CPU kernels the batches run side by side, one thread
    /// each, and a thread that runs out of batches helps another's parallel
    /// loops (rayon's work stealing). Splitting every batch's dozen loops a
    /// layer across all cores instead made every core wait at each loop's end:
    /// with per-thread shares the size 16 cores would see (512-token
    /// batches on 2 threads), 2 threads ran 1.46–1.49× one; side by side,
    /// 1.86–1.98× (docs/speed.md). candle (the reference encoder, a GPU) runs
    /// one batch at a time: it splits its own operations, and a GPU's memory
    /// holds one GPU-sized batch. calltone's GPU kernels take
    /// [`GPU_BATCHES_PER_COPY`] batches at a time, queued back to back with
    /// one copy up and one back, so the GPU never waits on the host between
    /// them.
    fn run_batches(
        &self,
        batches: &[Vec<usize>],
        rows: &[&[u32]],
    ) -> Result<Vec<Vec<TextScore>>, ModelError> {
        let run = |batch: &Vec<usize>| {
            let batch_rows: Vec<&[u32]> = batch.iter().map(|&i| rows[i]).collect();
            self.model.score_rows(&batch_rows)
        };
        if self.model.layer_format().is_some() {
            batches.par_iter().with_max_len(1).map(run).collect()
        } else if self.model.on_gpu_kernels() {
            let mut scores = Vec::with_capacity(batches.len());
            for group in batches.chunks(GPU_BATCHES_PER_COPY) {
                let group_rows: Vec<Vec<&[u32]>> = group
                    .iter()
                    .map(|b| b.iter().map(|&i| rows[i]).collect())
                    .collect();
                scores.extend(self.model.score_batches(&group_rows)?);
            }
            Ok(scores)
        } else {
            batches.iter().map(run).collect()
        }
    }

    fn score_on_this_thread(
        &self,
        texts: &[&str],
    ) -> Result<(Vec<Option<UnitScore>>, ScoreStats), ModelError> {
        let started = Instant::now();
        // Identical texts are scored once.
        let mut unique: HashMap<&str, usize> = HashMap::new();
        let mut distinct: Vec<&str> = Vec::new();
        let slot: Vec<Option<usize>> = texts
            .iter()
            .map(|t| {
                let t = t.trim();
                if t.is_empty() {
                    return None;
                }
                Some(*unique.entry(t).or_insert_with(|| {
                    distinct.push(t);
                    distinct.len() - 1
                }))
            })
            .collect();
        let tok = &self.model.tokenizer;
        let max = self.model.max_tokens;
        let per_text: Vec<Vec<Vec<u32>>> = distinct
            .par_iter()
            .map(|t| {
                let (ids, _) = crate::model::tokenize::encode_plain(tok, t);
                windows(&ids, &self.wrap, max)
            })
            .collect();
        // Flatten windows, remembering their owner.
        let mut rows: Vec<&[u32]> = Vec::new();
        let mut owner: Vec<usize> = Vec::new();
        for (i, ws) in per_text.iter().enumerate() {
            for w in ws {
                rows.push(w);
                owner.push(i);
            }
        }
        let lengths: Vec<usize> = rows.iter().map(|r| r.len()).collect();
        let tokenized = Instant::now();
        let per_distinct: Vec<usize> = per_text
            .iter()
            .map(|ws| ws.iter().map(Vec::len).sum())
            .collect();
        let mut stats = ScoreStats {
            workload_tokens: slot.iter().flatten().map(|&i| per_distinct[i]).sum(),
            texts: texts.len(),
            distinct: distinct.len(),
            windows: rows.len(),
            real_tokens: lengths.iter().sum(),
            tokenize: tokenized - started,
            ..ScoreStats::default()
        };
        let mut window_scores: Vec<Option<TextScore>> = vec![None; rows.len()];
        let batches = length_batches(&lengths, self.options.token_budget, self.options.max_batch);
        stats.batches = batches.len();
        stats.padded_tokens = if self.model.pads_batches() {
            padded_tokens(&lengths, &batches)
        } else {
            stats.real_tokens
        };
        let batch_scores = self.run_batches(&batches, &rows)?;
        for (batch, scores) in batches.iter().zip(batch_scores) {
            for (&i, s) in batch.iter().zip(scores) {
                window_scores[i] = Some(s);
            }
        }
        stats.infer = tokenized.elapsed();
        let mut grouped: Vec<(Vec<TextScore>, Vec<usize>)> =
            vec![(Vec::new(), Vec::new()); distinct.len()];
        for (w, s) in window_scores.into_iter().enumerate() {
            let s = s.expect("every window is in one batch");
            grouped[owner[w]].0.push(s);
            grouped[owner[w]].1.push(lengths[w] - self.wrap.overhead());
        }
        let combined: Vec<UnitScore> = grouped
            .into_iter()
            .map(|(scores, weights)| UnitScore {
                max_negative: scores.iter().map(|s| s.negative).fold(0.0, f32::max),
                windows: scores.len(),
                tokens: weights.iter().sum(),
                score: combine(&scores, &weights).expect("a text has at least one window"),
            })
            .collect();
        let scores = slot
            .into_iter()
            .map(|s| s.map(|i| combined[i].clone()))
            .collect();
        Ok((scores, stats))
    }
}
