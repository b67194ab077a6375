//! Plain-text transcripts: `Speaker: text` lines, each optionally opened by a
//! `[hh:mm:ss]` (or `[mm:ss]`) stamp. A line without a speaker continues the
//! turn before it; blank lines are ignored.

use super::roles::role_from_label;
use super::time::parse_clock;
use super::{Role, Turn};

/// Splits a leading `[clock]` (or `[clock - clock]`) stamp off a line.
fn take_stamp(line: &str) -> (Option<u64>, Option<u64>, &str) {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix('[') {
        if let Some(close) = rest.find(']') {
            let inside = &rest[..close];
            let mut parts = inside
                .split(['-', '>'])
                .map(str::trim)
                .filter(|p| !p.is_empty());
            if let Some(start) = parts.next().and_then(parse_clock) {
                let end = parts.next().and_then(parse_clock);
                return (Some(start), end, rest[close + 1..].trim_start());
            }
        }
    }
    (None, None, t)
}

/// A `Speaker:` prefix: short, not a URL or a clock, at most five words.
fn take_speaker(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let name = line[..colon].trim();
    let rest = &line[colon + 1..];
    let ok = !name.is_empty()
        && name.chars().count() <= 40
        && name.split_whitespace().count() <= 5
        && !rest.starts_with("//")
        && !name.chars().all(|c| c.is_ascii_digit())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '(');
    ok.then(|| (name, rest.trim()))
}

/// `Ok` unless `text` (or `json`, its parse when it is one JSON document)
/// looks like JSON: plain text is the format of last resort, and a JSON file
/// no reader knows must be refused, not read as speech.
pub fn looks_like(text: &str, json: Option<&serde_json::Value>) -> Result<(), String> {
    let first = super::first_line(text);
    // `[00:00:02] Agent: …` opens with a bracket too: only real JSON is refused.
    if json.is_some()
        || first.starts_with('{')
        || (first.starts_with('[') && serde_json::from_str::<serde_json::Value>(first).is_ok())
    {
        Err("it looks like JSON".into())
    } else {
        Ok(())
    }
}

/// Parses the text of one transcript. `Err` explains what was wrong.
pub fn parse(text: &str, max_turn_bytes: usize) -> Result<Vec<Turn>, String> {
    let mut turns: Vec<Turn> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (start, end, rest) = take_stamp(line);
        match take_speaker(rest) {
            Some((speaker, body)) => turns.push(Turn {
                speaker: speaker.to_string(),
                role: role_from_label(speaker).unwrap_or(Role::Unknown),
                role_inferred: false,
                wall_clock_ms: None,
                start_ms: start,
                end_ms: end,
                text: body.to_string(),
            }),
            None => match turns.last_mut() {
                Some(last) => {
                    if !last.text.is_empty() {
                        last.text.push(' ');
                    }
                    last.text.push_str(rest.trim());
                }
                None => {
                    return Err(format!(
                        "line {}: expected `Speaker: text`, found {:?}",
                        n + 1,
                        preview(rest)
                    ))
                }
            },
        }
        if let Some(last) = turns.last() {
            if last.text.len() > max_turn_bytes {
                return Err(format!(
                    "line {}: a turn longer than {} bytes (limit --max-turn-bytes); is this a transcript?",
                    n + 1,
                    max_turn_bytes
                ));
            }
        }
    }
    if turns.is_empty() {
        return Err("no `Speaker: text` lines found".into());
    }
    Ok(turns)
}

fn preview(s: &str) -> String {
    let p: String = s.chars().take(40).collect();
    if p.len() < s.len() {
        format!("{p}…")
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speakers_stamps_and_continuations() {
        let t = parse(
            "[00:00:01] Agent: Thanks for calling.\n\n[00:00:04] Customer: My bill is wrong.\nIt doubled.\nAgent: Let me check: one moment.\n",
            1000,
        )
        .unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].start_ms, Some(1000));
        assert_eq!(t[1].text, "My bill is wrong. It doubled.");
        assert_eq!(t[1].role, Role::Customer);
        assert_eq!(t[2].text, "Let me check: one moment.");
        assert_eq!(t[2].start_ms, None);
    }

    #[test]
    fn rejects_non_transcripts() {
        assert!(parse("just some words\nwithout speakers", 1000)
            .unwrap_err()
            .contains("line 1"));
        assert!(parse("", 1000).is_err());
        let long = format!("Customer: {}", "a".repeat(2000));
        assert!(parse(&long, 1000).unwrap_err().contains("longer than"));
    }
}
