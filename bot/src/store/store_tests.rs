use shepherd_commands::{Action, PlanDraft, PlanState, StepDraft};

use super::*;

/// Runs each case on a fresh SQLite file, then on a fresh PostgreSQL
/// database (when a server is available: see `testing`).
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test]
            async fn $case() {
                let (_d, store) = super::temp_store().await;
                super::$case(store).await;
            })+
        }
        mod on_postgres {
            $(#[tokio::test]
            async fn $case() {
                if let Some(store) = super::postgres_store().await {
                    super::$case(store).await;
                }
            })+
        }
    };
}

on_both_backends!(
    one_request_makes_one_plan,
    steps_are_claimed_in_order_and_only_when_released,
    retries_wait_for_not_before_and_failures_skip_the_rest,
    interrupted_steps_are_requeued,
    confirmation_respects_expiry_and_cancel_skips_steps,
    done_keys_are_found_across_plans,
    deliveries_are_unique_by_id,
    snapshots_subscriptions_and_slots_round_trip,
    a_wide_plan_runs_width_steps_at_once,
    a_close_waits_for_the_releases_before_it,
    plans_are_counted_by_state,
    a_batch_stores_each_id_once_and_says_which_were_new_and_marks_them_processed,
    a_batch_of_deliveries_makes_each_plan_once
);

async fn postgres_store() -> Option<Store> {
    let url = testing::fresh_postgres_database().await?;
    Some(Store::connect(&url, 4).await.unwrap())
}

async fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite")).await.unwrap();
    (dir, store)
}

fn draft(keys: &[&str]) -> PlanDraft {
    PlanDraft {
        summary: "test plan".into(),
        steps: keys
            .iter()
            .map(|k| StepDraft {
                key: k.to_string(),
                action: Action::Announce {
                    channel: "#c".into(),
                    text: k.to_string(),
                    thread: None,
                },
            })
            .collect(),
        confirm_reason: None,
        notes: Vec::new(),
        parallel: false,
    }
}

fn origin() -> Origin {
    Origin {
        kind: "chat".into(),
        channel: "console".into(),
        thread: Some("t1".into()),
    }
}

pub(super) async fn insert(
    store: &Store,
    request: &str,
    keys: &[&str],
    state: PlanState,
) -> Inserted {
    let d = draft(keys);
    let o = origin();
    store
        .insert_plan(
            NewPlan {
                request_key: request,
                command: "announce",
                requested_by: "console:alice",
                origin: &o,
                draft: &d,
                state,
                needs_role: Some("release-team"),
                confirm_reason: None,
                expires_at: Some(5_000),
                audit: None,
                width: 1,
            },
            1_000,
        )
        .await
        .unwrap()
}

async fn one_request_makes_one_plan(store: Store) {
    let a = insert(&store, "console:line-1", &["k1"], PlanState::Pending).await;
    let b = insert(&store, "console:line-1", &["k1"], PlanState::Pending).await;
    assert!(matches!(a, Inserted::New(_)));
    assert_eq!(b, Inserted::Existing(a.id()));
}

async fn steps_are_claimed_in_order_and_only_when_released(store: Store) {
    insert(&store, "parked", &["p1"], PlanState::AwaitingConfirmation).await;
    insert(&store, "dry", &["d1"], PlanState::DryRun).await;
    let id = insert(&store, "r", &["a", "b"], PlanState::Pending)
        .await
        .id();
    let first = store.claim_next(2_000).await.unwrap().unwrap();
    assert_eq!(
        (first.plan_id, first.key.as_str(), first.attempts),
        (id, "a", 1)
    );
    // b waits for a to finish.
    assert!(store.claim_next(2_000).await.unwrap().is_none());
    let p = store
        .finish_step(&first, &StepOutcome::Done("ok".into()), 2_001)
        .await
        .unwrap();
    assert_eq!((p.state, p.done, p.total), (PlanState::Running, 1, 2));
    let second = store.claim_next(2_002).await.unwrap().unwrap();
    assert_eq!(second.key, "b");
    let p = store
        .finish_step(&second, &StepOutcome::Done("ok".into()), 2_003)
        .await
        .unwrap();
    assert_eq!((p.state, p.done), (PlanState::Done, 2));
    assert!(
        store.claim_next(3_000).await.unwrap().is_none(),
        "parked and dry-run plans never run"
    );
}

