//! Reading `update_excuses.yaml` (plain, `.xz` or `.gz`) into `Excuses`.
//!
//! The file is read item by item: each `- ` entry of `sources` is parsed on
//! its own, so a malformed item (the TRIMMED fixture has one) is skipped and
//! counted instead of failing the whole file, and memory stays near the
//! size of the typed result.

use std::collections::hash_map::{Entry, HashMap};
use std::io::Read;

use super::item::excuse;
use super::{Excuse, Excuses, ExcusesError, Prose, Skipped};
use crate::britney::yaml::{self, Line};

/// Reads a file as Ubuntu publishes it: `.xz`, `.gz` or plain, by magic bytes.
pub fn decompress(bytes: &[u8]) -> Result<String, ExcusesError> {
    let mut out = Vec::new();
    if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        liblzma::read::XzDecoder::new(bytes).read_to_end(&mut out)?;
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    } else {
        out.extend_from_slice(bytes);
    }
    String::from_utf8(out).map_err(|_| ExcusesError::Utf8)
}

/// Parses `update_excuses.yaml` text on this thread (`parse_parallel`
/// gives the same result using every core).
pub fn parse(text: &str) -> Result<Excuses, ExcusesError> {
    let head = Head::read(text)?;
    let piece = parse_piece(head.body(text), head.body_line, head.indent, Prose::Read);
    let mut out = Merged::new(head.generated_date);
    out.push(piece);
    Ok(out.finish())
}

/// What the text before the `sources:` list says, and where the list starts.
pub(super) struct Head {
    pub generated_date: Option<String>,
    /// Byte offset of the list's first line.
    pub body_from: usize,
    /// Line number of the list's first line.
    pub body_line: usize,
    /// Indentation of the list's entries (that of its first line).
    pub indent: usize,
}

impl Head {
    pub fn read(text: &str) -> Result<Self, ExcusesError> {
        let (header, body, body_line) = split_header(text)?;
        let generated_date = yaml::parse(header, 1).ok().and_then(|h| {
            h.get("generated-date")
                .and_then(|d| d.as_str().map(str::to_string))
        });
        Ok(Self {
            generated_date,
            body_from: text.len() - body.len(),
            body_line,
            indent: body.len() - body.trim_start_matches(' ').len(),
        })
    }

    pub fn body<'t>(&self, text: &'t str) -> &'t str {
        &text[self.body_from..]
    }
}

/// The entries of one piece of the `sources:` list. Pieces are cut at lines
/// that start at column 0 (see `is_cut`), so no entry spans two pieces, and
/// each piece can be parsed on its own, on any thread.
#[derive(Debug, Default)]
pub(super) struct Piece {
    items: Vec<Excuse>,
    /// Each item's entry index and line, for `Merged::finish`.
    at: Vec<(usize, usize)>,
    /// `index` counts from the piece's first entry; `Merged` shifts it.
    skipped: Vec<Skipped>,
    /// List entries seen (parsed or skipped).
    entries: usize,
    /// The list ended inside this piece: later pieces are not part of it.
    ended: bool,
}

/// Can a piece start at this line? Every non-blank line at column 0 either
/// starts a list entry (when entries are at column 0) or ends the list, so
/// no entry spans it; a leading `-` is cheap to find and is the one britney
/// writes before every entry.
pub(super) fn is_cut(line_start: &[u8]) -> bool {
    line_start.first() == Some(&b'-')
}

