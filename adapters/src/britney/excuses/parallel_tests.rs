use std::io::Write;

use proptest::prelude::*;

use super::*;
use crate::britney::excuses::{decompress, parse, Excuse, Skipped};
use crate::britney::fixture;

fn xz(text: &[u8]) -> Vec<u8> {
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(text).unwrap();
    xz.finish().unwrap()
}

fn gz(text: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text).unwrap();
    gz.finish().unwrap()
}

/// The result, or the error's message (`ExcusesError` has no `PartialEq`).
fn shown(r: Result<Excuses, ExcusesError>) -> Result<Excuses, String> {
    r.map_err(|e| e.to_string())
}

/// Every way of reading `plain` gives what `decompress` + `parse` give.
fn same_everywhere(name: &str, plain: &[u8], piece_sizes: &[usize]) {
    let expected = shown(decompress(plain).and_then(|t| parse(&t)));
    // Compressing the 10.8 MB file in a debug build takes long; it is read
    // from its own xz stream in `the_plucky_file_…`.
    let (xz, gz) = if plain.len() > 1_000_000 {
        (Vec::new(), Vec::new())
    } else {
        (xz(plain), gz(plain))
    };
    for &piece in piece_sizes {
        for helpers in [1, 3] {
            let at = format!("{name}, pieces of {piece} bytes, {helpers} helper(s)");
            if let Ok(text) = std::str::from_utf8(plain) {
                let got = shown(parse_parallel_in(text, piece, helpers, Prose::Read));
                assert!(got == expected, "{at}: parse_parallel differs");
            }
            for (kind, bytes) in [("plain", plain), ("xz", &xz[..]), ("gz", &gz[..])] {
                if bytes.is_empty() && !plain.is_empty() {
                    continue;
                }
                let got = shown(parse_bytes_in(bytes, piece, helpers, Prose::Read));
                assert!(got == expected, "{at}: parse_bytes on {kind} differs");
            }
        }
    }
}

/// Every excuses file among the fixtures, decompressed.
fn excuses_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["production", "britney2-ubuntu-testsuite"] {
        let dir = fixture(&format!("fixtures/excuses/{dir}"));
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("fixture folder") {
            let path = entry.expect("fixture entry").path();
            let file = if path.is_dir() {
                path.join("excuses.yaml")
            } else {
                path
            };
            if file.exists() && file.to_string_lossy().contains(".yaml") {
                paths.push(file);
            }
        }
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).expect("fixture");
            let text = decompress(&bytes).expect("fixture decompresses");
            out.push((path.display().to_string(), text.into_bytes()));
        }
    }
    out
}

#[test]
fn every_excuses_fixture_parses_the_same_in_parallel() {
    let fixtures = excuses_fixtures();
    // 3 production files and the 19 britney2-ubuntu test-suite runs.
    assert_eq!(fixtures.len(), 22);
    for (name, text) in &fixtures {
        let sequential = parse(std::str::from_utf8(text).unwrap()).unwrap();
        assert!(!sequential.items.is_empty(), "{name}");
        // 1 byte: every cut is taken, each entry is a piece of its own.
        let sizes: &[usize] = if text.len() > 1_000_000 {
            &[4096, PIECE_BYTES]
        } else {
            &[1, 100, 4096, PIECE_BYTES]
        };
        same_everywhere(name, text, sizes);
    }
}

/// `full` as it reads without britney's prose.
fn without_prose(mut full: Excuses) -> Excuses {
    for e in &mut full.items {
        e.excuses.clear();
        e.detailed_info.clear();
    }
    full
}

#[test]
fn skipping_prose_changes_nothing_else_on_any_fixture() {
    for (name, text) in excuses_fixtures() {
        let full = parse(std::str::from_utf8(&text).unwrap()).unwrap();
        let prose = full.items.iter().filter(|e| !e.excuses.is_empty()).count();
        assert!(
            prose > 0 || full.items.len() == 1,
            "{name}: has prose to skip"
        );
        let expected = without_prose(full);
        for piece in [1, PIECE_BYTES] {
            let got = parse_bytes_in(&text, piece, 1, Prose::Skip).unwrap();
            assert!(got == expected, "{name}: pieces of {piece} bytes");
        }
    }
}

