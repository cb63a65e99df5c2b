//! Splitting a long text into messages Discord accepts (2,000 characters
//! each), on line boundaries, with a code block that spans a split closed
//! at the end of one message and reopened (same language) in the next, so
//! every message renders on its own.

/// Discord's limit on a message's content.
pub const MAX_MESSAGE: usize = 2000;

/// Discord counts characters as UTF-16 code units do in its clients;
/// counting those is never more lenient than the server.
fn width(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `text` in pieces of at most `max` (≥ 40) characters each.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(40);
    if width(text) <= max {
        return vec![text.to_string()];
    }
    let mut out = Vec::new();
    let mut chunk = String::new();
    // The fence line of the code block we are in, if any (```rust).
    let mut open: Option<String> = None;
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```");
        // Room kept for closing the block we are (or will be) inside
        // (`\n```` = 4); a closing fence closes it itself.
        let reserve = if open.is_some() != fence { 4 } else { 0 };
        // A piece must fit after a reopened fence and before a closing one.
        let reopened = open.as_ref().map_or(0, |f| width(f) + 1);
        for piece in hard_wrap(line, max.saturating_sub(reserve + reopened)) {
            let sep = usize::from(!chunk.is_empty());
            if width(&chunk) + sep + width(&piece) + reserve > max && !chunk.is_empty() {
                if open.is_some() {
                    chunk.push_str("\n```");
                }
                out.push(std::mem::take(&mut chunk));
                if let Some(f) = &open {
                    chunk.push_str(f);
                }
            }
            if !chunk.is_empty() {
                chunk.push('\n');
            }
            chunk.push_str(&piece);
        }
        if fence {
            open = match open {
                Some(_) => None,
                None => Some(line.trim_start().to_string()),
            };
        }
    }
    if !chunk.is_empty() {
        out.push(chunk);
    }
    out
}

/// A line longer than `max` in pieces, broken at a space when there is one.
fn hard_wrap(line: &str, max: usize) -> Vec<String> {
    let max = max.max(8);
    if width(line) <= max {
        return vec![line.to_string()];
    }
    let mut pieces = Vec::new();
    let mut rest = line;
    while width(rest) > max {
        let mut cut = 0;
        let mut used = 0;
        for (i, c) in rest.char_indices() {
            used += c.len_utf16();
            if used > max {
                break;
            }
            cut = i + c.len_utf8();
        }
        let at = rest[..cut]
            .rfind(' ')
            .filter(|&i| i > cut / 2)
            .unwrap_or(cut);
        pieces.push(rest[..at].to_string());
        rest = rest[at..].trim_start_matches(' ');
    }
    if !rest.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fences_balanced(s: &str) -> bool {
        s.lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count()
            % 2
            == 0
    }

    #[test]
    fn short_text_is_one_message() {
        assert_eq!(split("hello", MAX_MESSAGE), ["hello"]);
        assert_eq!(split("", MAX_MESSAGE), [""]);
    }

    #[test]
    fn a_5000_character_reply_with_a_code_block_is_three_intact_messages() {
        let mut text = String::from("plan #4: 60 retries\n```text\n");
        while text.len() < 4990 {
            text.push_str(&format!(
                "https://autopkgtest.ubuntu.com/request.cgi?p={}\n",
                text.len()
            ));
        }
        text.push_str("```\ndone");
        let parts = split(&text, MAX_MESSAGE);
        assert_eq!(parts.len(), 3, "{parts:#?}");
        for p in &parts {
            assert!(width(p) <= MAX_MESSAGE, "{} long", width(p));
            assert!(fences_balanced(p), "unbalanced:\n{p}");
        }
        assert!(parts[1].starts_with("```text\n"), "{}", &parts[1][..20]);
        // Nothing lost: without the added fences the pieces are the text.
        let joined = parts.join("\n").replace("\n```\n```text", "");
        assert_eq!(joined, text);
    }

    #[test]
    fn lines_longer_than_a_message_are_broken() {
        let line = "word ".repeat(1000);
        let parts = split(&line, MAX_MESSAGE);
        assert!(parts.len() >= 3);
        assert!(parts.iter().all(|p| width(p) <= MAX_MESSAGE));
        let words: usize = parts.iter().map(|p| p.split_whitespace().count()).sum();
        assert_eq!(words, 1000);
        let wide = "🐑".repeat(1500); // 2 UTF-16 units each
        let parts = split(&wide, MAX_MESSAGE);
        assert!(parts.iter().all(|p| width(p) <= MAX_MESSAGE));
        assert_eq!(parts.concat(), wide);
    }

    #[test]
    fn table() {
        // (text, max, expected pieces)
        let rows: &[(&str, usize, &[&str])] = &[
            ("a\nb\nc", 40, &["a\nb\nc"]),
            (
                "```\n0123456789012345678901234567890\n0123456789012345678901234567890\n```",
                40,
                &[
                    "```\n0123456789012345678901234567890\n```",
                    "```\n0123456789012345678901234567890\n```",
                ],
            ),
        ];
        for (text, max, want) in rows {
            assert_eq!(split(text, *max), *want, "{text:?}");
        }
    }
}