/// Parses the list entries of `body`, whose first line is `first_line`.
///
/// Entries start with `- ` at the list's indentation; the list ends at the
/// next top-level key (a non-blank line at column 0 that is no entry). A
/// line indented less than the entries but not at column 0 is bad YAML: it
/// stays with the entry before it, so that entry is skipped with its line
/// number rather than the rest of the list being silently dropped. Each
/// line is read once: the same `Line`s find the entries and are parsed.
pub(super) fn parse_piece(body: &str, first_line: usize, indent: usize, prose: Prose) -> Piece {
    let mut out = Piece::default();
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut skip = SkipProse::new(prose);
    // The first line of the entry being collected.
    let mut entry_line = None;
    for (i, raw) in lines_of(body).enumerate() {
        let mut line = Line::read(raw, first_line + i);
        let starts = is_seq_entry(line.text) && line.indent == indent;
        if starts {
            if let Some(at) = entry_line.replace(line.no) {
                out.entry(at, &mut lines);
            }
            skip.entry(&mut line);
        } else if line.indent == 0 && !line.text.is_empty() && !line.text.starts_with('#') {
            out.ended = true;
            break;
        }
        if entry_line.is_some() && (starts || !skip.drops(&line)) {
            lines.push(line);
        }
    }
    if let Some(at) = entry_line {
        out.entry(at, &mut lines);
    }
    out
}

fn is_seq_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Drops the lines of an entry's prose blocks before they are parsed, when
/// the prose is not wanted. A block is its `excuses:` or `detailed-info:`
/// line at the entry's own keys' indentation, and the lines after it that
/// are blank, deeper, or list entries at that indentation (PyYAML writes a
/// list under a key at the key's indentation, and a value's continuation
/// lines deeper than its key). Only this line test reads them: in a file
/// laid out that way every other key reads as it would with the prose,
/// and an entry whose prose alone is malformed is kept rather than
/// skipped. (A quoted line continued less indented than its key, which
/// PyYAML never writes, would end the block early.)
struct SkipProse {
    skip: bool,
    /// Indentation of the keys of the entry being read, when known from
    /// its first line (`- key: value`).
    keys: Option<usize>,
    /// Indentation of the key whose block is being dropped.
    dropping: Option<usize>,
}

impl SkipProse {
    const KEYS: [&'static str; 2] = ["excuses:", "detailed-info:"];
    /// An entry's first line when it opens a prose block, as it is read
    /// instead: the key stays (it starts the entry's mapping), empty.
    const FIRST: [(&'static str, &'static str); 2] = [
        ("- excuses:", "- excuses: []"),
        ("- detailed-info:", "- detailed-info: []"),
    ];

    fn new(prose: Prose) -> Self {
        Self {
            skip: prose == Prose::Skip,
            keys: None,
            dropping: None,
        }
    }

    /// A new entry starts at `first`, which is rewritten if it opens a
    /// prose block (items of the main component start with `- excuses:`).
    fn entry(&mut self, first: &mut Line<'_>) {
        let rest = first.text[1..].trim_start_matches(' ');
        self.keys = (!rest.is_empty()).then(|| first.indent + first.text.len() - rest.len());
        self.dropping = None;
        if !self.skip {
            return;
        }
        if let Some((_, empty)) = Self::FIRST.iter().find(|(key, _)| *key == first.text) {
            first.text = empty;
            self.dropping = self.keys;
        }
    }

    fn drops(&mut self, line: &Line<'_>) -> bool {
        if !self.skip {
            return false;
        }
        if let Some(k) = self.dropping {
            let inside = line.text.is_empty()
                || line.text.starts_with('#')
                || line.indent > k
                || (line.indent == k && is_seq_entry(line.text));
            if inside {
                return true;
            }
            self.dropping = None;
        }
        if self.keys == Some(line.indent) && Self::KEYS.contains(&line.text) {
            self.dropping = Some(line.indent);
            return true;
        }
        false
    }
}

/// The lines of `text` exactly as `str::lines` splits them, found with
/// memchr's vectorised search, which keeps going between line breaks
/// instead of starting a search per line.
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let breaks = memchr::memchr_iter(b'\n', text.as_bytes()).map(move |nl| {
        let line = &text[start..nl];
        start = nl + 1;
        line.strip_suffix('\r').unwrap_or(line)
    });
    let last = text.rfind('\n').map_or(0, |nl| nl + 1);
    breaks.chain((last < text.len()).then(|| &text[last..]))
}

