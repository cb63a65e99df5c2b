//! Benchmark: signed Launchpad deliveries posted over loopback to the real
//! bot (HTTP server, HMAC check, SQLite in WAL with synchronous=FULL).
//! Run: `cargo bench -p shepherd --bench webhooks`.
//!
//! 1. Throughput: 64 concurrent senders, 20,000 distinct deliveries; every
//!    one is verified and committed before its 2xx. Target ≥ 5,000/s.
//! 2. Latency at a steady 1,000 deliveries/s for 5 s. Target p99 ≤ 20 ms.
//! 3. The same while every delivery is a failed build announced in a
//!    channel (a plan, a step, a chat post each): processing must not slow
//!    acceptance. Target p99 ≤ 20 ms.
//!
//! Each prints its ratio against its target.
//!
//! As with `cargo bench`'s own filter, words after `--` pick the stores to
//! measure by name: `cargo bench --bench webhooks -- "2 replicas"`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shepherd::config::Config;
use shepherd::runtime;
use shepherd_adapters::chat::console::ConsoleChat;
use shepherd_adapters::launchpad::webhooks::signature::sign;

/// The allocator the `shepherd` binary ships with (see its main.rs); the
/// senders in this process use it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "bench-secret-long-enough";
const BODY: &str = r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/2789012", "action": "status-changed", "snap": "/~maas-committers/+snap/maas-3.5", "build_request": null, "status": "Successfully built", "store_upload_status": "Uploaded"}"#;
const FAILED: &str = r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/2789013", "action": "status-changed", "snap": "/~maas-committers/+snap/maas-3.5", "build_request": null, "status": "Failed to build", "store_upload_status": "Unscheduled"}"#;

fn config(dir: &Path) -> Config {
    let text = format!(
        "[store]\npath = \"{}\"\n[webhook]\nlisten = \"127.0.0.1:0\"\n[[webhook.launchpad]]\ntarget = \"/~maas-committers/+snap/maas-3.5\"\nsecret = \"{SECRET}\"\nchannel = \"#maas-builds\"\n",
        dir.join("bench.sqlite").display()
    );
    Config::from_toml(
        &text,
        Path::new("bench.toml"),
        &[],
        &runtime::registry().expect("registry"),
    )
    .expect("config")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn send(client: &reqwest::Client, url: &str, id: u64, signature: &str) -> Duration {
    send_body(client, url, id, signature, BODY).await
}

async fn send_body(
    client: &reqwest::Client,
    url: &str,
    id: u64,
    signature: &str,
    body: &'static str,
) -> Duration {
    let t = Instant::now();
    let r = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Launchpad-Event-Type", "snap:build:0.1")
        .header("X-Launchpad-Delivery", id.to_string())
        .header("X-Hub-Signature", signature)
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 202, "delivery {id} accepted");
    t.elapsed()
}

fn report(name: &str, mut lat: Vec<Duration>) -> (Duration, Duration) {
    lat.sort();
    let (p50, p99, max) = (
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        *lat.last().unwrap(),
    );
    println!(
        "{name}: latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    (p50, p99)
}

/// What the deliveries are posted to: one bot, or replicas sharing a database.
struct Target {
    name: String,
    bots: Vec<runtime::Running>,
}

impl Target {
    fn urls(&self) -> Vec<String> {
        self.bots
            .iter()
            .map(|b| {
                format!(
                    "http://{}/hooks/launchpad",
                    b.webhook_addr.expect("listening")
                )
            })
            .collect()
    }

    async fn stop(self) {
        for b in self.bots {
            b.stop().await;
        }
    }
}

async fn bot(cfg: &Config, extras: runtime::Extras) -> runtime::Running {
    let chat = Arc::new(ConsoleChat::new(
        tokio::io::BufReader::new(tokio::io::empty()),
        tokio::io::sink(),
        "bench",
        "#bench",
    ));
    runtime::start_with(cfg, chat, None, extras)
        .await
        .expect("bot starts")
}

/// `replicas` bots on a fresh PostgreSQL database of the test server.
async fn on_postgres(dir: &Path, replicas: usize) -> Option<Target> {
    let url = shepherd::store::testing::fresh_postgres_database().await?;
    let cfg = config(dir);
    let mut bots = Vec::new();
    for i in 0..replicas {
        let store = shepherd::store::Store::connect(&url, 16)
            .await
            .expect("PostgreSQL")
            .with_replica(&format!("bench-{i}"));
        let extras = runtime::Extras {
            store: Some(store),
            ..Default::default()
        };
        bots.push(bot(&cfg, extras).await);
    }
    Some(Target {
        name: target_name(replicas),
        bots,
    })
}

fn target_name(replicas: usize) -> String {
    let s = if replicas == 1 { "" } else { "s" };
    format!("PostgreSQL, {replicas} replica{s}")
}

/// Target deliveries/s at full speed, per store.
fn target_rate(name: &str) -> f64 {
    if name.starts_with("SQLite") {
        15_000.0
    } else {
        5_000.0
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("webhooks bench: run with `cargo bench` to measure");
        return;
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted =
        move |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        if wanted("SQLite") {
            let sqlite = Target {
                name: "SQLite".into(),
                bots: vec![bot(&config(dir.path()), runtime::Extras::default()).await],
            };
            measure(sqlite).await;
        }
        // PostgreSQL when a server is named (SHEPHERD_TEST_POSTGRES_URL,
        // e.g. from `.ci/postgres start`).
        for replicas in [1, 2] {
            if !wanted(&target_name(replicas)) {
                continue;
            }
            match on_postgres(dir.path(), replicas).await {
                Some(t) => measure(t).await,
                None => println!("PostgreSQL skipped: set SHEPHERD_TEST_POSTGRES_URL"),
            }
        }
    });
}

