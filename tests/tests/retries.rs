//! The executor's failure handling: transient errors are retried with
//! backoff, permanent ones fail the plan and skip the rest, and a step whose
//! idempotency key is already done is never applied twice.

use std::sync::Arc;

use shepherd_commands::{Ledger, PlanState, StepState};
use shepherd_tests::{config_text, load_config, temp_store, Harness, RecordingApplier};

async fn with(applier: RecordingApplier) -> (tempfile::TempDir, Harness, Arc<RecordingApplier>) {
    let (dir, path) = temp_store();
    let applier = Arc::new(applier);
    let h = Harness::start(&load_config(&config_text(&path)), Some(applier.clone())).await;
    (dir, h, applier)
}

#[tokio::test]
async fn transient_failures_are_retried_then_succeed() {
    let applier = RecordingApplier::default();
    applier.transient.lock().await.push(("#flaky".into(), 2));
    let (_d, mut h, applier) = with(applier).await;
    let t = h.say("!announce #flaky hello").await;
    h.expect(
        &t,
        "hit a temporary error (503 Service Unavailable); retrying in",
    )
    .await;
    h.expect(&t, "— done ✓").await;
    let d = h.bot.store.plan_detail(1).await.unwrap().unwrap();
    assert_eq!(
        (d.steps[0].state, d.steps[0].attempts),
        (StepState::Done, 3)
    );
    assert_eq!(applier.effects().len(), 1);
}

#[tokio::test]
async fn giving_up_after_max_attempts_fails_the_plan() {
    let applier = RecordingApplier::default();
    applier.transient.lock().await.push(("#down".into(), 99));
    let (_d, mut h, applier) = with(applier).await;
    let t = h.say("!announce #down hello --also #next").await;
    let text = h.expect(&t, "— failed at step 1").await;
    assert!(text.contains("gave up after 3 attempts"), "{text}");
    let d = h.bot.store.plan_detail(1).await.unwrap().unwrap();
    assert_eq!(d.plan.state, PlanState::Failed);
    assert_eq!(d.steps[1].state, StepState::Skipped, "the rest is skipped");
    assert!(applier.effects().is_empty());
}

#[tokio::test]
async fn permanent_failure_is_reported_without_retrying() {
    let applier = RecordingApplier {
        permanent: vec!["#gone".into()],
        ..Default::default()
    };
    let (_d, mut h, _applier) = with(applier).await;
    let t = h.say("!announce #gone hi").await;
    h.expect(
        &t,
        "— failed at step 1: #gone does not exist — `!show 1` for details",
    )
    .await;
    let d = h.bot.store.plan_detail(1).await.unwrap().unwrap();
    assert_eq!(d.steps[0].attempts, 1);
    h.ask("!audit 1", "announce to #gone plan #1 → failed")
        .await;
}

/// A one-step plan announcing to `#tests`, keyed `key`, asked in
/// `thread` of #release, stored as `request` in `state` (parked plans
/// expire at `expires_at`); its id.
async fn store_plan(
    h: &Harness,
    (request, key, thread): (&str, &str, Option<&str>),
    state: PlanState,
    expires_at: Option<i64>,
) -> i64 {
    use shepherd::store::{NewPlan, Origin};
    use shepherd_commands::{Action, PlanDraft, StepDraft};
    let draft = PlanDraft {
        summary: format!("announce {key}"),
        steps: vec![StepDraft {
            key: key.into(),
            action: Action::Announce {
                channel: "#tests".into(),
                text: "request".into(),
                thread: None,
            },
        }],
        confirm_reason: None,
        notes: Vec::new(),
        parallel: false,
    };
    let origin = Origin {
        kind: "chat".into(),
        channel: "#release".into(),
        thread: thread.map(str::to_string),
    };
    let parked = (state == PlanState::AwaitingConfirmation).then_some("many channels");
    h.bot
        .store
        .insert_plan(
            NewPlan {
                request_key: request,
                command: "test",
                requested_by: "console:alice",
                origin: &origin,
                draft: &draft,
                state,
                needs_role: None,
                confirm_reason: parked,
                expires_at,
                audit: None,
                width: 1,
            },
            0,
        )
        .await
        .unwrap()
        .id()
}

#[tokio::test]
async fn a_done_key_is_never_applied_again() {
    let (_d, h, applier) = with(RecordingApplier::default()).await;
    for request in ["first", "second"] {
        let key = "plucky/amd64/refpolicy/libsepol/3.8-1";
        store_plan(&h, (request, key, None), PlanState::Pending, None).await;
    }
    assert!(h.bot.drain(shepherd_tests::PATIENCE).await);
    assert_eq!(applier.effects().len(), 1, "{:?}", applier.effects());
    let second = h.bot.store.plan_detail(2).await.unwrap().unwrap();
    assert_eq!(second.plan.state, PlanState::Done);
    assert_eq!(
        second.steps[0].result.as_deref(),
        Some("already done by plan #1; not repeated")
    );
}

/// A panic while applying a step fails that step, is counted, and the
/// executor goes on with the next plan (it used to kill the worker).
#[tokio::test]
async fn a_panicking_step_fails_alone_and_the_executor_goes_on() {
    let applier = RecordingApplier {
        panic_on: vec!["#boom".into()],
        ..Default::default()
    };
    let (_d, mut h, applier) = with(applier).await;
    let t = h.say("!announce #boom hi").await;
    h.expect(&t, "— failed at step 1: internal error (a bug in Shepherd, logged): adapter bug while posting to #boom").await;
    // Four workers, four more plans: none of them is lost to a dead worker.
    for i in 0..4 {
        h.ask(&format!("!announce #ok{i} hello"), "done ✓").await;
    }
    assert_eq!(applier.effects().len(), 4);
    let metrics = h.bot.metrics.render();
    assert!(
        metrics
            .lines()
            .any(|l| l == r#"shepherd_task_panics_total{task="executor"} 1"#),
        "{metrics}"
    );
    // The panicking attempt was timed like any other: five announce steps.
    assert!(
        metrics
            .lines()
            .any(|l| l == r#"shepherd_step_duration_seconds_count{action="announce"} 5"#),
        "{metrics}"
    );
    h.finish().await;
}

/// A parked plan whose confirmation time has passed is expired by the
/// executor and said so in the thread it was asked in; one parked later is expired
/// too (the executor looks for them once a poll interval, not once).
#[tokio::test]
async fn parked_plans_past_their_expiry_are_expired_and_said_so() {
    let (_d, h, applier) = with(RecordingApplier::default()).await;
    for request in ["first", "second"] {
        let asked = (request, "parked/announce", Some("t7"));
        // Already past: the clock does not have to move.
        let id = store_plan(&h, asked, PlanState::AwaitingConfirmation, Some(1)).await;
        h.expect(
            "t7",
            &format!("plan #{id} expired without a `!confirm`; nothing was sent"),
        )
        .await;
        let plan = h.bot.store.plan_detail(id).await.unwrap().unwrap().plan;
        assert_eq!(plan.state, PlanState::Expired);
    }
    assert!(applier.effects().is_empty(), "{:?}", applier.effects());
}