async fn retries_wait_for_not_before_and_failures_skip_the_rest(store: Store) {
    insert(&store, "r", &["a", "b"], PlanState::Pending).await;
    let s = store.claim_next(0).await.unwrap().unwrap();
    let retry = StepOutcome::Retry {
        error: "503".into(),
        not_before: 10_000,
    };
    store.finish_step(&s, &retry, 1).await.unwrap();
    assert!(store.claim_next(9_999).await.unwrap().is_none());
    assert_eq!(store.next_retry_at().await.unwrap(), Some(10_000));
    let s = store.claim_next(10_000).await.unwrap().unwrap();
    assert_eq!(s.attempts, 2);
    let p = store
        .finish_step(&s, &StepOutcome::Failed("gone".into()), 10_001)
        .await
        .unwrap();
    assert_eq!(p.state, PlanState::Failed);
    assert_eq!(
        store.open_step_count().await.unwrap(),
        0,
        "step b was skipped"
    );
}

async fn interrupted_steps_are_requeued(store: Store) {
    insert(&store, "r", &["a"], PlanState::Pending).await;
    let s = store.claim_next(0).await.unwrap().unwrap();
    assert_eq!(store.requeue_interrupted(5).await.unwrap(), 1);
    let again = store.claim_next(6).await.unwrap().unwrap();
    assert_eq!((again.step_id, again.attempts), (s.step_id, 2));
}

async fn confirmation_respects_expiry_and_cancel_skips_steps(store: Store) {
    let id = insert(&store, "r", &["a"], PlanState::AwaitingConfirmation)
        .await
        .id();
    assert!(
        !store
            .confirm_plan(id, "console:carol", 5_000)
            .await
            .unwrap(),
        "expired at 5000"
    );
    assert!(store
        .confirm_plan(id, "console:carol", 4_999)
        .await
        .unwrap());
    assert!(
        !store
            .confirm_plan(id, "console:carol", 4_999)
            .await
            .unwrap(),
        "only once"
    );
    assert!(store
        .end_plan(id, PlanState::Cancelled, 6_000)
        .await
        .unwrap());
    assert!(store.claim_next(7_000).await.unwrap().is_none());
    let c = store.plan_control(id).await.unwrap().unwrap();
    assert_eq!(c.state, PlanState::Cancelled);
    assert!(
        !store
            .end_plan(id, PlanState::Cancelled, 6_000)
            .await
            .unwrap(),
        "already final"
    );
}

async fn done_keys_are_found_across_plans(store: Store) {
    let first = insert(&store, "r1", &["same"], PlanState::Pending)
        .await
        .id();
    let s = store.claim_next(0).await.unwrap().unwrap();
    store
        .finish_step(&s, &StepOutcome::Done("ok".into()), 1)
        .await
        .unwrap();
    insert(&store, "r2", &["same"], PlanState::Pending).await;
    let s2 = store.claim_next(2).await.unwrap().unwrap();
    assert_eq!(
        store.key_done_by("same", s2.step_id).await.unwrap(),
        Some(first)
    );
    assert_eq!(store.key_done_by("other", s2.step_id).await.unwrap(), None);
}

async fn deliveries_are_unique_by_id(store: Store) {
    let d = Delivery {
        delivery_id: "abc".into(),
        source: "launchpad".into(),
        event_type: "snap:build:0.1".into(),
        received_at: 1,
        body: b"{}".to_vec(),
        hook_target: None,
    };
    assert!(store.record_delivery(&d).await.unwrap());
    assert!(!store.record_delivery(&d).await.unwrap());
    assert_eq!(
        store.unprocessed_deliveries(1_000_000).await.unwrap(),
        vec![d]
    );
    store
        .mark_deliveries_processed(&[("abc".into(), "ok".into())], 2)
        .await
        .unwrap();
    assert!(store
        .unprocessed_deliveries(1_000_000)
        .await
        .unwrap()
        .is_empty());
}