impl Piece {
    /// Parses the entry made of `lines` (starting at line `at`) and empties `lines`.
    fn entry(&mut self, at: usize, lines: &mut Vec<Line<'_>>) {
        let parsed = yaml::parse_lines(lines)
            .map_err(|e| e.to_string())
            .and_then(|node| match node.as_seq() {
                [item] => excuse(item),
                _ => Err("not a single list entry".to_string()),
            });
        lines.clear();
        match parsed {
            Ok(e) => {
                self.items.push(e);
                self.at.push((self.entries, at));
            }
            Err(reason) => self.skipped.push(Skipped {
                index: self.entries,
                line: at,
                reason,
            }),
        }
        self.entries += 1;
    }
}

/// Joins pieces, in file order, into one `Excuses`.
pub(super) struct Merged {
    out: Excuses,
    /// Entry index and line of each item in `out.items`.
    at: Vec<(usize, usize)>,
    entries: usize,
    ended: bool,
}

impl Merged {
    pub fn new(generated_date: Option<String>) -> Self {
        Self {
            out: Excuses {
                generated_date,
                ..Excuses::default()
            },
            at: Vec::new(),
            entries: 0,
            ended: false,
        }
    }

    /// Adds the next piece (they must come in file order).
    pub fn push(&mut self, mut piece: Piece) {
        if self.ended {
            return;
        }
        let before = self.entries;
        for s in &mut piece.skipped {
            s.index += before;
        }
        self.at
            .extend(piece.at.iter().map(|&(index, line)| (index + before, line)));
        if self.out.items.is_empty() {
            self.out.items = piece.items;
        } else {
            self.out.items.append(&mut piece.items);
        }
        self.out.skipped.append(&mut piece.skipped);
        self.entries += piece.entries;
        self.ended = piece.ended;
    }

    /// britney names each item once; a file that repeats one is damaged,
    /// and a second copy would make a snapshot differ from itself, so every
    /// later copy is skipped with its line. Done here, once the pieces are
    /// joined in file order, because a copy may be in another piece.
    pub fn finish(mut self) -> Excuses {
        let mut first_at: HashMap<&str, usize> = HashMap::with_capacity(self.out.items.len());
        let mut copies = Vec::new();
        for (k, e) in self.out.items.iter().enumerate() {
            let (index, line) = self.at[k];
            match first_at.entry(e.item_name.as_str()) {
                Entry::Occupied(first) => copies.push((
                    k,
                    Skipped {
                        index,
                        line,
                        reason: format!("the same item-name as the item at line {}", first.get()),
                    },
                )),
                Entry::Vacant(v) => {
                    v.insert(line);
                }
            }
        }
        if !copies.is_empty() {
            let mut k = 0;
            let mut drop = copies.iter().map(|(at, _)| *at).peekable();
            self.out.items.retain(|_| {
                let gone = drop.peek() == Some(&k);
                if gone {
                    drop.next();
                }
                k += 1;
                !gone
            });
            self.out.skipped.extend(copies.into_iter().map(|(_, s)| s));
            self.out.skipped.sort_by_key(|s| s.index);
        }
        self.out
    }
}

/// Splits off everything before the `sources:` list.
fn split_header(text: &str) -> Result<(&str, &str, usize), ExcusesError> {
    let at = if text.starts_with("sources:") {
        0
    } else {
        text.find("\nsources:")
            .map(|i| i + 1)
            .ok_or_else(|| ExcusesError::Format("no `sources:` list".into()))?
    };
    let rest = &text[at..];
    let first_nl = rest.find('\n').unwrap_or(rest.len());
    let inline = rest[..first_nl].trim_end();
    if inline != "sources:" && inline != "sources: []" {
        return Err(ExcusesError::Format(
            "`sources:` is not a block list".into(),
        ));
    }
    let header_lines = text[..at].matches('\n').count();
    let body = rest.get(first_nl + 1..).unwrap_or("");
    Ok((&text[..at], body, header_lines + 2))
}
