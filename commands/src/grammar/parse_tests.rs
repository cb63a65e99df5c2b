use proptest::prelude::*;

use super::*;
use crate::builtins;

fn registry() -> Registry {
    Registry::new(builtins()).expect("builtins do not collide")
}

fn command(text: &str) -> Invocation {
    match parse(text, &registry()) {
        Parsed::Command(inv) => inv,
        other => panic!("{text:?} should parse, got {other:?}"),
    }
}

fn malformed(text: &str) -> (usize, String, String) {
    match parse(text, &registry()) {
        Parsed::Malformed {
            position,
            reason,
            usage,
        } => (position, reason, usage),
        other => panic!("{text:?} should be malformed, got {other:?}"),
    }
}

#[test]
fn plain_chat_is_not_a_command() {
    for text in [
        "",
        "   ",
        "hello world",
        "I ran !jobs yesterday",
        "!",
        "!!",
        "! jobs",
        "!1234",
        "```\n!jobs\n```",
        "> !jobs",
        "`!jobs`",
        "~~~\n!announce #x hi\n~~~",
    ] {
        assert_eq!(parse(text, &registry()), Parsed::NotACommand, "{text:?}");
    }
}

#[test]
fn command_on_a_later_line_outside_code_is_found() {
    let inv = command("morning all\n```\n!audit 3\n```\n!jobs 5");
    assert_eq!(inv.name, "jobs");
    assert_eq!(inv.positionals, vec!["5"]);
}

#[test]
fn aliases_and_case_resolve_to_the_canonical_name() {
    assert_eq!(command("!plans").name, "jobs");
    assert_eq!(command("!JOBS").name, "jobs");
    assert_eq!(command("  !say #x hi").name, "announce");
}