async fn snapshots_subscriptions_and_slots_round_trip(store: Store) {
    for (i, body) in [b"one".to_vec(), b"two".to_vec()].into_iter().enumerate() {
        let s = Snapshot {
            id: 0,
            source: "excuses".into(),
            fetched_at: i as i64,
            etag: Some(format!("e{i}")),
            last_modified: None,
            body,
        };
        store.put_snapshot(&s).await.unwrap();
    }
    let latest = store.latest_snapshot("excuses").await.unwrap().unwrap();
    assert_eq!(
        (latest.body.as_slice(), latest.etag.as_deref()),
        (&b"two"[..], Some("e1"))
    );

    let sub = Subscription {
        channel: "#rel".into(),
        kind: "package".into(),
        target: "glibc".into(),
        created_by: "console:alice".into(),
    };
    assert!(store.subscribe(&sub, 1).await.unwrap());
    assert!(!store.subscribe(&sub, 2).await.unwrap());
    assert_eq!(
        store.subscriptions(Some("#rel")).await.unwrap(),
        vec![sub.clone()]
    );
    assert_eq!(store.subscriptions(None).await.unwrap().len(), 1);
    assert!(store
        .subscriptions(Some("#other"))
        .await
        .unwrap()
        .is_empty());
    assert!(store.unsubscribe("#rel", "package", "glibc").await.unwrap());

    store.set_last_slot("job", 100, "ok", 1).await.unwrap();
    store.set_last_slot("job", 50, "ok", 2).await.unwrap();
    assert_eq!(
        store.last_slot("job").await.unwrap(),
        Some(100),
        "never backwards"
    );
}

pub(super) fn delivery(n: usize) -> Delivery {
    Delivery {
        delivery_id: format!("d{n}"),
        source: "launchpad".into(),
        event_type: "snap:build:0.1".into(),
        received_at: n as i64,
        // Big enough that a few batches fill the allowed pages.
        body: vec![b'x'; 2_000 + n % 7],
        hook_target: None,
    }
}

async fn stored_ids(store: &Store) -> std::collections::BTreeSet<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT delivery_id FROM deliveries")
        .fetch_all(&store.pool)
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

/// A full disk must never turn into acknowledged-but-lost deliveries, and
/// the store must recover by itself when space comes back (issue: 3,005
/// acked, 97 committed, "database is locked" until restart).
#[tokio::test]
async fn a_full_store_acknowledges_nothing_it_did_not_keep_and_recovers() {
    let (_d, store) = temp_store().await;
    store.limit_pages_for_tests(Some(40)).await.unwrap();
    let mut acked = std::collections::BTreeSet::new();
    let mut failures = 0;
    let mut n = 0;
    for _ in 0..60 {
        let batch: Vec<Delivery> = (0..8)
            .map(|_| {
                n += 1;
                delivery(n)
            })
            .collect();
        match store.record_deliveries(&batch).await {
            Ok(new) => {
                assert!(new.iter().all(|x| *x));
                acked.extend(batch.iter().map(|d| d.delivery_id.clone()));
            }
            Err(_) => failures += 1,
        }
    }
    assert!(
        failures > 10,
        "the limit must bite ({failures} failed batches)"
    );
    assert_eq!(stored_ids(&store).await, acked, "acked = stored while full");
    // Space returns: the very next writes succeed, on every pooled connection.
    store.limit_pages_for_tests(None).await.unwrap();
    for _ in 0..20 {
        let batch: Vec<Delivery> = (0..8)
            .map(|_| {
                n += 1;
                delivery(n)
            })
            .collect();
        store
            .record_deliveries(&batch)
            .await
            .expect("writes succeed once space is back");
        acked.extend(batch.iter().map(|d| d.delivery_id.clone()));
    }
    // Other writers recover too (no connection stuck inside a transaction).
    insert(&store, "after-full", &["k-after-full"], PlanState::Pending).await;
    store.close().await;
    let reopened = Store::open(&_d.path().join("s.sqlite")).await.unwrap();
    assert_eq!(
        stored_ids(&reopened).await,
        acked,
        "acked = stored after reopening"
    );
}

/// Claiming walks the runnable index in claim order and stops at the first
/// match; a sort of every queued step per claim made processing crawl with
/// thousands queued.
#[tokio::test]
async fn claiming_the_next_step_sorts_nothing() {
    let (_d, store) = temp_store().await;
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT id FROM ({})",
        super::claims::next_due_for_tests()
    );
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&sql)
        .bind(0_i64)
        .fetch_all(&store.pool)
        .await
        .unwrap();
    let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    assert!(
        plan.iter()
            .filter(|l| l.contains("USING INDEX steps_runnable"))
            .count()
            == 2,
        "{plan:?}"
    );
    // The only sort left is of the (at most two) candidates.
    assert!(
        !plan.iter().any(|l| l.contains("RIGHT PART OF ORDER BY")),
        "{plan:?}"
    );
}

