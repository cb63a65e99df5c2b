//! The chat command grammar: `!name positional --flag value --bool`.
//!
//! Parsing answers three ways, as triagebot's parser does: the message is not
//! for us ([`Parsed::NotACommand`]), it is a valid command
//! ([`Parsed::Command`]), or it is for us but malformed
//! ([`Parsed::Malformed`], with the byte position and a one-line usage).
//! An unknown command name is its own answer so the caller can suggest one.
//!
//! Rules (all tested below and property-tested for panics and round trips):
//! - a command is the first line whose first non-blank character is `!`
//!   followed by a letter; text in code blocks, inline code and `>` quotes is
//!   never a command, so quoting a command in a reply never re-runs it; a
//!   line ends at any line break a chat client shows (`\r`, U+2028, …, not
//!   only `\n`), so nothing shown on the next line is part of the command;
//! - tokens split on whitespace; `'…'` and `"…"` (and the chat clients'
//!   curly quotes) group words; inside `"…"` a backslash escapes `"` or `\`;
//! - `--flag value`, `--flag=value`, `--bool`; flags may repeat when declared
//!   repeatable; `--` ends flags.

use std::collections::BTreeMap;

use crate::registry::{CommandSpec, FlagKind, Registry};

/// A command as the user wrote it, bound to its spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The canonical command name (aliases resolved).
    pub name: String,
    pub positionals: Vec<String>,
    /// Flag name → values in the order given. A boolean flag has one empty value.
    pub flags: BTreeMap<String, Vec<String>>,
}