#[test]
fn quotes_group_words_and_escape() {
    let inv = command(r#"!announce #rel "freeze at \"18:00\" UTC" 'say "hi" \o/'"#);
    assert_eq!(
        inv.positionals,
        vec!["#rel", r#"freeze at "18:00" UTC"#, r#"say "hi" \o/"#]
    );
    let inv = command("!announce #rel “smart quotes” ‘too’");
    assert_eq!(inv.positionals, vec!["#rel", "smart quotes", "too"]);
}

#[test]
fn flags_take_values_repeat_and_accept_equals() {
    let inv = command("!announce #a hi --also #b --also=#c --dry-run");
    assert_eq!(inv.flag_values("also"), ["#b", "#c"]);
    assert!(inv.dry_run());
    assert_eq!(inv.positionals, vec!["#a", "hi"]);
}

#[test]
fn quoted_dashes_and_double_dash_are_positionals() {
    let inv = command("!announce #a '--not-a-flag' -- --nor-this");
    assert_eq!(inv.positionals, vec!["#a", "--not-a-flag", "--nor-this"]);
}

#[test]
fn inline_code_ends_the_command() {
    let inv = command("!help jobs `!announce #x hi`");
    assert_eq!(inv.positionals, vec!["jobs"]);
}

#[test]
fn unknown_command_suggests_the_nearest() {
    assert_eq!(
        parse("!jbos", &registry()),
        Parsed::Unknown {
            name: "jbos".into(),
            suggestion: Some("jobs".into())
        }
    );
    assert_eq!(
        parse("!frobnicate", &registry()),
        Parsed::Unknown {
            name: "frobnicate".into(),
            suggestion: None
        }
    );
}

#[test]
fn malformed_input_names_the_position_and_gives_usage() {
    let (pos, reason, usage) = malformed("!show");
    assert_eq!(
        (pos, reason.as_str(), usage.as_str()),
        (5, "missing PLAN", "!show PLAN")
    );

    let (pos, reason, _) = malformed("!jobs --verbose");
    assert_eq!((pos, reason.as_str()), (6, "unknown option --verbose"));

    let (pos, reason, usage) = malformed("!announce #x 'unterminated");
    assert_eq!((pos, reason.as_str()), (13, "unterminated quote '"));
    assert_eq!(
        usage,
        "!announce CHANNEL TEXT… [--also CHANNEL]… [--dry-run]"
    );

    let (_, reason, _) = malformed("!announce #x hi --also");
    assert_eq!(reason, "--also needs a value");
    let (_, reason, _) = malformed("!announce #x hi --dry-run --dry-run");
    assert_eq!(reason, "--dry-run given twice");
    let (_, reason, _) = malformed("!announce #x hi --dry-run=yes");
    assert_eq!(reason, "--dry-run takes no value");
    let (_, reason, _) = malformed("!jobs 1 2");
    assert_eq!(reason, "too many arguments (2, at most 1)");
    // Options get a "did you mean", as commands do.
    let (_, reason, _) = malformed("!copy hello --form a/b --to c/d");
    assert_eq!(reason, "unknown option --form — did you mean --from?");
    let (_, reason, _) = malformed("!retry glibc --dryrun");
    assert_eq!(reason, "unknown option --dryrun — did you mean --dry-run?");
}

#[test]
fn dry_run_exists_only_on_writing_commands() {
    let (_, reason, _) = malformed("!jobs --dry-run");
    assert_eq!(reason, "unknown option --dry-run");
}

#[test]
fn position_is_relative_to_the_whole_message() {
    let (pos, _, _) = malformed("hi\n  !jobs --bad");
    assert_eq!(pos, "hi\n  !jobs ".len());
}

/// Found by the fuzzer (fuzz/corpus/grammar/regression-position-in-a-char):
/// a position past the last argument counted the unquoted text, so after
/// a quoted one it fell short of its closing quote, here inside the `�`.
#[test]
fn fuzz_regression_a_position_after_quotes_is_past_the_closing_quote() {
    let text = "!watch maintainer \"Ubuntu Developer\u{fffd}\"!watch maintainer \"Ubuntu Developer\u{fffd}\"";
    let (pos, reason, _) = malformed(text);
    assert_eq!(
        (pos, reason.as_str()),
        (text.len(), "too many arguments (4, at most 2)")
    );
    let (pos, reason, _) = malformed("!jobs \"1\" 'x'");
    assert_eq!(
        (pos, reason.as_str()),
        (13, "too many arguments (2, at most 1)")
    );
    let (pos, reason, _) = malformed("!announce “#x”");
    assert_eq!(
        (pos, reason.as_str()),
        ("!announce “#x”".len(), "missing CHANNEL TEXT")
    );
    // And a quoted command name ends at its quote too.
    let (pos, reason, _) = malformed("!sh\"ow\"");
    assert_eq!((pos, reason.as_str()), (7, "missing PLAN"));
}

/// Found by the fuzzer (fuzz/corpus/grammar/regression-line-break-in-a-name.txt):
/// a quote held a `\r` inside the command's line, so "no command !…" was
/// answered over several lines. A line now ends at any line break a chat
/// client shows, and what follows one is never part of the command.
#[test]
fn fuzz_regression_a_line_ends_at_any_line_break() {
    let found =
        String::from_utf8_lossy(b"!r\x80\"!w\r\r\r\r\r\r\r\r\r\r\r\xd6\r\r\r\r\r\rr \"U\r\rb");
    let (_, reason, _) = malformed(&found);
    assert_eq!(reason, "unterminated quote \"");
    assert_eq!(command("!jobs 5\u{2028}thanks").positionals, ["5"]);
    assert_eq!(command("!jobs 5\rthanks").positionals, ["5"]);
    assert_eq!(command("thanks\u{85}!jobs 5").positionals, ["5"]);
    let (_, reason, _) = malformed("!announce #a \"one\u{2029}two\"");
    assert_eq!(reason, "unterminated quote \"");
    let (pos, _, _) = malformed("hi\r\n  !jobs --bad");
    assert_eq!(pos, "hi\r\n  !jobs ".len());
}

#[test]
fn every_help_example_parses_to_its_own_command() {
    let reg = registry();
    for spec in reg.specs() {
        assert!(!spec.examples.is_empty(), "!{} has no example", spec.name);
        for ex in spec.examples {
            match parse(ex, &reg) {
                Parsed::Command(inv) => assert_eq!(inv.name, spec.name, "{ex}"),
                other => panic!("help example {ex:?} does not parse: {other:?}"),
            }
        }
    }
}

#[test]
fn edit_distance_counts_edits() {
    use crate::registry::edit_distance;
    assert_eq!(edit_distance("rety", "retry"), 1);
    assert_eq!(edit_distance("jbos", "jobs"), 2);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("same", "same"), 0);
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9#./:+~-]{1,12}",
        "[ -~]{0,12}",
        "\\PC{0,8}",
        Just("--".to_string()),
        Just("'".to_string()),
        Just("\"\\\"".to_string()),
    ]
}

proptest! {
    #[test]
    fn never_panics_on_any_input(text in "\\PC{0,80}") {
        let _ = parse(&text, &registry());
    }

    #[test]
    fn never_panics_on_command_shaped_input(
        name in prop_oneof![Just("announce"), Just("jobs"), Just("help"), Just("show"), Just("zz")],
        rest in proptest::collection::vec(token(), 0..8),
    ) {
        let _ = parse(&format!("!{name} {}", rest.join(" ")), &registry());
    }

    #[test]
    fn rendered_invocations_parse_back_unchanged(
        channel in "[#a-z0-9-]{1,10}",
        words in proptest::collection::vec(token(), 1..6),
        also in proptest::collection::vec(token(), 0..3),
        dry in any::<bool>(),
    ) {
        let reg = registry();
        let mut inv = Invocation {
            name: "announce".into(),
            positionals: std::iter::once(channel).chain(words).collect(),
            flags: Default::default(),
        };
        if !also.is_empty() {
            inv.flags.insert("also".into(), also);
        }
        if dry {
            inv.flags.insert("dry-run".into(), vec![String::new()]);
        }
        let spec = reg.lookup("announce").unwrap();
        let text = inv.render(spec);
        prop_assert_eq!(parse(&text, &reg), Parsed::Command(inv), "{}", text);
    }
}
