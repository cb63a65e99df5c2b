use super::*;
use crate::test_data::plucky;

const BASE: &str = "https://autopkgtest.ubuntu.com/request.cgi";

#[test]
fn whole_file_covers_every_britney_retry_link() {
    let x = plucky();
    let urls: Vec<String> = select("plucky", &x, &Selection::default())
        .iter()
        .map(|p| p.request.url(BASE))
        .collect();
    // Reference §4.2: r1324 printed 546 URLs for this file, merging 613 regressions.
    assert_eq!(urls.len(), 546);
    // Every ♻ link britney wrote names a (package, arch, trigger) found in one of our URLs.
    let mut checked = 0;
    for t in x.items.iter().flat_map(|e| &e.tests) {
        let Some(link) = t.retry_url() else { continue };
        if t.status != Status::Regression {
            continue;
        }
        let query = link.split_once('?').unwrap().1;
        let (head, trigger) = query.rsplit_once("&trigger=").unwrap();
        assert!(
            urls.iter()
                .any(|u| u.contains(head) && u.contains(&format!("trigger={trigger}"))),
            "{link}"
        );
        checked += 1;
    }
    assert_eq!(checked, 613);
    for u in &urls {
        let triggers: Vec<&str> = u.split('&').filter(|p| p.starts_with("trigger=")).collect();
        let unique: std::collections::HashSet<&&str> = triggers.iter().collect();
        assert_eq!(unique.len(), triggers.len(), "no repeated trigger: {u}");
    }
}

#[test]
fn one_item_retry_merges_extra_triggers() {
    let x = plucky();
    let sel = Selection {
        extra_triggers: vec!["libselinux/3.8-1".into()],
        ..Default::default()
    };
    let p = select_item("plucky", x.for_source("libsepol").unwrap(), &sel);
    assert_eq!(p.len(), 6);
    assert_eq!(
        p[0].request.url(BASE),
        format!("{BASE}?release=plucky&arch=amd64&package=refpolicy&trigger=libsepol%2F3.8-1&trigger=libselinux%2F3.8-1")
    );
    assert_eq!(p[0].retried_runs.len(), 1);
    assert!(p[0]
        .key()
        .starts_with("autopkgtest/plucky/amd64/refpolicy/libselinux/3.8-1,libsepol/3.8-1/-/"));
}

#[test]
fn arch_filter_reference_and_all_proposed() {
    let x = plucky();
    let item = x.for_source("libsepol").unwrap();
    let sel = Selection {
        arches: vec!["s390x".into()],
        all_proposed: true,
        ..Default::default()
    };
    let p = select_item("plucky", item, &sel);
    assert_eq!(p.len(), 1);
    assert!(p[0]
        .request
        .url(BASE)
        .ends_with("&arch=s390x&package=refpolicy&trigger=libsepol%2F3.8-1&all-proposed=1"));
    let sel = Selection {
        reference: true,
        extra_triggers: vec!["x/1".into()],
        ..Default::default()
    };
    let p = select_item("plucky", item, &sel);
    assert!(p
        .iter()
        .all(|p| p.request.triggers == ["migration-reference/0"]));
}

#[test]
fn ages_blocks_and_no_proposed() {
    let x = plucky();
    let all = select("plucky", &x, &Selection::default()).len();
    let young = select(
        "plucky",
        &x,
        &Selection {
            max_age: Some(5.0),
            ..Default::default()
        },
    )
    .len();
    let old = select(
        "plucky",
        &x,
        &Selection {
            min_age: Some(5.0),
            ..Default::default()
        },
    )
    .len();
    assert!(
        young > 0 && old > 0 && young < all && old < all,
        "{young} {old} {all}"
    );
    let b = select(
        "plucky",
        &x,
        &Selection {
            blocks: Some("libsepol".into()),
            ..Default::default()
        },
    );
    assert_eq!(b.len(), 6);
    let np = select(
        "plucky",
        &x,
        &Selection {
            blocks: Some("libsepol".into()),
            no_proposed: true,
            ..Default::default()
        },
    );
    assert_eq!(np[0].request.triggers, ["refpolicy/2:2.20241211-2"]);
}

#[test]
fn other_states_can_be_retried() {
    let x = plucky();
    let sel = Selection {
        state: Some("RUNNING-REFERENCE".into()),
        ..Default::default()
    };
    assert_eq!(select("plucky", &x, &sel).len(), 1);
    assert_eq!(
        run_id("https://x/plucky/amd64/r/refpolicy/20250314_200258_c71a4@/log.gz"),
        Some("20250314_200258_c71a4@")
    );
    assert_eq!(run_id("https://autopkgtest.ubuntu.com/running"), None);
}
