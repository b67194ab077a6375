//! Groups rows of token ids into batches of similar length whose padded size
//! (rows × longest row) stays under a token budget, so little compute is
//! spent on padding and no batch outgrows memory.

/// Indices into `lengths`, grouped into batches. Rows are taken in length
/// order; a batch closes when adding the next row would push
/// `rows × longest` over `budget` or the row count over `max_rows`.
pub fn length_batches(lengths: &[usize], budget: usize, max_rows: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut batches = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut longest = 0;
    for i in order {
        let len = lengths[i].max(1);
        let would = (current.len() + 1) * longest.max(len);
        if !current.is_empty() && (would > budget || current.len() >= max_rows) {
            batches.push(std::mem::take(&mut current));
            longest = 0;
        }
        longest = longest.max(len);
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Consecutive calls grouped so that each group holds at most `max_turns`
/// turns (a longer call is a group of its own): scoring and writing group by
/// group keeps memory flat however large one input file is.
pub fn call_groups(turns_per_call: &[usize], max_turns: usize) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let (mut start, mut turns) = (0, 0);
    for (i, &t) in turns_per_call.iter().enumerate() {
        if i > start && turns + t > max_turns {
            groups.push(start..i);
            (start, turns) = (i, 0);
        }
        turns += t;
    }
    if start < turns_per_call.len() {
        groups.push(start..turns_per_call.len());
    }
    groups
}

/// Tokens computed when every batch is padded to its longest row.
pub fn padded_tokens(lengths: &[usize], batches: &[Vec<usize>]) -> usize {
    batches
        .iter()
        .map(|b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap_or(0))
        .sum()
}

/// Padded tokens over real tokens for a batching (1.0 = no padding).
pub fn padding_ratio(lengths: &[usize], batches: &[Vec<usize>]) -> f64 {
    let real: usize = lengths.iter().sum();
    let padded = padded_tokens(lengths, batches);
    if real == 0 {
        1.0
    } else {
        padded as f64 / real as f64
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn call_groups_cover_every_call_once_under_the_turn_budget() {
        let turns = [3, 4, 10, 1, 1, 2, 0, 5];
        let groups = call_groups(&turns, 6);
        assert_eq!(groups, vec![0..1, 1..2, 2..3, 3..7, 7..8]);
        let flat: Vec<usize> = groups.iter().flat_map(|g| g.clone()).collect();
        assert_eq!(flat, (0..turns.len()).collect::<Vec<_>>());
        assert!(call_groups(&[], 6).is_empty());
        assert_eq!(call_groups(&[2, 2, 2], 100), vec![0..3]);
    }

    use super::*;

    #[test]
    fn every_row_once_and_budget_kept() {
        let lengths: Vec<usize> = (0..500).map(|i| 3 + (i * 7919) % 120).collect();
        let batches = length_batches(&lengths, 2048, 64);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..500).collect::<Vec<_>>());
        for b in &batches {
            let longest = b.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(b.len() * longest <= 2048 && b.len() <= 64);
        }
        assert!(padding_ratio(&lengths, &batches) < 1.1);
    }

    #[test]
    fn a_row_longer_than_the_budget_gets_its_own_batch() {
        let batches = length_batches(&[5, 5000, 5], 100, 8);
        assert_eq!(batches, vec![vec![0, 2], vec![1]]);
    }
}
