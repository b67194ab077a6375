//! What a listener hears in a customer's words but a sentiment score flattens:
//! shouting, `!!!`, profanity, and the things angry customers say ("third
//! time I'm calling", "let me speak to your manager", "cancel my account").
//!
//! Cues come in two kinds. *Intensifiers* (capitals, `!!!`, profanity, strong
//! words, sarcasm markers) make a negative turn stronger but also appear in
//! delight ("AMAZING!!!", a sincere "oh brilliant, thanks"), so they count only
//! as far as the turn is not read as positive. *Intents* (asking for a manager,
//! cancelling, threats, "I already told you", demands) are anger whatever the
//! wording around them, so a polite word never cancels them.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::cues::Cue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CueKind {
    Intensifier,
    Intent,
}

/// One cue found in a turn, with the words that triggered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexicalCue {
    pub cue: Cue,
    pub kind: CueKind,
    pub quote: String,
}

struct CuePattern {
    cue: Cue,
    kind: CueKind,
    re: Regex,
}

fn pattern(cue: Cue, kind: CueKind, re: &str) -> CuePattern {
    CuePattern {
        cue,
        kind,
        re: Regex::new(&format!("(?i){re}")).unwrap_or_else(|e| panic!("cue {cue}: {e}")),
    }
}

static PATTERNS: LazyLock<Vec<CuePattern>> = LazyLock::new(|| {
    use CueKind::*;
    vec![
        pattern(
            Cue::Exclamation,
            Intensifier,
            r"!{2,}|\?+!+[?!]*|!+\?+[?!]*",
        ),
        pattern(
            Cue::Profanity,
            Intensifier,
            concat!(
                r"\b(?:f+u+c+k\w*|shit\w*|bullshit|crap(?:py)?|damn(?:ed|it)?|goddamn\w*|",
                r"bastards?|assholes?|dickheads?|bloody|piss(?:ed)?|wtf|screw (?:you|this|that)|",
                r"what the hell|the hell|sucks?)\b|\b[fs]\*{2,}\w*"
            ),
        ),
        pattern(
            Cue::RepeatContact,
            Intent,
            concat!(
                r"\b(?:second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th)) time\s+(?:that\s+)?",
                r"(?:i'?ve|i have|i'?m|i am|i)?\s*(?:been\s+)?",
                r"(?:call|contact|phon|writ|ask|explain|chat)\w*",
                r"|\bcalled\s+(?:you\s+|here\s+|in\s+)?(?:three|four|five|six|several|many|multiple|so many|\d+)\s+times\b",
                r"|\b(?:every|each) time i (?:call|ring|write|chat)\b",
                r"|\bkeep (?:getting )?(?:transferred|passed around|put on hold|calling)\b",
                r"|\bagain and again\b"
            ),
        ),
        pattern(
            Cue::AlreadyTold,
            Intent,
            concat!(
                r"\bi(?:'ve| have)? (?:already|just) (?:told|said|explained|gave|given|sent)\b",
                r"|\bas i (?:already |just )?(?:said|told you|mentioned|explained)\b",
                r"|\bhow many times (?:do|have|must|should) i\b",
                r"|\bi(?:'ve| have) (?:told|explained) (?:you|this|that) (?:already|before|twice)\b",
                r"|\b(?:are|were) you (?:even )?listening\b|\bnot listening\b"
            ),
        ),
        pattern(
            Cue::Escalation,
            Intent,
            concat!(
                r"\b(?:speak|talk|get me|put me through|transfer me) (?:to|with)? ?(?:a |an |your |the |someone'?s? )?",
                r"(?:manager|supervisor|boss|superior|someone in charge|someone (?:else|senior|competent))\b",
                r"|\bescalat(?:e|ing) (?:this|it|my)\b|\b(?:your|a|the) (?:manager|supervisor),? (?:now|please)\b"
            ),
        ),
        pattern(
            Cue::Cancel,
            Intent,
            concat!(
                r"\b(?:cancel|close|terminate|shut down|end) (?:my|the|this|our) ",
                r"(?:whole )?(?:account|subscription|service|contract|membership|plan|policy|card)s?\b",
                r"|\bcancel(?:ling|ing)? (?:everything|it all)\b"
            ),
        ),
        pattern(
            Cue::ChurnThreat,
            Intent,
            concat!(
                r"\b(?:switch(?:ing)?|go(?:ing)?|mov(?:e|ing)|tak(?:e|ing) my (?:business|money)) (?:to|over to) (?:a |another|your |the )?(?:competitor|competition|another|someone else|elsewhere)\b",
                r"|\btak(?:e|ing) my (?:business|money) elsewhere\b",
                r"|\b(?:never|not) (?:going to |gonna )?(?:use|buy from|shop (?:here|with you)|order from|fly with|bank with|come back to) (?:you|your|this|here)\w*\b",
                r"|\b(?:file|make|lodge|put in|submit) an? (?:formal |official )?complaint\b",
                r"|\b(?:lawyer|attorney|legal action|sue you|small claims|better business bureau|ombudsman|trading standards)\b",
                r"|\breport (?:you|this|your company)\b|\b(?:bad|terrible|one[- ]star) review\b",
                r"|\bpost (?:this|about (?:this|you)) (?:on|online)\b"
            ),
        ),
        pattern(
            Cue::Sarcasm,
            Intensifier,
            concat!(
                r"\boh,? (?:great|wonderful|perfect|fantastic|brilliant|lovely|terrific)\b",
                r"|\b(?:yeah|yea) right\b|\bthanks for nothing\b|\bthanks a lot\b(?:\.{3}|,? really)",
                r"|\bjust (?:great|perfect|wonderful|brilliant|fantastic)\b",
                r"|\b(?:great|wonderful|fantastic) (?:job|service|help)\b[^.!?]*(?:not|really|\.{3})",
                r"|\bwhat a (?:surprise|joke)\b|\bsure you (?:are|do|will|did)\b",
                r"|\bbecause that(?:'s| is) (?:so )?helpful\b|\bvery helpful,? (?:not|thanks)\b"
            ),
        ),
        pattern(
            Cue::Demand,
            Intent,
            concat!(
                r"\b(?:fix|sort|solve|refund|handle|deal with) (?:this|it|that|my \w+)(?: out)? (?:right )?(?:now|today|immediately)\b",
                r"|\bi demand\b",
                r"|\bi want (?:this|it|my \w+) (?:fixed|sorted|refunded|done|resolved|back) (?:right )?(?:now|today|immediately)\b"
            ),
        ),
        pattern(
            Cue::StrongWords,
            Intensifier,
            concat!(
                r"\b(?:unacceptable|ridiculous|outrageous|absurd|disgraceful|a disgrace|incompetent|pathetic|useless|appalling)\b",
                r"|\b(?:fed up|sick (?:and tired )?of|had enough|done with (?:you|this))\b"
            ),
        ),
    ]
});

