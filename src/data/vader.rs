//! The default training data: VADER's human-rated sentences (tweets, Amazon
//! and movie review snippets, NYT editorial snippets; mean of ≥ 20 ratings on
//! -4..+4). The dev split, never trained on, is the second half by id order of
//! the tweets and the Amazon snippets, less any item that is a training text
//! up to case, punctuation and stretched letters.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::labelled::{polarity_of_rating, Example, NEUTRAL_BAND};
use super::near_duplicates::near_duplicate_key;
use super::CorpusError;

/// One VADER ground-truth row, with its id as a sortable key.
#[derive(Debug, Clone)]
pub struct Rated {
    pub id: Vec<u64>,
    pub rating: f32,
    pub text: String,
}

/// Reads `id<TAB>rating<TAB>text` lines (CRLF, possibly not UTF-8 clean).
pub fn read_ground_truth(path: &Path) -> Result<Vec<Rated>, CorpusError> {
    let err = |reason: String| CorpusError {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, '\t');
        let (Some(id), Some(rating), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(err(format!("line {}: expected id, rating and text", n + 1)));
        };
        let id = parse_id(id);
        let rating: f32 = rating
            .trim()
            .parse()
            .map_err(|_| err(format!("line {}: bad rating {rating:?}", n + 1)))?;
        rows.push(Rated {
            id,
            rating,
            text: body.trim().to_string(),
        });
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

fn example(r: &Rated, spread: &RaterSpread) -> Example {
    Example {
        text: r.text.clone(),
        label: polarity_of_rating(r.rating),
        rating: Some(r.rating),
        class_target: spread
            .get(&r.id)
            .map(|&(sd, n)| class_chances(r.rating, sd, n)),
    }
}

/// Each item's spread of individual ratings: standard deviation and number of
/// raters, by id.
pub type RaterSpread = HashMap<Vec<u64>, (f32, usize)>;

/// Reads VADER's `*_anonDataRatings.txt`: `id<TAB>mean<TAB>sd<TAB>[r1, r2, …]`.
pub fn read_rater_spread(path: &Path) -> Result<RaterSpread, CorpusError> {
    let err = |reason: String| CorpusError {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}').trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.splitn(4, '\t').collect();
        let [id, _mean, sd, list] = parts[..] else {
            return Err(err(format!(
                "line {}: expected id, mean, sd and ratings",
                n + 1
            )));
        };
        let sd: f32 = sd
            .trim()
            .parse()
            .map_err(|_| err(format!("line {}: bad standard deviation {sd:?}", n + 1)))?;
        let raters = list.split(',').filter(|r| !r.trim().is_empty()).count();
        out.insert(parse_id(id), (sd, raters));
    }
    Ok(out)
}

/// The chance that each class (negative, neutral, positive) would be the label
/// if the item were rated again by as many people: the mean of `n` ratings
/// with spread `sd` varies by about `sd / √n` (normal approximation), and the
/// label is that mean's band (±NEUTRAL_BAND). Items far from a band edge keep
/// a near-certain label; items on an edge, where raters split, get a soft one
/// instead of a coin-flip hard label.
pub fn class_chances(mean: f32, sd: f32, n: usize) -> [f32; 3] {
    let se = sd as f64 / (n.max(1) as f64).sqrt();
    if se <= 1e-6 {
        let mut t = [0.0; 3];
        t[polarity_of_rating(mean).index()] = 1.0;
        return t;
    }
    let band = NEUTRAL_BAND as f64;
    let m = mean as f64;
    let positive = normal_cdf((m - band) / se);
    let negative = normal_cdf((-band - m) / se);
    let neutral = (1.0 - positive - negative).max(0.0);
    [negative as f32, neutral as f32, positive as f32]
}

/// Φ(z) through erf (Abramowitz & Stegun 7.1.26, error < 1.5e-7). The GELU
/// kernel has the same formula in f32 with a bit-built exp; this one is f64
/// and stays apart so the committed head's training targets (and so the head
/// itself) are reproduced bit for bit.
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

fn parse_id(id: &str) -> Vec<u64> {
    id.split('_')
        .map(|p| p.trim().parse().unwrap_or(0))
        .collect()
}

