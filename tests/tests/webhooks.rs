//! Launchpad webhooks against the running bot over loopback: real
//! HMAC-SHA1-signed payloads, forged and replayed deliveries, size limits,
//! and replay of deliveries a crash left unprocessed.

use shepherd::store::Delivery;
use shepherd_adapters::launchpad::webhooks::signature::sign;
use shepherd_tests::{assert_metrics, config_text, load_config, temp_store, Harness};

const SECRET: &str = "hook-secret-for-tests";

const SNAP_FAILED: &str = r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/2789012", "action": "status-changed", "snap": "/~maas-committers/+snap/maas-3.5", "build_request": null, "status": "Failed to build", "store_upload_status": "Unscheduled"}"#;

fn config(path: &std::path::Path) -> shepherd::config::Config {
    let text = config_text(path)
        + &format!(
            "\n[[webhook.launchpad]]\ntarget = \"/~maas-committers/+snap/maas-3.5\"\nsecret = \"{SECRET}\"\nchannel = \"#maas-builds\"\n\n[[webhook.launchpad]]\ntarget = \"/ubuntu\"\nsecret = \"other-secret-long-enough\"\n"
        );
    load_config(&text)
}

async fn post(
    h: &Harness,
    event: &str,
    id: &str,
    body: &str,
    signature: Option<String>,
) -> (u16, String) {
    let url = format!("http://{}/hooks/launchpad", h.bot.webhook_addr.unwrap());
    let mut req = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Launchpad-Event-Type", event)
        .header("X-Launchpad-Delivery", id)
        .body(body.to_string());
    if let Some(sig) = signature {
        req = req.header("X-Hub-Signature", sig);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn signed(secret: &str, body: &str) -> Option<String> {
    Some(sign(secret.as_bytes(), body.as_bytes()))
}

#[tokio::test]
async fn a_signed_failed_build_is_announced_once_however_often_it_arrives() {
    let (_d, path) = temp_store();
    let h = Harness::start(&config(&path), None).await;
    let (status, _) = post(
        &h,
        "snap:build:0.1",
        "9001",
        SNAP_FAILED,
        signed(SECRET, SNAP_FAILED),
    )
    .await;
    assert_eq!(status, 202);
    h.expect(
        "#maas-builds",
        "maas-3.5 snap build 2789012 failed (Failed to build)",
    )
    .await;
    // Launchpad retries with the same delivery id: acknowledged, no effect.
    for _ in 0..3 {
        let (status, text) = post(
            &h,
            "snap:build:0.1",
            "9001",
            SNAP_FAILED,
            signed(SECRET, SNAP_FAILED),
        )
        .await;
        assert_eq!(
            (status, text.as_str()),
            (200, "duplicate delivery: already recorded\n")
        );
    }
    // The post is seen before its step is recorded done: wait for that.
    assert!(
        h.bot.drain(std::time::Duration::from_secs(10)).await,
        "the announcement's plan ends"
    );
    assert_metrics(
        &h.scrape().await,
        &[
            (
                r#"shepherd_webhook_deliveries_total{outcome="accepted"}"#,
                1.0,
            ),
            (
                r#"shepherd_webhook_deliveries_total{outcome="duplicate"}"#,
                3.0,
            ),
            (
                r#"shepherd_webhook_deliveries_total{outcome="rejected"}"#,
                0.0,
            ),
            ("shepherd_webhook_accepted_total", 1.0),
            ("shepherd_webhook_duplicates_total", 3.0),
            // Processed once: one event, one plan, done.
            (r#"shepherd_events_total{source="webhook"}"#, 1.0),
            (r#"shepherd_events_total{source="chat"}"#, 0.0),
            (r#"shepherd_plans{state="done"}"#, 1.0),
            (
                r#"shepherd_step_duration_seconds_count{action="announce"}"#,
                1.0,
            ),
        ],
    );
    let transcript = h.finish().await;
    assert_eq!(
        transcript
            .matches("[#maas-builds] maas-3.5 snap build 2789012 failed")
            .count(),
        1,
        "{transcript}"
    );
}

#[tokio::test]
async fn forged_unsigned_and_oversized_deliveries_change_nothing() {
    let (_d, path) = temp_store();
    let h = Harness::start(&config(&path), None).await;
    let (status, _) = post(
        &h,
        "snap:build:0.1",
        "666",
        SNAP_FAILED,
        signed("guessed-secret", SNAP_FAILED),
    )
    .await;
    assert_eq!(status, 401);
    let tampered = SNAP_FAILED.replace("Failed to build", "Successfully built");
    let (status, _) = post(
        &h,
        "snap:build:0.1",
        "667",
        &tampered,
        signed(SECRET, SNAP_FAILED),
    )
    .await;
    assert_eq!(status, 401, "signature over another body");
    let (status, text) = post(&h, "snap:build:0.1", "668", SNAP_FAILED, None).await;
    assert_eq!((status, text.as_str()), (401, "missing X-Hub-Signature\n"));
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(1 << 20));
    let (status, _) = post(&h, "snap:build:0.1", "669", &big, signed(SECRET, &big)).await;
    assert_eq!(status, 413);
    for id in ["666", "667", "668", "669"] {
        assert_eq!(
            h.bot.store.delivery_status(id).await.unwrap(),
            None,
            "delivery {id} was not stored"
        );
    }
    // Missing delivery id: refused even when signed.
    let url = format!("http://{}/hooks/launchpad", h.bot.webhook_addr.unwrap());
    let r = reqwest::Client::new()
        .post(url)
        .header("X-Launchpad-Event-Type", "snap:build:0.1")
        .header(
            "X-Hub-Signature",
            sign(SECRET.as_bytes(), SNAP_FAILED.as_bytes()),
        )
        .body(SNAP_FAILED)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_metrics(
        &h.scrape().await,
        &[
            (
                r#"shepherd_webhook_deliveries_total{outcome="rejected"}"#,
                5.0,
            ),
            ("shepherd_webhook_rejected_total", 5.0),
            (
                r#"shepherd_webhook_deliveries_total{outcome="accepted"}"#,
                0.0,
            ),
            (r#"shepherd_events_total{source="webhook"}"#, 0.0),
        ],
    );
    let transcript = h.finish().await;
    assert!(!transcript.contains("[#maas-builds]"), "{transcript}");
}

#[tokio::test]
async fn block_proposed_tags_reach_the_packages_watchers() {
    let (_d, path) = temp_store();
    let mut h = Harness::start(&config(&path), None).await;
    h.ask("!watch pkg glibc", "will hear about package glibc")
        .await;
    let body = r#"{"action": "tags-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/2100001", "new": {"tags": ["block-proposed"]}, "old": {"tags": []}}"#;
    let (status, _) = post(
        &h,
        "bug:0.1",
        "7001",
        body,
        signed("other-secret-long-enough", body),
    )
    .await;
    assert_eq!(status, 202);
    h.expect(
        "#release",
        "LP: #2100001 glibc tagged block-proposed: it now holds glibc in -proposed",
    )
    .await;
    // Other bug changes are recorded, not announced.
    let quiet = r#"{"action": "status-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/5", "new": {"status": "Triaged", "tags": []}, "old": {"status": "New", "tags": []}}"#;
    assert_eq!(
        post(
            &h,
            "bug:0.1",
            "7002",
            quiet,
            signed("other-secret-long-enough", quiet)
        )
        .await
        .0,
        202
    );
    let ping = r#"{"ping": true}"#;
    assert_eq!(
        post(&h, "ping", "7003", ping, signed(SECRET, ping)).await.0,
        202
    );
    for id in ["7002", "7003"] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while h.bot.store.delivery_status(id).await.unwrap() != Some(Some("recorded".into())) {
            assert!(std::time::Instant::now() < deadline, "{id} not processed");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn deliveries_stored_before_a_crash_are_processed_at_start() {
    let (_d, path) = temp_store();
    let cfg = config(&path);
    {
        let store = shepherd_tests::open_store(&path).await;
        let d = Delivery {
            delivery_id: "4242".into(),
            source: "launchpad".into(),
            event_type: "snap:build:0.1".into(),
            received_at: 1,
            body: SNAP_FAILED.as_bytes().to_vec(),
            hook_target: None,
        };
        assert!(store.record_delivery(&d).await.unwrap());
        store.close().await;
    }
    let h = Harness::start(&cfg, None).await;
    h.expect("#maas-builds", "maas-3.5 snap build 2789012 failed")
        .await;
    h.finish().await;
}

/// One target's secret never speaks for another target: a payload about
/// maas-3.5 signed with the `/ubuntu` webhook's secret is refused and not
/// stored, and a delivery is announced only in its own target's channel.
#[tokio::test]
async fn a_secret_signs_only_for_its_own_target() {
    let (_d, path) = temp_store();
    let h = Harness::start(&config(&path), None).await;
    let (status, _) = post(
        &h,
        "snap:build:0.1",
        "8001",
        SNAP_FAILED,
        signed("other-secret-long-enough", SNAP_FAILED),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(h.bot.store.delivery_status("8001").await.unwrap(), None);
    // A bug about an Ubuntu package that also mentions the maas snap is
    // verified by /ubuntu's secret, and not announced in #maas-builds.
    let bug = r#"{"action": "tags-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/9", "snap": "/~maas-committers/+snap/maas-3.5", "new": {"tags": ["block-proposed"]}, "old": {"tags": []}}"#;
    let (status, _) = post(
        &h,
        "bug:0.1",
        "8002",
        bug,
        signed("other-secret-long-enough", bug),
    )
    .await;
    assert_eq!(status, 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while h.bot.store.delivery_status("8002").await.unwrap() == Some(None) {
        assert!(std::time::Instant::now() < deadline, "8002 not processed");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let transcript = h.finish().await;
    assert!(!transcript.contains("[#maas-builds]"), "{transcript}");
}

/// Every announced event type, each verified with its own target's secret
/// and announced in that target's channel.
#[tokio::test]
async fn pushes_proposals_livefs_ci_builds_and_failed_uploads_are_announced() {
    let (_d, path) = temp_store();
    let text = config_text(&path)
        + &format!(
            "\n[[webhook.launchpad]]\ntarget = \"/~maas-committers/+snap/maas-3.5\"\nsecret = \"{SECRET}\"\nchannel = \"#maas-builds\"\n\
             \n[[webhook.launchpad]]\ntarget = \"/~maas-committers/maas/+git/maas\"\nsecret = \"git-secret-long-enough\"\nchannel = \"#maas-dev\"\n\
             \n[[webhook.launchpad]]\ntarget = \"/~ubuntu-cdimage/+livefs/ubuntu/resolute/ubuntu\"\nsecret = \"livefs-secret-long-enough\"\nchannel = \"#cdimage\"\n"
        );
    let h = Harness::start(&load_config(&text), None).await;
    let git = "git-secret-long-enough";
    let cases = [
        (
            "git:push:0.1",
            r#"{"git_repository": "/~maas-committers/maas/+git/maas", "git_repository_path": "~maas-committers/maas/+git/maas", "ref_changes": {"refs/heads/3.6": {"old": {"commit_sha1": "a"}, "new": {"commit_sha1": "b"}}}}"#,
            git,
            "#maas-dev",
            "push to ~maas-committers/maas/+git/maas: 3.6",
        ),
        (
            "merge-proposal:0.1",
            r#"{"merge_proposal": "/~maas-committers/maas/+git/maas/+merge/4321", "action": "created", "new": {"queue_status": "Needs review"}}"#,
            git,
            "#maas-dev",
            "merge proposal created: https://launchpad.net/~maas-committers/maas/+git/maas/+merge/4321",
        ),
        (
            "ci:build:0.1",
            r#"{"build": "/~maas-committers/maas/+git/maas/+build/77", "action": "status-changed", "git_repository": "/~maas-committers/maas/+git/maas", "commit_sha1": "b", "status": "Failed to build"}"#,
            git,
            "#maas-dev",
            "ci:build Failed to build · https://launchpad.net/~maas-committers/maas/+git/maas/+build/77",
        ),
        (
            "livefs:build:0.1",
            r#"{"livefs_build": "/~ubuntu-cdimage/+livefs/ubuntu/resolute/ubuntu/+build/9", "action": "status-changed", "livefs": "/~ubuntu-cdimage/+livefs/ubuntu/resolute/ubuntu", "status": "Successfully built"}"#,
            "livefs-secret-long-enough",
            "#cdimage",
            "livefs:build Successfully built · https://launchpad.net/~ubuntu-cdimage/+livefs/ubuntu/resolute/ubuntu/+build/9",
        ),
        (
            "snap:build:0.1",
            r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/5", "action": "status-changed", "snap": "/~maas-committers/+snap/maas-3.5", "status": "Successfully built", "store_upload_status": "Failed to upload"}"#,
            SECRET,
            "#maas-builds",
            "maas-3.5 snap build 5 built, but the store upload failed (Failed to upload) · https://launchpad.net/~maas-committers/+snap/maas-3.5/+build/5",
        ),
    ];
    for (i, (event, body, secret, channel, said)) in cases.iter().enumerate() {
        let (status, _) = post(&h, event, &format!("b-{i}"), body, signed(secret, body)).await;
        assert_eq!(status, 202, "{event}");
        h.expect(channel, said).await;
    }
    // A push signed with the livefs target's secret is refused.
    let (event, body, ..) = cases[0];
    let (status, _) = post(
        &h,
        event,
        "b-forged",
        body,
        signed("livefs-secret-long-enough", body),
    )
    .await;
    assert_eq!(status, 401);
    let transcript = h.finish().await;
    assert_eq!(transcript.matches("push to ").count(), 1, "{transcript}");
}

/// A delivery is announced in the channel of the webhook that verified it
/// only: a distribution's hook and a package's hook each get their own
/// delivery of a bug change, and each announces it once, in its channel.
/// A snap's secret cannot speak for a path that merely starts like it.
#[tokio::test]
async fn each_delivery_is_announced_by_the_hook_that_verified_it() {
    let (_d, path) = temp_store();
    let text = config_text(&path)
        + "\n[[webhook.launchpad]]\ntarget = \"/ubuntu\"\nsecret = \"ubuntu-secret-long-enough\"\nchannel = \"#ubuntu\"\n\
           \n[[webhook.launchpad]]\ntarget = \"/ubuntu/+source/glibc\"\nsecret = \"glibc-secret-long-enough\"\nchannel = \"#glibc\"\n\
           \n[[webhook.launchpad]]\ntarget = \"/~maas-committers/+snap/maas\"\nsecret = \"maas-secret-long-enough\"\nchannel = \"#maas\"\n";
    let mut h = Harness::start(&load_config(&text), None).await;
    let bug = r#"{"action": "tags-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/77", "new": {"tags": ["block-proposed"]}, "old": {"tags": []}}"#;
    assert_eq!(
        post(
            &h,
            "bug:0.1",
            "g-1",
            bug,
            signed("glibc-secret-long-enough", bug)
        )
        .await
        .0,
        202
    );
    assert_eq!(
        post(
            &h,
            "bug:0.1",
            "u-1",
            bug,
            signed("ubuntu-secret-long-enough", bug)
        )
        .await
        .0,
        202
    );
    h.expect("#glibc", "LP: #77 glibc tagged block-proposed")
        .await;
    h.expect("#ubuntu", "LP: #77 glibc tagged block-proposed")
        .await;
    // A path under the snap is not the snap.
    let nested = r#"{"snap_build": "/~maas-committers/+snap/maas/+snap/maas-agent/+build/1", "snap": "/~maas-committers/+snap/maas/+snap/maas-agent", "status": "Failed to build"}"#;
    let (status, _) = post(
        &h,
        "snap:build:0.1",
        "n-1",
        nested,
        signed("maas-secret-long-enough", nested),
    )
    .await;
    assert_eq!(status, 401);
    h.ask("!jobs", "plan").await;
    let transcript = h.finish().await;
    assert_eq!(
        transcript.matches("[#glibc] LP: #77").count(),
        1,
        "{transcript}"
    );
    assert_eq!(
        transcript.matches("[#ubuntu] LP: #77").count(),
        1,
        "{transcript}"
    );
}
