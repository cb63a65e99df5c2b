//! A reader for the block-style YAML that britney writes.
//!
//! britney dumps its excuses with PyYAML (`default_flow_style=False`): block
//! mappings and sequences, plain / single-quoted / double-quoted scalars
//! folded across lines, and `[]` / `{}` for empty collections (see shared
//! reference: britney-autopkgtest, §1.1). This reader handles exactly that
//! subset — plus simple flow lists and `|`/`>` block scalars for safety —
//! and borrows from the input wherever it can. A general YAML library reads
//! the 10.8 MB plucky file 10–40× slower, which matters for a file polled
//! every few minutes and parsed on every `!why`.

use std::borrow::Cow;

use thiserror::Error;

/// A parsed YAML node. Scalars stay strings: callers decide what is a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Node<'a>] {
        match self {
            Node::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(Cow<'a, str>, Node<'a>)] {
        match self {
            Node::Map(entries) => entries,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// How deeply collections may nest. britney's excuses go about six levels
/// deep; without a bound, `- - - …` recursed until the stack overflowed.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
    no: usize,
}

/// Parses one YAML document (or a fragment, e.g. one item of a list).
/// `first_line` numbers the lines in errors.
pub fn parse(text: &str, first_line: usize) -> Result<Node<'_>, YamlError> {
    let lines = text
        .lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let body = raw.trim_start_matches(' ');
            if body.starts_with("---") && raw.len() == body.len() {
                return None;
            }
            Some(Line {
                indent: raw.len() - body.len(),
                text: body.trim_end(),
                no: first_line + i,
            })
        })
        .collect();
    let mut p = Parser {
        lines,
        pos: 0,
        depth: 0,
    };
    p.skip_blank();
    if p.pos >= p.lines.len() {
        return Ok(Node::Null);
    }
    let indent = p.lines[p.pos].indent;
    let node = p.node(indent, None)?;
    p.skip_blank();
    if let Some(l) = p.lines.get(p.pos) {
        return Err(err(
            l.no,
            "unexpected text after the document (bad indentation?)",
        ));
    }
    Ok(node)
}

fn err(line: usize, message: &str) -> YamlError {
    YamlError {
        line,
        message: message.to_string(),
    }
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    /// Collections open around the current line (bounded by `MAX_DEPTH`).
    depth: usize,
}

fn is_blank(l: &Line<'_>) -> bool {
    l.text.is_empty() || l.text.starts_with('#')
}

