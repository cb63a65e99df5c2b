//! Inputs for the property tests: structure-aware mutations of the corpus
//! seeds (truncations, flipped bytes, inserted tokens, duplicated and
//! re-indented lines) and junk (random bytes, token soup). Inputs stay
//! small (a few KB) so the whole run takes seconds in a debug build.

use proptest::prelude::*;
use proptest::sample::select;

/// Bytes that mean something to one of the readers; inserted by mutations
/// and strung together as "token soup".
const PIECES: &[&str] = &[
    "- ",
    "-",
    ": ",
    ":",
    "'",
    "''",
    "\"",
    "\\",
    "\\u00e9",
    "\\x4",
    "é",
    "\u{2028}",
    "\n",
    "\r\n",
    " ",
    "  ",
    "#",
    " #",
    "|",
    "|-",
    ">",
    "[",
    "]",
    "[]",
    "{",
    "}",
    "{}",
    ",",
    "&a",
    "*a",
    "!!str",
    "\t",
    "\u{feff}",
    "---",
    "...",
    "null",
    "~",
    "sources:",
    "\n- ",
    "%",
    "&#x27;",
    "&amp;",
    "&#",
    "<p>",
    "</p>",
    "<dt>",
    "</dt>",
    "<dd>",
    "</dd>",
    "<",
    ">",
    "Test request submitted.",
    "You submitted an invalid request:",
    "Log in with Ubuntu SSO",
    "A server error has occurred",
    "Error: ",
    "trying:",
    "accepted:",
    "* amd64:",
    "final:",
    "/+snap/",
    "/+build/",
    "~",
    "/",
    "item-name:",
    "policy_info:",
    "autopkgtest:",
    "!",
    "!retry ",
    "!announce #a ",
    "--",
    "--arch",
    "--dry-run",
    "=",
    "`",
    "```",
    "“",
    "”",
    "‘",
    "’",
    "\u{85}",
    "\r",
    "sha1=",
    "\"snap\": \"/~o/+snap/s\"",
    "\"target\": \"/ubuntu/+source/p\"",
    "\"tags\": [\"block-proposed\"]",
];

/// One edit of an input. Positions (a byte, or a line) are taken modulo
/// the input's length, so any number is a valid one.
#[derive(Debug, Clone)]
pub enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, &'static str),
    DuplicateLine(usize),
    /// Prefixes a line with this many spaces.
    Indent(usize, usize),
    /// Prefixes a line with this many `- ` (lists inside lists).
    Nest(usize, usize),
    /// Indents every line from this one on.
    IndentRest(usize, usize),
    /// Indents every line but the top-level keys (a writer that indents
    /// its lists, unlike PyYAML).
    Reindent(usize),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), select(PIECES)).prop_map(|(i, p)| Mutation::Insert(i, p)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), 0..200usize).prop_map(|(i, n)| Mutation::Indent(i, n)),
        (any::<usize>(), 0..100usize).prop_map(|(i, n)| Mutation::Nest(i, n)),
        (any::<usize>(), 1..5usize).prop_map(|(i, n)| Mutation::IndentRest(i, n)),
        (1..5usize).prop_map(Mutation::Reindent),
    ]
}

/// Byte offsets where lines start (0 included).
fn line_starts(b: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            b.iter()
                .enumerate()
                .filter(|(_, c)| **c == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

/// Applies `m`; positions are byte offsets, so multibyte characters get
/// split on purpose.
pub fn apply(b: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &usize, b: &Vec<u8>| i % (b.len() + 1);
    let line = |i: &usize, b: &Vec<u8>| {
        let starts = line_starts(b);
        starts[i % starts.len()]
    };
    match m {
        Mutation::Flip(i, byte) if !b.is_empty() => {
            let p = i % b.len();
            b[p] = *byte;
        }
        Mutation::Flip(..) => {}
        Mutation::Truncate(i) => b.truncate(at(i, b)),
        Mutation::Insert(i, piece) => {
            let p = at(i, b);
            b.splice(p..p, piece.bytes());
        }
        Mutation::DuplicateLine(i) => {
            let from = line(i, b);
            let to = b[from..]
                .iter()
                .position(|c| *c == b'\n')
                .map_or(b.len(), |n| from + n + 1);
            let copy = b[from..to].to_vec();
            b.splice(from..from, copy);
        }
        Mutation::Indent(i, n) => {
            let p = line(i, b);
            b.splice(p..p, std::iter::repeat_n(b' ', *n));
        }
        Mutation::Nest(i, n) => {
            let p = line(i, b);
            b.splice(p..p, "- ".repeat(*n).into_bytes());
        }
        Mutation::IndentRest(i, n) => {
            let from = line(i, b);
            let indent = " ".repeat(*n);
            let mut out = b[..from].to_vec();
            for l in b[from..].split_inclusive(|c| *c == b'\n') {
                out.extend_from_slice(indent.as_bytes());
                out.extend_from_slice(l);
            }
            *b = out;
        }
        Mutation::Reindent(n) => {
            let indent = " ".repeat(*n);
            let mut out = Vec::with_capacity(b.len());
            for l in b.split_inclusive(|c| *c == b'\n') {
                if l.starts_with(b" ") || l.starts_with(b"-") {
                    out.extend_from_slice(indent.as_bytes());
                }
                out.extend_from_slice(l);
            }
            *b = out;
        }
    }
}

/// A seed from `seeds`, mutated one to eight times.
pub fn mutated(seeds: &'static [Vec<u8>]) -> impl Strategy<Value = Vec<u8>> {
    assert!(!seeds.is_empty(), "no seeds to mutate");
    (0..seeds.len(), prop::collection::vec(mutation(), 1..8)).prop_map(move |(s, ms)| {
        let mut b = seeds[s].clone();
        for m in &ms {
            apply(&mut b, m);
        }
        b
    })
}

/// Random bytes, and strings of meaningful pieces (which reach much deeper
/// into a parser than noise does).
pub fn junk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        prop::collection::vec(select(PIECES), 0..120).prop_map(|p| p.concat().into_bytes()),
    ]
}

#[test]
fn mutations_do_what_they_say() {
    let mut b = b"a: 1\nb: 2\n".to_vec();
    apply(&mut b, &Mutation::DuplicateLine(0));
    assert_eq!(b, b"a: 1\na: 1\nb: 2\n");
    apply(&mut b, &Mutation::Nest(0, 2));
    assert_eq!(b, b"- - a: 1\na: 1\nb: 2\n");
    apply(&mut b, &Mutation::IndentRest(1, 2));
    assert_eq!(b, b"- - a: 1\n  a: 1\n  b: 2\n");
    apply(&mut b, &Mutation::Reindent(1));
    assert_eq!(b, b" - - a: 1\n   a: 1\n   b: 2\n");
    apply(&mut b, &Mutation::Truncate(0));
    assert!(b.is_empty());
}
