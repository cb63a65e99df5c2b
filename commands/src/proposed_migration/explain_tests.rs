use super::*;
use crate::links::Links;
use shepherd_adapters::britney::{output, parse};

use crate::test_data::{fixture, plucky};

#[test]
fn libsepol_reads_like_the_transcript() {
    let x = plucky();
    let text = explain(x.for_source("libsepol").unwrap(), None, &Links::default());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("libsepol 3.7-1 → 3.8-1 · blocked by autopkgtest · 3"),
        "{text}"
    );
    assert!(lines[0].ends_with(" days in -proposed"), "{text}");
    assert!(lines[1].starts_with("✗ refpolicy 2:2.20241211-2 regressed on amd64 arm64 armhf i386 ppc64el s390x  log (amd64): https://"), "{text}");
    assert!(text.contains("· other results, not blocking:"), "{text}");
    assert_eq!(
        *lines.last().unwrap(),
        "next: `!retry libsepol` (6 requests) — or read the refpolicy amd64 log first"
    );
}

#[test]
fn unknown_packages_get_a_did_you_mean() {
    let x = plucky();
    assert!(
        not_found("libsepl", &x).ends_with("did you mean libsepol?"),
        "{}",
        not_found("libsepl", &x)
    );
    assert!(not_found("zzzzzz-nothing", &x)
        .contains("is not in -proposed (excuses of 2025-03-14 21:47:02.526604)"));
}

#[test]
fn part_of_a_name_suggests_the_names_containing_it() {
    // Hundreds of plucky's names start with `lib`: three, then how many more.
    let x = plucky();
    let answer = not_found("lib", &x);
    assert!(answer.contains("— did you mean lib"), "{answer}");
    assert!(answer.ends_with(" more match)?"), "{answer}");
}

#[test]
fn update_output_says_what_would_break() {
    let dir = "fixtures/excuses/britney2-ubuntu-testsuite/remove_from_unstable-run90";
    let x =
        parse(&std::fs::read_to_string(fixture(&format!("{dir}/excuses.yaml"))).unwrap()).unwrap();
    let o = output::parse(&std::fs::read_to_string(fixture(&format!("{dir}/output.txt"))).unwrap());
    let item = x.get("-libc6").expect("removal item in the fixture");
    let text = explain(item, Some(&o), &Links::default());
    assert!(
        text.contains("· if libc6 migrates, libgreen1 becomes uninstallable on powerpc"),
        "{text}"
    );
}

#[test]
fn every_fixture_item_has_an_account_ending_in_a_next_step() {
    let base = fixture("fixtures/excuses/britney2-ubuntu-testsuite");
    for d in std::fs::read_dir(base).unwrap() {
        let x = parse(&std::fs::read_to_string(d.unwrap().path().join("excuses.yaml")).unwrap())
            .unwrap();
        for e in &x.items {
            let text = explain(e, None, &Links::default());
            assert!(text.lines().last().unwrap().starts_with("next: "), "{text}");
        }
    }
    let x = plucky();
    let blocked = x
        .items
        .iter()
        .find(|e| !e.block_bugs.is_empty())
        .expect("plucky has block-proposed bugs");
    let text = explain(blocked, None, &Links::default());
    assert!(text.contains("⛔ block-proposed by LP: #"), "{text}");
    // Each bug links its page on the configured Launchpad.
    let bug = &blocked.block_bugs[0].0;
    assert!(
        text.contains(&format!("· https://bugs.launchpad.net/bugs/{bug}")),
        "{text}"
    );
    let sim = Links::from_roots(Some("http://127.0.0.1:9/devel/"), None);
    assert!(explain(blocked, None, &sim).contains(&format!("· http://127.0.0.1:9/bugs/{bug}")));
}