/// A bulk plan has up to `width` steps in flight; finishing one lets the
/// next go; a plan of width 1 still runs one step at a time.
async fn a_wide_plan_runs_width_steps_at_once(store: Store) {
    let d = draft(&["w1", "w2", "w3", "w4", "w5"]);
    let o = origin();
    let mut plan = NewPlan::released("wide", "bugs", "console:alice", &o, &d);
    plan.width = 3;
    store.insert_plan(plan, 1_000).await.unwrap();
    let mut claimed = Vec::new();
    while let Some(s) = store.claim_next(2_000).await.unwrap() {
        claimed.push(s);
    }
    let keys: Vec<&str> = claimed.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["w1", "w2", "w3"]);
    store
        .finish_step(&claimed[1], &StepOutcome::Done("ok".into()), 2_001)
        .await
        .unwrap();
    let next = store.claim_next(2_002).await.unwrap().unwrap();
    assert_eq!(next.key, "w4");
    assert!(store.claim_next(2_003).await.unwrap().is_none());
    // One failing does not stop the others of a bulk plan.
    store
        .finish_step(&claimed[0], &StepOutcome::Failed("nope".into()), 2_003)
        .await
        .unwrap();
    let w5 = store.claim_next(2_003).await.unwrap().unwrap();
    assert_eq!(w5.key, "w5");

    insert(&store, "narrow", &["n1", "n2"], PlanState::Pending).await;
    let n1 = store.claim_next(2_004).await.unwrap().unwrap();
    assert_eq!(n1.key, "n1");
    assert!(
        store.claim_next(2_005).await.unwrap().is_none(),
        "n2 waits for n1"
    );
}

/// A close waits until every earlier step of its plan is done — not merely
/// sent and waiting on the world.
async fn a_close_waits_for_the_releases_before_it(store: Store) {
    let release = StepDraft {
        key: "r".into(),
        action: Action::ReleaseSnap {
            snap: "maas".into(),
            revision: 1,
            channel: "3.6/stable".into(),
            arch: "amd64".into(),
        },
    };
    let close = StepDraft {
        key: "c".into(),
        action: Action::CloseChannels {
            snap: "maas".into(),
            channels: vec!["3.6/candidate".into()],
        },
    };
    let d = PlanDraft {
        summary: "promote".into(),
        steps: vec![release, close],
        confirm_reason: None,
        notes: Vec::new(),
        parallel: false,
    };
    let o = origin();
    store
        .insert_plan(
            NewPlan::released("p", "promote", "console:alice", &o, &d),
            1_000,
        )
        .await
        .unwrap();
    let r = store.claim_next(2_000).await.unwrap().unwrap();
    let waiting = StepOutcome::Waiting {
        note: "not in the map yet".into(),
        not_before: 9_000,
        follow_ref: None,
    };
    store.finish_step(&r, &waiting, 2_001).await.unwrap();
    assert!(
        store.claim_next(2_002).await.unwrap().is_none(),
        "the close waits"
    );
    let r = store.claim_next(9_000).await.unwrap().unwrap();
    assert_eq!(r.key, "r");
    store
        .finish_step(&r, &StepOutcome::Done("seen".into()), 9_001)
        .await
        .unwrap();
    assert_eq!(store.claim_next(9_002).await.unwrap().unwrap().key, "c");
}

async fn plans_are_counted_by_state(store: Store) {
    assert!(store.plan_counts_by_state().await.unwrap().is_empty());
    insert(&store, "a", &["a"], PlanState::Pending).await;
    insert(&store, "b", &["b"], PlanState::Pending).await;
    insert(&store, "c", &["c"], PlanState::DryRun).await;
    let mut counts = store.plan_counts_by_state().await.unwrap();
    counts.sort_by_key(|(s, _)| s.as_str());
    assert_eq!(counts, [(PlanState::DryRun, 1), (PlanState::Pending, 2)]);
}