async fn measure(target: Target) {
    let name = target.name.clone();
    println!("== {name}");
    let urls = Arc::new(target.urls());
    let bot = &target.bots[0];
    {
        let url_for = |i: u64| urls[i as usize % urls.len()].clone();
        let signature = Arc::new(sign(SECRET.as_bytes(), BODY.as_bytes()));
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(128)
            .build()
            .expect("client");

        // Warm up connections and the database.
        for id in 0..200u64 {
            send(&client, &url_for(id), 1_000_000 + id, &signature).await;
        }

        let (total, senders) = (20_000u64, 64u64);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..senders {
            let (client, urls, signature) = (client.clone(), urls.clone(), signature.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut id = w;
                while id < total {
                    let url = &urls[id as usize % urls.len()];
                    lat.push(send(&client, url, id, &signature).await);
                    id += senders;
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.expect("sender"));
        }
        let rate = total as f64 / start.elapsed().as_secs_f64();
        let goal = target_rate(&name);
        println!("throughput: {total} deliveries by {senders} senders: {rate:.0} accepted/s (verified + committed before 2xx) → ratio {:.2}× the {goal:.0}/s target", rate / goal);
        report("throughput", lat);

        // Steady state: let the processor finish the burst first.
        let drained = Instant::now();
        while bot
            .store
            .unprocessed_deliveries(1)
            .await
            .map(|u| !u.is_empty())
            .unwrap_or(false)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "burst processed {:.1} s after the last 2xx",
            drained.elapsed().as_secs_f64()
        );

        let (per_sec, secs) = (1000u64, 5u64);
        let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / per_sec));
        let mut tasks = Vec::new();
        for i in 0..per_sec * secs {
            ticker.tick().await;
            let (client, url, signature) = (client.clone(), url_for(i), signature.clone());
            tasks.push(tokio::spawn(async move {
                send(&client, &url, 2_000_000 + i, &signature).await
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.push(t.await.expect("sender"));
        }
        let (_, p99) = report("steady 1,000/s for 5 s", lat);
        println!(
            "steady: p99 {:.2} ms → ratio {:.2}× the 20 ms budget (≤ 1 meets it)",
            p99.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3 / 20.0
        );
        let processed = bot
            .store
            .unprocessed_deliveries(1_000_000)
            .await
            .map(|u| u.len())
            .unwrap_or(0);
        println!("deliveries still waiting to be processed at the end: {processed}");

        // 3. Every delivery now makes an announcement: a plan, a step and a
        //    chat post to process while acceptance goes on.
        let failed_sig = Arc::new(sign(SECRET.as_bytes(), FAILED.as_bytes()));
        let plans_before = bot.store.open_step_count().await.unwrap_or(0);
        let mut tasks = Vec::new();
        let started = Instant::now();
        for i in 0..per_sec * secs {
            ticker.tick().await;
            let (client, url, signature) = (client.clone(), url_for(i), failed_sig.clone());
            tasks.push(tokio::spawn(async move {
                send_body(&client, &url, 3_000_000 + i, &signature, FAILED).await
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.push(t.await.expect("sender"));
        }
        let sent_for = started.elapsed().as_secs_f64();
        let (_, p99) = report("steady 1,000/s, each announced, while processing", lat);
        println!(
            "announcing: p99 {:.2} ms → ratio {:.2}× the 20 ms budget (≤ 1 meets it)",
            p99.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3 / 20.0
        );
        let waiting = bot
            .store
            .unprocessed_deliveries(1_000_000)
            .await
            .map(|u| u.len())
            .unwrap_or(0);
        let open = bot.store.open_step_count().await.unwrap_or(0) - plans_before;
        println!(
            "after {sent_for:.1} s of sending: {waiting} deliveries not yet processed, {open} announcements not yet posted; processed {:.0}/s",
            ((per_sec * secs) as f64 - waiting as f64) / sent_for
        );
        // The announcements left are posted once the senders stop.
        let drain_from = Instant::now();
        let left = |open: i64| (open - plans_before).max(0);
        let mut posted_all = false;
        while drain_from.elapsed() < Duration::from_secs(120) {
            let open = bot.store.open_step_count().await.unwrap_or(i64::MAX);
            if left(open) == 0 {
                posted_all = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = drain_from.elapsed().as_secs_f64();
        if posted_all {
            println!(
                "the {open} announcements left were posted in {took:.1} s once sending stopped ({:.0}/s)",
                open as f64 / took
            );
        } else {
            println!("announcements still not all posted {took:.0} s after sending stopped");
        }
    }
    target.stop().await;
}
