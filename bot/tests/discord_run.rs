//! `shepherd run` on Discord, against the fake Discord: a good token
//! connects the gateway and SIGTERM stops it; a bad one is a clear error
//! at start (exit 1), never a panic or a retry loop.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shepherd_adapters::chat::discord_sim::FakeDiscord;

const TOKEN: &str = "run-test-token";

fn config(dir: &std::path::Path, fake: &FakeDiscord) -> std::path::PathBuf {
    let path = dir.join("shepherd.toml");
    let text = format!(
        "[store]\npath = \"{}\"\n[chat]\nadapter = \"discord\"\n[chat.discord]\nguilds = [1]\napi_url = \"{}\"\n",
        dir.join("s.sqlite").display(),
        fake.api_base()
    );
    std::fs::write(&path, text).expect("config written");
    path
}

fn shepherd(config: &std::path::Path, token: &str) -> std::process::Child {
    common::shepherd()
        .args(["run", "--config", config.to_str().expect("utf-8 path")])
        .env("SHEPHERD_DISCORD_TOKEN", token)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shepherd runs")
}

/// A fake Discord (with guild 1) on its own runtime, and a directory.
fn fake_discord() -> (tokio::runtime::Runtime, FakeDiscord, tempfile::TempDir) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let fake = rt
        .block_on(FakeDiscord::start(TOKEN))
        .expect("fake Discord");
    fake.add_guild(1);
    (rt, fake, tempfile::tempdir().expect("temp dir"))
}

fn wait(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_bad_token_is_a_clear_error_at_start() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let fake = rt
        .block_on(FakeDiscord::start(TOKEN))
        .expect("fake Discord");
    fake.add_guild(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = config(dir.path(), &fake);
    let mut child = shepherd(&path, "wrong-token-value");
    let status = wait(&mut child, Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr read");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Discord refused the bot token"), "{stderr}");
    assert!(stderr.contains("SHEPHERD_DISCORD_TOKEN"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains("wrong-token-value"),
        "the token is never printed: {stderr}"
    );
    assert_eq!(fake.gateway_connections(), 0);
}

#[test]
fn a_good_token_connects_and_sigterm_stops_it() {
    let (rt, fake, dir) = fake_discord();
    let mut child = shepherd(&config(dir.path(), &fake), TOKEN);
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        if line.expect("log line").contains("shepherd is running") {
            break;
        }
    }
    let identified =
        rt.block_on(fake.wait_until(Duration::from_secs(15), |f| f.gateway_ops().contains(&2)));
    assert!(identified, "the gateway identified");
    assert!(
        !fake.guild_commands(1).is_empty(),
        "slash commands registered"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = wait(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("shepherd stopped")),
        "{rest:?}"
    );
}

#[test]
fn a_gateway_closed_for_good_ends_run_with_the_reason() {
    let (rt, fake, dir) = fake_discord();
    let mut child = shepherd(&config(dir.path(), &fake), TOKEN);
    let identified =
        rt.block_on(fake.wait_until(Duration::from_secs(15), |f| f.gateway_ops().contains(&2)));
    assert!(identified, "the gateway identified");
    // What Discord does when the portal's MESSAGE CONTENT switch is off.
    fake.close_gateway(4014, "Disallowed intent(s).");
    let status = wait(&mut child, Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr read");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("MESSAGE CONTENT INTENT"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
