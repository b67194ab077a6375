//! How good the report's worst-calls list is for a supervisor who reads only
//! its top: the moment test sets mixed at a realistic share of angry calls,
//! every call ranked as `report --sort worst` ranks it (worst severity, then
//! the sustained anger it was graded by), and the share of angry calls among
//! the top 1%, 5% and 10%.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use crate::analysis::Severity;

/// One test call as the list sees it.
#[derive(Debug, Clone, Copy)]
pub struct Ranked {
    pub worst: Severity,
    /// The highest sustained anger of its moments (0 without moments).
    pub anger: f32,
    pub angry: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListPrecision {
    /// Share of angry calls in the mix.
    pub angry_share: f64,
    pub calls: usize,
    /// (top share of the list, precision: angry calls among them), averaged over the draws.
    pub at: Vec<(f64, f64)>,
    pub draws: usize,
}

pub const TOP_SHARES: [f64; 3] = [0.01, 0.05, 0.10];

/// Mixes all calm calls with enough angry ones (drawn anew `draws` times)
/// for `angry_share`, ranks them and measures the top of the list.
pub fn list_precision(
    calls: &[Ranked],
    angry_share: f64,
    draws: usize,
    seed: u64,
) -> ListPrecision {
    let calm: Vec<Ranked> = calls.iter().copied().filter(|c| !c.angry).collect();
    let angry: Vec<Ranked> = calls.iter().copied().filter(|c| c.angry).collect();
    let wanted =
        ((calm.len() as f64 * angry_share / (1.0 - angry_share)).round() as usize).min(angry.len());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut sums = [0.0; TOP_SHARES.len()];
    for _ in 0..draws.max(1) {
        let mut pool = angry.clone();
        pool.shuffle(&mut rng);
        let mut mix: Vec<Ranked> = calm
            .iter()
            .copied()
            .chain(pool.into_iter().take(wanted))
            .collect();
        // Ties (most calm calls: no moment) in a random order, as the list
        // would show them in some order the anger does not decide.
        mix.shuffle(&mut rng);
        mix.sort_by(|a, b| b.worst.cmp(&a.worst).then(b.anger.total_cmp(&a.anger)));
        for (sum, share) in sums.iter_mut().zip(TOP_SHARES) {
            let k = ((mix.len() as f64 * share).round() as usize).max(1);
            *sum += mix[..k].iter().filter(|c| c.angry).count() as f64 / k as f64;
        }
    }
    ListPrecision {
        angry_share,
        calls: calm.len() + wanted,
        at: TOP_SHARES
            .iter()
            .zip(sums)
            .map(|(&s, sum)| (s, sum / draws.max(1) as f64))
            .collect(),
        draws: draws.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking_fills_the_top_with_angry_calls() {
        let mut calls: Vec<Ranked> = (0..980)
            .map(|_| Ranked {
                worst: Severity::Calm,
                anger: 0.0,
                angry: false,
            })
            .collect();
        calls.extend((0..100).map(|i| Ranked {
            worst: Severity::Irate,
            anger: 0.9 + i as f32 * 1e-4,
            angry: true,
        }));
        // 2% angry: 20 of 1,000; the top 1% (10 calls) and 2% are all angry.
        let p = list_precision(&calls, 0.02, 5, 1);
        assert_eq!(p.calls, 1000);
        assert_eq!(p.at[0], (0.01, 1.0));
        // The top 5% (50 calls) holds all 20 angry ones: 0.4.
        assert!((p.at[1].1 - 0.4).abs() < 1e-9, "{p:?}");
        // A ranking that knows nothing: about the base rate.
        let blind: Vec<Ranked> = calls
            .iter()
            .map(|c| Ranked {
                worst: Severity::Calm,
                anger: 0.0,
                ..*c
            })
            .collect();
        let b = list_precision(&blind, 0.1, 50, 2);
        assert!((b.at[2].1 - 0.1).abs() < 0.05, "{b:?}");
    }
}
