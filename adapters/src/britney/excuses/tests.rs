use std::collections::BTreeMap;

use super::*;
use crate::britney::fixture;

fn load(path: &str) -> Excuses {
    let bytes = std::fs::read(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse(&decompress(&bytes).unwrap()).unwrap()
}

const PLUCKY: &str = "fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz";

#[test]
fn plucky_production_file_every_status_counted() {
    let x = load(PLUCKY);
    assert_eq!(
        x.generated_date.as_deref(),
        Some("2025-03-14 21:47:02.526604")
    );
    assert_eq!(x.items.len(), 599);
    assert!(x.skipped.is_empty(), "{:?}", x.skipped);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in x.items.iter().flat_map(|e| &e.tests) {
        *counts.entry(t.status.as_str().to_string()).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = [
        ("PASS", 15_799),
        ("NEUTRAL", 3_432),
        ("OLD_PASS", 2_342),
        ("ALWAYSFAIL", 2_082),
        ("REGRESSION", 613),
        ("OLD_NEUTRAL", 389),
        ("IGNORE-FAIL", 233),
        ("RUNNING-ALWAYSFAIL", 17),
        ("RUNNING", 6),
        ("RUNNING-REFERENCE", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(counts, expected);
    assert_eq!(
        x.items.iter().filter(|e| e.component.is_some()).count(),
        560
    );
    // Every REGRESSION carries britney's retry link; nothing else but RUNNING-REFERENCE does.
    for t in x.items.iter().flat_map(|e| &e.tests) {
        let has_retry = t.retry_url().is_some();
        let expects = matches!(t.status, Status::Regression | Status::RunningReference);
        assert_eq!(has_retry, expects, "{t:?}");
    }
}

#[test]
fn libsepol_is_blocked_by_refpolicy_on_six_arches() {
    let x = load(PLUCKY);
    let e = x.for_source("libsepol").unwrap();
    assert_eq!(
        (e.old_version.as_str(), e.new_version.as_str()),
        ("3.7-1", "3.8-1")
    );
    assert_eq!(e.verdict, "REJECTED_PERMANENTLY");
    let regressed: Vec<(&str, &str)> = e.regressions().map(|t| (&*t.package, &*t.arch)).collect();
    assert_eq!(
        regressed,
        ["amd64", "arm64", "armhf", "i386", "ppc64el", "s390x"]
            .map(|a| ("refpolicy", a))
            .to_vec()
    );
    let r = e.regressions().next().unwrap();
    assert_eq!(r.version.as_deref(), Some("2:2.20241211-2"));
    assert!(r.log_url().unwrap().ends_with("/log.gz"));
    assert!(r
        .history_url()
        .unwrap()
        .starts_with("https://autopkgtest.ubuntu.com/packages/r/refpolicy/plucky/"));
    assert_eq!(
        r.retry_url(),
        Some("https://autopkgtest.ubuntu.com/request.cgi?release=plucky&arch=amd64&package=refpolicy&trigger=libsepol%2F3.8-1")
    );
    assert!(e.age_days.unwrap() > 30.0);
}

#[test]
fn trimmed_file_skips_the_stub_and_keeps_the_rest() {
    let x =
        load("fixtures/excuses/production/plucky-2025-03-14.update_excuses_light.TRIMMED.yaml.xz");
    assert_eq!(x.items.len() + x.skipped.len(), 36);
    assert_eq!(x.skipped.len(), 1, "{:?}", x.skipped);
    assert_eq!(x.skipped[0].reason, "missing `item-name`");
}

#[test]
fn every_testsuite_fixture_parses_cleanly() {
    let dir = fixture("fixtures/excuses/britney2-ubuntu-testsuite");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path().join("excuses.yaml");
        let x = parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(x.skipped.is_empty(), "{}: {:?}", path.display(), x.skipped);
        assert!(!x.items.is_empty(), "{}", path.display());
        n += 1;
    }
    assert_eq!(n, 19);
}

fn suite(name: &str) -> Excuses {
    load(&format!(
        "fixtures/excuses/britney2-ubuntu-testsuite/{name}/excuses.yaml"
    ))
}

#[test]
fn block_bugs_and_versionless_running_keys() {
    let x = suite("lp_bug_block-run105");
    let blocked: Vec<&Excuse> = x
        .items
        .iter()
        .filter(|e| !e.block_bugs.is_empty())
        .collect();
    assert!(!blocked.is_empty());
    assert!(blocked[0]
        .block_bugs
        .iter()
        .all(|(bug, epoch)| bug.parse::<u64>().is_ok() && *epoch > 0));
    let running = x
        .items
        .iter()
        .flat_map(|e| &e.tests)
        .find(|t| t.status == Status::RunningAlwaysFail)
        .unwrap();
    assert_eq!(running.version, None, "key without a version");
}

#[test]
fn dependencies_hints_missing_builds_and_ppas() {
    let x = suite("kernel_waits_on_meta-run42");
    assert!(x.items.iter().any(|e| !e.migrate_after.is_empty()));
    assert!(x
        .items
        .iter()
        .any(|e| e.verdict == "REJECTED_WAITING_FOR_ANOTHER_ITEM"));

    let x = suite("package_pair_running-run70");
    assert!(x
        .items
        .iter()
        .any(|e| !e.blocked_by.is_empty() && e.invalidated_by_other_package));

    let x = suite("partial_unbuilt_block-run72");
    let e = x
        .items
        .iter()
        .find(|e| !e.missing_builds.is_empty())
        .unwrap();
    assert!(!e.old_binaries.is_empty() || x.items.iter().any(|e| !e.old_binaries.is_empty()));
    assert!(x
        .items
        .iter()
        .any(|e| !e.hints.is_empty() && !e.detailed_info.is_empty()));

    let x = suite("ppas-run75");
    let t = x
        .items
        .iter()
        .flat_map(|e| &e.tests)
        .find(|t| t.artifacts_url().is_some())
        .unwrap();
    assert_eq!(t.history_url(), None, "PPA mode: no history URL");

    let x = suite("hint_force_badtest_arch-run20");
    let statuses: Vec<&Status> = x
        .items
        .iter()
        .flat_map(|e| &e.tests)
        .map(|t| &t.status)
        .collect();
    assert!(statuses.contains(&&Status::IgnoreFail) && statuses.contains(&&Status::Regression));

    let x = suite("sourceppa_missingbuild-run06");
    assert!(x.items.iter().any(|e| !e.source_ppa.is_empty()));
}

#[test]
fn resolute_excerpt_main_component_with_hints() {
    let x = load("fixtures/excuses/production/resolute-2026-04-20.base-files.excerpt.yaml");
    let e = x.for_source("base-files").unwrap();
    assert_eq!(
        (e.old_version.as_str(), e.new_version.as_str()),
        ("14ubuntu5", "14ubuntu6")
    );
    assert_eq!(e.component, None);
    assert!(!e.hints.is_empty());
}

#[test]
fn compressed_and_plain_read_the_same() {
    use std::io::Write;
    let plain = "generated-date: x\nsources:\n- item-name: a\n  source: a\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS\n  is-candidate: true\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(plain.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(plain.as_bytes()).unwrap();
    let xz = xz.finish().unwrap();
    for bytes in [plain.as_bytes().to_vec(), gz, xz] {
        let x = parse(&decompress(&bytes).unwrap()).unwrap();
        assert_eq!(x.items[0].new_version, "2");
        assert!(x.items[0].is_candidate);
    }
}

#[test]
fn malformed_items_are_skipped_not_fatal() {
    let text = "sources:\n- item-name: ok\n  source: ok\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS\n- item-name: 'broken\n- just a string\n- item-name: ok2\n  source: ok2\n  old-version: '1'\n  new-version: '2'\n  migration-policy-verdict: PASS\n";
    let x = parse(text).unwrap();
    let names: Vec<&str> = x.items.iter().map(|e| e.item_name.as_str()).collect();
    assert_eq!(names, ["ok", "ok2"]);
    assert_eq!(x.skipped.len(), 2);
    assert_eq!(x.skipped[0].line, 7);
    assert!(parse("hello: world\n").is_err(), "no sources list");
}

/// Found by the fuzzer (fuzz/corpus/excuses/regression-item-twice.yaml):
/// an item named twice made a snapshot differ from itself — the diff
/// announced the second copy's changes against the first on every poll.
#[test]
fn fuzz_regression_an_item_named_twice_is_read_once() {
    let item = |candidate: bool| {
        format!("- item-name: -fancy\n  source: fancy\n  old-version: '1'\n  new-version: '-'\n  migration-policy-verdict: PASS\n  is-candidate: {candidate}\n")
    };
    let text = format!("sources:\n{}{}", item(false), item(true));
    let x = parse(&text).unwrap();
    assert_eq!(x.items.len(), 1);
    assert!(!x.items[0].is_candidate, "the first copy is kept");
    assert_eq!(
        x.skipped,
        [Skipped {
            index: 1,
            line: 8,
            reason: "the same item-name as the item at line 2".into()
        }]
    );
    assert_eq!(crate::britney::diff(&x, &x, None), []);
}

#[test]
fn a_stray_line_of_multibyte_text_fails_its_item_instead_of_panicking() {
    // `é` starts inside the list's two-space indentation: slicing the line
    // at the list's indent used to split the character and panic.
    let x = parse("sources:\n  - item-name: a\n é\n").unwrap();
    assert!(x.items.is_empty());
    assert_eq!(x.skipped.len(), 1, "{:?}", x.skipped);
    assert_eq!(x.skipped[0].line, 2);
    assert!(
        x.skipped[0].reason.starts_with("line 3:"),
        "{:?}",
        x.skipped
    );
}

#[test]
fn an_item_nested_too_deeply_is_skipped_and_the_rest_read() {
    let good = suite("tmpfail-run101");
    let text = std::fs::read_to_string(fixture(
        "fixtures/excuses/britney2-ubuntu-testsuite/tmpfail-run101/excuses.yaml",
    ))
    .unwrap();
    let deep = format!("- {}x\n", "- ".repeat(10_000));
    let text = text.replacen("sources:\n", &format!("sources:\n{deep}"), 1);
    let x = parse(&text).unwrap();
    assert_eq!(x.items, good.items);
    assert_eq!(x.skipped.len(), 1);
    assert!(
        x.skipped[0].reason.contains("nested deeper than"),
        "{:?}",
        x.skipped
    );
}

#[test]
fn a_url_with_a_newline_does_not_shift_the_others() {
    // The four URLs share one `\n`-joined string; a value with its own
    // newline (a YAML "\n" escape) used to push history into the log slot.
    let t = TestResult::new(
        "p".into(),
        None,
        "amd64",
        Status::Regression,
        [
            Some("https://a/log\nx"),
            Some("https://a/history"),
            None,
            Some("https://a/retry"),
        ],
    );
    assert_eq!(t.log_url(), None);
    assert_eq!(t.history_url(), Some("https://a/history"));
    assert_eq!(t.artifacts_url(), None);
    assert_eq!(t.retry_url(), Some("https://a/retry"));
}
