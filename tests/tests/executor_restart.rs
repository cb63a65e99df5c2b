//! A two-step plan is interrupted between its steps by killing the runtime;
//! a new runtime on the same SQLite file finishes it: the first step is not
//! repeated and the second is applied exactly once.

use std::sync::{Arc, Mutex};

use shepherd_commands::{Ledger, PlanState, StepState};
use shepherd_tests::{config_text, load_config, temp_store, Harness, RecordingApplier, PATIENCE};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn plan_killed_between_steps_resumes_without_repeating_the_first() {
    let (_dir, path) = temp_store();
    let config = load_config(&config_text(&path));
    let effects = Arc::new(Mutex::new(Vec::new()));

    // First life: step 1 (#notes) lands, step 2 (#maas) hangs mid-apply.
    let first = runtime();
    let (reached_tx, reached_rx) = tokio::sync::oneshot::channel();
    let applier = RecordingApplier {
        hang_on: Some(("#maas".into(), Mutex::new(Some(reached_tx)))),
        ..RecordingApplier::sharing(effects.clone())
    };
    first.block_on(async {
        let mut h = Harness::start(&config, Some(Arc::new(applier))).await;
        h.ask(
            "!announce #notes 3.6.0 is out --also #maas",
            "plan #1 · 2 steps queued",
        )
        .await;
        tokio::time::timeout(PATIENCE, reached_rx)
            .await
            .unwrap()
            .unwrap();
        // Leak the harness: its tasks die with the runtime, mid-step.
        std::mem::forget(h);
    });
    drop(first);
    assert_eq!(
        effects.lock().unwrap().len(),
        1,
        "only step 1 happened before the kill"
    );

    // Second life on the same file, with an applier that works.
    let second = runtime();
    second.block_on(async {
        let applier = Arc::new(RecordingApplier::sharing(effects.clone()));
        let h = Harness::start(&config, Some(applier.clone())).await;
        assert!(h.bot.drain(PATIENCE).await, "the resumed plan finishes");
        let detail = h.bot.store.plan_detail(1).await.unwrap().unwrap();
        assert_eq!(detail.plan.state, PlanState::Done);
        let steps: Vec<(StepState, u32)> =
            detail.steps.iter().map(|s| (s.state, s.attempts)).collect();
        assert_eq!(
            steps,
            vec![(StepState::Done, 1), (StepState::Done, 2)],
            "step 1 ran once; step 2 was interrupted once and then applied"
        );
        // The resumed plan still reports to the thread it came from.
        h.expect("t1", "— done ✓").await;
        h.finish().await;
    });

    let effects = effects.lock().unwrap().clone();
    assert_eq!(effects.len(), 2, "{effects:?}");
    assert!(
        effects[0].starts_with("#notes: 3.6.0 is out"),
        "{effects:?}"
    );
    assert!(effects[1].starts_with("#maas: 3.6.0 is out"), "{effects:?}");
}

/// The write lands, the process dies before recording it: after the
/// restart the step is applied again with the same key, the applier's read
/// sees its own effect, and the world has it exactly once.
#[test]
fn a_write_that_landed_before_the_kill_is_not_repeated_after_restart() {
    let (_dir, path) = temp_store();
    let config = load_config(&config_text(&path));
    let effects = Arc::new(Mutex::new(Vec::new()));

    let first = runtime();
    let (reached_tx, reached_rx) = tokio::sync::oneshot::channel();
    let applier = RecordingApplier {
        hang_on: Some(("#maas".into(), Mutex::new(Some(reached_tx)))),
        land_then_hang: true,
        read_before_write: true,
        ..RecordingApplier::sharing(effects.clone())
    };
    first.block_on(async {
        let mut h = Harness::start(&config, Some(Arc::new(applier))).await;
        h.ask("!announce #maas 3.6.0 is out", "plan #1 · 1 step queued")
            .await;
        tokio::time::timeout(PATIENCE, reached_rx)
            .await
            .unwrap()
            .unwrap();
        std::mem::forget(h);
    });
    drop(first);
    assert_eq!(effects.lock().unwrap().len(), 1, "the write landed");

    let second = runtime();
    second.block_on(async {
        let applier = RecordingApplier {
            read_before_write: true,
            ..RecordingApplier::sharing(effects.clone())
        };
        let h = Harness::start(&config, Some(Arc::new(applier))).await;
        assert!(h.bot.drain(PATIENCE).await);
        let detail = h.bot.store.plan_detail(1).await.unwrap().unwrap();
        assert_eq!(detail.plan.state, PlanState::Done);
        assert_eq!(detail.steps[0].attempts, 2, "applied again after the kill");
        h.finish().await;
    });
    let effects = effects.lock().unwrap().clone();
    assert_eq!(effects.len(), 1, "exactly one effect: {effects:?}");
}
