//! Replicas sharing one PostgreSQL database: claims, leases, the
//! one-running-step-per-key rule and leadership. Each test opens two
//! stores (two replicas) on a fresh database; without a server they skip
//! (see `testing`).

use std::collections::BTreeSet;
use std::time::Duration;

use shepherd_commands::PlanState;

use super::tests::deliveries::delivery;
use super::tests::insert;
use super::*;

const LEASE: Duration = Duration::from_millis(1_000);

/// Replicas `a` and `b` on one fresh database.
async fn two_replicas() -> Option<(Store, Store)> {
    let url = testing::fresh_postgres_database().await?;
    let open = |name: &'static str| {
        let url = url.clone();
        async move {
            Store::connect(&url, 8)
                .await
                .unwrap()
                .with_replica(name)
                .with_lease(LEASE)
        }
    };
    Some((open("a").await, open("b").await))
}

#[tokio::test]
async fn replicas_claiming_at_once_never_share_a_step() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    // 40 one-step plans, claimed by 8 claimers on each replica at once.
    for i in 0..40 {
        insert(
            &a,
            &format!("r{i}"),
            &[&format!("k{i}")],
            PlanState::Pending,
        )
        .await;
    }
    let mut claimers = Vec::new();
    for store in [a.clone(), b.clone()] {
        for _ in 0..8 {
            let store = store.clone();
            claimers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(s) = store.claim_next(0).await.unwrap() {
                    mine.push(s.step_id);
                }
                mine
            }));
        }
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(
        (all.len(), distinct.len()),
        (40, 40),
        "each step claimed once"
    );
}

#[tokio::test]
async fn one_key_never_runs_on_two_replicas_at_once() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    // 30 plans, all with the same key: whatever the interleaving, at most
    // one of them is running at any moment.
    for i in 0..30 {
        insert(&a, &format!("r{i}"), &["same"], PlanState::Pending).await;
    }
    let mut claimers = Vec::new();
    for store in [a.clone(), b.clone(), a.clone(), b.clone()] {
        claimers.push(tokio::spawn(async move {
            let mut n = 0;
            for _ in 0..200 {
                if let Some(s) = store.claim_next(0).await.unwrap() {
                    n += 1;
                    let (running,): (i64,) =
                        sqlx::query_as("SELECT COUNT(*) FROM steps WHERE state = 'running'")
                            .fetch_one(&store.pool)
                            .await
                            .unwrap();
                    assert_eq!(running, 1, "two steps with one key running at once");
                    store
                        .finish_step(&s, &StepOutcome::Done("ok".into()), 1)
                        .await
                        .unwrap();
                }
            }
            n
        }));
    }
    let mut done = 0;
    for c in claimers {
        done += c.await.unwrap();
    }
    assert_eq!(done, 30, "every plan's step ran once");
}

#[tokio::test]
async fn a_dead_replicas_steps_are_taken_over_when_its_lease_runs_out() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    insert(&a, "r", &["k"], PlanState::Pending).await;
    let taken = a.claim_next(0).await.unwrap().unwrap();
    // b starting up never takes a live replica's step…
    assert_eq!(b.requeue_interrupted(10).await.unwrap(), 0);
    // … nor one whose lease is still running.
    assert_eq!(b.requeue_expired(500).await.unwrap(), 0);
    // a renews (it is alive)…
    a.renew_leases(900).await.unwrap();
    assert_eq!(b.requeue_expired(1_500).await.unwrap(), 0);
    // … then dies: once the lease has run out, b takes the step over.
    assert_eq!(b.requeue_expired(2_000).await.unwrap(), 1);
    let again = b.claim_next(2_001).await.unwrap().unwrap();
    assert_eq!((again.step_id, again.attempts), (taken.step_id, 2));
    // a comes back to life and reports: its outcome is dropped, b's stands.
    a.finish_step(&taken, &StepOutcome::Failed("late".into()), 2_002)
        .await
        .unwrap();
    let p = b
        .finish_step(&again, &StepOutcome::Done("ok".into()), 2_003)
        .await
        .unwrap();
    assert_eq!(p.state, PlanState::Done);
}

#[tokio::test]
async fn a_replica_restarted_under_its_name_takes_its_steps_back_at_once() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    insert(&a, "r", &["k"], PlanState::Pending).await;
    a.claim_next(0).await.unwrap().unwrap();
    // b is alive meanwhile; "a" restarts (same name) long before the lease ends.
    let a2 = a.clone().with_replica("a");
    assert_eq!(b.requeue_interrupted(10).await.unwrap(), 0);
    assert_eq!(a2.requeue_interrupted(10).await.unwrap(), 1);
    assert!(a2.claim_next(11).await.unwrap().is_some());
}

