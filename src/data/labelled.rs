//! Labelled text for `eval` and `train --data`: CSV, TSV or JSONL with a
//! `text` field and a `label` that is negative/neutral/positive, 0/1, or a
//! numeric rating on VADER's -4..+4 scale (a `rating` column also works).

use std::path::Path;

use serde_json::Value;

use crate::model::Polarity;

/// One labelled text.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub label: Polarity,
    /// The human mean rating on -4..+4, when the data has one.
    pub rating: Option<f32>,
    /// How likely each class (negative, neutral, positive) would be the label
    /// if the raters were drawn again, when the individual ratings are known;
    /// `None` when the label is taken as certain.
    pub class_target: Option<[f32; 3]>,
}

/// Ratings inside this band around zero count as neutral.
pub const NEUTRAL_BAND: f32 = 0.5;

pub fn polarity_of_rating(r: f32) -> Polarity {
    if r >= NEUTRAL_BAND {
        Polarity::Positive
    } else if r <= -NEUTRAL_BAND {
        Polarity::Negative
    } else {
        Polarity::Neutral
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LabelledError {
    #[error("{path}: {reason}")]
    Bad { path: String, reason: String },
}

fn bad(path: &Path, reason: impl Into<String>) -> LabelledError {
    LabelledError::Bad {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// A raw label before the file-wide decision on what numbers mean.
enum RawLabel {
    Name(Polarity),
    Number(f32),
}

fn parse_label(s: &str) -> Option<RawLabel> {
    let t = s.trim().to_ascii_lowercase();
    match t.as_str() {
        "negative" | "neg" => Some(RawLabel::Name(Polarity::Negative)),
        "neutral" | "neu" => Some(RawLabel::Name(Polarity::Neutral)),
        "positive" | "pos" => Some(RawLabel::Name(Polarity::Positive)),
        _ => t
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .map(RawLabel::Number),
    }
}

pub fn read_labelled(path: &Path) -> Result<Vec<Example>, LabelledError> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| bad(path, "not UTF-8 text"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let first = text.trim_start().chars().next();
    let rows: Vec<(String, Option<String>, Option<String>)> =
        if ext == "jsonl" || ext == "json" || first == Some('{') {
            read_jsonl(path, &text)?
        } else {
            let delim = if ext == "tsv"
                || (ext != "csv" && text.lines().next().is_some_and(|l| l.contains('\t')))
            {
                b'\t'
            } else {
                b','
            };
            read_delimited(path, &text, delim)?
        };
    if rows.is_empty() {
        return Err(bad(path, "no labelled rows"));
    }
    let mut raw = Vec::with_capacity(rows.len());
    for (i, (t, label, rating)) in rows.into_iter().enumerate() {
        let rating = match rating {
            Some(r) if !r.trim().is_empty() => Some(
                r.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        bad(path, format!("row {}: rating {r:?} is not a number", i + 1))
                    })?,
            ),
            _ => None,
        };
        let label = match label {
            Some(l) if !l.trim().is_empty() => Some(parse_label(&l).ok_or_else(|| {
                bad(
                    path,
                    format!(
                        "row {}: label {l:?} is not negative/neutral/positive or a number",
                        i + 1
                    ),
                )
            })?),
            _ => None,
        };
        if label.is_none() && rating.is_none() {
            return Err(bad(path, format!("row {}: no label", i + 1)));
        }
        raw.push((t, label, rating));
    }
    // 0/1 labels are binary (negative/positive) when no other number occurs.
    let binary = raw.iter().all(|(_, l, _)| match l {
        Some(RawLabel::Number(v)) => *v == 0.0 || *v == 1.0,
        _ => true,
    }) && raw
        .iter()
        .any(|(_, l, _)| matches!(l, Some(RawLabel::Number(_))));
    Ok(raw
        .into_iter()
        .map(|(text, label, rating)| {
            let (label, rating) = match (label, rating) {
                (Some(RawLabel::Name(p)), r) => (p, r),
                (Some(RawLabel::Number(v)), r) if binary => (
                    if v >= 0.5 {
                        Polarity::Positive
                    } else {
                        Polarity::Negative
                    },
                    r,
                ),
                (Some(RawLabel::Number(v)), _) => (polarity_of_rating(v), Some(v)),
                (None, Some(r)) => (polarity_of_rating(r), Some(r)),
                (None, None) => unreachable!("checked above"),
            };
            Example {
                text,
                label,
                rating,
                class_target: None,
            }
        })
        .collect())
}

type Row = (String, Option<String>, Option<String>);

fn value_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some((*b as u8).to_string()),
        _ => None,
    }
}

fn read_jsonl(path: &Path, text: &str) -> Result<Vec<Row>, LabelledError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| bad(path, format!("line {}: {e}", i + 1)))?;
        let t = v
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(path, format!("line {}: no \"text\" string", i + 1)))?;
        rows.push((
            t.to_string(),
            value_str(v.get("label")),
            value_str(v.get("rating")),
        ));
    }
    Ok(rows)
}

fn read_delimited(path: &Path, text: &str, delim: u8) -> Result<Vec<Row>, LabelledError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| bad(path, e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let text_col = col("text").ok_or_else(|| bad(path, "no `text` column in the header"))?;
    let label_col = col("label");
    let rating_col = col("rating");
    if label_col.is_none() && rating_col.is_none() {
        return Err(bad(path, "no `label` or `rating` column in the header"));
    }
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(path, format!("row {}: {e}", i + 1)))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::to_string);
        let t = get(Some(text_col)).ok_or_else(|| bad(path, format!("row {}: no text", i + 1)))?;
        rows.push((t, get(label_col), get(rating_col)));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(name: &str, body: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        (dir, p)
    }

    #[test]
    fn reads_each_label_kind() {
        let (_d, p) = write(
            "a.csv",
            "text,label\n\"great, thanks\",positive\nawful,negative\nok,neutral\n",
        );
        let ex = read_labelled(&p).unwrap();
        assert_eq!(
            ex.iter().map(|e| e.label).collect::<Vec<_>>(),
            vec![Polarity::Positive, Polarity::Negative, Polarity::Neutral]
        );
        assert_eq!(ex[0].text, "great, thanks");

        let (_d, p) = write("b.tsv", "text\tlabel\nbad\t0\ngood\t1\n");
        let ex = read_labelled(&p).unwrap();
        assert_eq!(ex[0].label, Polarity::Negative);
        assert_eq!(ex[1].label, Polarity::Positive);
        assert_eq!(ex[1].rating, None);

        let (_d, p) = write(
            "c.jsonl",
            "{\"text\":\"meh\",\"label\":0.2}\n{\"text\":\"hate it\",\"label\":-3.1}\n",
        );
        let ex = read_labelled(&p).unwrap();
        assert_eq!(ex[0].label, Polarity::Neutral);
        assert_eq!(ex[1].rating, Some(-3.1));
    }

    #[test]
    fn errors_name_the_file_and_row() {
        let (_d, p) = write("bad.csv", "text,label\nfine,happy\n");
        let e = read_labelled(&p).unwrap_err().to_string();
        assert!(
            e.contains("bad.csv") && e.contains("row 1") && e.contains("happy"),
            "{e}"
        );
        let (_d, p) = write("nolabel.csv", "text,score\nfine,1\n");
        assert!(read_labelled(&p).unwrap_err().to_string().contains("label"));
    }
}