/// A run of words in capitals: two or more words of at least three letters
/// (or one of at least six), fully upper-case, in a turn that is not all
/// capitals anyway because the transcriber writes that way.
fn shouting(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let letters = |w: &str| w.chars().filter(|c| c.is_alphabetic()).count();
    let is_caps = |w: &str| {
        // Redaction placeholders ([CARD], [NUMBER]) are not shouting.
        !w.contains('[')
            && letters(w) >= 3
            && w.chars()
                .filter(|c| c.is_alphabetic())
                .all(|c| c.is_uppercase())
            && !matches!(
                w.trim_matches(|c: char| !c.is_alphanumeric()),
                "USA"
                    | "ATM"
                    | "PIN"
                    | "SMS"
                    | "CEO"
                    | "FAQ"
                    | "ETA"
                    | "USB"
                    | "DVD"
                    | "VIP"
                    | "IRS"
            )
    };
    let caps_words = words.iter().filter(|w| is_caps(w)).count();
    let lettered = words.iter().filter(|w| letters(w) >= 3).count();
    // Everything in capitals is a transcriber's style, not shouting.
    if lettered >= 4 && caps_words == lettered {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < words.len() {
        if is_caps(words[i]) {
            let start = i;
            while i < words.len() && is_caps(words[i]) {
                i += 1;
            }
            let run = i - start;
            if (run >= 2 || letters(words[start]) >= 6) && best.is_none_or(|(s, e)| e - s < run) {
                best = Some((start, i));
            }
        } else {
            i += 1;
        }
    }
    best.map(|(s, e)| words[s..e].join(" "))
}

/// Every cue in a turn's text, each with its quote (first match per cue).
pub fn lexical_cues(text: &str) -> Vec<LexicalCue> {
    let mut cues = Vec::new();
    if let Some(quote) = shouting(text) {
        cues.push(LexicalCue {
            cue: Cue::Shouting,
            kind: CueKind::Intensifier,
            quote,
        });
    }
    for p in PATTERNS.iter() {
        if let Some(m) = p.re.find(text) {
            cues.push(LexicalCue {
                cue: p.cue,
                kind: p.kind,
                quote: m.as_str().to_string(),
            });
        }
    }
    cues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&'static str> {
        lexical_cues(text).iter().map(|c| c.cue.as_str()).collect()
    }

    #[test]
    fn finds_each_cue_with_its_quote() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "This is the THIRD TIME I have called",
                "shouting",
                "THIRD TIME",
            ),
            ("Why is this happening!!!", "exclamation", "!!!"),
            ("Are you serious?!", "exclamation", "?!"),
            ("this is bullshit", "profanity", "bullshit"),
            ("what the f*** is going on", "profanity", "f***"),
            (
                "This is the third time I'm calling about it",
                "repeat_contact",
                "third time I'm calling",
            ),
            (
                "I've called five times this week",
                "repeat_contact",
                "called five times",
            ),
            (
                "I already told you my address",
                "already_told",
                "I already told",
            ),
            (
                "How many times do I have to say it",
                "already_told",
                "How many times do I",
            ),
            (
                "Let me speak to your manager",
                "escalation",
                "speak to your manager",
            ),
            (
                "I want to talk to a supervisor",
                "escalation",
                "talk to a supervisor",
            ),
            ("Just cancel my account", "cancel", "cancel my account"),
            (
                "I'm taking my business elsewhere",
                "churn_threat",
                "taking my business elsewhere",
            ),
            (
                "I will file a complaint",
                "churn_threat",
                "file a complaint",
            ),
            ("Oh great, another transfer", "sarcasm", "Oh great"),
            ("Thanks for nothing", "sarcasm", "Thanks for nothing"),
            ("Kindly fix this now", "demand", "fix this now"),
            (
                "This is absolutely unacceptable",
                "strong_words",
                "unacceptable",
            ),
        ];
        for (text, cue, quote) in cases {
            let found = lexical_cues(text);
            let hit = found.iter().find(|c| c.cue.as_str() == *cue);
            assert!(hit.is_some(), "{cue} not found in {text:?}: {found:?}");
            assert_eq!(hit.unwrap().quote, *quote, "{text}");
        }
    }

    #[test]
    fn ordinary_and_happy_talk_has_no_intent_cues() {
        for text in [
            "Hi, I'd like to check on my order please",
            "Thank you so much, that's great help!",
            "I'm calling about my bill from March",
            "Can I talk to you about my plan?",
            "I went to the store and it was fine",
            "My manager said I could take the day off",
            "I called my mom yesterday",
            "The first time I tried it I loved it",
        ] {
            let intents: Vec<_> = lexical_cues(text)
                .into_iter()
                .filter(|c| c.kind == CueKind::Intent)
                .collect();
            assert!(intents.is_empty(), "{text}: {intents:?}");
        }
    }

    #[test]
    fn capitals_need_a_run_and_not_a_shouty_transcriber() {
        assert_eq!(names("I have a PIN and an ATM card"), Vec::<&str>::new());
        assert_eq!(
            names("THIS IS ALL CAPS BECAUSE THE SYSTEM WRITES THAT WAY"),
            Vec::<&str>::new()
        );
        assert_eq!(names("I am NOT paying for this"), Vec::<&str>::new());
        assert_eq!(names("I am NOT PAYING for this"), vec!["shouting"]);
        assert_eq!(names("ABSOLUTELY not"), vec!["shouting"]);
        assert_eq!(
            names("It's [NUMBER]. And [EMAIL] [PHONE]"),
            Vec::<&str>::new()
        );
    }
}
