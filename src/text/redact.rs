//! PII redaction for everything calltone writes. The model reads the original
//! text; records, reports and evidence quotes carry the redacted text unless
//! the user asks otherwise (`--no-redact`).
//!
//! What is masked, in this order (earlier kinds win over later ones):
//! e-mail addresses → `[EMAIL]`; card numbers of 13–19 digits that pass the
//! Luhn check → `[CARD]`; SSN-like `123-45-6789` → `[SSN]`; phone numbers
//! (NANP with or without `+1`, and `+`-prefixed international) → `[PHONE]`;
//! any other run of 6 or more digits (spaces or dashes allowed between them,
//! as speech-to-text writes account numbers) → `[NUMBER]`; and six or more
//! spoken digits in a row ("four one one two oh nine") → `[NUMBER]`.
//! Placeholders never match a pattern again, so redacting twice is harmless.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::transcript::Conversation;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b").expect("email")
});
/// 13–19 digits with optional single space or dash separators.
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("card"));
static SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b").expect("ssn"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)\s?|\b\d{3}[ .-]?)\d{3}[ .-]?\d{4}\b",
        r"|\+\d{1,3}(?:[ .-]?\d){7,12}\b"
    ))
    .expect("phone")
});
static DIGIT_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){5,}\b").expect("digits"));
static SPOKEN_DIGITS: LazyLock<Regex> = LazyLock::new(|| {
    let d = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)";
    Regex::new(&format!(r"(?i)\b{d}(?:[ ,.-]+{d}){{5,}}\b")).expect("spoken")
});

/// True when the digits pass the Luhn checksum used by payment cards.
pub fn luhn_valid(digits: &str) -> bool {
    let ds: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if ds.len() < 2 {
        return false;
    }
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn replace<'a>(text: Cow<'a, str>, re: &Regex, with: &str) -> Cow<'a, str> {
    if !re.is_match(&text) {
        return text;
    }
    Cow::Owned(re.replace_all(&text, with).into_owned())
}

/// A copy of the conversation with every turn's text redacted (what is
/// written; the model has already read the original).
pub fn redact_conversation(conv: &Conversation) -> Conversation {
    let mut out = conv.clone();
    for t in &mut out.turns {
        if let Cow::Owned(r) = redact(&t.text) {
            t.text = r;
        }
    }
    out
}

/// The text with personal data masked; borrowed unchanged when there was none.
pub fn redact(text: &str) -> Cow<'_, str> {
    // Cheap exit: every pattern needs a digit, an `@` or a spoken digit word.
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    let mut out = Cow::Borrowed(text);
    if text.contains('@') {
        out = replace(out, &EMAIL, "[EMAIL]");
    }
    if has_digit {
        if CARD.is_match(&out) {
            let replaced = CARD.replace_all(&out, |c: &Captures| {
                if luhn_valid(&c[0]) {
                    "[CARD]".to_string()
                } else {
                    c[0].to_string()
                }
            });
            out = Cow::Owned(replaced.into_owned());
        }
        out = replace(out, &SSN, "[SSN]");
        out = replace(out, &PHONE, "[PHONE]");
        out = replace(out, &DIGIT_RUN, "[NUMBER]");
    }
    replace(out, &SPOKEN_DIGITS, "[NUMBER]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_typos() {
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("5500-0000-0000-0004"));
        assert!(!luhn_valid("4111 1111 1111 1112"));
    }

    #[test]
    fn masks_each_kind() {
        let cases = [
            ("card 4111 1111 1111 1111 ok", "card [CARD] ok"),
            ("card 4111-1111-1111-1111.", "card [CARD]."),
            ("mail jo.smith+x@mail.example.co.uk now", "mail [EMAIL] now"),
            ("ssn 123-45-6789", "ssn [SSN]"),
            (
                "call (555) 123-4567 or 555.123.4567",
                "call [PHONE] or [PHONE]",
            ),
            ("call +1 555 123 4567", "call [PHONE]"),
            ("ring +44 20 7946 0958", "ring [PHONE]"),
            ("account 88412 0093", "account [NUMBER]"),
            ("it's four one one two oh nine", "it's [NUMBER]"),
            // Not a valid card: still a long digit run.
            ("4111 1111 1111 1112", "[NUMBER]"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input}");
        }
    }

    #[test]
    fn leaves_ordinary_numbers_and_text_alone() {
        for s in [
            "I called at 10:30 on 12/03/2026 about $1,250.00",
            "order 12345 arrived",
            "one or two things",
            "I have been waiting for 45 minutes",
        ] {
            assert!(matches!(redact(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let once = redact("4111111111111111 and a@b.io and 555-123-4567").into_owned();
        assert_eq!(redact(&once), once);
        assert_eq!(once, "[CARD] and [EMAIL] and [PHONE]");
    }
}
