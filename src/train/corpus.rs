//! The default training data: VADER's human-rated sentences (tweets, Amazon
//! and movie review snippets, NYT editorial snippets; mean of ≥ 20 ratings on
//! -4..+4). The dev split, never trained on, is the second half by id order of
//! the tweets and the Amazon snippets.

use std::path::Path;

use crate::eval::labelled::{polarity_of_rating, Example};
use crate::model::Polarity;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CorpusError {
    pub path: String,
    pub reason: String,
}

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
        let id: Vec<u64> = id
            .split('_')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect();
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

fn example(r: &Rated) -> Example {
    Example {
        text: r.text.clone(),
        label: polarity_of_rating(r.rating),
        rating: Some(r.rating),
    }
}

pub struct Split {
    pub train: Vec<Example>,
    pub dev: Vec<Example>,
}

/// Train on everything but the dev halves.
pub fn vader_split(dir: &Path) -> Result<Split, CorpusError> {
    let mut train = Vec::new();
    let mut dev = Vec::new();
    for (file, has_dev) in [
        ("tweets_GroundTruth.txt", true),
        ("amazonReviewSnippets_GroundTruth.txt", true),
        ("movieReviewSnippets_GroundTruth.txt", false),
        ("nytEditorialSnippets_GroundTruth.txt", false),
    ] {
        let rows = read_ground_truth(&dir.join(file))?;
        let half = if has_dev { rows.len() / 2 } else { rows.len() };
        train.extend(rows[..half].iter().map(example));
        dev.extend(rows[half..].iter().map(example));
    }
    Ok(Split { train, dev })
}

/// Rotten Tomatoes critics' snippets (`train --rotten-tomatoes`): `fresh` →
/// positive, `rotten` → negative; the plot summaries are left out. No human
/// rating, so they train the classes, not the intensity.
pub fn read_rotten_tomatoes(path: &Path) -> Result<Vec<Example>, CorpusError> {
    let err = |reason: String| CorpusError {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut rdr = csv::Reader::from_reader(bzip2::read::BzDecoder::new(file));
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| err(format!("no {name:?} column")))
    };
    let (category, text) = (col("category")?, col("text")?);
    let mut out = Vec::new();
    for row in rdr.records() {
        let row = row.map_err(|e| err(e.to_string()))?;
        let label = match row.get(category) {
            Some("fresh") => Polarity::Positive,
            Some("rotten") => Polarity::Negative,
            _ => continue,
        };
        let text = row.get(text).unwrap_or("").trim();
        if !text.is_empty() {
            out.push(Example {
                text: text.to_string(),
                label,
                rating: None,
            });
        }
    }
    Ok(out)
}

/// The dev split alone, for `eval --dev`.
pub fn vader_dev(dir: &Path) -> Result<Vec<Example>, CorpusError> {
    Ok(vader_split(dir)?.dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotten_tomatoes_fresh_and_rotten_become_labels_plots_are_left_out() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rt.csv.bz2");
        let mut enc = bzip2::write::BzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            bzip2::Compression::default(),
        );
        enc.write_all(
            b"category,text,movie_name,has_plot_and_reviews\n\
              plot,\"A long plot, with a comma.\",x,True\n\
              fresh,A joy from start to finish.,x,True\n\
              rotten,\"Dull, and far too long.\",y,False\n",
        )
        .unwrap();
        enc.finish().unwrap();
        let ex = read_rotten_tomatoes(&path).unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!((ex[0].label, ex[0].rating), (Polarity::Positive, None));
        assert_eq!(ex[1].text, "Dull, and far too long.");
        assert_eq!(ex[1].label, Polarity::Negative);
        assert!(read_rotten_tomatoes(&dir.path().join("missing.bz2")).is_err());
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