impl Invocation {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn flag_values(&self, name: &str) -> &[String] {
        self.flags.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn has(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    pub fn dry_run(&self) -> bool {
        self.has("dry-run")
    }

    /// Renders the invocation back to text that parses to the same invocation.
    pub fn render(&self, spec: &CommandSpec) -> String {
        let mut out = format!("!{}", self.name);
        for (name, values) in &self.flags {
            let boolean = matches!(spec.flag(name).map(|f| f.kind), Some(FlagKind::Bool));
            for v in values {
                out.push_str(" --");
                out.push_str(name);
                if !boolean {
                    out.push(' ');
                    out.push_str(&quote(v));
                }
            }
        }
        if !self.positionals.is_empty() {
            out.push_str(" --");
            for p in &self.positionals {
                out.push(' ');
                out.push_str(&quote(p));
            }
        }
        out
    }
}

/// Quotes a token so the tokenizer reads it back unchanged.
pub fn quote(token: &str) -> String {
    let plain = !token.is_empty()
        && !token.starts_with('-')
        && !token
            .chars()
            .any(|c| c.is_whitespace() || is_quote(c) || c == '\\' || c == '`' || c == '>');
    if plain {
        return token.to_string();
    }
    let mut out = String::from("\"");
    for c in token.chars() {
        if matches!(c, '"' | '”' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    NotACommand,
    Command(Invocation),
    /// `!name` is not a registered command; `suggestion` is the closest one.
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    /// For us, but wrong: `position` is a byte offset into the message.
    Malformed {
        position: usize,
        reason: String,
        usage: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    /// Byte offset of the token's first character in the message.
    at: usize,
    /// Byte offset just past its last character (its closing quote, if
    /// any): quotes and escapes make `text` shorter than what was typed.
    end: usize,
    /// Quoted tokens are never flags.
    quoted: bool,
}

/// Parses one chat message against the registry.
pub fn parse(message: &str, registry: &Registry) -> Parsed {
    let Some((line_at, line)) = command_line(message) else {
        return Parsed::NotACommand;
    };
    let tokens = match tokenize(line, line_at) {
        Ok(t) => t,
        Err((position, reason)) => {
            let usage = command_name(line)
                .and_then(|n| registry.lookup(n))
                .map(|s| s.usage.to_string())
                .unwrap_or_default();
            return Parsed::Malformed {
                position,
                reason,
                usage,
            };
        }
    };
    let Some(first) = tokens.first() else {
        return Parsed::NotACommand;
    };
    let name = &first.text[1..];
    let Some(spec) = registry.lookup(name) else {
        return Parsed::Unknown {
            name: name.to_string(),
            suggestion: registry.suggest(name),
        };
    };
    match bind(spec, &tokens[1..], first.end) {
        Ok(inv) => Parsed::Command(inv),
        Err((position, reason)) => Parsed::Malformed {
            position,
            reason,
            usage: spec.usage.to_string(),
        },
    }
}

/// Unicode's mandatory line breaks (LF, VT, FF, CR, NEL, LS, PS): where
/// a chat client or terminal shows a new line, a line ends.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\u{b}' | '\u{c}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Finds the command line: the first line outside code and quotes that starts with `!` + letter.
fn command_line(message: &str) -> Option<(usize, &str)> {
    let mut in_fence = false;
    let mut at = 0;
    for raw in message.split_inclusive(is_line_break) {
        let line = raw.trim_end_matches(is_line_break);
        let body = line.trim_start();
        let offset = at + (line.len() - body.len());
        at += raw.len();
        if body.starts_with("```") || body.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || body.starts_with('>') {
            continue;
        }
        let mut chars = body.chars();
        if chars.next() == Some('!') && chars.next().is_some_and(|c| c.is_ascii_alphabetic()) {
            return Some((offset, body));
        }
    }
    None
}

fn command_name(line: &str) -> Option<&str> {
    line.strip_prefix('!')?.split_whitespace().next()
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’')
}

fn closing_quote(open: char) -> char {
    match open {
        '“' => '”',
        '‘' => '’',
        other => other,
    }
}

type ParseError = (usize, String);

fn tokenize(line: &str, base: usize) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        // Inline code ends the command: in `!help x `!retry y`` only `!help x` counts.
        if c == '`' {
            break;
        }
        let mut text = String::new();
        let mut quoted = false;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() || c == '`' {
                break;
            }
            chars.next();
            if !is_quote(c) {
                text.push(c);
                continue;
            }
            quoted = true;
            let close = closing_quote(c);
            let mut closed = false;
            while let Some((_, q)) = chars.next() {
                if q == close || (close == '"' && q == '”') {
                    closed = true;
                    break;
                }
                if q == '\\' && c == '"' {
                    match chars.next() {
                        Some((_, e)) => text.push(e),
                        None => break,
                    }
                    continue;
                }
                text.push(q);
            }
            if !closed {
                return Err((base + i, format!("unterminated quote {c}")));
            }
        }
        let end = chars.peek().map_or(line.len(), |&(i, _)| i);
        tokens.push(Token {
            text,
            at: base + start,
            end: base + end,
            quoted,
        });
    }
    Ok(tokens)
}

/// The command's option within two edits of `typed`, if one is.
fn closest_flag(spec: &CommandSpec, typed: &str) -> Option<&'static str> {
    let names = spec.flags.iter().map(|f| f.name);
    let names = names.chain(spec.writes.then_some("dry-run"));
    names
        .map(|n| (super::registry::edit_distance(typed, n), n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

fn bind(spec: &CommandSpec, tokens: &[Token], name_end: usize) -> Result<Invocation, ParseError> {
    let mut inv = Invocation {
        name: spec.name.to_string(),
        positionals: Vec::new(),
        flags: BTreeMap::new(),
    };
    let mut iter = tokens.iter().peekable();
    let mut flags_done = false;
    let end = tokens.last().map_or(name_end, |t| t.end);
    while let Some(tok) = iter.next() {
        let is_flag = !flags_done && !tok.quoted && tok.text.starts_with("--");
        if !is_flag {
            inv.positionals.push(tok.text.clone());
            continue;
        }
        if tok.text == "--" {
            flags_done = true;
            continue;
        }
        let (name, inline) = match tok.text[2..].split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (&tok.text[2..], None),
        };
        let Some(flag) = spec.flag(name) else {
            let hint = closest_flag(spec, name)
                .map(|f| format!(" — did you mean --{f}?"))
                .unwrap_or_default();
            return Err((tok.at, format!("unknown option --{name}{hint}")));
        };
        let value = match (flag.kind, inline) {
            (FlagKind::Bool, None) => String::new(),
            (FlagKind::Bool, Some(_)) => {
                return Err((tok.at, format!("--{name} takes no value")));
            }
            (FlagKind::Value, Some(v)) => v,
            (FlagKind::Value, None) => match iter.next() {
                Some(v) if v.quoted || !v.text.starts_with("--") => v.text.clone(),
                Some(v) => return Err((v.at, format!("--{name} needs a value"))),
                None => return Err((end, format!("--{name} needs a value"))),
            },
        };
        let values = inv.flags.entry(flag.name.to_string()).or_default();
        if !values.is_empty() && !flag.repeatable {
            return Err((tok.at, format!("--{name} given twice")));
        }
        values.push(value);
    }
    let (min, max) = spec.positionals;
    let n = inv.positionals.len();
    if n < min {
        return Err((end, format!("missing {}", spec.positional_names)));
    }
    if n > max {
        return Err((end, format!("too many arguments ({n}, at most {max})")));
    }
    Ok(inv)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
