//! `!copy`, `!rebuild` and `!builds` end to end: the bot's Launchpad client
//! against the simulator over loopback, asserting exactly-once writes.

use secrecy::SecretString;
use shepherd::sandbox::launchpad_world;
use shepherd_adapters::launchpad::sim::{LaunchpadSim, LpWorld, Publication};
use shepherd_tests::{
    assert_metrics, config_text, load_config, metric, temp_store, with_launchpad, Harness,
};

fn config_for(sim: &LaunchpadSim, path: &std::path::Path, token: &str) -> shepherd::config::Config {
    let mut config = with_launchpad(
        load_config(&config_text(path)),
        &sim.service_root(),
        token,
        10,
    );
    config.webhook.public_url = Some("https://shepherd.example/hooks/launchpad".parse().unwrap());
    config
}

async fn bot(world: LpWorld, token: &str) -> (tempfile::TempDir, Harness, LaunchpadSim) {
    let sim = LaunchpadSim::start(world).await.unwrap();
    let (dir, path) = temp_store();
    let h = Harness::start(&config_for(&sim, &path, token), None).await;
    (dir, h, sim)
}

#[tokio::test]
async fn copy_previews_then_copies_each_series_once_and_follows_to_published() {
    let (_d, mut h, sim) = bot(launchpad_world(), "sandbox-token").await;
    let dry = h
        .ask(
            "!copy hello --from ppa-owner/next --to ppa-owner/stable --dry-run",
            "dry run, nothing sent",
        )
        .await;
    assert!(dry.contains("copy hello 2.10-5 from ppa:ppa-owner/next to ppa:ppa-owner/stable for noble, jammy with binaries"), "{dry}");
    assert!(sim.writes().copies.is_empty());

    let t = h
        .say("!copy hello --from ppa-owner/next --to ppa-owner/stable")
        .await;
    let done = h.expect(&t, "plan #2 · ▰▰ 2/2 — done ✓").await;
    // The final line names what was made, with the page to see it on.
    assert!(
        done.contains(
            "  · hello 2.10-5 published in ppa:ppa-owner/stable (jammy) · http://127.0.0.1:"
        ) && done.contains("/~ppa-owner/+archive/ubuntu/stable/+packages"),
        "{done}"
    );
    let show = h.ask("!show 2", "2. ✓").await;
    assert!(
        show.contains(
            "→ hello 2.10-5 published in ppa:ppa-owner/stable (noble) · http://127.0.0.1:"
        ),
        "{show}"
    );
    assert!(
        show.contains("→ hello 2.10-5 published in ppa:ppa-owner/stable (jammy)"),
        "{show}"
    );
    assert_eq!(sim.writes().copies.len(), 2, "one copy per series");
    let stable = sim.publications("ppa-owner/stable");
    assert!(
        stable.iter().all(|p| p.status == "Published") && stable.len() == 2,
        "{stable:?}"
    );

    h.ask(
        "!copy hello --from ppa-owner/next --to ppa-owner/stable",
        "nothing new: already requested by plan #2",
    )
    .await;
    assert_eq!(sim.writes().copies.len(), 2, "still exactly once");

    // Every request to the simulator was counted, and each copy step's
    // attempts (the copy, then the looks that followed it) were timed.
    let body = h.scrape().await;
    let ok = metric(
        &body,
        r#"shepherd_external_requests_total{service="launchpad",status="200"}"#,
    );
    assert!(ok.is_some_and(|n| n >= 4.0), "{body}");
    let copies = metric(
        &body,
        r#"shepherd_step_duration_seconds_count{action="copy_package"}"#,
    );
    assert!(copies.is_some_and(|n| n >= 2.0), "{body}");
    assert_metrics(&body, &[(r#"shepherd_plans{state="done"}"#, 1.0)]);
}

#[tokio::test]
async fn a_copy_already_in_the_destination_is_not_copied_again() {
    let mut w = launchpad_world();
    w.publications.push(Publication {
        archive: "ppa-owner/stable".into(),
        name: "hello".into(),
        version: "2.10-5".into(),
        series: "noble".into(),
        status: "Published".into(),
    });
    let (_d, mut h, sim) = bot(w, "sandbox-token").await;
    // Planning reads retry once, quickly: one 503 is absorbed.
    sim.fail_next(1, 503);
    let t = h
        .say("!copy hello --from ppa-owner/next --to ppa-owner/stable")
        .await;
    h.expect(&t, "— done ✓").await;
    let show = h.ask("!show 1", "2. ✓").await;
    assert!(
        show.contains("already published in ppa:ppa-owner/stable (noble); not copied again"),
        "{show}"
    );
    assert_eq!(
        sim.writes().copies,
        vec![(
            "ppa-owner/stable".into(),
            "hello".into(),
            "2.10-5".into(),
            "jammy".into()
        )]
    );
    // The 503 the planning read absorbed is counted, with its retry.
    assert_metrics(
        &h.scrape().await,
        &[(
            r#"shepherd_external_requests_total{service="launchpad",status="503"}"#,
            1.0,
        )],
    );
}

#[tokio::test]
async fn mistakes_and_refusals_are_explained() {
    let (_d, mut h, sim) = bot(launchpad_world(), "sandbox-token").await;
    h.ask(
        "!copy hello --from ppa-owner/next --to ppa-owner/stable --series focal",
        "is not published in ppa:ppa-owner/next for focal (it is for noble, jammy)",
    )
    .await;
    h.ask("!copy hello --from ppa-owner/next", "--to is required")
        .await;
    h.ask(
        "!copy hello --from next --to ppa-owner/stable",
        "`next` is not a PPA: write OWNER/NAME",
    )
    .await;
    h.ask(
        "!copy hello --from nobody/x --to ppa-owner/stable",
        "Launchpad says: No such ppa: 'x'.",
    )
    .await;
    h.ask(
        "bob> !copy hello --from ppa-owner/next --to ppa-owner/stable",
        "you need the release-team role for !copy",
    )
    .await;
    h.ask(
        "!rebuild nosuch",
        "No such snap package with this owner: 'nosuch'.",
    )
    .await;
    assert!(sim.writes().copies.is_empty());
}

#[tokio::test]
async fn a_bad_token_fails_the_step_with_launchpads_words() {
    let (_d, mut h, sim) = bot(launchpad_world(), "wrong-token").await;
    let t = h
        .say("!copy hello --from ppa-owner/next --to ppa-owner/stable --series noble")
        .await;
    // Reading works anonymously? No: an unknown token is refused even for reads.
    // Launchpad echoes the token; the bot never repeats a secret.
    let text = h.expect(&t, "Unknown access token ([redacted]).").await;
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        !h.transcript().contains("wrong-token"),
        "{}",
        h.transcript()
    );
    // What the store holds, not only what chat shows.
    let entries = shepherd_commands::Ledger::audit_entries(&h.bot.store, 10)
        .await
        .unwrap();
    let rejected = entries
        .iter()
        .find(|e| e.outcome == "rejected")
        .expect("audited");
    assert!(
        rejected
            .detail
            .contains("Unknown access token ([redacted])"),
        "{rejected:?}"
    );
    assert!(
        entries.iter().all(|e| !e.detail.contains("wrong-token")),
        "{entries:?}"
    );
    assert!(sim.writes().copies.is_empty());
}

#[tokio::test]
async fn rebuild_retries_the_failed_arch_and_follows_the_build() {
    let mut w = launchpad_world();
    w.snaps[0].failing = vec!["ppc64el".into()];
    let (_d, mut h, sim) = bot(w, "sandbox-token").await;
    for (arch, ok) in [("amd64", true), ("arm64", true), ("ppc64el", false)] {
        sim.add_build("maas-committers", "maas", arch, ok);
    }
    let builds = h.ask("!builds maas", "next: `!rebuild maas ppc64el`").await;
    assert!(builds.contains("✗ ppc64el Failed to build"), "{builds}");
    let t = h.say("!rebuild maas").await;
    h.expect(
        &t,
        "plan #1 · 1 step queued ✓ — rebuild ~maas-committers/maas on ppc64el (failed last time)",
    )
    .await;
    let failed = h.expect(&t, "— failed at step 1: build").await;
    // The link is to the configured Launchpad's page (here, the simulator's).
    assert!(
        failed.contains("on ppc64el: Failed to build · http://127.0.0.1:"),
        "{failed}"
    );
    assert!(
        failed.contains("/~maas-committers/+snap/maas/+build/"),
        "{failed}"
    );
    assert_eq!(
        sim.writes().builds,
        vec![("maas".to_string(), "ppc64el".to_string())]
    );

    // Named arches are built even when their last build succeeded.
    let t = h.say("!rebuild maas amd64 --owner maas-committers").await;
    let done = h.expect(&t, "— done ✓").await;
    // The final line names the build and links its page.
    assert!(
        done.contains("on amd64: Successfully built (store: Uploaded) · http://127.0.0.1:")
            && done.contains("/~maas-committers/+snap/maas/+build/"),
        "{done}"
    );
    let show = h.ask("!show 2", "1. ✓").await;
    assert!(
        show.contains("on amd64: Successfully built (store: Uploaded)"),
        "{show}"
    );
    assert_eq!(sim.writes().builds.len(), 2);
}

#[tokio::test]
async fn nothing_to_rebuild_when_the_latest_builds_passed() {
    let (_d, mut h, sim) = bot(launchpad_world(), "sandbox-token").await;
    sim.add_build("maas-committers", "maas", "amd64", true);
    h.ask(
        "!rebuild maas",
        "nothing to rebuild: no latest build of maas failed (amd64 Successfully built)",
    )
    .await;
    assert!(sim.writes().builds.is_empty());
}

async fn post_signed(h: &Harness, secret: &str, id: &str, body: &str) -> u16 {
    reqwest::Client::new()
        .post(format!(
            "http://{}/hooks/launchpad",
            h.bot.webhook_addr.unwrap()
        ))
        .header("X-Launchpad-Event-Type", "snap:build:0.1")
        .header("X-Launchpad-Delivery", id)
        .header(
            "X-Hub-Signature",
            shepherd_adapters::launchpad::webhooks::signature::sign(
                secret.as_bytes(),
                body.as_bytes(),
            ),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_registered_webhook_delivers_with_the_secret_only_the_store_knows() {
    let sim = LaunchpadSim::start(launchpad_world()).await.unwrap();
    let (_d, path) = temp_store();
    let config = config_for(&sim, &path, "sandbox-token");
    let mut h = Harness::start(&config, None).await;
    let t = h
        .say("!webhook register /~maas-committers/+snap/maas --channel #maas-builds")
        .await;
    h.expect(&t, "— done ✓").await;
    let hooks = sim.webhooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        hooks[0].delivery_url,
        "https://shepherd.example/hooks/launchpad"
    );
    assert_eq!(hooks[0].event_types, ["snap:build:0.1"]);
    let secret = hooks[0].secret.clone();
    assert_eq!(secret.len(), 64, "32 random bytes, hex");
    assert!(
        !h.transcript().contains(&secret),
        "the secret is never shown"
    );

    let failed = r#"{"snap_build": "/~maas-committers/+snap/maas/+build/77", "snap": "/~maas-committers/+snap/maas", "status": "Failed to build", "store_upload_status": "Unscheduled"}"#;
    assert_eq!(post_signed(&h, &secret, "d-1", failed).await, 202);
    h.expect(
        "#maas-builds",
        "maas snap build 77 failed (Failed to build)",
    )
    .await;
    assert_eq!(post_signed(&h, "not-the-secret", "d-2", failed).await, 401);
    h.ask(
        "!webhook register /~maas-committers/+snap/maas",
        "nothing new: already requested by plan #1",
    )
    .await;
    h.finish().await;

    // After a restart the kept secret still verifies.
    let h = Harness::start(&config, None).await;
    assert_eq!(post_signed(&h, &secret, "d-3", failed).await, 202);
    h.finish().await;
    assert_eq!(sim.webhooks().len(), 1, "one webhook");
}

#[tokio::test]
async fn launchpad_build_deliveries_follow_up_in_the_rebuild_thread() {
    let sim = LaunchpadSim::start(launchpad_world()).await.unwrap();
    sim.add_build("maas-committers", "maas", "ppc64el", false);
    let (_d, path) = temp_store();
    let mut config = config_for(&sim, &path, "sandbox-token");
    config.webhook.launchpad_secret =
        Some(SecretString::from("hook-secret-long-enough".to_string()));
    let mut h = Harness::start(&config, None).await;
    let t = h.say("!rebuild maas").await;
    h.expect(&t, "— done ✓").await;
    let built = r#"{"snap_build": "/~maas-committers/+snap/maas/+build/999", "action": "status-changed", "snap": "/~maas-committers/+snap/maas", "status": "Successfully built", "store_upload_status": "Uploaded"}"#;
    assert_eq!(
        post_signed(&h, "hook-secret-long-enough", "lp-1", built).await,
        202
    );
    h.expect(
        &t,
        "Launchpad: maas build 999 is Successfully built, store: Uploaded",
    )
    .await;
    // Still uploading: nothing to say yet (once it has been processed).
    let pending = built.replace("Uploaded", "Pending");
    assert_eq!(
        post_signed(&h, "hook-secret-long-enough", "lp-2", &pending).await,
        202
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match h.bot.store.delivery_status("lp-2").await.unwrap() {
            Some(Some(result)) => {
                assert_eq!(result, "recorded", "an upload still pending plans nothing");
                break;
            }
            _ if std::time::Instant::now() > deadline => panic!("lp-2 never processed"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
    let transcript = h.finish().await;
    assert_eq!(
        transcript.matches("Launchpad: maas build 999").count(),
        1,
        "{transcript}"
    );
}

/// A copy into a protected PPA (`[confirm] protected_ppas`) waits for a
/// `!confirm` and says why; nothing is copied before it.
#[tokio::test]
async fn a_copy_into_a_protected_ppa_waits_for_confirmation() {
    let sim = LaunchpadSim::start(launchpad_world()).await.unwrap();
    let (_d, path) = temp_store();
    let mut config = config_for(&sim, &path, "sandbox-token");
    config.confirm.protected_ppas = vec!["ppa-owner/*".into(), "!ppa-owner/next".into()];
    let mut h = Harness::start(&config, None).await;
    let t = h
        .say("!copy hello --from ppa-owner/next --to ppa-owner/stable --series noble")
        .await;
    h.expect(
        &t,
        "plan #1 needs confirmation (copies into ppa:ppa-owner/stable, a protected PPA (ppa-owner/*))",
    )
    .await;
    assert!(sim.writes().copies.is_empty());
    h.ask("carol> !confirm 1", "confirmed by carol").await;
    h.expect(&t, "— done ✓").await;
    assert_eq!(sim.writes().copies.len(), 1);
    h.finish().await;
}

/// A build that succeeds but whose store upload fails fails its step with
/// the store's words and the build's link.
#[tokio::test]
async fn a_followed_build_whose_store_upload_fails_is_reported() {
    let mut world = launchpad_world();
    world.snaps[0].failing_uploads = vec!["arm64".into()];
    let (_d, mut h, sim) = bot(world, "sandbox-token").await;
    let t = h.say("!rebuild maas arm64").await;
    let failed = h.expect(&t, "— failed at step 1").await;
    assert!(
        failed.contains("built, but the store upload failed (Failed to upload: Binary upload failed: the store rejected the snap (review required).)"),
        "{failed}"
    );
    assert!(
        failed.contains("/~maas-committers/+snap/maas/+build/"),
        "{failed}"
    );
    assert_eq!(sim.writes().builds.len(), 1);
    h.finish().await;
}
