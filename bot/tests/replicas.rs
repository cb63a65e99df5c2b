//! Several `shepherd run` processes on one PostgreSQL database, and the
//! faults a deployment meets: a replica killed mid-plan, a flaky
//! Launchpad, one webhook delivery replayed across replicas. Effects are
//! counted in the simulator, outcomes read from the database. Without a
//! PostgreSQL server these skip (CI requires one: see README, Testing).

mod common;

use std::time::Duration;

use common::replicas::{
    attempts_ending, config, each_task_moved_once, failed_steps, moved, plan_ended, plan_states,
    wait_until, world_with_tasks, Replica, FIRST_BUG,
};
use shepherd::store::testing::fresh_postgres_database;
use shepherd_adapters::launchpad::sim::LaunchpadSim;
use shepherd_adapters::launchpad::webhooks::signature::sign;

const TASKS: u64 = 200;

#[tokio::test]
async fn a_replica_killed_mid_plan_is_finished_by_another_with_nothing_twice_or_lost() {
    let Some(db) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lp = LaunchpadSim::start(world_with_tasks(TASKS)).await.unwrap();
    lp.set_latency(Duration::from_millis(20));
    let mut a = Replica::start(&config(dir.path(), "a", &db, &lp, ""));
    let b = Replica::start(&config(dir.path(), "b", &db, &lp, ""));
    a.say("!bugs move-done maas next 3.6.0");
    wait_until("a third moved", Duration::from_secs(120), || {
        lp.writes().patches >= TASKS / 3
    })
    .await;
    a.kill();
    let at_kill = moved(&lp);
    assert!(at_kill < TASKS as usize, "killed before the end");
    // b finishes it: nothing twice, nothing lost.
    each_task_moved_once(&lp, &db, TASKS, Duration::from_secs(120)).await;
    drop(b);
}

