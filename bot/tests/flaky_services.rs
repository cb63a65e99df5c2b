//! Every service flaky at once. Two `shepherd run` replicas on one
//! PostgreSQL database retry ruby-rack's autopkgtest regressions (27 on
//! four architectures) and promote MAAS 3.6.0b1 to beta while a fifth of
//! autopkgtest-cloud's and the Snap Store's answers are 502, 503 or come
//! after the client has given up (the work done, the answer lost).
//! Counted in the simulators: each test queued once, each revision
//! released once; read from the database: both plans done. A third plan
//! retries armhf, an architecture this autopkgtest-cloud does not know: a
//! permanent refusal, reported in its words, however many transient
//! faults came before it. Without a PostgreSQL server this skips (CI
//! requires one).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::replicas::{attempts_ending, config, failed_steps, plans_ended, wait_until, Replica};
use shepherd::sandbox::release::{maas_release_world, MAAS_PRODUCT};
use shepherd::sandbox::{autopkgtest_world, launchpad_world, SIM_KEY};
use shepherd::store::testing::fresh_postgres_database;
use shepherd_adapters::autopkgtest::sim::AutopkgtestSim;
use shepherd_adapters::britney::{self, site::ExcusesSite};
use shepherd_adapters::launchpad::sim::LaunchpadSim;
use shepherd_adapters::snapstore::sim::SnapStoreSim;

const EXCUSES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz"
);
/// ruby-rack's regressions on amd64, arm64, ppc64el and s390x (33 with
/// armhf's 6).
const TESTS: usize = 27;
const KNOWN_ARCHES: &str = "--arch amd64 --arch arm64 --arch ppc64el --arch s390x";
const ON_ARMHF: i64 = 6;
/// A late answer comes after the replicas' 5 s request timeout.
const LATE: Duration = Duration::from_secs(6);

