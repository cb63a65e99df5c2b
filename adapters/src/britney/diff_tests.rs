use super::*;
use crate::britney::excuses::{Excuse, TestResult};
use crate::britney::output;

fn item(name: &str, version: &str) -> Excuse {
    Excuse {
        item_name: name.into(),
        source: name.trim_start_matches('-').into(),
        old_version: "1".into(),
        new_version: version.into(),
        verdict: "REJECTED_PERMANENTLY".into(),
        maintainer: Some("Ubuntu Developers".into()),
        ..Default::default()
    }
}

fn test(pkg: &str, arch: &str, status: Status) -> TestResult {
    let log = format!("https://log/{pkg}/{arch}");
    TestResult::new(
        pkg.into(),
        Some("1".into()),
        arch,
        status,
        [Some(&log), None, None, None],
    )
}

fn file(items: Vec<Excuse>) -> Excuses {
    Excuses {
        items,
        ..Default::default()
    }
}

fn changes(old: Vec<Excuse>, new: Vec<Excuse>) -> Vec<(String, Change)> {
    diff(&file(old), &file(new), None)
        .into_iter()
        .map(|t| (t.item, t.change))
        .collect()
}

#[test]
fn nothing_changed_means_no_transitions() {
    let a = item("glibc", "2.41-1");
    assert!(changes(vec![a.clone()], vec![a]).is_empty());
}

#[test]
fn new_regression_on_one_arch_and_cleared_on_another() {
    let mut old = item("python3.13", "3.13.2-1");
    old.tests = vec![
        test("pytest-xdist", "amd64", Status::Regression),
        test("pytest-xdist", "arm64", Status::Pass),
    ];
    let mut new = old.clone();
    new.tests = vec![
        test("pytest-xdist", "amd64", Status::Pass),
        test("pytest-xdist", "arm64", Status::Regression),
    ];
    assert_eq!(
        changes(vec![old], vec![new]),
        vec![
            (
                "python3.13".into(),
                Change::NewRegression {
                    test: "pytest-xdist".into(),
                    arch: "arm64".into(),
                    log_url: Some("https://log/pytest-xdist/arm64".into())
                }
            ),
            (
                "python3.13".into(),
                Change::RegressionCleared {
                    test: "pytest-xdist".into(),
                    arch: "amd64".into(),
                    now: Some(Status::Pass)
                }
            ),
        ]
    );
}

#[test]
fn a_test_key_losing_its_version_is_not_a_change() {
    let mut old = item("a", "2");
    old.tests = vec![test("b", "amd64", Status::Regression)];
    let mut new = old.clone();
    new.tests[0].version = Some("3".into());
    assert!(changes(vec![old], vec![new]).is_empty());
}

#[test]
fn verdict_candidate_and_age() {
    let mut old = item("systemd", "257.2-3ubuntu1");
    old.age_days = Some(4.5);
    old.age_required = Some(5.0);
    let mut new = old.clone();
    new.verdict = "PASS".into();
    new.is_candidate = true;
    new.age_days = Some(5.1);
    let got = changes(vec![old], vec![new]);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[0].1,
        Change::VerdictChanged {
            from: "REJECTED_PERMANENTLY".into(),
            to: "PASS".into()
        }
    );
    assert_eq!(got[1].1, Change::BecameCandidate);
    assert_eq!(
        got[2].1,
        Change::AgeReached {
            days: 5.1,
            required: 5.0
        }
    );
}

#[test]
fn block_proposed_bugs_come_and_go() {
    let mut old = item("a", "2");
    old.block_bugs = vec![("111".into(), 1)];
    let mut new = old.clone();
    new.block_bugs = vec![("222".into(), 2)];
    assert_eq!(
        changes(vec![old], vec![new])
            .into_iter()
            .map(|(_, c)| c)
            .collect::<Vec<_>>(),
        vec![
            Change::Blocked { bug: "222".into() },
            Change::Unblocked { bug: "111".into() }
        ]
    );
}

#[test]
fn leaving_says_migrated_superseded_or_unknown() {
    let old = vec![
        item("glibc", "2.41-1ubuntu2"),
        item("foo", "1.0-1"),
        item("bar", "3"),
    ];
    let new = vec![item("foo-2", "x"), {
        let mut f = item("foo/amd64", "1.0-2");
        f.source = "foo".into();
        f
    }];
    let out = output::parse("trying: glibc\naccepted: glibc\nfinal: glibc\n");
    let got: Vec<(String, Change)> = diff(&file(old), &file(new), Some(&out))
        .into_iter()
        .filter(|t| matches!(t.change, Change::Left { .. }))
        .map(|t| (t.item, t.change))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "glibc".into(),
                Change::Left {
                    version: "2.41-1ubuntu2".into(),
                    how: Leaving::Migrated
                }
            ),
            (
                "foo".into(),
                Change::Left {
                    version: "1.0-1".into(),
                    how: Leaving::Superseded { by: "1.0-2".into() }
                }
            ),
            (
                "bar".into(),
                Change::Left {
                    version: "3".into(),
                    how: Leaving::Unknown
                }
            ),
        ]
    );
}

#[test]
fn appeared_and_new_version() {
    let got = changes(vec![item("a", "1")], vec![item("a", "2"), item("b", "1")]);
    assert_eq!(
        got[0].1,
        Change::NewVersion {
            from: "1".into(),
            to: "2".into()
        }
    );
    assert_eq!(
        got[1],
        (
            "b".into(),
            Change::Appeared {
                version: "1".into()
            }
        )
    );
}

#[test]
fn real_testsuite_runs_diff_into_migrations() {
    // run88 and run90 are two runs of the same britney test: items left between them.
    let read = |d: &str, f: &str| {
        std::fs::read_to_string(crate::britney::fixture(&format!(
            "fixtures/excuses/britney2-ubuntu-testsuite/{d}/{f}"
        )))
        .unwrap()
    };
    let a = crate::britney::parse(&read("remove_from_unstable-run88", "excuses.yaml")).unwrap();
    let b = crate::britney::parse(&read("remove_from_unstable-run90", "excuses.yaml")).unwrap();
    let out = output::parse(&read("remove_from_unstable-run90", "output.txt"));
    let t = diff(&a, &b, Some(&out));
    assert!(!t.is_empty());
    for tr in &t {
        if let Change::Left { how, .. } = &tr.change {
            assert_eq!(*how == Leaving::Migrated, out.migrated(&tr.item), "{tr:?}");
        }
    }
}
