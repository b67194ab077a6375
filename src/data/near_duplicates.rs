//! Texts that differ only in case, punctuation, spacing or stretched letters
//! ("SOOO bad!!!" and "so bad") are one text for keeping data apart: a dev
//! item must not be a training item in other clothes, and the moment sets'
//! tuning and test parts must not share an angry sentence that way.

/// The text with case, punctuation and repeated letters normalised away:
/// equal keys mean near-duplicate texts.
pub fn near_duplicate_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut last: Option<char> = None;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_alphanumeric() { c } else { ' ' };
        // A run of one character ("sooo", "!!!", spaces) counts once.
        if Some(c) == last {
            continue;
        }
        last = Some(c);
        key.push(c);
    }
    key.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::near_duplicate_key;

    #[test]
    fn case_punctuation_and_stretched_letters_do_not_make_a_new_text() {
        let k = near_duplicate_key;
        assert_eq!(k("SOOO bad!!!"), k("so bad"));
        assert_eq!(k("I hate this...  :("), k("i HATE this"));
        assert_eq!(k("good"), k("goooood"));
        assert_ne!(k("so bad"), k("not bad"));
        assert_ne!(k("I love it"), k("I loved it"));
        assert_eq!(k("!!!"), "");
    }
}
