//! A team's labels for its own calls (`calltone calibrate --labels FILE`):
//! CSV lines `call_id,label[,start_turn]`, label one of `calm`, `annoyed`,
//! `frustrated`, `irate`; `start_turn` (optional) the turn index where the
//! anger starts. A header line (`call_id,...`) and blank lines are skipped.
//! A bad line is named with its reason and left out; a call labelled twice is
//! refused for both lines, never merged.

use std::collections::HashMap;

use crate::analysis::calibration::Label;

#[derive(Debug, Clone, PartialEq)]
pub struct CallLabel {
    pub call_id: String,
    pub label: Label,
    pub start_turn: Option<usize>,
}

/// The labels read, and each line left out with its reason.
#[derive(Debug, Default)]
pub struct Labels {
    pub labels: Vec<CallLabel>,
    pub errors: Vec<String>,
}

pub fn parse_labels(text: &str) -> Labels {
    let mut out = Labels::default();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut twice: Vec<String> = Vec::new();
    // Line by line (a label never spans lines), so every message names the
    // file's own line number; each line is still read as CSV (quoted ids).
    for (i, text_line) in text.lines().enumerate() {
        let line = i + 1;
        if text_line.trim().is_empty() {
            continue;
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text_line.as_bytes());
        let row = match reader.records().next() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                out.errors.push(format!("line {line}: not CSV: {e}"));
                continue;
            }
            None => continue,
        };
        let field = |k: usize| row.get(k).unwrap_or("");
        if row.iter().all(str::is_empty) || (i == 0 && field(0) == "call_id") {
            continue;
        }
        if !(2..=3).contains(&row.len()) {
            out.errors.push(format!(
                "line {line}: {} fields; expected call_id,label[,start_turn]",
                row.len()
            ));
            continue;
        }
        let call_id = field(0).to_string();
        if call_id.is_empty() {
            out.errors.push(format!("line {line}: no call_id"));
            continue;
        }
        let Some(label) = Label::parse(field(1)) else {
            out.errors.push(format!(
                "line {line}: label {:?} is not calm, annoyed, frustrated or irate",
                field(1)
            ));
            continue;
        };
        let start_turn = match field(2) {
            "" => None,
            s => match s.parse::<usize>() {
                Ok(n) => Some(n),
                Err(_) => {
                    out.errors.push(format!(
                        "line {line}: start_turn {s:?} is not a turn number"
                    ));
                    continue;
                }
            },
        };
        if let Some(&earlier) = first_line.get(&call_id) {
            out.errors.push(format!(
                "line {line}: call {call_id:?} is labelled again (first on line {earlier}); \
                 both lines are left out"
            ));
            twice.push(call_id);
            continue;
        }
        first_line.insert(call_id.clone(), line);
        out.labels.push(CallLabel {
            call_id,
            label,
            start_turn,
        });
    }
    out.labels.retain(|l| !twice.contains(&l.call_id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labels_names_bad_lines_and_refuses_a_call_labelled_twice() {
        let l = parse_labels(
            "call_id,label,start_turn\n\
             c1,calm\n\
             c2, Irate ,5\n\
             c3,grumpy\n\
             c4,annoyed,x\n\
             c5,frustrated\n\
             c5,calm\n\
             \n\
             c6\n",
        );
        let ids: Vec<(&str, Label, Option<usize>)> = l
            .labels
            .iter()
            .map(|c| (c.call_id.as_str(), c.label, c.start_turn))
            .collect();
        assert_eq!(
            ids,
            [("c1", Label::Calm, None), ("c2", Label::Irate, Some(5))]
        );
        assert_eq!(l.errors.len(), 4, "{:?}", l.errors);
        assert!(l.errors[0].starts_with("line 4: label \"grumpy\""));
        assert!(l.errors[1].contains("start_turn \"x\""));
        assert!(l.errors[2].contains("labelled again (first on line 6)"));
        assert!(
            l.errors[3].starts_with("line 9: 1 fields"),
            "{:?}",
            l.errors
        );
    }
}
