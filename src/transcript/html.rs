//! Chat bodies arrive as HTML (`<p>Thanks again :)</p>`): tags go, block
//! tags and `<br>` become spaces, entities are decoded, whitespace collapses.

pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        match rest[open..].find('>') {
            Some(close) => {
                let tag = rest[open + 1..open + close]
                    .trim_start_matches('/')
                    .to_ascii_lowercase();
                let name: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                if matches!(
                    name.as_str(),
                    "p" | "br" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "blockquote"
                ) {
                    out.push(' ');
                }
                rest = &rest[open + close + 1..];
            }
            None => {
                // A lone `<` is text ("a < b").
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let decoded = html_escape::decode_html_entities(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes() {
        assert_eq!(to_text("<p>Thanks again :)</p>"), "Thanks again :)");
        assert_eq!(
            to_text("<p>One</p><p>Two &amp; three</p>line<br/>break"),
            "One Two & three line break"
        );
        assert_eq!(to_text("a < b &lt; c"), "a < b < c");
        assert_eq!(to_text("<b>bold</b> and <i>it&#39;s</i>"), "bold and it's");
    }
}
