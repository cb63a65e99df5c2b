//! What release checks read, against the simulator: a PPA's processors, a
//! binary copy publishing the same binaries, and git tags.

use super::tests::{client, world};
use super::*;
use crate::launchpad::archive::ppa_path;

#[tokio::test]
async fn processors_binary_copies_and_tags() {
    let mut w = world();
    w.ppa_processors.insert(
        "ppa-owner/next".into(),
        vec!["amd64".into(), "arm64".into()],
    );
    for arch in ["amd64", "arm64"] {
        w.binaries.push((
            "ppa-owner/next".into(),
            "hello".into(),
            "2.10-5".into(),
            arch.into(),
            "Published".into(),
        ));
    }
    w.git_tags.insert(
        "maas-committers/maas/+git/maas".into(),
        vec!["3.6.0-beta1".into()],
    );
    let sim = LaunchpadSim::start(w).await.unwrap();
    let lp = client(&sim, Some("bot-token"));

    assert_eq!(
        lp.ppa_processors("ppa-owner/next").await.unwrap(),
        Some(vec!["amd64".to_string(), "arm64".to_string()])
    );
    assert_eq!(
        lp.ppa_processors("ppa-owner/stable").await.unwrap(),
        Some(vec!["amd64".to_string()]),
        "a PPA builds amd64 unless told otherwise"
    );
    assert_eq!(lp.ppa_processors("ppa-owner/nothing").await.unwrap(), None);

    let (next, stable) = (
        ppa_path("ppa-owner/next").unwrap(),
        ppa_path("ppa-owner/stable").unwrap(),
    );
    lp.copy_package(&stable, "hello", "2.10-5", &next, "noble", true)
        .await
        .unwrap();
    // The copy is published over two looks, then its binaries are there too.
    for _ in 0..2 {
        lp.published_sources(&stable, "hello", None, None)
            .await
            .unwrap();
    }
    let bins = lp
        .published_binaries(&stable, "hello", Some("2.10-5"))
        .await
        .unwrap();
    assert_eq!(bins.len(), 2, "{bins:?}");
    assert!(lp
        .published_binaries(&stable, "hello", Some("9.9"))
        .await
        .unwrap()
        .is_empty());

    let repo = "~maas-committers/maas/+git/maas";
    assert!(lp.tag_exists(repo, "3.6.0-beta1").await.unwrap());
    assert!(!lp.tag_exists(repo, "3.6.0").await.unwrap());
}