fn is_seq_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: value` / `key:`; `None` if the line is not a mapping entry.
fn split_entry(text: &str) -> Option<(&str, &str, bool)> {
    let b = text.as_bytes();
    if matches!(b.first(), Some(b'\'') | Some(b'"')) {
        let q = b[0];
        let mut i = 1;
        while i < b.len() {
            if b[i] == q {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            if q == b'"' && b[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        let rest = text.get(i + 1..)?;
        let value = rest.strip_prefix(':')?;
        if !value.is_empty() && !value.starts_with(' ') {
            return None;
        }
        return Some((&text[..=i.min(text.len() - 1)], value.trim_start(), true));
    }
    if is_seq_entry(text) {
        return None;
    }
    let mut from = 0;
    while let Some(i) = text[from..].find(':') {
        let at = from + i;
        let after = &text[at + 1..];
        if after.is_empty() || after.starts_with(' ') {
            return Some((&text[..at], after.trim_start(), false));
        }
        from = at + 1;
    }
    None
}

impl<'a> Parser<'a> {
    fn skip_blank(&mut self) {
        while self.pos < self.lines.len() && is_blank(&self.lines[self.pos]) {
            self.pos += 1;
        }
    }

    /// The node starting at the current line, which has indent `indent`.
    /// `parent` is the indent of the enclosing collection (for scalars).
    fn node(&mut self, indent: usize, parent: Option<usize>) -> Result<Node<'a>, YamlError> {
        let line = self.lines[self.pos];
        if is_seq_entry(line.text) {
            self.seq(indent)
        } else if split_entry(line.text).is_some() {
            self.map(indent)
        } else {
            self.pos += 1;
            self.value(
                line.text,
                line.no,
                parent.unwrap_or(0).min(indent.saturating_sub(1)),
            )
        }
    }

    /// Runs `read` one collection deeper, refusing to go past `MAX_DEPTH`.
    fn nested(
        &mut self,
        indent: usize,
        read: fn(&mut Self, usize) -> Result<Node<'a>, YamlError>,
    ) -> Result<Node<'a>, YamlError> {
        if self.depth == MAX_DEPTH {
            let no = self.lines.get(self.pos).map_or(0, |l| l.no);
            return Err(err(
                no,
                &format!("collections nested deeper than {MAX_DEPTH}"),
            ));
        }
        self.depth += 1;
        let node = read(self, indent);
        self.depth -= 1;
        node
    }

    fn seq(&mut self, indent: usize) -> Result<Node<'a>, YamlError> {
        self.nested(indent, Self::seq_items)
    }

    fn map(&mut self, indent: usize) -> Result<Node<'a>, YamlError> {
        self.nested(indent, Self::map_entries)
    }

    fn seq_items(&mut self, indent: usize) -> Result<Node<'a>, YamlError> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.pos).copied() else {
                break;
            };
            if line.indent != indent || !is_seq_entry(line.text) {
                if line.indent > indent {
                    return Err(err(line.no, "bad indentation in a list"));
                }
                break;
            }
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                items.push(self.child(indent, true)?);
                continue;
            }
            // Re-read the rest of the line as if it started a line of its own.
            let inner = indent + (line.text.len() - rest.len());
            self.lines[self.pos] = Line {
                indent: inner,
                text: rest,
                no: line.no,
            };
            items.push(self.node(inner, Some(indent))?);
        }
        Ok(Node::Seq(items))
    }

    fn map_entries(&mut self, indent: usize) -> Result<Node<'a>, YamlError> {
        let mut entries = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.pos).copied() else {
                break;
            };
            if line.indent != indent {
                if line.indent > indent {
                    return Err(err(line.no, "bad indentation in a mapping"));
                }
                break;
            }
            let Some((key, rest, quoted)) = split_entry(line.text) else {
                if is_seq_entry(line.text) {
                    break;
                }
                return Err(err(line.no, "expected `key: value`"));
            };
            let key = if quoted {
                match self.quoted(key, line.no, indent)? {
                    Node::Str(s) => s,
                    _ => Cow::Borrowed(key),
                }
            } else {
                Cow::Borrowed(key)
            };
            self.pos += 1;
            let value = if rest.is_empty() {
                self.child(indent, false)?
            } else {
                self.value(rest, line.no, indent)?
            };
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }

    /// The block value on the lines after `key:` or a bare `-`.
    fn child(&mut self, indent: usize, in_seq: bool) -> Result<Node<'a>, YamlError> {
        self.skip_blank();
        let Some(next) = self.lines.get(self.pos).copied() else {
            return Ok(Node::Null);
        };
        if next.indent > indent {
            return self.node(next.indent, Some(indent));
        }
        // PyYAML writes a list under a key at the key's own indentation.
        if !in_seq && next.indent == indent && is_seq_entry(next.text) {
            return self.seq(indent);
        }
        Ok(Node::Null)
    }

    /// A scalar (or flow collection) starting with `text`; continuation
    /// lines are those indented deeper than `parent`.
    fn value(&mut self, text: &'a str, no: usize, parent: usize) -> Result<Node<'a>, YamlError> {
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
    fn quoted(&mut self, text: &'a str, no: usize, _parent: usize) -> Result<Node<'a>, YamlError> {
        let q = text.as_bytes()[0];
        // Fast path: closed on this line, nothing to unescape.
        if let Some(end) = closing(text, q) {
            let inner = &text[1..end];
            let plain = if q == b'\'' {
                !inner.contains("''")
            } else {
                !inner.contains('\\')
            };
            if plain {
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
            if let Some(end) = closing_at_start(l.text, q) {
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

/// Index of the closing quote in `text` (which starts with the opening one).
fn closing(text: &str, q: u8) -> Option<usize> {
    closing_at_start(&text[1..], q).map(|i| i + 1)
}

/// Index of the first unescaped quote `q` in `text` (a continuation line).
fn closing_at_start(text: &str, q: u8) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        if q == b'"' && b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    None
}

fn strip_comment(text: &str) -> &str {
    match text.find(" #") {
        Some(i) => text[..i].trim_end(),
        None => text,
    }
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

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "yaml_conformance_tests.rs"]
mod conformance;
