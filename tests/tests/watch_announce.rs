//! Polling excuses on a schedule: conditional GETs against a loopback
//! site, snapshots diffed across runs (and restarts), and one coalesced
//! announcement per watching channel.

use shepherd::config::{MigrationConfig, PollExcusesJob, ScheduleConfig};
use shepherd::events::Event;
use shepherd::runtime::Extras;
use shepherd::sandbox::poll::Poll;
use shepherd_adapters::britney::site::ExcusesSite;
use std::time::Duration;

use shepherd_tests::{config_text, load_config, temp_store, Harness, PATIENCE};

const SEED: &str = include_str!("../../bot/src/sandbox/seed_excuses.yaml");

fn job() -> ScheduleConfig {
    ScheduleConfig {
        name: "excuses".into(),
        cron: "*/15 * * * *".into(),
        announce: None,
        poll_excuses: Some(PollExcusesJob { series: None }),
        poll_channels: None,
    }
}

fn config(path: &std::path::Path, site: &ExcusesSite) -> shepherd::config::Config {
    let mut c = load_config(&config_text(path));
    c.proposed_migration = Some(MigrationConfig {
        series: "resolute".into(),
        excuses_url: site.url("proposed-migration/update_excuses.yaml"),
        output_url: Some(site.url("proposed-migration/update_output.txt")),
        series_urls: Default::default(),
        teams: [("demo".to_string(), vec!["shepherd-demo-held".to_string()])].into(),
    });
    c
}

/// The excuses site serving the seed run and an empty update_output.
async fn seeded_site() -> ExcusesSite {
    let site = ExcusesSite::start().await.unwrap();
    site.put(
        "proposed-migration/update_excuses.yaml",
        SEED.as_bytes().to_vec(),
    );
    site.put("proposed-migration/update_output.txt", b"".to_vec());
    site
}

async fn tick(h: &Harness, slot: i64) -> Option<i64> {
    let j = job();
    let key = Event::Tick {
        job: j.clone(),
        slot_ms: slot,
    }
    .request_key("");
    h.bot.dispatcher.handle_tick(&j, slot, &key).await.unwrap()
}

/// The next run: demo-lib's arm64 regression cleared, demo-tool migrated,
/// demo-held's block-proposed bug gone.
fn next_run() -> String {
    let tool_at = SEED
        .find("- excuses:\n  - 'Migration status for shepherd-demo-tool")
        .unwrap();
    let held_at = SEED
        .find("- component: universe\n  excuses:\n  - 'Migration status for shepherd-demo-held")
        .unwrap();
    let mut text = format!("{}{}", &SEED[..tool_at], &SEED[held_at..]);
    let arm = text.find("        arm64:\n        - REGRESSION").unwrap();
    text.replace_range(
        arm..arm + "        arm64:\n        - REGRESSION".len(),
        "        arm64:\n        - PASS",
    );
    text.replace("      '2100001': 1795075200\n", "").replace(
        "block-bugs:\n      verdict: REJECTED_PERMANENTLY",
        "block-bugs:\n      verdict: PASS",
    )
}

#[tokio::test]
async fn changes_reach_the_channels_that_watch_them_once() {
    let site = ExcusesSite::start().await.unwrap();
    site.put(
        "proposed-migration/update_excuses.yaml",
        SEED.as_bytes().to_vec(),
    );
    site.put(
        "proposed-migration/update_output.txt",
        b"trying: x\n".to_vec(),
    );
    let (_d, path) = temp_store();
    let cfg = config(&path, &site);
    let mut h = Harness::start(&cfg, None).await;

    h.ask(
        "!watch pkg shepherd-demo-lib",
        "#release will hear about package shepherd-demo-lib",
    )
    .await;
    h.ask(
        "!watch pkg shepherd-demo-lib",
        "#release already watches package shepherd-demo-lib",
    )
    .await;
    h.ask(
        "#maas carol> !watch team demo",
        "#maas will hear about team demo",
    )
    .await;
    h.ask("!watch team nope", "no team `nope` — known teams: demo")
        .await;
    h.ask("!watching", "#release watches: package shepherd-demo-lib")
        .await;

    assert_eq!(
        tick(&h, 1_000).await,
        None,
        "first fetch: nothing to compare with"
    );
    assert_eq!(site.counts(), (2, 0));
    h.ask(
        "!why shepherd-demo-held",
        "⛔ block-proposed by LP: #2100001",
    )
    .await;

    site.put(
        "proposed-migration/update_excuses.yaml",
        next_run().into_bytes(),
    );
    site.put(
        "proposed-migration/update_output.txt",
        b"trying: shepherd-demo-tool\naccepted: shepherd-demo-tool\nfinal: shepherd-demo-tool\n"
            .to_vec(),
    );
    tick(&h, 2_000).await.expect("changes announced");
    h.expect(
        "#release",
        "cleared: demo-consumer on arm64 (shepherd-demo-lib, now PASS)",
    )
    .await;
    h.expect(
        "#maas",
        "unblocked: shepherd-demo-held (LP: #2100001 no longer blocks)",
    )
    .await;
    assert!(
        !h.text("#release").contains("demo-held"),
        "{}",
        h.transcript()
    );
    assert_eq!(
        tick(&h, 2_000).await,
        None,
        "the same slot again: 304, nothing said twice"
    );
    assert_eq!(
        tick(&h, 3_000).await,
        None,
        "unchanged file: 304, nothing said"
    );
    assert_eq!(
        site.counts(),
        (4, 2),
        "two full fetches of each file, then conditional GETs"
    );
    h.ask(
        "!unwatch pkg shepherd-demo-lib",
        "#release no longer watches package shepherd-demo-lib",
    )
    .await;
    let transcript = h.finish().await;
    assert_eq!(
        transcript
            .matches("[#release] [proposed-migration · resolute")
            .count(),
        1,
        "{transcript}"
    );
}