#[tokio::test]
async fn with_a_fifth_of_launchpads_answers_failing_every_step_ends_and_says_how() {
    let Some(db) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lp = LaunchpadSim::start(world_with_tasks(TASKS)).await.unwrap();
    // Three bugs are locked: their edits fail for good.
    let locked = [FIRST_BUG + 7, FIRST_BUG + 70, FIRST_BUG + 170];
    for id in locked {
        lp.lock_bug(id);
    }
    let mut a = Replica::start(&config(dir.path(), "a", &db, &lp, ""));
    let mut b = Replica::start(&config(dir.path(), "b", &db, &lp, ""));
    a.say("!bugs move-done maas next 3.6.0");
    wait_until("planned", Duration::from_secs(60), || {
        a.lines().iter().any(|l| l.contains("steps queued"))
    })
    .await;
    // Then 20% of requests fail: 502, 503, or no answer before the
    // client's 5 s timeout.
    lp.fail_at_random(20, Duration::from_secs(6));
    plan_ended(&db, Duration::from_secs(240)).await;
    lp.fail_at_random(0, Duration::ZERO);
    assert_eq!(moved(&lp), TASKS as usize - locked.len());
    assert_eq!(
        plan_states(&db).await,
        [(
            "failed".to_string(),
            (TASKS as usize - locked.len()) as i64,
            TASKS as i64
        )],
        "all but the locked bugs' steps done; the plan says it failed"
    );
    // Faults were met and retried (by the client, or by the executor
    // later): more PATCHes were sent than tasks moved.
    let patches = lp.requests().iter().filter(|r| r.method == "PATCH").count();
    assert!(
        patches > TASKS as usize,
        "only {patches} PATCHes: no fault met?"
    );
    let failed = failed_steps(&db).await;
    assert_eq!(failed.len(), locked.len(), "{failed:?}");
    for error in &failed {
        assert!(error.contains("locked"), "{error}");
    }
    // A refusal is permanent: each locked bug's step ends at its first
    // refusal (attempts before it may have met a transient fault: a
    // timeout is 5 s here, and one fault in ten answers 6 s late).
    assert_eq!(attempts_ending(&db, "failed").await, locked.len() as i64);
    // Whichever replica ended the plan says so, with the refusal.
    let said = |r: &mut Replica| {
        r.lines()
            .iter()
            .any(|l| l.contains("failed") && l.contains("locked"))
    };
    let t = std::time::Instant::now();
    while !(said(&mut a) || said(&mut b)) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the failure not reported: {:?} {:?}",
            a.lines(),
            b.lines()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const SECRET: &str = "replica-hook-secret-0123456789";
const SNAP_FAILED: &str = r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/2789012", "action": "status-changed", "snap": "/~maas-committers/+snap/maas-3.5", "build_request": null, "status": "Failed to build", "store_upload_status": "Unscheduled"}"#;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn one_delivery_replayed_a_thousand_times_across_replicas_has_one_effect() {
    let Some(db) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lp = LaunchpadSim::start(world_with_tasks(0)).await.unwrap();
    let ports = [free_port(), free_port()];
    let hooks = |port: u16| {
        format!(
            "[webhook]\nlisten = \"127.0.0.1:{port}\"\n[[webhook.launchpad]]\ntarget = \"/~maas-committers/+snap/maas-3.5\"\nsecret = \"{SECRET}\"\nchannel = \"#maas-builds\"\n"
        )
    };
    let mut replicas = [
        Replica::start(&config(dir.path(), "a", &db, &lp, &hooks(ports[0]))),
        Replica::start(&config(dir.path(), "b", &db, &lp, &hooks(ports[1]))),
    ];
    let client = reqwest::Client::new();
    for port in ports {
        let health = format!("http://127.0.0.1:{port}/healthz");
        let client = client.clone();
        wait_until("listening", Duration::from_secs(30), move || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .await;
        let _ = client.get(health).send().await;
    }
    let signature = sign(SECRET.as_bytes(), SNAP_FAILED.as_bytes());
    let mut sends = Vec::new();
    for i in 0..1_000 {
        let url = format!("http://127.0.0.1:{}/hooks/launchpad", ports[i % 2]);
        let (client, signature) = (client.clone(), signature.clone());
        sends.push(async move {
            client
                .post(url)
                .header("Content-Type", "application/json")
                .header("X-Launchpad-Event-Type", "snap:build:0.1")
                .header("X-Launchpad-Delivery", "replayed-1")
                .header("X-Hub-Signature", signature)
                .body(SNAP_FAILED)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    // 1,000 sends, 32 at a time.
    let mut statuses = Vec::new();
    let mut sends = sends.into_iter();
    loop {
        let wave: Vec<_> = sends.by_ref().take(32).collect();
        if wave.is_empty() {
            break;
        }
        for s in futures_util::future::join_all(wave).await {
            statuses.push(s.expect("answered"));
        }
    }
    assert_eq!(
        (
            statuses.iter().filter(|s| **s == 202).count(),
            statuses.iter().filter(|s| **s == 200).count()
        ),
        (1, 999),
        "accepted once, acknowledged as a duplicate otherwise"
    );
    let announced = |rs: &mut [Replica; 2]| {
        rs.iter_mut()
            .map(|r| {
                r.lines()
                    .iter()
                    .filter(|l| l.contains("maas-3.5 snap build 2789012 failed"))
                    .count()
            })
            .sum::<usize>()
    };
    wait_until("announced", Duration::from_secs(30), || {
        announced(&mut replicas) >= 1
    })
    .await;
    // Time for a second announcement, were there one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(announced(&mut replicas), 1, "one effect");
    assert_eq!(plan_states(&db).await.len(), 1, "one plan");
}

/// Posts a Launchpad snap-build delivery to a replica; the status.
async fn post(port: u16, id: &str, body: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/hooks/launchpad"))
        .header("Content-Type", "application/json")
        .header("X-Launchpad-Event-Type", "snap:build:0.1")
        .header("X-Launchpad-Delivery", id)
        .header("X-Hub-Signature", sign(secret.as_bytes(), body.as_bytes()))
        .body(body.to_string())
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_webhook_registered_through_one_replica_verifies_on_the_other() {
    let Some(db) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut world = shepherd::sandbox::launchpad_world();
    let user = world.tokens.values().next().cloned().expect("a user");
    world.tokens.insert("replica-token".into(), user);
    let lp = LaunchpadSim::start(world).await.unwrap();
    let ports = [free_port(), free_port()];
    let web = |port: u16| {
        format!("[webhook]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"https://shepherd.example/hooks/launchpad\"\n")
    };
    let mut a = Replica::start(&config(dir.path(), "a", &db, &lp, &web(ports[0])));
    let mut b = Replica::start(&config(dir.path(), "b", &db, &lp, &web(ports[1])));
    for port in ports {
        wait_until("listening", Duration::from_secs(30), move || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .await;
    }
    let failed = r#"{"snap_build": "/~maas-committers/+snap/maas/+build/7", "action": "status-changed", "snap": "/~maas-committers/+snap/maas", "build_request": null, "status": "Failed to build", "store_upload_status": "Unscheduled"}"#;
    // b has never heard of this webhook's secret: refused.
    assert_eq!(
        post(ports[1], "d-0", failed, "a-guess-at-the-secret").await,
        401
    );
    a.say("!webhook register /~maas-committers/+snap/maas --channel #maas-builds");
    // Either replica may apply the step (and say so on its console).
    wait_until("registered", Duration::from_secs(30), || {
        let done = |r: &mut Replica| r.lines().iter().any(|l| l.contains("done ✓"));
        done(&mut a) || done(&mut b)
    })
    .await;
    let secret = lp.webhooks()[0].secret.clone();
    // (Past the quarter second in which b reads the store once.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Registered through a, posted to b: b finds the secret in the store.
    assert_eq!(post(ports[1], "d-1", failed, &secret).await, 202);
    assert_eq!(post(ports[0], "d-2", failed, &secret).await, 202);
    // Still nothing else verifies (within the re-read interval or after it).
    assert_eq!(post(ports[1], "d-3", failed, "not-the-secret").await, 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(post(ports[1], "d-4", failed, "not-the-secret").await, 401);
}
