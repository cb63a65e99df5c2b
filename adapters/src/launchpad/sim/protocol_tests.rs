//! What the client sends when Launchpad has trouble: which requests are
//! sent again, which never are, how redirects are followed, and what its
//! errors say — against the simulator, counting what it received.

use std::time::Duration;

use axum::http::Method;
use secrecy::SecretString;
use serde_json::json;

use super::tests::{client, world};
use super::*;
use crate::launchpad::archive::ppa_path;
use crate::launchpad::{LaunchpadClient, LpError, OAuth};

/// How many `method` requests the simulator received.
fn received(sim: &LaunchpadSim, method: &str) -> usize {
    sim.requests().iter().filter(|r| r.method == method).count()
}

const SNAP: &str = "/~maas-committers/+snap/maas";

#[tokio::test]
async fn a_post_answered_503_or_504_is_sent_once_and_reported_transient() {
    for status in [503, 504] {
        let sim = LaunchpadSim::start(world()).await.unwrap();
        let c = client(&sim, Some("bot-token"));
        let snap = c.snap("maas-committers", "maas").await.unwrap();
        let archive = snap.auto_build_archive_link.clone().unwrap();
        sim.fail_next_on(Method::POST, 3, status);
        let e = c
            .request_snap_build(&snap, "arm64", &archive, "Updates", None)
            .await
            .unwrap_err();
        assert!(e.is_transient(), "{status}: {e}");
        assert_eq!(received(&sim, "POST"), 1, "{status}: sent once");
        assert!(sim.writes().builds.is_empty());
    }
}

#[tokio::test]
async fn a_post_that_times_out_is_sent_once() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let (from, to) = (
        ppa_path("ppa-owner/next").unwrap(),
        ppa_path("ppa-owner/stable").unwrap(),
    );
    let c = LaunchpadClient::new(
        &sim.service_root(),
        Some(OAuth {
            consumer_key: "shepherd".into(),
            token: SecretString::from("bot-token".to_string()),
            token_secret: SecretString::from("s3cret".to_string()),
        }),
        Duration::from_millis(150),
    )
    .unwrap()
    .with_retry_delays(vec![Duration::from_millis(5); 3]);
    sim.slow_next_on(Method::POST, Duration::from_millis(600));
    let e = c
        .copy_package(&to, "hello", "2.10-5", &from, "noble", true)
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(received(&sim, "POST"), 1);
}

#[tokio::test]
async fn a_post_redirected_with_307_is_not_sent_again() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let snap = c.snap("maas-committers", "maas").await.unwrap();
    let archive = snap.auto_build_archive_link.clone().unwrap();
    sim.redirect_next_on(Method::POST, 307, SNAP);
    let e = c
        .request_snap_build(&snap, "arm64", &archive, "Updates", None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("307"), "{e}");
    assert_eq!(received(&sim, "POST"), 1);
    assert!(sim.writes().builds.is_empty());
}

#[tokio::test]
async fn gets_are_retried_on_504_and_timeouts() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    // The timeout leaves a loaded machine time to answer the last try.
    let c = LaunchpadClient::new(&sim.service_root(), None, Duration::from_secs(1))
        .unwrap()
        .with_retry_delays(vec![Duration::from_millis(5); 3]);
    sim.fail_next_on(Method::GET, 1, 504);
    sim.slow_next_on(Method::GET, Duration::from_secs(3));
    assert_eq!(
        c.snap("maas-committers", "maas").await.unwrap().name,
        "maas"
    );
    assert_eq!(received(&sim, "GET"), 3);
}

#[tokio::test]
async fn a_patch_with_if_match_is_retried_on_502_and_503_only() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let channels = |_: &serde_json::Value| json!({ "store_channels": ["3.6/edge"] });
    sim.fail_next_on(Method::PATCH, 1, 502);
    sim.fail_next_on(Method::PATCH, 1, 503);
    let v = c.patch(SNAP, channels).await.unwrap();
    assert_eq!(v["store_channels"], json!(["3.6/edge"]));
    assert_eq!(received(&sim, "PATCH"), 3);
    // A gateway timeout may hide an applied write: not sent again.
    sim.fail_next_on(Method::PATCH, 1, 504);
    let e = c.patch(SNAP, channels).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(received(&sim, "PATCH"), 4);
    assert_eq!(sim.writes().patches, 1);
}