#[tokio::test]
async fn a_restart_diffs_against_the_stored_snapshot() {
    let site = ExcusesSite::start().await.unwrap();
    site.put(
        "proposed-migration/update_excuses.yaml",
        SEED.as_bytes().to_vec(),
    );
    let (_d, path) = temp_store();
    let cfg = config(&path, &site);
    let mut h = Harness::start(&cfg, None).await;
    h.ask(
        "!watch maintainer 'Sandbox Maintainers'",
        "will hear about maintainer Sandbox Maintainers",
    )
    .await;
    assert_eq!(tick(&h, 1_000).await, None);
    h.finish().await;

    site.put(
        "proposed-migration/update_excuses.yaml",
        next_run().into_bytes(),
    );
    let h = Harness::start(&cfg, None).await;
    assert!(tick(&h, 2_000).await.is_some());
    let text = h
        .expect(
            "#release",
            "left -proposed (migrated or removed): shepherd-demo-tool 1.0-1",
        )
        .await;
    assert!(text.contains("cleared: demo-consumer on arm64"), "{text}");
    h.finish().await;
}

#[tokio::test]
async fn a_broken_download_keeps_the_last_good_snapshot() {
    let site = ExcusesSite::start().await.unwrap();
    site.put(
        "proposed-migration/update_excuses.yaml",
        SEED.as_bytes().to_vec(),
    );
    let (_d, path) = temp_store();
    let mut h = Harness::start(&config(&path, &site), None).await;
    assert_eq!(tick(&h, 1_000).await, None);
    site.put(
        "proposed-migration/update_excuses.yaml",
        b"<html>502 Bad Gateway</html>".to_vec(),
    );
    assert_eq!(tick(&h, 2_000).await, None);
    h.ask(
        "!why shepherd-demo-lib",
        "✗ demo-consumer 2.0-1 regressed on amd64 arm64",
    )
    .await;
}

/// The sandbox's `!poll` is the job's slot run now: it and the cron slots
/// share the stored snapshot and its validators, and a broken download is
/// told to the asker, announced to nobody, and keeps the last good snapshot.
#[tokio::test]
async fn a_poll_asked_for_in_chat_runs_the_slots_poll() {
    let site = seeded_site().await;
    let (_d, path) = temp_store();
    let cfg = config(&path, &site);
    let extras = Extras {
        commands: vec![Box::new(Poll)],
        ..Extras::default()
    };
    let mut h = Harness::start_with(&cfg, None, extras).await;
    h.ask(
        "!watch pkg shepherd-demo-lib",
        "#release will hear about package shepherd-demo-lib",
    )
    .await;
    assert_eq!(tick(&h, 1_000).await, None, "the slot fetches the seed");

    site.put(
        "proposed-migration/update_excuses.yaml",
        next_run().into_bytes(),
    );
    h.ask("!poll", "polled: plan #1 announces the changes in #release")
        .await;
    h.expect(
        "#release",
        "cleared: demo-consumer on arm64 (shepherd-demo-lib, now PASS)",
    )
    .await;
    assert_eq!(
        tick(&h, 2_000).await,
        None,
        "the next slot's conditional GET: 304, `!poll` already fetched it"
    );
    h.ask("!poll", "polled: nothing to announce").await;
    assert_eq!(site.counts().1, 2, "two 304s for the excuses");

    // The announcement's plan ends (and is audited) before the failed
    // poll below, whose audit `!audit 1` then shows as the latest.
    assert!(
        h.bot.drain(std::time::Duration::from_secs(10)).await,
        "the announcement's plan ends"
    );
    site.put(
        "proposed-migration/update_excuses.yaml",
        b"<html>502 Bad Gateway</html>".to_vec(),
    );
    h.ask("!poll", "the poll failed: ").await;
    // The last good snapshot: the next run's, arm64 cleared, amd64 not.
    h.ask(
        "!why shepherd-demo-lib",
        "✗ demo-consumer 2.0-1 regressed on amd64  log (amd64)",
    )
    .await;
    h.ask("!audit 1", "!poll → failed").await;
    let transcript = h.finish().await;
    assert_eq!(
        transcript.matches("[#release] [proposed-migration").count(),
        1,
        "{transcript}"
    );
}