async fn a_batch_stores_each_id_once_and_says_which_were_new_and_marks_them_processed(
    store: Store,
) {
    assert!(store.record_delivery(&delivery(1)).await.unwrap());
    // 300 deliveries (three INSERT statements), one stored before, one
    // repeated within the batch (in another statement).
    let mut batch: Vec<Delivery> = (0..300).map(delivery).collect();
    batch.push(delivery(250));
    let new = store.record_deliveries(&batch).await.unwrap();
    assert_eq!(new.len(), 301);
    assert!(!new[1], "stored before");
    assert!(new[250], "the first of a repeat is new");
    assert!(!new[300], "its repeat is not");
    assert_eq!(new.iter().filter(|n| **n).count(), 299);
    assert_eq!(
        store.unprocessed_deliveries(1_000).await.unwrap().len(),
        300
    );
    // Marked processed many at once (one UPDATE per result and 128 ids):
    // each keeps its own result.
    let done: Vec<(String, String)> = (0..300)
        .map(|i| {
            let result = match i % 3 {
                0 => "recorded".to_string(),
                1 => format!("plan #{i}"),
                _ => "failed: no".to_string(),
            };
            (delivery(i).delivery_id, result)
        })
        .collect();
    store.mark_deliveries_processed(&done, 5).await.unwrap();
    assert!(store
        .unprocessed_deliveries(1_000)
        .await
        .unwrap()
        .is_empty());
    for (id, result) in [
        (0, "recorded"),
        (297, "recorded"),
        (4, "plan #4"),
        (299, "failed: no"),
    ] {
        assert_eq!(
            store
                .delivery_status(&delivery(id).delivery_id)
                .await
                .unwrap(),
            Some(Some(result.to_string())),
            "delivery {id}"
        );
    }
}

async fn a_batch_of_deliveries_makes_each_plan_once(store: Store) {
    let before = insert(&store, "k-old", &["old"], PlanState::Pending).await;
    let o = origin();
    // 150 deliveries (three plan INSERTs): even ones make a two-step plan;
    // 51 repeats a request seen before, 53 one made earlier in the batch.
    let drafts: Vec<(String, PlanDraft)> = (0..150)
        .map(|i| {
            let key = match i {
                51 => "k-old".to_string(),
                53 => "k2".to_string(),
                _ => format!("k{i}"),
            };
            let steps = [format!("s{i}-a"), format!("s{i}-b")];
            let d = draft(&[steps[0].as_str(), steps[1].as_str()]);
            (key, d)
        })
        .collect();
    let batch: Vec<(String, Option<NewPlan<'_>>)> = drafts
        .iter()
        .enumerate()
        .map(|(i, (key, d))| {
            let plan = (i % 2 == 0 || i == 51 || i == 53)
                .then(|| NewPlan::released(key, "webhook", "launchpad", &o, d));
            (format!("d{i}"), plan)
        })
        .collect();
    for (id, _) in &batch {
        store
            .record_delivery(&Delivery {
                delivery_id: id.clone(),
                ..delivery(0)
            })
            .await
            .unwrap();
    }
    let out = store.finish_deliveries(&batch, 7).await.unwrap();
    assert_eq!(out[1], None, "no plan");
    assert_eq!(out[51], Some(Inserted::Existing(before.id())));
    assert_eq!(out[53], Some(Inserted::Existing(out[2].unwrap().id())));
    let new: Vec<i64> = out
        .iter()
        .filter_map(|o| match o {
            Some(Inserted::New(id)) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(new.len(), 75);
    assert!(new.windows(2).all(|w| w[0] < w[1]), "ids in delivery order");
    for id in [new[0], new[74]] {
        let p = store.plan_progress(id).await.unwrap();
        assert_eq!((p.done, p.total), (0, 2), "plan {id}");
    }
    // Steps are claimed in plan order: the plan made before the batch,
    // then the batch's first plan's first step.
    let first = store.claim_next(8).await.unwrap().unwrap();
    assert_eq!((first.plan_id, first.key.as_str()), (before.id(), "old"));
    let second = store.claim_next(8).await.unwrap().unwrap();
    assert_eq!((second.plan_id, second.key.as_str()), (new[0], "s0-a"));
    assert_eq!(
        store.delivery_status("d53").await.unwrap(),
        Some(Some(format!("plan #{}", out[2].unwrap().id())))
    );
    assert_eq!(
        store.delivery_status("d1").await.unwrap(),
        Some(Some("recorded".into()))
    );
}