#[tokio::test]
async fn deliveries_are_claimed_by_one_replica_until_its_lease_runs_out() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    for n in 0..5 {
        a.record_delivery(&delivery(n)).await.unwrap();
    }
    let mine = a.claim_deliveries(3, 0).await.unwrap();
    assert_eq!(mine.len(), 3);
    let theirs = b.claim_deliveries(10, 1).await.unwrap();
    assert_eq!(theirs.len(), 2, "b gets only those a did not claim");
    let overlap = mine
        .iter()
        .filter(|d| theirs.iter().any(|t| t.delivery_id == d.delivery_id))
        .count();
    assert_eq!(overlap, 0);
    a.mark_deliveries_processed(&[(mine[0].delivery_id.clone(), "recorded".into())], 2)
        .await
        .unwrap();
    // a dies. Until its lease runs out, b handles only its own two…
    assert_eq!(b.claim_deliveries(10, 500).await.unwrap().len(), 2);
    // … then takes over the two a never finished.
    assert_eq!(b.claim_deliveries(10, 2_000).await.unwrap().len(), 4);
}

#[tokio::test]
async fn one_replica_leads_and_another_takes_over_when_it_goes() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let (la, lb) = (
        Leadership::new(&a, Role::Schedules),
        Leadership::new(&b, Role::Schedules),
    );
    assert!(la.check().await);
    assert!(!lb.check().await, "the lead is taken");
    assert!(la.check().await, "and kept");
    // Another role is led independently.
    assert!(Leadership::new(&b, Role::ChatGateway).check().await);
    la.release().await;
    assert!(lb.check().await, "taken over at the next check");
    assert!(!la.check().await);
}

/// How many times `table` was analyzed (`what` = `analyze`) or vacuumed
/// (`vacuum`) other than by autovacuum.
async fn upkeep_count(store: &Store, table: &str, what: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!(
        "SELECT COALESCE({what}_count, 0) FROM pg_stat_user_tables WHERE relname = $1"
    ))
    .bind(table)
    .fetch_one(&store.pool)
    .await
    .unwrap();
    n
}

/// Waits (at most 10 s) until `table` was analyzed or vacuumed once: the
/// statistics views lag by up to half a second.
async fn upkept(store: &Store, table: &str, what: &str) {
    let t = std::time::Instant::now();
    while upkeep_count(store, table, what).await == 0 {
        assert!(t.elapsed() < Duration::from_secs(10), "{table}: no {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A burst of steps renews the planner's statistics at once (see
/// `statistics`), not when autovacuum gets to it.
#[tokio::test]
async fn a_burst_of_steps_has_the_statistics_renewed() {
    let Some((a, _b)) = two_replicas().await else {
        return;
    };
    assert_eq!(upkeep_count(&a, "steps", "analyze").await, 0, "fresh");
    // A hundred pending steps: a claim planned as if there were none
    // already costs milliseconds.
    let keys: Vec<String> = (0..100).map(|i| format!("burst-{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    insert(&a, "burst", &keys, PlanState::Pending).await;
    upkept(&a, "steps", "analyze").await;
}

/// Processed deliveries have the queue vacuumed at once, likewise.
#[tokio::test]
async fn a_burst_of_processed_deliveries_has_the_queue_vacuumed() {
    let Some((a, _b)) = two_replicas().await else {
        return;
    };
    assert_eq!(upkeep_count(&a, "deliveries", "vacuum").await, 0, "fresh");
    let batch: Vec<Delivery> = (0..2_000).map(delivery).collect();
    a.record_deliveries(&batch).await.unwrap();
    let mut claimed = a.claim_deliveries(2_000, 1).await.unwrap();
    assert_eq!(claimed.len(), 2_000);
    // Processed in batches, as the processor does; the last one is enough.
    while !claimed.is_empty() {
        let rest = claimed.split_off(claimed.len().saturating_sub(256));
        let done: Vec<(String, String)> = rest
            .into_iter()
            .map(|d| (d.delivery_id, "recorded".to_string()))
            .collect();
        a.mark_deliveries_processed(&done, 2).await.unwrap();
    }
    upkept(&a, "deliveries", "vacuum").await;
}