#[test]
fn the_plucky_file_is_cut_into_many_pieces_and_read_the_same() {
    let path = "fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz";
    let bytes = std::fs::read(fixture(path)).unwrap();
    let sequential = parse(&decompress(&bytes).unwrap()).unwrap();
    assert_eq!(sequential.items.len(), 599);
    // The file as published (its own xz stream), read as the CLI reads it:
    // one block checked with CRC64, which the workers check.
    assert!(super::xz_check::stored_crc64(&bytes).is_some());
    assert!(parse_bytes(&bytes).unwrap() == sequential);
    assert!(parse_bytes_in(&bytes, 1, 1, Prose::Read).unwrap() == sequential);
}

#[test]
fn errors_are_those_of_decompress_then_parse() {
    let ok = b"generated-date: x\nsources:\n- item-name: a\n  source: a\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS\n";
    // Bad UTF-8 after a good first piece, and a bad header before it.
    let mut bad_utf8 = ok.to_vec();
    bad_utf8.extend_from_slice(b"- item-name: \xff\n");
    same_everywhere("bad UTF-8", &bad_utf8, &[1, 4096]);
    let mut both = b"sources: [x]\n".to_vec();
    both.extend_from_slice(&bad_utf8);
    same_everywhere("bad header and bad UTF-8", &both, &[1, 4096]);
    same_everywhere("no list", b"hello: world\n- a: 1\n", &[1, 4096]);
    same_everywhere("empty", b"", &[1, 4096]);
    // A stream cut short: a read error, whatever was parsed before it.
    let mut big = Vec::new();
    for k in 0..2000 {
        big.extend_from_slice(format!("- item-name: a{k}\n  source: a\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS\n").as_bytes());
    }
    let mut text = b"sources:\n".to_vec();
    text.extend_from_slice(&big);
    let truncated = xz(&text);
    let truncated = &truncated[..truncated.len() / 2];
    let expected = shown(decompress(truncated).and_then(|t| parse(&t)));
    assert!(expected.is_err());
    for piece in [1, 4096] {
        assert!(shown(parse_bytes_in(truncated, piece, 1, Prose::Read)) == expected);
    }
}

