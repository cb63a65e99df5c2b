//! Cron jobs: a slot fires once, a restart does not fire it again, and a
//! slot missed while the bot was down fires once when it comes back.

use chrono::{TimeZone, Utc};
use shepherd::schedule::Scheduler;
use shepherd_commands::Ledger;
use shepherd_tests::{assert_metrics, config_text, load_config, temp_store, Harness};

fn at(h: u32, m: u32) -> i64 {
    Utc.with_ymd_and_hms(2026, 4, 1, h, m, 0)
        .unwrap()
        .timestamp_millis()
}

const JOB_ONLY: &str = r##"
[[schedule]]
name = "standup"
cron = "*/15 * * * *"
announce = { channel = "#release", text = "standup in 5 minutes" }
"##;

#[tokio::test]
async fn slots_fire_once_across_restarts() {
    let (_d, path) = temp_store();
    // The bot runs without the job (so its own real-time scheduler stays
    // idle); the test drives a scheduler holding the job with a fixed clock.
    let config = load_config(&config_text(&path));
    let jobs = load_config(JOB_ONLY).schedules;

    let h = Harness::start(&config, None).await;
    let sched = Scheduler::new(&jobs, h.bot.dispatcher.clone());
    assert!(
        sched.run_due(at(9, 58)).await.unwrap().is_empty(),
        "first start only records a baseline"
    );
    assert_eq!(
        sched.run_due(at(10, 0)).await.unwrap(),
        vec![("standup".to_string(), at(10, 0))]
    );
    assert!(
        sched.run_due(at(10, 1)).await.unwrap().is_empty(),
        "10:00 already fired"
    );
    h.expect("#release", "standup in 5 minutes").await;
    assert_metrics(
        &h.scrape().await,
        &[
            (r#"shepherd_events_total{source="schedule"}"#, 1.0),
            ("shepherd_schedule_fires_total", 1.0),
            (r#"shepherd_events_total{source="chat"}"#, 0.0),
        ],
    );
    h.finish().await;

    // Restart on the same file: 10:00 is not fired again.
    let h = Harness::start(&config, None).await;
    let sched = Scheduler::new(&jobs, h.bot.dispatcher.clone());
    assert!(sched.run_due(at(10, 5)).await.unwrap().is_empty());
    // Down from 10:05 to 11:20: 10:15 … 11:15 were missed; the latest fires, once.
    assert_eq!(
        sched.run_due(at(11, 20)).await.unwrap(),
        vec![("standup".to_string(), at(11, 15))]
    );
    assert!(sched.run_due(at(11, 20)).await.unwrap().is_empty());
    let transcript = h.finish().await;
    assert_eq!(
        transcript
            .matches("[#release] standup in 5 minutes")
            .count(),
        1,
        "{transcript}"
    );

    let h = Harness::start(&config, None).await;
    let plans = h.bot.store.recent_plans(10).await.unwrap();
    assert_eq!(plans.len(), 2, "two slots, two plans: {plans:?}");
    assert!(plans.iter().all(|p| p.requested_by == "schedule:standup"));
    h.finish().await;
}

#[tokio::test]
async fn a_slot_planned_twice_is_one_plan() {
    let (_d, path) = temp_store();
    let h = Harness::start(&load_config(&config_text(&path)), None).await;
    let job = &load_config(JOB_ONLY).schedules[0];
    let d = &h.bot.dispatcher;
    let a = d
        .handle_tick(job, at(10, 0), "schedule:standup:1")
        .await
        .unwrap();
    let b = d
        .handle_tick(job, at(10, 0), "schedule:standup:1")
        .await
        .unwrap();
    assert_eq!(a, b);
    let transcript = h.finish().await;
    assert_eq!(
        transcript.matches("standup in 5 minutes").count(),
        1,
        "{transcript}"
    );
}