pub struct Split {
    pub train: Vec<Example>,
    pub dev: Vec<Example>,
    /// Dev items left out because a training item is the same text up to
    /// case, punctuation and stretched letters (`near_duplicates`).
    pub dropped_near_duplicates: usize,
    /// Which file each stretch of `dev` came from (`tweets`, `amazonReviewSnippets`).
    pub dev_sources: Vec<(&'static str, std::ops::Range<usize>)>,
}

/// Train on everything but the dev halves.
pub fn vader_split(dir: &Path) -> Result<Split, CorpusError> {
    let mut train = Vec::new();
    let mut dev_halves = Vec::new();
    for (name, has_dev) in [
        ("tweets", true),
        ("amazonReviewSnippets", true),
        ("movieReviewSnippets", false),
        ("nytEditorialSnippets", false),
    ] {
        let rows = read_ground_truth(&dir.join(format!("{name}_GroundTruth.txt")))?;
        // Older caches may lack the individual ratings: hard labels then.
        let spread_file = dir.join(format!("{name}_anonDataRatings.txt"));
        let spread = if spread_file.is_file() {
            read_rater_spread(&spread_file)?
        } else {
            RaterSpread::new()
        };
        let half = if has_dev { rows.len() / 2 } else { rows.len() };
        train.extend(rows[..half].iter().map(|r| example(r, &spread)));
        dev_halves.push((name, rows[half..].to_vec(), spread));
    }
    // Only once every training text is known: a dev tweet may repeat a
    // training movie snippet as well as a training tweet.
    let trained: HashSet<String> = train.iter().map(|e| near_duplicate_key(&e.text)).collect();
    let mut dev = Vec::new();
    let mut dev_sources = Vec::new();
    let mut dropped_near_duplicates = 0;
    for (name, rows, spread) in dev_halves {
        let from = dev.len();
        for r in &rows {
            if trained.contains(&near_duplicate_key(&r.text)) {
                dropped_near_duplicates += 1;
            } else {
                dev.push(example(r, &spread));
            }
        }
        if dev.len() > from {
            dev_sources.push((name, from..dev.len()));
        }
    }
    Ok(Split {
        train,
        dev,
        dropped_near_duplicates,
        dev_sources,
    })
}

/// The dev split alone, for `eval --dev`.
pub fn vader_dev(dir: &Path) -> Result<Vec<Example>, CorpusError> {
    Ok(vader_split(dir)?.dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rater_spread_reads_sd_and_rater_count_past_the_bom() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.txt");
        std::fs::write(
            &p,
            "\u{feff}1_1\t-0.9\t0.76811\t[0, -1, 0, -2]\r\n1_2\t-0.15\t0.65\t[0, 0, -3]\r\n",
        )
        .unwrap();
        let spread = read_rater_spread(&p).unwrap();
        assert_eq!(spread[&vec![1, 1]], (0.76811, 4));
        assert_eq!(spread[&vec![1, 2]], (0.65, 3));
        std::fs::write(&p, "1\t0.5\tnot-a-number\t[1]\n").unwrap();
        let e = read_rater_spread(&p).unwrap_err().to_string();
        assert!(
            e.contains("line 1") && e.contains("standard deviation"),
            "{e}"
        );
    }

    #[test]
    fn class_chances_are_soft_only_near_a_band_edge() {
        // Far from the edges: the hard label, nearly certain.
        let clear = class_chances(2.5, 1.0, 20);
        assert!(clear[2] > 0.999, "{clear:?}");
        let clear_neg = class_chances(-1.8, 0.8, 20);
        assert!(clear_neg[0] > 0.999, "{clear_neg:?}");
        // On the positive edge, raters split: about half positive, half neutral.
        let edge = class_chances(0.5, 1.0, 20);
        assert!((edge[2] - 0.5).abs() < 1e-3, "{edge:?}");
        assert!((edge[1] - 0.5).abs() < 1e-3, "{edge:?}");
        // More raters: a firmer label for the same mean.
        assert!(class_chances(0.7, 1.0, 90)[2] > class_chances(0.7, 1.0, 20)[2]);
        // Always a distribution; no spread gives the hard label.
        for (m, sd, n) in [(0.0, 0.5, 20), (-0.6, 2.0, 10), (3.9, 0.1, 95)] {
            let t = class_chances(m, sd, n);
            assert!((t.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{t:?}");
            assert!(t.iter().all(|&p| (0.0..=1.0).contains(&p)), "{t:?}");
        }
        assert_eq!(class_chances(-0.2, 0.0, 20), [0.0, 1.0, 0.0]);
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (z, want) in [
            (0.0, 0.5),
            (1.0, 0.841_344_7),
            (-1.96, 0.024_997_9),
            (3.0, 0.998_650_1),
        ] {
            assert!(
                (normal_cdf(z) - want).abs() < 1e-6,
                "Φ({z}) = {}",
                normal_cdf(z)
            );
        }
    }

    #[test]
    fn ids_sort_numerically_and_crlf_is_stripped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        std::fs::write(
            &p,
            "10_1\t-1.5\tbad\r\n2_3\t2.0\tgood\r\n2_10\t0.1\tmeh\r\n",
        )
        .unwrap();
        let rows = read_ground_truth(&p).unwrap();
        let ids: Vec<Vec<u64>> = rows.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, vec![vec![2, 3], vec![2, 10], vec![10, 1]]);
        assert_eq!(rows[0].text, "good");
    }
}
