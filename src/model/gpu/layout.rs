//! Ragged batches laid out for calltone's GPU kernels (`kernels.cu`): a
//! batch is its rows' tokens back to back, no padding, with each token's
//! row (`tok_seq`) and each row's first token (`seq_start`, one more entry
//! than rows), all relative to the batch. Several batches go up in one copy
//! and their pooled rows come back in one, so the host never waits on the
//! GPU between batches.

use std::ops::Range;

/// Where one batch sits in a [`BatchLayout`]'s arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Its tokens in `ids` and `tok_seq`.
    pub tokens: Range<usize>,
    /// Its `rows + 1` row starts in `seq_start`.
    pub starts: Range<usize>,
    /// Its rows among all the layout's rows (the pooled output's order).
    pub rows: Range<usize>,
    /// Its longest row, in tokens (attention's scratch per warp).
    pub max_len: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchLayout {
    pub ids: Vec<u32>,
    pub tok_seq: Vec<i32>,
    pub seq_start: Vec<i32>,
    pub parts: Vec<Part>,
}

impl BatchLayout {
    /// Lays out `batches` (rows of token ids, none empty) in order. Refuses
    /// a batch whose token count does not fit the kernels' 32-bit indices.
    pub fn new(batches: &[Vec<&[u32]>]) -> Result<Self, String> {
        let mut layout = BatchLayout::default();
        let mut rows_before = 0;
        for batch in batches {
            let tokens: usize = batch.iter().map(|r| r.len()).sum();
            if i32::try_from(tokens).is_err() {
                return Err(format!(
                    "a batch of {tokens} tokens is too large for the GPU kernels"
                ));
            }
            let first_token = layout.ids.len();
            let first_start = layout.seq_start.len();
            let mut start = 0i32;
            for (seq, row) in batch.iter().enumerate() {
                layout.seq_start.push(start);
                layout.ids.extend_from_slice(row);
                // `seq` < rows ≤ tokens, which fits an i32 (checked above).
                layout
                    .tok_seq
                    .extend(std::iter::repeat_n(seq as i32, row.len()));
                start += row.len() as i32;
            }
            layout.seq_start.push(start);
            layout.parts.push(Part {
                tokens: first_token..layout.ids.len(),
                starts: first_start..layout.seq_start.len(),
                rows: rows_before..rows_before + batch.len(),
                max_len: batch.iter().map(|r| r.len()).max().unwrap_or(0),
            });
            rows_before += batch.len();
        }
        Ok(layout)
    }

    /// Rows in all batches together.
    pub fn rows(&self) -> usize {
        self.parts.last().map_or(0, |p| p.rows.end)
    }

    /// The most tokens in one batch: what the activation buffers hold.
    pub fn most_tokens(&self) -> usize {
        self.parts.iter().map(|p| p.tokens.len()).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_knows_its_row_and_each_row_its_start() {
        let a: Vec<u32> = vec![101, 7, 8, 102];
        let b: Vec<u32> = vec![101, 102];
        let c: Vec<u32> = vec![101, 9, 102];
        let batches = vec![vec![a.as_slice(), b.as_slice()], vec![c.as_slice()]];
        let l = BatchLayout::new(&batches).unwrap();
        assert_eq!(l.ids, [101, 7, 8, 102, 101, 102, 101, 9, 102]);
        assert_eq!(l.tok_seq, [0, 0, 0, 0, 1, 1, 0, 0, 0]);
        assert_eq!(l.seq_start, [0, 4, 6, 0, 3]);
        assert_eq!(l.rows(), 3);
        assert_eq!(l.most_tokens(), 6);
        assert_eq!(
            l.parts[1],
            Part {
                tokens: 6..9,
                starts: 3..5,
                rows: 2..3,
                max_len: 3
            }
        );
        // What the kernels derive: a token's position in its row, and the
        // row's length, give back every row's ids.
        for p in &l.parts {
            let ids = &l.ids[p.tokens.clone()];
            let starts = &l.seq_start[p.starts.clone()];
            for (t, &seq) in l.tok_seq[p.tokens.clone()].iter().enumerate() {
                let (s, e) = (
                    starts[seq as usize] as usize,
                    starts[seq as usize + 1] as usize,
                );
                assert!((s..e).contains(&t));
                let row = batches[l.parts.iter().position(|q| q == p).unwrap()][seq as usize];
                assert_eq!(ids[t], row[t - s]);
                assert_eq!(e - s, row.len());
            }
        }
    }

    #[test]
    fn no_batches_lay_out_as_nothing() {
        let l = BatchLayout::new(&[]).unwrap();
        assert_eq!((l.rows(), l.most_tokens()), (0, 0));
    }
}