/// A copy of an item in another piece than the first is found when the
/// pieces are joined, and skipped as the sequential parse skips it.
#[test]
fn an_item_named_twice_in_two_pieces_is_read_once() {
    let item = |name: &str, candidate: bool| {
        format!("- item-name: {name}\n  source: {name}\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS\n  is-candidate: {candidate}\n")
    };
    let text = format!(
        "sources:\n{}{}{}",
        item("a", false),
        item("b", false),
        item("a", true)
    );
    let expected = parse(&text).unwrap();
    let names: Vec<_> = expected
        .items
        .iter()
        .map(|e| e.item_name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(!expected.items[0].is_candidate, "the first copy is kept");
    assert_eq!(
        expected.skipped,
        [Skipped {
            index: 2,
            line: 14,
            reason: "the same item-name as the item at line 2".into()
        }]
    );
    same_everywhere("an item named twice", text.as_bytes(), &[1, 40, 4096]);
}

/// Each list entry in order: its item, or `None` if it was skipped.
fn by_entry(x: &Excuses) -> Vec<Option<&Excuse>> {
    let mut items = x.items.iter();
    (0..x.items.len() + x.skipped.len())
        .map(|k| match x.skipped.iter().any(|s| s.index == k) {
            true => None,
            false => items.next(),
        })
        .collect()
}

/// An entry with every required key, so that random lists hold entries that parse.
const ENTRY: &str = "- item-name: a\n  source: a\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS";

#[test]
fn a_corrupt_xz_file_fails_as_liblzma_fails_it() {
    let mut text = b"generated-date: x\nsources:\n".to_vec();
    for k in 0..3000 {
        text.extend_from_slice(format!("- item-name: a{k}\n  source: a\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS\n").as_bytes());
    }
    let good = xz(&text);
    let stored = super::xz_check::stored_crc64(&good);
    assert_eq!(
        stored,
        Some(super::xz_check::crc64(&text)),
        "checked by the workers"
    );
    // A wrong stored check, and a byte changed in the compressed data.
    let index_at = good.len() - 12 - (usize::from(good[good.len() - 8]) + 1) * 4;
    let mut wrong_check = good.clone();
    wrong_check[index_at - 8] ^= 1;
    let mut wrong_data = good.clone();
    wrong_data[good.len() / 2] ^= 0x10;
    for (name, bytes) in [("wrong check", wrong_check), ("wrong data", wrong_data)] {
        let expected = shown(decompress(&bytes).and_then(|t| parse(&t)));
        assert!(expected.is_err(), "{name}");
        for piece in [1, 4096, PIECE_BYTES] {
            for helpers in [1, 3] {
                let got = shown(parse_bytes_in(&bytes, piece, helpers, Prose::Read));
                assert!(
                    got == expected,
                    "{name}: {:?} vs {:?}",
                    got.err(),
                    expected.as_ref().err()
                );
            }
        }
    }
}

/// Lines as PyYAML lays them out (a value's continuation lines deeper than
/// its key): entries, prose blocks and the keys around them.
const ENTRIES: &[&str] = &[
    ENTRY,
    "- excuses:",
    "  excuses:",
    "  detailed-info:",
    "  - 'prose over\n    lines'",
    "  - plain",
    "  - - nested",
    "    deeper: x",
    "  excuses: []",
    "  maintainer: m",
    "  component: universe",
    "  # comment",
    "",
];

/// Any lines: entries, ends of the list, comments, blank lines, bad
/// indentation, quoted text over lines, CRLF.
const LINES: &[&str] = &[
    "    - nested",
    "- item-name: a",
    "- item-name: b\r",
    "  source: a",
    "  old-version: '1'",
    "  new-version: '2'",
    "  migration-policy-verdict: PASS",
    "  excuses:",
    "  - 'text that goes",
    "    on'",
    "  - plain",
    "-",
    "- - x",
    "-foo",
    "other: key",
    "# comment",
    "",
    "   ",
    " é",
    "    deeper: x",
    "  - indented entry",
    "sources:",
    "---",
    "\t",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_lists_parse_the_same_in_parallel(
        header in prop::sample::select(vec!["sources:\n", "generated-date: d\nsources:\n", "a:\n- x\nsources:\n", "sources: []\n", "x: 1\n"]),
        lines in prop::collection::vec(
            prop_oneof![3 => prop::sample::select(ENTRIES), 1 => prop::sample::select(LINES)],
            0..40,
        ),
        piece in 1usize..64,
        helpers in 1usize..4,
    ) {
        let mut text = header.to_string();
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        let expected = shown(parse(&text));
        prop_assert!(shown(parse_parallel_in(&text, piece, helpers, Prose::Read)) == expected.clone(), "parallel: {text:?}");
        for bytes in [text.as_bytes().to_vec(), xz(text.as_bytes()), gz(text.as_bytes())] {
            prop_assert!(shown(parse_bytes_in(&bytes, piece, helpers, Prose::Read)) == expected.clone(), "bytes: {text:?}");
        }
    }

    /// Without prose, every entry that reads with it reads the same but
    /// for its prose (an entry whose prose alone is malformed is read
    /// instead of skipped).
    #[test]
    fn skipping_prose_changes_nothing_else_on_pyyaml_lists(
        lines in prop::collection::vec(prop::sample::select(ENTRIES), 0..40),
        piece in 1usize..64,
    ) {
        let text = format!("sources:\n{}\n", lines.join("\n"));
        let full = without_prose(parse(&text).unwrap());
        let skip = parse_bytes_in(text.as_bytes(), piece, 1, Prose::Skip).unwrap();
        let (with, without) = (by_entry(&full), by_entry(&skip));
        prop_assert_eq!(with.len(), without.len());
        for (k, e) in with.iter().enumerate() {
            // A later copy of a name is skipped: an entry read only
            // without its prose may be the first copy instead.
            let copy = skip.skipped.iter().any(|s| s.index == k && s.reason.starts_with("the same item-name"));
            if e.is_some() && !copy {
                prop_assert!(without[k] == *e, "entry {k}: {text:?}");
            }
        }
    }
}
