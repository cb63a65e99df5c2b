//! Scalar values as PyYAML writes them: plain text folded over lines,
//! single- and double-quoted strings (with their escapes), `|` and `>`
//! block scalars, and the flow collections britney uses (`[]`, `{}` and
//! one-line lists). Anchors, aliases and tags are refused.

use std::borrow::Cow;

use super::blocks::{split_entry, Parser};
use super::{err, Node, YamlError};

impl<'a> Parser<'_, 'a> {
    /// A scalar (or flow collection) starting with `text`; continuation
    /// lines are those indented deeper than `parent`.
    pub(super) fn value(
        &mut self,
        text: &'a str,
        no: usize,
        parent: usize,
    ) -> Result<Node<'a>, YamlError> {
        match text.as_bytes()[0] {
            b'\'' | b'"' => self.quoted(text, no, parent),
            b'[' | b'{' => flow(text, no),
            b'|' | b'>' => Ok(self.block_scalar(text, parent)),
            b'&' | b'*' | b'!' => Err(err(no, "anchors, aliases and tags are not supported")),
            _ => {
                let first = strip_comment(text);
                let mut folded: Option<String> = None;
                while let Some(l) = self.lines.get(self.pos) {
                    if l.text.is_empty() || l.indent <= parent || l.text.starts_with('#') {
                        break;
                    }
                    if split_entry(l.text).is_some() {
                        return Err(err(
                            l.no,
                            "mapping entry inside a text value (bad indentation?)",
                        ));
                    }
                    let s = folded.get_or_insert_with(|| first.to_string());
                    s.push(' ');
                    s.push_str(strip_comment(l.text));
                    self.pos += 1;
                }
                Ok(match folded {
                    Some(s) => Node::Str(Cow::Owned(s)),
                    None if first == "null" || first == "~" => Node::Null,
                    None => Node::Str(Cow::Borrowed(first)),
                })
            }
        }
    }

    /// A quoted scalar that may continue over the following lines.
    pub(super) fn quoted(
        &mut self,
        text: &'a str,
        no: usize,
        _parent: usize,
    ) -> Result<Node<'a>, YamlError> {
        let q = text.as_bytes()[0];
        // Fast path: closed on this line, nothing to unescape.
        if let Some((end, escaped)) = closing(text, q) {
            let inner = &text[1..end];
            if !escaped {
                return Ok(Node::Str(Cow::Borrowed(inner)));
            }
            return Ok(Node::Str(Cow::Owned(unescape(inner, q, no)?)));
        }
        // Folded over lines: join with single spaces (blank line = newline).
        let mut raw = String::from(&text[1..]);
        loop {
            let Some(l) = self.lines.get(self.pos).copied() else {
                return Err(err(no, "unterminated quoted string"));
            };
            self.pos += 1;
            if l.text.is_empty() {
                raw.push('\n');
                continue;
            }
            if q == b'"' && raw.ends_with('\\') {
                raw.pop();
            } else if !raw.ends_with('\n') {
                raw.push(' ');
            }
            if let Some((end, _)) = closing_at_start(l.text, q) {
                raw.push_str(&l.text[..end]);
                return Ok(Node::Str(Cow::Owned(unescape(&raw, q, no)?)));
            }
            raw.push_str(l.text);
        }
    }

    fn block_scalar(&mut self, header: &str, parent: usize) -> Node<'a> {
        let literal = header.starts_with('|');
        let mut lines = Vec::new();
        while let Some(l) = self.lines.get(self.pos) {
            if !l.text.is_empty() && l.indent <= parent {
                break;
            }
            lines.push(l.text);
            self.pos += 1;
        }
        let sep = if literal { "\n" } else { " " };
        let mut s = lines.join(sep);
        if !header.contains('-') {
            s.push('\n');
        }
        Node::Str(Cow::Owned(s))
    }
}

/// Index of the closing quote in `text` (which starts with the opening
/// one), and whether an escape (`''` or a backslash) comes before it.
fn closing(text: &str, q: u8) -> Option<(usize, bool)> {
    closing_at_start(&text[1..], q).map(|(i, escaped)| (i + 1, escaped))
}

/// Index of the first unescaped quote `q` in `text` (a continuation line),
/// and whether an escape comes before it: the one scan that finds the end
/// also tells whether the text can be borrowed as it is.
fn closing_at_start(text: &str, q: u8) -> Option<(usize, bool)> {
    let b = text.as_bytes();
    let mut escaped = false;
    let mut i = 0;
    while i < b.len() {
        if b[i] == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                escaped = true;
                i += 2;
                continue;
            }
            return Some((i, escaped));
        }
        if q == b'"' && b[i] == b'\\' {
            escaped = true;
            i += 1;
        }
        i += 1;
    }
    None
}

/// `text` without a trailing ` # comment`. Looks for `#` (found by memchr)
/// rather than for " #", whose substring search cost more than the rest of
/// reading a plain value.
fn strip_comment(text: &str) -> &str {
    let mut from = 0;
    while let Some(i) = text[from..].find('#') {
        let at = from + i;
        if at > 0 && text.as_bytes()[at - 1] == b' ' {
            return text[..at - 1].trim_end();
        }
        from = at + 1;
    }
    text
}

fn unescape(inner: &str, q: u8, no: usize) -> Result<String, YamlError> {
    if q == b'\'' {
        return Ok(inner.replace("''", "'"));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or_else(|| err(no, "dangling backslash"))?;
        let hex = |n: usize, chars: &mut std::str::Chars<'_>| -> Result<char, YamlError> {
            let h: String = chars.take(n).collect();
            // Exactly `n` hex digits: `from_str_radix` would also take a sign.
            (h.len() == n && h.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| u32::from_str_radix(&h, 16).ok())
                .flatten()
                .and_then(char::from_u32)
                .ok_or_else(|| err(no, "bad \\x/\\u escape"))
        };
        out.push(match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            ' ' => ' ',
            '/' => '/',
            '"' => '"',
            '\\' => '\\',
            'e' => '\u{1b}',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(2, &mut chars)?,
            'u' => hex(4, &mut chars)?,
            'U' => hex(8, &mut chars)?,
            _ => return Err(err(no, "unknown escape")),
        });
    }
    Ok(out)
}

/// `[]`, `{}` and simple one-line flow lists like `[a, b]`.
fn flow(text: &str, no: usize) -> Result<Node<'_>, YamlError> {
    let text = strip_comment(text);
    match text {
        "[]" => return Ok(Node::Seq(Vec::new())),
        "{}" => return Ok(Node::Map(Vec::new())),
        _ => {}
    }
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| err(no, "flow mappings are not supported"))?;
    let items = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = s
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .unwrap_or(s);
            Node::Str(Cow::Borrowed(s))
        })
        .collect();
    Ok(Node::Seq(items))
}
