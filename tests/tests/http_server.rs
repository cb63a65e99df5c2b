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
    h.ask("!announce #b later --dry-run", "dry run, nothing sent")
        .await;
    let hook = client
        .post(format!("{base}/hooks/launchpad"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 401, "unsigned deliveries are refused");

    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = metrics.text().await.unwrap();
    for line in [
        "# TYPE shepherd_commands_total counter",
        "shepherd_messages_total 3",
        "shepherd_commands_total 3",
        "shepherd_refusals_total 1",
        "shepherd_plans_created_total 2",
        "shepherd_steps_applied_total 1",
        "shepherd_open_steps 0",
        // Every message is a chat event.
        r#"shepherd_events_total{source="chat"} 3"#,
        r#"shepherd_events_total{source="webhook"} 0"#,
        // Read from the store at the scrape.
        r#"shepherd_plans{state="done"} 1"#,
        r#"shepherd_plans{state="dry-run"} 1"#,
        r#"shepherd_plans{state="pending"} 0"#,
        // The one step applied, timed under its action.
        r#"shepherd_step_duration_seconds_count{action="announce"} 1"#,
        r#"shepherd_step_duration_seconds_bucket{action="announce",le="+Inf"} 1"#,
        // The unsigned delivery: in the labelled family and the old counter.
        r#"shepherd_webhook_deliveries_total{outcome="rejected"} 1"#,
        r#"shepherd_webhook_deliveries_total{outcome="accepted"} 0"#,
        "shepherd_webhook_rejected_total 1",
        r#"shepherd_task_panics_total{task="executor"} 0"#,
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in:\n{body}"
        );
    }
    // No service configured: no external request made.
    assert!(
        !body.contains("shepherd_external_requests_total{"),
        "{body}"
    );

    h.finish().await;
    let after = client.get(format!("{base}/healthz")).send().await;
    assert!(after.is_err(), "the server stopped with the bot");
}

/// Slow or idle clients cannot hold the server: headers and bodies have
/// read timeouts, and connections past the limit wait in the kernel's
/// backlog (no descriptor) while a real delivery still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_time_out_and_cannot_starve_deliveries() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_d, path) = temp_store();
    let secret = "catch-all-secret-0123456789";
    let text = config_text(&path).replace(
        "[webhook]\nlisten = \"127.0.0.1:0\"\n",
        &format!("[webhook]\nlisten = \"127.0.0.1:0\"\nlaunchpad_secret = \"{secret}\"\nmax_connections = 16\nheader_timeout_ms = 300\nbody_timeout_ms = 300\n"),
    );
    let h = Harness::start(&load_config(&text), None).await;
    let addr = h.bot.webhook_addr.unwrap();

    let mut slow = Vec::new();
    for _ in 0..150 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /hooks/launchpad HTTP/1.1\r\nHost: x\r\nX-Launchpad-Event-Type: ping\r\n",
        )
        .await
        .unwrap();
        slow.push(s);
    }
    // A body that never finishes.
    let mut lazy = tokio::net::TcpStream::connect(addr).await.unwrap();
    lazy.write_all(
        b"POST /hooks/launchpad HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pi",
    )
    .await
    .unwrap();

    let body = r#"{"ping": true}"#;
    let started = std::time::Instant::now();
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/hooks/launchpad"))
        .header("X-Launchpad-Event-Type", "ping")
        .header("X-Launchpad-Delivery", "through-the-crowd")
        .header(
            "X-Hub-Signature",
            shepherd_adapters::launchpad::webhooks::signature::sign(
                secret.as_bytes(),
                body.as_bytes(),
            ),
        )
        .body(body)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .expect("a real delivery is served despite 150 slow clients");
    assert_eq!(r.status(), 202);
    assert!(started.elapsed() < std::time::Duration::from_secs(8));

    // Every half-sent connection has been closed by the server.
    for (i, mut s) in slow.into_iter().enumerate() {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("slow connection {i} still open"));
        assert!(matches!(n, Ok(_) | Err(_)));
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        lazy.read_to_end(&mut answer),
    )
    .await
    .expect("an unfinished body is cut off");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    h.finish().await;
}

/// Shutdown lets a request already in flight finish (its delivery is
/// stored and acknowledged) while no new connection is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight_and_takes_no_new_one() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_d, path) = temp_store();
    let secret = "catch-all-secret-0123456789";
    let text = config_text(&path).replace(
        "[webhook]\nlisten = \"127.0.0.1:0\"\n",
        &format!("[webhook]\nlisten = \"127.0.0.1:0\"\nlaunchpad_secret = \"{secret}\"\n"),
    );
    let h = Harness::start(&load_config(&text), None).await;
    let addr = h.bot.webhook_addr.unwrap();
    let body = r#"{"ping": true}"#;
    let sig =
        shepherd_adapters::launchpad::webhooks::signature::sign(secret.as_bytes(), body.as_bytes());
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /hooks/launchpad HTTP/1.1\r\nHost: x\r\nX-Launchpad-Event-Type: ping\r\nX-Launchpad-Delivery: in-flight\r\nX-Hub-Signature: {sig}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    let bot = h.bot.clone();
    let stopping = tokio::spawn(async move { bot.stop().await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connection during shutdown"
    );
    s.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    tokio::time::timeout(std::time::Duration::from_secs(10), stopping)
        .await
        .expect("shutdown ends once the request is answered")
        .unwrap();
    let store = shepherd_tests::open_store(&path).await;
    assert!(store.delivery_status("in-flight").await.unwrap().is_some());
}