#[tokio::test]
async fn with_a_fifth_of_every_services_answers_failing_nothing_is_done_twice_or_lost() {
    let Some(db) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(EXCUSES).expect("the plucky excuses fixture");
    let excuses = britney::parse_bytes(&bytes).expect("fixture parses");
    let mut world = autopkgtest_world("plucky", &excuses);
    // armhf is unknown to this autopkgtest-cloud: a refusal, for good.
    for (_, arches) in &mut world.releases {
        arches.retain(|a| a != "armhf");
    }
    let atk = AutopkgtestSim::start(world).await.unwrap();
    // The queue moves on slower than a timed-out request is retried, so a
    // test whose answer was lost is still listed when the retry looks.
    let ticking = atk.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(20)).await;
            ticking.advance();
        }
    });
    let site = ExcusesSite::start().await.unwrap();
    site.put("update_excuses.yaml.xz", bytes);
    let mut lp_world = launchpad_world();
    lp_world
        .tokens
        .insert("replica-token".into(), "shepherd-sandbox".into());
    maas_release_world(&mut lp_world, "shepherd-sandbox");
    let lp = LaunchpadSim::start(lp_world).await.unwrap();
    let store = SnapStoreSim::start_maas().await.unwrap();
    let credentials =
        secrecy::ExposeSecret::expose_secret(&store.credentials().export()).to_string();
    let extra = format!(
        r#"[commands.retry]
confirm = true
[commands.promote]
confirm = true
[autopkgtest]
request_url = "{request}"
api_key = "{SIM_KEY}"
follow_interval_ms = 300
result_wait_mins = 0
[proposed_migration]
series = "plucky"
excuses_url = "{excuses}"
[[schedule]]
name = "excuses"
cron = "0 0 1 1 *"
poll_excuses = {{}}
[snapstore]
dashboard_url = "{dashboard}"
sso_url = "{sso}"
credentials = "{credentials}"
poll_interval_ms = 100
{MAAS_PRODUCT}"#,
        request = atk.request_url(),
        excuses = site.url("update_excuses.yaml.xz"),
        dashboard = store.dashboard_url(),
        sso = store.sso_url(),
    );
    let mut a = Replica::start(&config(dir.path(), "a", &db, &lp, &extra));
    let mut b = Replica::start(&config(dir.path(), "b", &db, &lp, &extra));
    // Planned while the services answer (once the excuses are in), parked
    // for confirmation; confirmed, and so applied, while they do not.
    let t = Instant::now();
    while !a
        .lines()
        .iter()
        .any(|l| l.contains("] ruby-rack 2.2.7-1.1 → "))
    {
        assert!(t.elapsed() < Duration::from_secs(60), "{:?}", last(&mut a));
        a.say("!why ruby-rack");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (n, command) in [
        format!("!retry ruby-rack {KNOWN_ARCHES}"),
        "!promote 3.6.0b1 beta".to_string(),
        "!retry ruby-rack --arch armhf".to_string(),
    ]
    .iter()
    .enumerate()
    {
        a.say(command);
        said(&mut a, "needs confirmation", n + 1).await;
    }
    atk.fail_at_random(20, LATE);
    store.fail_at_random(20, LATE);
    // Besides those drawn at random, the first test request's and the
    // first release's answers are lost for sure: each must be found done
    // when its step tries again, not done twice.
    atk.answer_late_next(LATE);
    store.answer_late_next("/dev/api/snap-release/", LATE);
    for n in 1..=3 {
        a.say(&format!("!confirm {n}"));
        said(&mut a, "steps queued", n).await;
    }

    let states = plans_ended(&db, 3, Duration::from_secs(300)).await;
    atk.fail_at_random(0, Duration::ZERO);
    store.fail_at_random(0, Duration::ZERO);
    assert!(
        atk.random_faults() > 0 && store.random_faults() > 0,
        "faults met: autopkgtest {}, Snap Store {}",
        atk.random_faults(),
        store.random_faults()
    );

    // The retry: every test queued exactly once.
    let mut queued: HashMap<(String, String, Vec<String>), usize> = HashMap::new();
    for job in atk.accepted() {
        *queued
            .entry((job.package, job.arch, job.triggers))
            .or_default() += 1;
    }
    let twice: Vec<_> = queued.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "queued twice: {twice:?}");
    assert_eq!(queued.len(), TESTS, "{queued:?}");
    assert!(queued.keys().all(|(_, arch, _)| arch != "armhf"));
    let done = |steps: i64| ("done".to_string(), steps, steps);
    assert_eq!(states[0], done(TESTS as i64), "{states:?}");
    // armhf's first request is refused for good: that plan fails there,
    // its other steps skipped; transient faults before it were retried.
    assert_eq!(states[2], ("failed".to_string(), 0, ON_ARMHF), "{states:?}");
    let failed = failed_steps(&db).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("armhf"), "{failed:?}");
    assert_eq!(attempts_ending(&db, "failed").await, 1);

    // The promotion: done, each revision released to 3.6/beta once.
    assert_eq!(states[1], done(states[1].2), "{states:?}");
    let releases = store.release_calls();
    let mut released: HashMap<(String, String), usize> = HashMap::new();
    for call in &releases {
        for channel in &call.channels {
            *released
                .entry((call.revision.to_string(), channel.clone()))
                .or_default() += 1;
        }
    }
    assert!(
        released.values().all(|n| *n == 1),
        "released twice: {releases:?}"
    );
    for arch in ["amd64", "arm64", "ppc64el", "s390x"] {
        assert!(
            store.revision_in("maas", "3.6/beta", arch).is_some(),
            "nothing in 3.6/beta for {arch}"
        );
    }
    // Faults were met by steps and retried.
    let transient = attempts_ending(&db, "transient").await;
    assert!(transient > 0, "no step attempt met a fault");
    // Whichever replica ended the retry plan said why it failed.
    let told = |r: &mut Replica| {
        r.lines()
            .iter()
            .any(|l| l.contains("failed") && l.contains("armhf"))
    };
    wait_until("the refusal reported", Duration::from_secs(30), || {
        told(&mut a) || told(&mut b)
    })
    .await;
}

/// The last lines `r` printed.
fn last(r: &mut Replica) -> Vec<String> {
    let lines = r.lines();
    lines[lines.len().saturating_sub(12)..].to_vec()
}

/// Waits until `r` has printed `n` lines holding `needle`.
async fn said(r: &mut Replica, needle: &str, n: usize) {
    let t = Instant::now();
    while r.lines().iter().filter(|l| l.contains(needle)).count() < n {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no {n}× {needle:?}: {:?}",
            last(r)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
