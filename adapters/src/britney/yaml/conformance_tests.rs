//! Our reader against a full YAML parser (saphyr-parser, YAML 1.2) on every
//! excuses fixture: the same document tree, key for key and scalar for
//! scalar. The library's event stream gives each scalar's text as written
//! (after unquoting and folding), untyped, so scalars compare as text with
//! one normalisation, the one our reader makes: a plain `null`, `~` or empty
//! scalar is `Null`. Quoted `'null'` stays a string on both sides. Anything
//! else that differs — a typed value, a folding rule, an escape — fails.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::{parse, Node};
use crate::britney::{decompress, fixture};

/// The document tree saphyr-parser reads from `text`.
fn library_tree(text: &str) -> Node<'static> {
    let mut stack: Vec<Node<'static>> = Vec::new();
    let mut keys: Vec<Option<Cow<'static, str>>> = Vec::new();
    let mut docs = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.unwrap_or_else(|e| panic!("saphyr-parser: {e}"));
        let node = match event {
            Event::SequenceStart(..) => {
                stack.push(Node::Seq(Vec::new()));
                keys.push(None);
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Node::Map(Vec::new()));
                keys.push(None);
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                keys.pop();
                stack.pop().expect("an end has a start")
            }
            Event::Scalar(value, style, _, tag) => {
                assert!(tag.is_none(), "tag at {span:?}: our reader refuses tags");
                let null = style == ScalarStyle::Plain && matches!(&*value, "null" | "~" | "");
                if null {
                    Node::Null
                } else {
                    Node::Str(Cow::Owned(value.into_owned()))
                }
            }
            Event::Alias(_) => panic!("alias at {span:?}: our reader refuses aliases"),
            _ => continue,
        };
        match (stack.last_mut(), keys.last_mut()) {
            (Some(Node::Seq(items)), _) => items.push(node),
            (Some(Node::Map(entries)), Some(key)) => match key.take() {
                None => match node {
                    Node::Str(k) => *key = Some(k),
                    other => panic!("non-string key {other:?} at {span:?}"),
                },
                Some(k) => entries.push((k, node)),
            },
            _ => docs.push(node),
        }
    }
    assert_eq!(docs.len(), 1, "one document per file");
    docs.pop().unwrap_or(Node::Null)
}

/// The first place where `ours` and `theirs` differ, as a path.
fn difference(ours: &Node<'_>, theirs: &Node<'_>, path: &str) -> Option<String> {
    match (ours, theirs) {
        (Node::Seq(a), Node::Seq(b)) => {
            if a.len() != b.len() {
                return Some(format!("{path}: {} items, library {}", a.len(), b.len()));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| difference(x, y, &format!("{path}[{i}]")))
        }
        (Node::Map(a), Node::Map(b)) => {
            let (ka, kb): (Vec<&str>, Vec<&str>) = (
                a.iter().map(|(k, _)| k.as_ref()).collect(),
                b.iter().map(|(k, _)| k.as_ref()).collect(),
            );
            if ka != kb {
                return Some(format!("{path}: keys {ka:?}, library {kb:?}"));
            }
            a.iter()
                .zip(b)
                .find_map(|((k, x), (_, y))| difference(x, y, &format!("{path}.{k}")))
        }
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path}: ours {a:?}, library {b:?}")),
    }
}

/// Compares the trees; returns how many `sources` were compared.
fn same_tree(name: &str, text: &str) -> usize {
    let ours = parse(text, 1).unwrap_or_else(|e| panic!("{name}: {e}"));
    let theirs = library_tree(text);
    if let Some(d) = difference(&ours, &theirs, "") {
        panic!("{name}: {d}");
    }
    ours.get("sources").map_or(0, |s| s.as_seq().len())
}

fn read(path: &str) -> String {
    let bytes = std::fs::read(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    decompress(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn testsuite_excuses_read_as_a_full_yaml_parser_reads_them() {
    let dir = fixture("fixtures/excuses/britney2-ubuntu-testsuite");
    let mut n = 0;
    for run in std::fs::read_dir(dir).expect("testsuite fixtures") {
        let path = run.expect("testsuite entry").path().join("excuses.yaml");
        let text = std::fs::read_to_string(&path).expect("excuses.yaml");
        assert!(same_tree(&path.display().to_string(), &text) > 0);
        n += 1;
    }
    assert_eq!(n, 19);
}

#[test]
fn production_excuses_read_as_a_full_yaml_parser_reads_them() {
    for (path, sources) in [
        (
            "fixtures/excuses/production/resolute-2026-04-20.base-files.excerpt.yaml",
            1,
        ),
        (
            "fixtures/excuses/production/plucky-2025-03-14.update_excuses_light.TRIMMED.yaml.xz",
            36,
        ),
        (
            "fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz",
            599,
        ),
    ] {
        assert_eq!(same_tree(path, &read(path)), sources, "{path}");
    }
}

#[test]
fn the_comparison_sees_a_difference() {
    // The check itself must be able to fail: a typed reading, a lost key.
    let ours = parse("a: '1'\nb: [x]\n", 1).unwrap();
    assert_eq!(
        difference(&ours, &library_tree("a: '1'\nb: [x]\n"), ""),
        None
    );
    assert!(difference(&ours, &library_tree("a: '2'\nb: [x]\n"), "").is_some());
    assert!(difference(&ours, &library_tree("a: '1'\n"), "").is_some());
    assert!(difference(&ours, &library_tree("a: '1'\nb: [x, y]\n"), "").is_some());
    assert_eq!(
        library_tree("n: null\nq: 'null'\n").get("q"),
        Some(&Node::Str("null".into()))
    );
}
