//! The HTTP server over loopback: health, metrics, the webhook route, and
//! graceful shutdown.

use shepherd_tests::{config_text, load_config, temp_store, Harness};

#[tokio::test]
async fn health_metrics_and_shutdown() {
    let (_d, path) = temp_store();
    let mut h = Harness::start(&load_config(&config_text(&path)), None).await;
    let base = format!("http://{}", h.bot.webhook_addr.expect("server configured"));
    let client = reqwest::Client::new();

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");

    h.ask("!announce #a hi", "done ✓").await;
    h.ask("bob> !announce #a hi", "you need").await;
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let body = metrics.text().await.unwrap();
    for line in [
        "# TYPE shepherd_commands_total counter",
        "shepherd_commands_total 2",
        "shepherd_refusals_total 1",
        "shepherd_plans_created_total 1",
        "shepherd_steps_applied_total 1",
        "shepherd_open_steps 0",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in:\n{body}"
        );
    }

    let hook = client
        .post(format!("{base}/hooks/launchpad"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 401, "unsigned deliveries are refused");

    h.finish().await;
    let after = client.get(format!("{base}/healthz")).send().await;
    assert!(after.is_err(), "the server stopped with the bot");
}
