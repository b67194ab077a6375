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
    /// Texts tokenized per step while the model scores the step before
    /// (`None`: tokenize everything, then score). A GPU waits for nothing
    /// but the first step; the CPU's cores are all busy either way.
    pub overlap_texts: Option<usize>,
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
            overlap_texts: None,
        }
    }
}

impl ScoreOptions {
    /// A GPU's batches: tens of thousands of tokens, so each of the
    /// encoder's ~150 kernel launches has enough work to fill the device.
    pub const GPU: ScoreOptions = ScoreOptions {
        token_budget: 32_768,
        max_batch: 1024,
        // ~50,000 chat tokens: two GPU batches, a few milliseconds to
        // tokenize on a dozen cores.
        overlap_texts: Some(4096),
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
    /// Tokenizing before the model could start: all of it, or with
    /// `overlap_texts` the first step only (the rest runs during `infer`).
    #[serde(serialize_with = "seconds")]
    pub tokenize: Duration,
    /// From then until every window is scored.
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
        let rows_of =
            |batch: &Vec<usize>| -> Vec<&[u32]> { batch.iter().map(|&i| rows[i]).collect() };
        if self.model.layer_format().is_some() {
            return batches
                .par_iter()
                .with_max_len(1)
                .map(|b| self.model.score_rows(&rows_of(b)))
                .collect();
        }
        // `score_batches` runs a group in one pass on calltone's GPU
        // kernels and batch after batch on candle's encoder.
        let mut scores = Vec::with_capacity(batches.len());
        for group in batches.chunks(GPU_BATCHES_PER_COPY) {
            let group_rows: Vec<Vec<&[u32]>> = group.iter().map(rows_of).collect();
            scores.extend(self.model.score_batches(&group_rows)?);
        }
        Ok(scores)
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
        let scored = match self.options.overlap_texts {
            Some(step) => self.tokenize_while_scoring(&distinct, step.max(1), started)?,
            None => self.tokenize_then_score(&distinct, started)?,
        };
        let per_distinct: Vec<usize> = scored
            .windows
            .iter()
            .map(|ws| ws.iter().map(Vec::len).sum())
            .collect();
        let lengths: Vec<usize> = scored.windows.iter().flatten().map(Vec::len).collect();
        let stats = ScoreStats {
            workload_tokens: slot.iter().flatten().map(|&i| per_distinct[i]).sum(),
            texts: texts.len(),
            distinct: distinct.len(),
            windows: lengths.len(),
            real_tokens: lengths.iter().sum(),
            batches: scored.batches,
            padded_tokens: scored.padded_tokens,
            tokenize: scored.tokenize,
            infer: scored.infer,
        };
        let mut window_scores = scored.scores.into_iter();
        let combined: Vec<UnitScore> = scored
            .windows
            .iter()
            .map(|ws| {
                let scores: Vec<TextScore> = window_scores.by_ref().take(ws.len()).collect();
                let weights: Vec<usize> =
                    ws.iter().map(|w| w.len() - self.wrap.overhead()).collect();
                UnitScore {
                    max_negative: scores.iter().map(|s| s.negative).fold(0.0, f32::max),
                    windows: scores.len(),
                    tokens: weights.iter().sum(),
                    score: combine(&scores, &weights).expect("a text has at least one window"),
                }
            })
            .collect();
        let scores = slot
            .into_iter()
            .map(|s| s.map(|i| combined[i].clone()))
            .collect();
        Ok((scores, stats))
    }

    /// Each text's windows of token ids, tokenized on every core.
    fn tokenize(&self, texts: &[&str]) -> Vec<Vec<Vec<u32>>> {
        let tok = &self.model.tokenizer;
        let max = self.model.max_tokens;
        texts
            .par_iter()
            .map(|t| {
                let (ids, _) = crate::model::tokenize::encode_plain(tok, t);
                windows(&ids, &self.wrap, max)
            })
            .collect()
    }

    /// Scores every window of `per_text` (in order: text by text, window
    /// by window) in length-sorted batches; also the batch count and the
    /// tokens computed.
    fn score_windows(
        &self,
        per_text: &[Vec<Vec<u32>>],
    ) -> Result<(Vec<TextScore>, usize, usize), ModelError> {
        let rows: Vec<&[u32]> = per_text.iter().flatten().map(Vec::as_slice).collect();
        let lengths: Vec<usize> = rows.iter().map(|r| r.len()).collect();
        let batches = length_batches(&lengths, self.options.token_budget, self.options.max_batch);
        let padded = if self.model.pads_batches() {
            padded_tokens(&lengths, &batches)
        } else {
            lengths.iter().sum()
        };
        let mut scores: Vec<Option<TextScore>> = vec![None; rows.len()];
        for (batch, batch_scores) in batches.iter().zip(self.run_batches(&batches, &rows)?) {
            for (&i, s) in batch.iter().zip(batch_scores) {
                scores[i] = Some(s);
            }
        }
        let scores = scores
            .into_iter()
            .map(|s| s.expect("every window is in one batch"))
            .collect();
        Ok((scores, batches.len(), padded))
    }

    /// Tokenizes every text, then scores them all (one set of
    /// length-sorted batches).
    fn tokenize_then_score(&self, texts: &[&str], started: Instant) -> Result<Scored, ModelError> {
        let windows = self.tokenize(texts);
        let tokenized = Instant::now();
        let (scores, batches, padded_tokens) = self.score_windows(&windows)?;
        Ok(Scored {
            windows,
            scores,
            batches,
            padded_tokens,
            tokenize: tokenized - started,
            infer: tokenized.elapsed(),
        })
    }

    /// Tokenizes `step` texts at a time, the next step while the model
    /// scores this one: `rayon::join` runs the scoring on this thread at
    /// once and leaves the tokenizing to be taken by an idle worker (whose
    /// parallel loop the others join), so a GPU starts after the first
    /// step instead of after all of them. On one thread the two simply take
    /// turns. Each step's windows are scored as the whole would be (by
    /// batches of its own), so the records are the same.
    fn tokenize_while_scoring(
        &self,
        texts: &[&str],
        step: usize,
        started: Instant,
    ) -> Result<Scored, ModelError> {
        let mut steps = texts.chunks(step);
        let mut next = self.tokenize(steps.next().unwrap_or(&[]));
        let tokenize = started.elapsed();
        let mut out = Scored {
            tokenize,
            ..Scored::default()
        };
        loop {
            let current = next;
            let following = steps.next();
            let (scored, tokenized) = rayon::join(
                || self.score_windows(&current),
                || following.map(|texts| self.tokenize(texts)),
            );
            let (scores, batches, padded) = scored?;
            out.scores.extend(scores);
            out.batches += batches;
            out.padded_tokens += padded;
            out.windows.extend(current);
            match tokenized {
                Some(t) => next = t,
                None => break,
            }
        }
        out.infer = started.elapsed() - tokenize;
        Ok(out)
    }
}

/// Every distinct text's windows and their scores (window by window, text
/// by text), and where the time went.
#[derive(Default)]
struct Scored {
    windows: Vec<Vec<Vec<u32>>>,
    scores: Vec<TextScore>,
    batches: usize,
    padded_tokens: usize,
    tokenize: Duration,
    infer: Duration,
}
