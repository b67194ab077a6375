//! Maps a classifier's own label names onto negative / neutral / positive, so
//! any sentiment model's output can be read the same way.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Negative,
    Neutral,
    Positive,
}

impl Polarity {
    pub const ALL: [Polarity; 3] = [Polarity::Negative, Polarity::Neutral, Polarity::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
            Polarity::Positive => "positive",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The polarity of each label, in class order; an error names labels that
/// carry no sentiment meaning.
pub fn polarities(labels: &[String]) -> Result<Vec<Polarity>, String> {
    let generic = labels
        .iter()
        .all(|l| l.to_ascii_uppercase().starts_with("LABEL_"));
    if generic {
        // The common convention for unnamed sentiment heads.
        return match labels.len() {
            2 => Ok(vec![Polarity::Negative, Polarity::Positive]),
            3 => Ok(vec![
                Polarity::Negative,
                Polarity::Neutral,
                Polarity::Positive,
            ]),
            n => Err(format!(
                "{n} unnamed labels (LABEL_0…): cannot tell which is negative"
            )),
        };
    }
    labels
        .iter()
        .map(|label| {
            let l = label.to_ascii_lowercase();
            if l.contains("neg") {
                Ok(Polarity::Negative)
            } else if l.contains("pos") {
                Ok(Polarity::Positive)
            } else if l.contains("neu") {
                Ok(Polarity::Neutral)
            } else if let Some(stars) = l.split_whitespace().next().and_then(|n| n.parse::<u32>().ok()).filter(|_| l.contains("star")) {
                Ok(match stars {
                    0..=2 => Polarity::Negative,
                    3 => Polarity::Neutral,
                    _ => Polarity::Positive,
                })
            } else {
                Err(format!("label {label:?} is not a sentiment label (expected negative/neutral/positive, N stars or LABEL_k)"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn maps_common_label_schemes() {
        use Polarity::*;
        assert_eq!(
            polarities(&s(&["NEGATIVE", "POSITIVE"])).unwrap(),
            vec![Negative, Positive]
        );
        assert_eq!(
            polarities(&s(&["LABEL_0", "LABEL_1", "LABEL_2"])).unwrap(),
            vec![Negative, Neutral, Positive]
        );
        assert_eq!(
            polarities(&s(&["1 star", "2 stars", "3 stars", "4 stars", "5 stars"])).unwrap(),
            vec![Negative, Negative, Neutral, Positive, Positive]
        );
    }

    #[test]
    fn refuses_labels_without_sentiment() {
        let e = polarities(&s(&["sports", "politics"])).unwrap_err();
        assert!(e.contains("sports"));
    }
}