/// Says `line` again until its reply contains `needle` (a fetch at start
/// is under way meanwhile); returns that reply.
async fn ask_until(h: &mut Harness, line: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let thread = h.say(line).await;
        let reply = loop {
            let reply = h.text(&thread);
            if !reply.is_empty() || tokio::time::Instant::now() > deadline {
                break reply;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        if reply.contains(needle) {
            return reply;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{line} never answered {needle:?}:\n{}",
            h.transcript()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The poll job of `config`, whose first slot is next New Year.
fn yearly(config: &mut shepherd::config::Config) {
    config.schedules = vec![ScheduleConfig {
        cron: "0 0 1 1 *".into(),
        ..job()
    }];
}

#[tokio::test]
async fn the_first_fetch_happens_at_start_not_at_the_first_slot() {
    let site = ExcusesSite::start().await.unwrap();
    site.put(
        "proposed-migration/update_excuses.yaml",
        SEED.as_bytes().to_vec(),
    );
    let (_d, path) = temp_store();
    let mut cfg = config(&path, &site);
    yearly(&mut cfg);
    let mut h = Harness::start(&cfg, None).await;
    ask_until(
        &mut h,
        "!why shepherd-demo-held",
        "⛔ block-proposed by LP: #2100001",
    )
    .await;
    assert_eq!(site.counts().0, 1, "the excuses, fetched once");
    let transcript = h.finish().await;
    assert!(
        !transcript.contains("[proposed-migration"),
        "nothing to compare with, nothing announced: {transcript}"
    );

    // With excuses stored, a restart fetches nothing: the jobs' slots do.
    let h = Harness::start(&cfg, None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(site.counts(), (1, 0));
    h.finish().await;
}

#[tokio::test]
async fn why_says_when_the_next_poll_runs_until_excuses_arrive() {
    let site = ExcusesSite::start().await.unwrap();
    let (_d, path) = temp_store();
    let mut cfg = config(&path, &site);
    yearly(&mut cfg);
    // Credentials in the URL stay out of chat.
    if let Some(m) = cfg.proposed_migration.as_mut() {
        m.excuses_url = m.excuses_url.replace("http://", "http://bot:hunter2-pw@");
    }
    let mut h = Harness::start(&cfg, None).await;
    // The site has no file yet: the fetch at start fails.
    let reply = ask_until(&mut h, "!why shepherd-demo-lib", "the last fetch failed").await;
    assert!(
        reply.starts_with(
            "no excuses for resolute yet: the last fetch failed (fetching http://bot:[redacted]@127.0.0.1:"
        ),
        "{reply}"
    );
    assert!(
        reply.contains("update_excuses.yaml: HTTP 404 Not Found)"),
        "{reply}"
    );
    assert!(!reply.contains("hunter2"), "{reply}");
    assert!(
        reply.contains("; the next poll is at ") && reply.contains("-01-01 00:00 UTC (in "),
        "{reply}"
    );

    // The next slot finds the file: `!why` answers.
    site.put(
        "proposed-migration/update_excuses.yaml",
        SEED.as_bytes().to_vec(),
    );
    assert_eq!(
        tick(&h, 1_000).await,
        None,
        "first fetch: nothing to compare with"
    );
    h.ask(
        "!why shepherd-demo-lib",
        "✗ demo-consumer 2.0-1 regressed on amd64 arm64",
    )
    .await;
    h.finish().await;
}

/// Replicas sharing PostgreSQL poll on one of them (the scheduler's
/// leader); another answers `!why` from what that one stored, not from the
/// older run it loaded before. (PostgreSQL only: one SQLite file has one
/// process.)
#[tokio::test]
async fn a_replica_answers_from_the_excuses_another_replica_polled() {
    if !shepherd_tests::on_postgres() {
        return;
    }
    let site = seeded_site().await;
    let (_d, path) = temp_store();
    let cfg = config(&path, &site);
    let polling = Harness::start(&cfg, None).await;
    assert_eq!(
        tick(&polling, 1_000).await,
        None,
        "the slot fetches the seed"
    );
    let mut other = Harness::start(&cfg, None).await;
    let before = other.say("!why shepherd-demo-tool").await;
    let said = other.expect(&before, "shepherd-demo-tool").await;
    assert!(!said.contains("not in -proposed"), "{said}");
    site.put(
        "proposed-migration/update_excuses.yaml",
        next_run().into_bytes(),
    );
    tick(&polling, 2_000).await;
    other
        .ask(
            "!why shepherd-demo-tool",
            "shepherd-demo-tool is not in -proposed",
        )
        .await;
    other.finish().await;
    polling.finish().await;
}
