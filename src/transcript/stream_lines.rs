//! Lines of a live input (`calltone stream`'s standard input), read as
//! bytes: a line that is not UTF-8 or is too long is one bad line, named by
//! its number, not the end of the input; memory per line stays bounded.

use std::io::{BufRead, Read};

/// One line of input, as `read_lines` hands it on.
pub enum InputLine {
    /// Line number (from 1) and its text, without the line end.
    Text(usize, String),
    /// Line number and why it cannot be read as text.
    Unreadable(usize, String),
    /// Standard input itself failed; nothing more will come.
    Failed(std::io::Error),
}

/// The longest line accepted: a turn's text at the limit, JSON-escaped at
/// worst (`\u0000` is six bytes for one), and room for the other fields.
pub fn max_line_bytes(max_turn_bytes: usize) -> usize {
    max_turn_bytes.saturating_mul(6).saturating_add(64 << 10)
}

/// Reads lines as bytes and hands each to `each` (which returns false to
/// stop), never holding more than `max_line` bytes of a line: one that is
/// not UTF-8 or longer is an `Unreadable` line, and reading goes on.
pub fn read_lines(
    mut input: impl BufRead,
    max_line: usize,
    mut each: impl FnMut(InputLine) -> bool,
) {
    let mut n = 0usize;
    loop {
        let mut bytes = Vec::new();
        let read = (&mut input)
            .take(max_line as u64 + 1)
            .read_until(b'\n', &mut bytes);
        let line = match read {
            Ok(0) => return,
            Ok(_) => {
                n += 1;
                if bytes.len() > max_line && bytes.last() != Some(&b'\n') {
                    if let Err(e) = skip_line(&mut input) {
                        each(InputLine::Failed(e));
                        return;
                    }
                    InputLine::Unreadable(
                        n,
                        format!(
                            "longer than {max_line} bytes (a turn's text may have at most \
                             --max-turn-bytes); skipped"
                        ),
                    )
                } else {
                    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        bytes.pop();
                    }
                    match String::from_utf8(bytes) {
                        Ok(text) => InputLine::Text(n, text),
                        Err(e) => InputLine::Unreadable(
                            n,
                            format!(
                                "not UTF-8 (invalid byte at offset {})",
                                e.utf8_error().valid_up_to()
                            ),
                        ),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => InputLine::Failed(e),
        };
        let last = matches!(line, InputLine::Failed(_));
        if !each(line) || last {
            return;
        }
    }
}

/// Drops the rest of an over-long line, up to and including its newline.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|b| *b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let len = buf.len();
                input.consume(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<String> {
        let mut out = Vec::new();
        read_lines(input, max, |l| {
            out.push(match l {
                InputLine::Text(n, t) => format!("{n}:{t}"),
                InputLine::Unreadable(n, why) => format!("{n}!{}", why.split(' ').next().unwrap()),
                InputLine::Failed(e) => format!("failed {e}"),
            });
            true
        });
        out
    }

    #[test]
    fn bad_lines_are_numbered_and_the_rest_read() {
        let input = b"one\r\ncaf\xe9\n"
            .iter()
            .copied()
            .chain(b"x".repeat(50))
            .chain(b"\nlast".iter().copied())
            .collect::<Vec<u8>>();
        assert_eq!(lines(&input, 20), ["1:one", "2!not", "3!longer", "4:last"]);
        assert!(lines(b"", 20).is_empty());
    }
}
