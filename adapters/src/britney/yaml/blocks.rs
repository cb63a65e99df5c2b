//! The block structure of a document: mappings and lists nested by
//! indentation (PyYAML writes a list under a key at the key's own
//! indentation), up to `MAX_DEPTH` collections deep. Values are read by
//! `scalars`.

use std::borrow::Cow;

use super::{err, Node, YamlError, MAX_DEPTH};

/// One line: its indentation (spaces), its text after that (trailing
/// blanks trimmed), and its number in the file.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub indent: usize,
    pub text: &'a str,
    pub no: usize,
}

impl<'a> Line<'a> {
    /// `raw` is one line without its line break, as `str::lines` gives it.
    pub fn read(raw: &'a str, no: usize) -> Self {
        let body = raw.trim_start_matches(' ');
        Line {
            indent: raw.len() - body.len(),
            text: body.trim_end(),
            no,
        }
    }
}

/// The document's lines and how far reading has got. Reading rewrites a
/// line that holds a list entry's first value (`- key: v` becomes `key: v`).
pub(super) struct Parser<'p, 'a> {
    pub lines: &'p mut [Line<'a>],
    pub pos: usize,
    /// Collections open around the current line (bounded by `MAX_DEPTH`).
    pub depth: usize,
}

fn is_blank(l: &Line<'_>) -> bool {
    l.text.is_empty() || l.text.starts_with('#')
}

fn is_seq_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: value` / `key:`; `None` if the line is not a mapping entry.
pub(super) fn split_entry(text: &str) -> Option<(&str, &str, bool)> {
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

impl<'p, 'a> Parser<'p, 'a> {
    pub(super) fn new(lines: &'p mut [Line<'a>]) -> Self {
        Self {
            lines,
            pos: 0,
            depth: 0,
        }
    }

    pub(super) fn skip_blank(&mut self) {
        while self.pos < self.lines.len() && is_blank(&self.lines[self.pos]) {
            self.pos += 1;
        }
    }

    /// The node starting at the current line, which has indent `indent`.
    /// `parent` is the indent of the enclosing collection (for scalars).
    pub(super) fn node(
        &mut self,
        indent: usize,
        parent: Option<usize>,
    ) -> Result<Node<'a>, YamlError> {
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
}
