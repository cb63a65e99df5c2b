use super::*;

fn s(v: &str) -> Node<'_> {
    Node::Str(Cow::Borrowed(v))
}

#[test]
fn block_mappings_and_indentless_lists() {
    let doc = "a: 1\nlist:\n- x\n- y\nnested:\n  k: v\n  e: []\n  m: {}\nn: null\n";
    let n = parse(doc, 1).unwrap();
    assert_eq!(n.get("a"), Some(&s("1")));
    assert_eq!(n.get("list").unwrap().as_seq(), &[s("x"), s("y")]);
    assert_eq!(n.get("nested").unwrap().get("k"), Some(&s("v")));
    assert_eq!(n.get("nested").unwrap().get("e"), Some(&Node::Seq(vec![])));
    assert_eq!(n.get("nested").unwrap().get("m"), Some(&Node::Map(vec![])));
    assert_eq!(n.get("n"), Some(&Node::Null));
}

#[test]
fn list_items_that_are_mappings_and_lists() {
    let doc = "- name: a\n  v: 1\n- name: b\n- - x\n  - null\n";
    let n = parse(doc, 1).unwrap();
    let items = n.as_seq();
    assert_eq!(items[0].get("v"), Some(&s("1")));
    assert_eq!(items[1].get("name"), Some(&s("b")));
    assert_eq!(items[2].as_seq(), &[s("x"), Node::Null]);
}

#[test]
fn folded_scalars_join_with_spaces() {
    let doc = "excuses:\n- 'Migration status for x (1 to 2): Will attempt\n  migration (Any information)'\n- plain text that\n  goes on\n- 'it''s'\nk: \"a \\\"b\\\"\n  c\\u00e9\"\n";
    let n = parse(doc, 1).unwrap();
    let ex = n.get("excuses").unwrap().as_seq();
    assert_eq!(
        ex[0].as_str(),
        Some("Migration status for x (1 to 2): Will attempt migration (Any information)")
    );
    assert_eq!(ex[1].as_str(), Some("plain text that goes on"));
    assert_eq!(ex[2].as_str(), Some("it's"));
    assert_eq!(n.get("k").unwrap().as_str(), Some("a \"b\" cé"));
}

#[test]
fn quoted_keys_and_values_with_colons() {
    let doc = "'12345': 1700000000\nurl: https://example.com/a:b\nver: 1:2.3-1\n";
    let n = parse(doc, 1).unwrap();
    assert_eq!(n.get("12345"), Some(&s("1700000000")));
    assert_eq!(n.get("url"), Some(&s("https://example.com/a:b")));
    assert_eq!(n.get("ver"), Some(&s("1:2.3-1")));
}

#[test]
fn errors_name_the_line() {
    let e = parse("a: 1\n   b: 2\n", 10).unwrap_err();
    assert_eq!(e.line, 11);
    assert!(parse("k: 'open\n", 1).is_err());
    assert!(parse("k: &anchor x\n", 1).is_err());
}

#[test]
fn never_panics_on_junk() {
    for junk in [
        "-",
        "- -",
        ":",
        "'",
        "\"\\",
        "a:\n-\n -\n",
        "[",
        "- 'x\n\n",
        "k: |\n  a\n  b\n",
        "\u{feff}x: y",
    ] {
        let _ = parse(junk, 1);
    }
}

/// `depth` lists, one inside the other, holding `x`.
fn nested_lists(depth: usize) -> String {
    format!("{}x\n", "- ".repeat(depth))
}

#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_stack_overflow() {
    // 10,000 levels used to recurse until the stack overflowed (an abort).
    let e = parse(&nested_lists(10_000), 7).unwrap_err();
    assert_eq!(e.line, 7);
    assert!(e.message.contains("nested deeper than 64"), "{e}");
    // Nesting by indentation recurses the same way.
    let maps: String = (0..100)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let e = parse(&maps, 1).unwrap_err();
    assert!(e.message.contains("nested deeper than 64"), "{e}");
}

#[test]
fn nesting_up_to_the_limit_still_parses() {
    let doc = nested_lists(MAX_DEPTH);
    let mut n = parse(&doc, 1).unwrap();
    for _ in 1..MAX_DEPTH {
        n = n.as_seq()[0].clone();
    }
    assert_eq!(n.as_seq(), &[s("x")]);
    assert!(parse(&nested_lists(MAX_DEPTH + 1), 1).is_err());
}

#[test]
fn hex_escapes_take_hex_digits_only() {
    assert_eq!(
        parse("k: \"\\x41\\u00e9\"\n", 1).unwrap().get("k"),
        Some(&s("Aé"))
    );
    // `from_str_radix` alone also reads a sign: `\x+4` would become U+0004.
    for bad in ["k: \"\\x+4\"\n", "k: \"\\u+0e9\"\n", "k: \"\\x4\"\n"] {
        assert!(parse(bad, 1).is_err(), "{bad}");
    }
}
