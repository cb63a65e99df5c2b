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
    snapshots_subscriptions_and_slots_round_trip,
    a_wide_plan_runs_width_steps_at_once,
    a_close_waits_for_the_releases_before_it,
    plans_are_counted_by_state
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

/// Webhook deliveries: stored once, acknowledged only when kept, and
/// turned into plans in batches.
#[path = "delivery_tests.rs"]
pub(super) mod deliveries;