#[tokio::test]
async fn a_patch_that_moves_the_object_is_sent_once_and_returns_it_moved() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let moved = c
        .patch(SNAP, |_| json!({ "name": "maas-next" }))
        .await
        .unwrap();
    assert_eq!(moved["name"], "maas-next");
    let link = moved["self_link"].as_str().unwrap_or_default();
    assert!(
        link.ends_with("/~maas-committers/+snap/maas-next"),
        "{moved}"
    );
    assert_eq!(received(&sim, "PATCH"), 1, "never re-sent to the new URL");
    assert_eq!(sim.writes().patches, 1);
    assert_eq!(
        c.snap("maas-committers", "maas-next").await.unwrap().name,
        "maas-next"
    );
}

#[tokio::test]
async fn a_patch_redirected_with_307_is_not_sent_again() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    sim.redirect_next_on(Method::PATCH, 307, SNAP);
    let e = c
        .patch(SNAP, |_| json!({ "store_channels": ["x/edge"] }))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("307"), "{e}");
    assert_eq!(received(&sim, "PATCH"), 1);
    assert_eq!(sim.writes().patches, 0);
}

#[tokio::test]
async fn reads_follow_at_most_five_redirects() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, None);
    sim.redirect_next_on(Method::GET, 301, "/~elsewhere/+snap/old");
    sim.redirect_next_on(Method::GET, 302, SNAP);
    assert_eq!(
        c.get("/~maas-committers/+snap/old").await.unwrap()["name"],
        "maas"
    );
    for _ in 0..6 {
        sim.redirect_next_on(Method::GET, 302, SNAP);
    }
    let e = c.get(SNAP).await.unwrap_err();
    assert!(e.to_string().contains("redirect"), "{e}");
    assert_eq!(received(&sim, "GET"), 3 + 6);
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_origin() {
    let (here, there) = (
        LaunchpadSim::start(world()).await.unwrap(),
        LaunchpadSim::start(world()).await.unwrap(),
    );
    let c = client(&here, Some("bot-token"));
    here.redirect_next_on(
        Method::GET,
        302,
        &format!("{}~maas-committers/+snap/maas", there.service_root()),
    );
    assert_eq!(c.get(SNAP).await.unwrap()["name"], "maas");
    assert!(here.requests().iter().all(|r| r.authorized));
    let elsewhere = there.requests();
    assert_eq!(elsewhere.len(), 1);
    assert!(!elsewhere[0].authorized, "token sent to another origin");
}

#[tokio::test]
async fn http_errors_name_the_method_and_url() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let (from, to) = (
        ppa_path("ppa-owner/next").unwrap(),
        ppa_path("ppa-owner/stable").unwrap(),
    );
    let e = c
        .copy_package(&to, "hello", "9.9", &from, "noble", true)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "POST {}~ppa-owner/+archive/ubuntu/stable: Launchpad rejected the request (400): hello 9.9 in noble not found in ppa:ppa-owner/next.",
            sim.service_root()
        )
    );
    let e = c
        .published_sources("/~nobody/+archive/ubuntu/x", "hello", None, None)
        .await
        .unwrap_err();
    let get = format!(
        "GET {}~nobody/+archive/ubuntu/x?ws.op=getPublishedSources&",
        sim.service_root()
    );
    assert!(e.to_string().starts_with(&get), "{e}");
    assert!(
        e.to_string()
            .ends_with(": not found on Launchpad (404): No such ppa: 'x'."),
        "{e}"
    );
    sim.set_latency(Duration::from_millis(400));
    let slow = LaunchpadClient::new(&sim.service_root(), None, Duration::from_millis(100))
        .unwrap()
        .with_retry_delays(vec![]);
    let e = slow.get(SNAP).await.unwrap_err();
    let get = format!(
        "GET {}~maas-committers/+snap/maas: cannot reach Launchpad",
        sim.service_root()
    );
    assert!(e.to_string().starts_with(&get), "{e}");
}

#[tokio::test]
async fn launchpads_html_escaped_error_text_is_decoded() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, None);
    sim.fail_next_with(
        404,
        "No such snap package with this owner: &#x27;maas&#x27;. &quot;a&quot; &amp;&lt;b&gt; &#233;&eacute;&#x1F600; &bogus; &#xZZ;",
    );
    let e = c.snap("maas-committers", "maas").await.unwrap_err();
    assert!(
        e.to_string().ends_with(
            "(404): No such snap package with this owner: 'maas'. \"a\" &<b> éé😀 &bogus; &#xZZ;"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn local_argument_checks_send_nothing_and_are_not_launchpads_words() {
    let sim = LaunchpadSim::start(world()).await.unwrap();
    let c = client(&sim, Some("bot-token"));
    let e = c.ppa("not-a-ppa").await.unwrap_err();
    assert_eq!(e, LpError::Invalid("`not-a-ppa` is not OWNER/NAME".into()));
    assert!(!e.to_string().contains("rejected"), "{e}");
    assert_eq!(received(&sim, "GET"), 0);
}
