//! WebVTT and SRT captions. Cues become pieces of speech with a speaker taken
//! from a WebVTT voice span (`<v Name>`), a Deepgram-style `[speaker N]` line,
//! or a `Name:` prefix; then pieces are joined into turns.

use super::time::parse_clock;
use super::words::{join, Piece, TurnJoin};
use super::Turn;

/// `00:01.000 --> 00:02.500 align:start` → (start, end).
fn timing(line: &str) -> Option<(u64, u64)> {
    let (a, rest) = line.split_once("-->")?;
    let b = rest.split_whitespace().next()?;
    Some((parse_clock(a.trim())?, parse_clock(b)?))
}

/// Removes markup tags (`<i>`, `</v>`, `<c.x>`, timestamps) and decodes the
/// entities captions use.
pub fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
}

/// The voice of a WebVTT payload: `<v.loud Mary>` → `Mary`.
fn voice(payload: &str) -> Option<String> {
    let start = payload.find("<v")?;
    let rest = &payload[start + 2..];
    if !rest.starts_with([' ', '.', '\t']) {
        return None;
    }
    let end = rest.find('>')?;
    let inner = rest[..end].trim_start_matches(|c: char| c != ' ' && c != '\t');
    let name = inner.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// `Name: text` at the start of a cue.
fn prefix_speaker(text: &str) -> Option<(String, String)> {
    let (name, rest) = text.split_once(':')?;
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 40
        && name.split_whitespace().count() <= 4
        && !name.chars().any(|c| c.is_ascii_digit() && name.len() < 3);
    ok.then(|| (name.to_string(), rest.trim().to_string()))
}

/// `[speaker 1]` on its own line.
fn speaker_line(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix('[')?.strip_suffix(']')?;
    let lower = inner.to_ascii_lowercase();
    lower
        .starts_with("speaker")
        .then(|| inner.trim().to_string())
}

/// `Ok` when `text` is WebVTT, else why not.
pub fn looks_like_webvtt(text: &str) -> Result<(), String> {
    if super::first_line(text).starts_with("WEBVTT") {
        Ok(())
    } else {
        Err("does not start with WEBVTT".into())
    }
}

/// `Ok` when `text` is SubRip (a numbered cue, then a `-->` timing line),
/// else why not.
pub fn looks_like_srt(text: &str) -> Result<(), String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let index = lines.next().unwrap_or("");
    let timing = lines.next().unwrap_or("");
    if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) && timing.contains("-->") {
        Ok(())
    } else {
        Err("no numbered cue with a `-->` timing line".into())
    }
}

pub fn parse(
    text: &str,
    webvtt: bool,
    rule: TurnJoin,
    max_turn_bytes: usize,
) -> Result<Vec<Turn>, String> {
    let text = text.replace("\r\n", "\n");
    let mut blocks = text.split("\n\n").map(str::trim).filter(|b| !b.is_empty());
    if webvtt {
        match blocks.next() {
            Some(h) if h.starts_with("WEBVTT") => {}
            _ => return Err("a WebVTT file starts with `WEBVTT`".into()),
        }
    }
    let mut pieces = Vec::new();
    let mut current: Option<String> = None;
    let mut cues = 0usize;
    for block in blocks {
        if webvtt
            && (block.starts_with("NOTE")
                || block.starts_with("STYLE")
                || block.starts_with("REGION"))
        {
            continue;
        }
        let lines: Vec<&str> = block.lines().collect();
        let Some(t_idx) = lines.iter().position(|l| l.contains("-->")) else {
            continue;
        };
        let (start, end) = timing(lines[t_idx])
            .ok_or_else(|| format!("cue {}: bad timing line {:?}", cues + 1, lines[t_idx]))?;
        cues += 1;
        let mut payload = Vec::new();
        for l in &lines[t_idx + 1..] {
            if let Some(s) = speaker_line(l) {
                current = Some(s);
            } else {
                payload.push(*l);
            }
        }
        let raw = payload.join(" ");
        let mut speaker = voice(&raw).or_else(|| current.clone());
        let mut body = strip_tags(&raw).trim().to_string();
        if speaker.is_none() || !webvtt {
            if let Some((name, rest)) = prefix_speaker(&body) {
                speaker = Some(name);
                body = rest;
            }
        }
        if body.len() > max_turn_bytes {
            return Err(format!("cue {cues}: longer than {max_turn_bytes} bytes"));
        }
        pieces.push(Piece {
            speaker: speaker.unwrap_or_else(|| "unknown".into()),
            start_ms: Some(start),
            end_ms: Some(end),
            text: body,
        });
    }
    if cues == 0 {
        return Err("no cues (`start --> end` lines) found".into());
    }
    let turns = join(pieces, rule);
    if turns.iter().any(|t| t.text.len() > max_turn_bytes) {
        return Err(format!(
            "a joined turn is longer than {max_turn_bytes} bytes"
        ));
    }
    Ok(turns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_voices_and_tags() {
        let t = parse(
            "WEBVTT\n\nNOTE hi\n\n00:00.000 --> 00:02.000\n<v.first.loud Esme>It's a blue apple tree!\n\n00:02.000 --> 00:04.000\n<v Mary>No way!\n\n00:04.000 --> 00:06.000\n<v Esme>Hee!</v> <i>laughter</i>\n",
            true,
            TurnJoin::default(),
            1000,
        )
        .unwrap();
        let s: Vec<(&str, &str)> = t
            .iter()
            .map(|t| (t.speaker.as_str(), t.text.as_str()))
            .collect();
        assert_eq!(
            s,
            vec![
                ("Esme", "It's a blue apple tree!"),
                ("Mary", "No way!"),
                ("Esme", "Hee! laughter")
            ]
        );
        assert_eq!((t[1].start_ms, t[1].end_ms), (Some(2000), Some(4000)));
    }

    #[test]
    fn srt_speaker_lines_and_prefixes() {
        let t = parse(
            "1\n00:00:00,080 --> 00:00:04,120\n[speaker 0]\nYeah. As much as,\n\n2\n00:00:04,400 --> 00:00:08,200\nit's worth it\n\n3\n00:00:09,000 --> 00:00:10,000\n[speaker 1]\nRight.\n\n4\n00:00:11,000 --> 00:00:12,000\nAgent: Thanks.\n",
            false,
            TurnJoin::default(),
            1000,
        )
        .unwrap();
        let s: Vec<(&str, &str)> = t
            .iter()
            .map(|t| (t.speaker.as_str(), t.text.as_str()))
            .collect();
        assert_eq!(
            s,
            vec![
                ("speaker 0", "Yeah. As much as, it's worth it"),
                ("speaker 1", "Right."),
                ("Agent", "Thanks.")
            ]
        );
    }
}
