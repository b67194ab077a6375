//! Accuracy, macro-F1, ROC AUC and Spearman correlation: plain functions over
//! predictions, so they are tested on hand-made numbers.

/// Share of `pred[i] == truth[i]`.
pub fn accuracy<T: PartialEq>(pred: &[T], truth: &[T]) -> f64 {
    if pred.is_empty() {
        return f64::NAN;
    }
    pred.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / pred.len() as f64
}

/// Mean F1 over the classes `0..classes` (a class absent from both counts as 0 and is skipped).
pub fn macro_f1(pred: &[usize], truth: &[usize], classes: usize) -> f64 {
    let mut sum = 0.0;
    let mut n = 0;
    for c in 0..classes {
        let tp = pred
            .iter()
            .zip(truth)
            .filter(|(p, t)| **p == c && **t == c)
            .count() as f64;
        let fp = pred
            .iter()
            .zip(truth)
            .filter(|(p, t)| **p == c && **t != c)
            .count() as f64;
        let fn_ = pred
            .iter()
            .zip(truth)
            .filter(|(p, t)| **p != c && **t == c)
            .count() as f64;
        if tp + fp + fn_ == 0.0 {
            continue;
        }
        sum += 2.0 * tp / (2.0 * tp + fp + fn_);
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Average ranks (1-based), ties sharing the mean of their ranks.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Area under the ROC curve of `score` for the positives in `is_pos`
/// (Mann–Whitney U, ties counted half). NaN when one class is empty.
pub fn roc_auc(score: &[f64], is_pos: &[bool]) -> f64 {
    let n_pos = is_pos.iter().filter(|&&p| p).count() as f64;
    let n_neg = is_pos.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    let r = ranks(score);
    let rank_sum: f64 = r
        .iter()
        .zip(is_pos)
        .filter(|(_, &p)| p)
        .map(|(r, _)| r)
        .sum();
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 2 {
        return f64::NAN;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's rank correlation (Pearson on average ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_hand_count() {
        // positives 0.9, 0.4; negatives 0.5, 0.1: pairs won 3 of 4.
        let auc = roc_auc(&[0.9, 0.4, 0.5, 0.1], &[true, true, false, false]);
        assert!((auc - 0.75).abs() < 1e-12);
        // a tie counts half
        assert!((roc_auc(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-12);
        assert!(roc_auc(&[0.1], &[true]).is_nan());
    }

    #[test]
    fn spearman_uses_ranks_with_ties() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 100.0, 1000.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[5.0, 1.0, 5.0]), vec![2.5, 1.0, 2.5]);
    }

    #[test]
    fn f1_and_accuracy() {
        let p = [0, 0, 1, 1];
        let t = [0, 1, 1, 1];
        assert!((accuracy(&p, &t) - 0.75).abs() < 1e-12);
        // class 0: tp1 fp1 fn0 → 2/3; class 1: tp2 fp0 fn1 → 4/5
        assert!((macro_f1(&p, &t, 2) - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
    }
}
