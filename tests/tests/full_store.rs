//! A full disk never loses an acknowledged webhook delivery, and the bot
//! recovers by itself when space returns.
//!
//! The disk is "filled" with a file-size limit (RLIMIT_FSIZE, no root
//! needed): SQLite's writes past it fail as they do on a full filesystem —
//! at COMMIT, when the WAL frames are written — which a page-count limit
//! cannot reproduce (it fails earlier, inside the INSERT). The limit is
//! process-wide, so this file holds one test (one process).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use shepherd_adapters::launchpad::webhooks::signature::sign;
use shepherd_tests::{config_text, load_config, temp_store, Harness};

const SECRET: &str = "catch-all-secret-for-the-full-disk";
const BODY: &str = r#"{"ping": true}"#;

/// Sets the soft file-size limit (the hard limit stays, so it can be raised back).
fn limit_file_size(bytes: Option<u64>) {
    // SAFETY: plain libc calls on this process; SIGXFSZ must be ignored or
    // the first write past the limit kills the process instead of failing.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut lim), 0);
        lim.rlim_cur = bytes.unwrap_or(lim.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
}

async fn post(client: &reqwest::Client, url: &str, id: String) -> (String, u16) {
    let status = client
        .post(url)
        .header("X-Launchpad-Event-Type", "ping")
        .header("X-Launchpad-Delivery", &id)
        .header("X-Hub-Signature", sign(SECRET.as_bytes(), BODY.as_bytes()))
        .body(BODY)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (id, status)
}

/// Posts `ids` with 32 senders at once; returns each id's status.
async fn flood(url: &str, ids: Vec<String>) -> Vec<(String, u16)> {
    let client = reqwest::Client::new();
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = Vec::new();
    for id in ids {
        let (client, url, sem) = (client.clone(), url.to_string(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            post(&client, &url, id).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_loses_no_acknowledged_delivery_and_the_bot_recovers() {
    if shepherd_tests::on_postgres() {
        // A full disk is SQLite's (the page limit stands in for it).
        return;
    }
    let (dir, path) = temp_store();
    let text = config_text(&path).replace(
        "[webhook]\nlisten = \"127.0.0.1:0\"\n",
        &format!("[webhook]\nlisten = \"127.0.0.1:0\"\nlaunchpad_secret = \"{SECRET}\"\n"),
    );
    let h = Harness::start(&load_config(&text), None).await;
    let url = format!("http://{}/hooks/launchpad", h.bot.webhook_addr.unwrap());

    let warm = flood(&url, (0..50).map(|i| format!("warm-{i}")).collect()).await;
    assert!(warm.iter().all(|(_, s)| *s == 202), "{warm:?}");
    // The biggest file in the store's folder, plus a little room.
    let biggest = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .max()
        .unwrap();
    limit_file_size(Some(biggest + 64 * 1024));
    let full = flood(&url, (0..3000).map(|i| format!("full-{i}")).collect()).await;
    limit_file_size(None);

    let refused = full.iter().filter(|(_, s)| *s == 503).count();
    assert!(refused > 0, "the store never filled up");
    assert!(
        full.iter().all(|(_, s)| *s == 202 || *s == 503),
        "only 202 or 503 while full: {:?}",
        full.iter()
            .filter(|(_, s)| *s != 202 && *s != 503)
            .take(5)
            .collect::<Vec<_>>()
    );

    // Space is back: the bot accepts and keeps deliveries again, by itself.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = flood(&url, (0..500).map(|i| format!("after-{i}")).collect()).await;
    let not_ok: Vec<_> = after.iter().filter(|(_, s)| *s != 202).collect();
    assert!(
        not_ok.is_empty(),
        "after space returned: {} not accepted, e.g. {:?}",
        not_ok.len(),
        not_ok.first()
    );

    let acked: BTreeSet<String> = warm
        .iter()
        .chain(&full)
        .chain(&after)
        .filter(|(_, s)| *s == 202)
        .map(|(id, _)| id.clone())
        .collect();
    h.finish().await;
    // What a fresh process finds on disk: every acknowledged delivery.
    let store = shepherd_tests::open_store(&path).await;
    let mut lost = Vec::new();
    for id in &acked {
        if store.delivery_status(id).await.unwrap().is_none() {
            lost.push(id.clone());
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged deliveries were lost (e.g. {:?}); {refused} refused with 503",
        lost.len(),
        acked.len(),
        lost.first()
    );
}
