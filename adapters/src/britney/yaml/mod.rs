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
//!
//! `blocks` reads the block structure (mappings, lists, indentation);
//! `scalars` reads the values (plain, quoted, block and flow).

use std::borrow::Cow;

use thiserror::Error;

mod blocks;
mod scalars;

pub use blocks::Line;
use blocks::Parser;

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

/// Parses one YAML document (or a fragment, e.g. one item of a list).
/// `first_line` numbers the lines in errors.
pub fn parse(text: &str, first_line: usize) -> Result<Node<'_>, YamlError> {
    let mut lines: Vec<Line<'_>> = text
        .lines()
        .enumerate()
        .map(|(i, raw)| Line::read(raw, first_line + i))
        .filter(|l| !(l.indent == 0 && l.text.starts_with("---")))
        .collect();
    parse_lines(&mut lines)
}

/// Parses a document already split into lines (by `Line::read`), e.g. one
/// entry of a list whose lines the caller has read. Lines are rewritten
/// while reading: parse them once.
pub fn parse_lines<'a>(lines: &mut [Line<'a>]) -> Result<Node<'a>, YamlError> {
    let mut p = Parser::new(lines);
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod conformance_tests;
