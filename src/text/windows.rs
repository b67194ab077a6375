//! Splits token sequences longer than the model's maximum into windows, so no
//! text is ever cut off, and combines the windows' scores back into one.
//!
//! A window holds at most `max_tokens` ids including the model's special
//! tokens; the content is split into near-equal pieces (not one full window and
//! a stub) so every window carries enough context to be scored.

use tokenizers::Tokenizer;

use crate::model::TextScore;

/// The special tokens a single-sequence input is wrapped in (`[CLS] … [SEP]`).
#[derive(Debug, Clone)]
pub struct Wrapping {
    pub prefix: Vec<u32>,
    pub suffix: Vec<u32>,
}

impl Wrapping {
    pub fn of(tok: &Tokenizer) -> Self {
        let with = tok
            .encode("", true)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default();
        // With no content, the first special token(s) before the midpoint are the
        // prefix; the rest the suffix. Every BERT-family template has one each.
        let half = with.len().div_ceil(2);
        Self {
            prefix: with[..half.min(with.len())].to_vec(),
            suffix: with[half.min(with.len())..].to_vec(),
        }
    }

    pub fn overhead(&self) -> usize {
        self.prefix.len() + self.suffix.len()
    }
}

/// Splits content ids into wrapped windows of at most `max_tokens` ids.
pub fn windows(content: &[u32], wrap: &Wrapping, max_tokens: usize) -> Vec<Vec<u32>> {
    let room = max_tokens.saturating_sub(wrap.overhead()).max(1);
    let pieces = content.len().div_ceil(room).max(1);
    let size = content.len().div_ceil(pieces).max(1);
    let chunks: Vec<&[u32]> = if content.is_empty() {
        vec![&[][..]]
    } else {
        content.chunks(size).collect()
    };
    chunks
        .into_iter()
        .map(|c| {
            let mut w = Vec::with_capacity(c.len() + wrap.overhead());
            w.extend_from_slice(&wrap.prefix);
            w.extend_from_slice(c);
            w.extend_from_slice(&wrap.suffix);
            w
        })
        .collect()
}

/// Combines window scores into one text score: each window weighs by its
/// number of content tokens, so a long calm stretch and a short angry one
/// count in proportion. (The angriest window is kept separately by callers
/// that need it.)
pub fn combine(scores: &[TextScore], weights: &[usize]) -> Option<TextScore> {
    let total: usize = weights.iter().sum();
    if scores.is_empty() || total == 0 {
        return scores.first().cloned();
    }
    let mut out = TextScore {
        negative: 0.0,
        neutral: 0.0,
        positive: 0.0,
        intensity: 0.0,
    };
    for (s, &w) in scores.iter().zip(weights) {
        let f = w as f32 / total as f32;
        out.negative += s.negative * f;
        out.neutral += s.neutral * f;
        out.positive += s.positive * f;
        out.intensity += s.intensity * f;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_all_content_within_limit() {
        let wrap = Wrapping {
            prefix: vec![101],
            suffix: vec![102],
        };
        let content: Vec<u32> = (1000..1021).collect(); // 21 tokens
        let w = windows(&content, &wrap, 10); // room 8 → 3 windows of 7
        assert_eq!(w.len(), 3);
        assert!(w
            .iter()
            .all(|x| x.len() <= 10 && x[0] == 101 && *x.last().unwrap() == 102));
        let rejoined: Vec<u32> = w.iter().flat_map(|x| x[1..x.len() - 1].to_vec()).collect();
        assert_eq!(rejoined, content);
        assert_eq!(windows(&[], &wrap, 10), vec![vec![101, 102]]);
    }

    #[test]
    fn combine_weights_by_tokens() {
        let a = TextScore {
            negative: 1.0,
            neutral: 0.0,
            positive: 0.0,
            intensity: -1.0,
        };
        let b = TextScore {
            negative: 0.0,
            neutral: 0.0,
            positive: 1.0,
            intensity: 1.0,
        };
        let c = combine(&[a, b], &[3, 1]).unwrap();
        assert!((c.negative - 0.75).abs() < 1e-6 && (c.intensity + 0.5).abs() < 1e-6);
    }
}
