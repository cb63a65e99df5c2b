//! The sandbox shows what the bot does with webhooks and watches: the
//! binary started as README says, Launchpad played over real HTTP with the
//! secret its banner prints, `!webhook register` sent to the Launchpad
//! simulator, and the excuses poll run with `!poll`.

mod common;

use common::{shepherd, Sandbox};
use shepherd_adapters::launchpad::webhooks::signature::sign;

const MAAS: &str = "/~maas-committers/+snap/maas";

/// A snap build's `snap:build:0.1` payload, as Launchpad words it.
fn build(snap: &str, id: u32, status: &str) -> String {
    format!(
        r#"{{"snap_build": "{snap}/+build/{id}", "action": "status-changed", "snap": "{snap}", "build_request": null, "status": "{status}", "store_upload_status": "Unscheduled"}}"#
    )
}

/// POSTs a delivery; `signature` is the `X-Hub-Signature` header, if any.
/// Returns the status and the body.
async fn deliver(url: &str, id: &str, body: &str, signature: Option<String>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Launchpad-Event-Type", "snap:build:0.1")
        .header("X-Launchpad-Delivery", id)
        .body(body.to_string());
    if let Some(s) = signature {
        request = request.header("X-Hub-Signature", s);
    }
    let response = request.send().await.expect("the sandbox answers HTTP");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_signed_delivery_is_announced_once_and_a_badly_signed_one_gets_401() {
    let mut sb = Sandbox::start(&[]);
    assert!(
        sb.banner.contains("printed because this is a sandbox"),
        "{}",
        sb.banner
    );
    let url = sb.hooks_url.clone();
    let failed = build(MAAS, 7, "Failed to build");
    let signed = sign(sb.secret.as_bytes(), failed.as_bytes());

    assert_eq!(
        deliver(&url, "1", &failed, Some(signed.clone())).await.0,
        202
    );
    // The build's page is on the configured Launchpad: the simulator.
    let said =
        sb.expect("[#maas-builds] maas snap build 7 failed (Failed to build) · http://127.0.0.1:");
    assert!(
        said.contains("/~maas-committers/+snap/maas/+build/7 — `!rebuild maas`"),
        "{said}"
    );
    // Launchpad retries with the same delivery id: no second announcement.
    let (status, text) = deliver(&url, "1", &failed, Some(signed)).await;
    assert_eq!(
        (status, text.trim_end()),
        (200, "duplicate delivery: already recorded")
    );

    let forged = build(MAAS, 8, "Failed to build");
    let wrong = sign(b"not-the-sandbox-secret", forged.as_bytes());
    assert_eq!(deliver(&url, "2", &forged, Some(wrong)).await.0, 401);
    assert_eq!(deliver(&url, "3", &forged, None).await.0, 401);
    // The maas hook's secret speaks for maas only.
    let other = build("/~maas-committers/+snap/maas-agent", 9, "Failed to build");
    let signed_other = sign(sb.secret.as_bytes(), other.as_bytes());
    assert_eq!(deliver(&url, "4", &other, Some(signed_other)).await.0, 401);

    let said = sb.finish();
    assert_eq!(said.matches("+build/7").count(), 1, "{said}");
    assert!(!said.contains("+build/8"), "{said}");
    assert!(!said.contains("+build/9"), "{said}");
}

#[test]
fn webhook_register_talks_to_the_launchpad_simulator() {
    let mut sb = Sandbox::start(&[]);
    let url = sb.hooks_url.clone();
    sb.say("!webhook register /~maas-committers/+snap/maas-agent --channel #maas-builds");
    let queued = format!(
        "[t1] plan #1 · 1 step queued ✓ — Launchpad webhook on /~maas-committers/+snap/maas-agent → {url}"
    );
    sb.expect_all(&[&queued, "[t1] plan #1 · ▰ 1/1 — done ✓"]);
    sb.say("!show 1");
    let step = sb.expect("registered: http://127.0.0.1:");
    assert!(
        step.contains("/devel/~maas-committers/+snap/maas-agent/+webhook/")
            && step.ends_with("(snap:build:0.1)"),
        "{step}"
    );
    // The simulator, like Launchpad, knows only its own snaps.
    sb.say("!webhook register /~maas-committers/+snap/nope");
    let failed = sb.expect("[t3] plan #2 · ▱ 0/1 — failed at step 1:");
    assert!(
        failed.contains("No such snap package with this owner: 'nope'"),
        "{failed}"
    );
    sb.finish();
}

#[test]
fn watch_then_poll_announces_what_changed_in_the_watching_channel() {
    let mut sb = Sandbox::start(&[]);
    sb.say("!watch pkg shepherd-demo-lib");
    sb.expect("[t1] #release will hear about package shepherd-demo-lib");
    sb.say("#qa bob> !watch pkg shepherd-demo-held");
    sb.expect("[t2] #qa will hear about package shepherd-demo-held");
    sb.say("!poll");
    sb.expect_all(&[
        "[t3] polled: plan #1 announces the changes in #release",
        "[#release] [proposed-migration · resolute, ",
        "[#release] cleared: demo-consumer on amd64 (shepherd-demo-lib, now PASS), demo-consumer on arm64 (shepherd-demo-lib, now PASS)",
        "[#release] now a valid candidate: shepherd-demo-lib",
    ]);
    // Fetched once: the second poll's conditional GET finds nothing new.
    sb.say("!poll");
    sb.expect("[t4] polled: nothing to announce");
    // The announcement came from the snapshot `!why` now reads.
    sb.say("!why shepherd-demo-lib");
    sb.expect("[t5] shepherd-demo-lib 1.2-1 → 1.3-1 · valid candidate");
    let said = sb.finish();
    assert_eq!(said.matches("[proposed-migration · ").count(), 1, "{said}");
    // shepherd-demo-held did not change: #qa hears nothing.
    assert!(!said.contains("[#qa]"), "{said}");
}

/// Two conversations poll at once: the change is announced once, by
/// whichever poll fetched it first; the other finds it already seen.
#[test]
fn two_polls_at_once_announce_a_change_once() {
    let mut sb = Sandbox::start(&[]);
    sb.say("!watch pkg shepherd-demo-lib");
    sb.expect("[t1] #release will hear about package shepherd-demo-lib");
    sb.say("!poll\n#qa bob> !poll");
    let first = sb.expect_where("both polls answered", |l| {
        l.starts_with("[t2] polled") || l.starts_with("[t3] polled")
    });
    let second = sb.expect_where("both polls answered", |l| {
        (l.starts_with("[t2] polled") || l.starts_with("[t3] polled")) && l[..4] != first[..4]
    });
    let said = sb.finish();
    let announced = [&first, &second]
        .iter()
        .filter(|l| l.contains("announces the changes in #release"))
        .count();
    assert_eq!(announced, 1, "{said}");
    assert_eq!(said.matches("[proposed-migration · ").count(), 1, "{said}");
}

#[test]
fn a_file_given_with_excuses_has_no_next_run() {
    let plucky = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz"
    );
    let mut sb = Sandbox::start(&["--excuses", plucky]);
    sb.say("!watch pkg libsepol");
    sb.say("!poll");
    sb.expect("[t2] polled: nothing to announce");
    sb.finish();
}

/// `!poll` exists only in the sandbox: a deployment polls on its cron slots.
#[test]
fn outside_the_sandbox_there_is_no_poll() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("shepherd.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n",
            dir.path().join("s.sqlite").display()
        ),
    )
    .expect("config written");
    let mut child = shepherd()
        .args(["run", "--config"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("shepherd runs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    writeln!(stdin, "!poll").expect("shepherd reads its input");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut first)
        .expect("an answer");
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("[t1] no command !poll"), "{first}");
}
