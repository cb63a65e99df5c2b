//! The `shepherd` binary as release engineers run it.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::shepherd;

fn sandbox(input: &str) -> (String, String, i32) {
    sandbox_with(input, &[])
}

/// The sandbox fed `input`, with `env` set: (stdout, stderr, exit code).
fn sandbox_with(input: &str, env: &[(&str, &str)]) -> (String, String, i32) {
    let mut child = shepherd()
        .arg("sandbox")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shepherd runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn sandbox_prints_help_and_an_empty_job_list_then_exits_0() {
    let (out, err, code) = sandbox("!help\n!jobs\n");
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        out.starts_with("[t1] Shepherd commands — `!help COMMAND` for details:"),
        "{out}"
    );
    assert!(out.contains("[t1]   !announce CHANNEL TEXT…"), "{out}");
    assert!(out.contains("[t2] no plans yet"), "{out}");
    assert!(
        err.contains("shepherd sandbox"),
        "a banner on stderr: {err}"
    );
}

#[test]
fn sandbox_runs_plans_to_the_end_before_exiting() {
    let input = "!announce #release hello world --also #maas --dry-run\n\
                 !announce #release hello world\n\
                 bob> !announce #release sneaky\n\
                 !audit 2\n";
    let (out, err, code) = sandbox(input);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        out.contains("[t1] plan #1 (dry run, nothing sent) — 2 steps"),
        "{out}"
    );
    assert!(out.contains("[#release] hello world"), "{out}");
    assert!(
        out.contains("[t2] plan #2 · ▰ 1/1 — done ✓"),
        "drained before exit: {out}"
    );
    assert!(
        out.contains("[t3] you need the release-team role for !announce here"),
        "{out}"
    );
    assert!(
        out.contains("console:bob in #release · !announce #release sneaky → refused"),
        "{out}"
    );
    // bob's text never reached the channel.
    assert!(
        !out.lines()
            .any(|l| l.starts_with("[#release]") && l.contains("sneaky")),
        "{out}"
    );
}

#[test]
fn check_config_accepts_the_example_and_redacts_secrets() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/shepherd.example.toml"
    );
    let out = shepherd()
        .args(["check-config", example])
        .env("SHEPHERD_AUTOPKGTEST_API_KEY", "very-secret-value")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("is valid."), "{stdout}");
    assert!(stdout.contains("api key [redacted]"), "{stdout}");
    assert!(!stdout.contains("very-secret-value"), "{stdout}");
    // User words, not debug names.
    assert!(stdout.contains("chat: console (default user"), "{stdout}");
    assert!(stdout.contains("release maas: snaps [maas]"), "{stdout}");
}

#[test]
fn check_config_rejects_unknown_keys_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[roles.release-team]\nmembers = ['console:alice']\nowner = 'x'\n",
    )
    .unwrap();
    let out = shepherd()
        .args(["check-config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("{}:3:1: unknown field `owner`", bad.display())),
        "{err}"
    );
}

/// A misspelt command section is found in the file and a near name offered;
/// a role with no members is warned about as an undefined one is.
#[test]
fn check_config_points_at_faults_and_warns_of_empty_roles() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shepherd.toml");
    let check = |text: &str| {
        std::fs::write(&file, text).unwrap();
        let out = shepherd()
            .args(["check-config", file.to_str().unwrap()])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let empty = "[roles.release-team]\nmembers = []\n";
    let (ok, _, err) = check(&format!(
        "{empty}\n[commands.retyr]\nrole = 'release-team'\n"
    ));
    assert!(!ok);
    assert_eq!(
        err,
        format!(
            "shepherd: {}:4:1: [commands.retyr]: no such command — did you mean [commands.retry]?\n",
            file.display()
        )
    );
    let (ok, out, err) = check(empty);
    assert!(ok, "{err}");
    assert!(
        out.contains("warning: !retry needs role release-team, and [roles.release-team] has no members: nobody can run it"),
        "{out}"
    );
}

fn plucky() -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests");
    format!("{root}/fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz")
}

#[test]
fn sandbox_why_and_retry_on_the_real_plucky_file() {
    let mut child = shepherd()
        .args(["sandbox", "--excuses", &plucky()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"!why libsepol\n!retry libsepol --dry-run\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "[t1] libsepol 3.7-1 → 3.8-1 · blocked by autopkgtest · 36 days in -proposed"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "[t1] ✗ refpolicy 2:2.20241211-2 regressed on amd64 arm64 armhf i386 ppc64el s390x"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("[t2] plan #1 (dry run, nothing sent) — 6 steps: 6 requests to"),
        "{stdout}"
    );
    assert!(stdout.contains("release plucky: refpolicy on amd64 arm64 armhf i386 ppc64el s390x · trigger libsepol/3.8-1"), "{stdout}");
    assert!(
        stdout.contains("[t2] (0 skipped: none already running or queued)"),
        "{stdout}"
    );
}

#[test]
fn offline_retry_prints_one_url_per_line() {
    let out = shepherd()
        .args(["retry", "--excuses", &plucky(), "--dry-run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 546);
    assert!(lines
        .iter()
        .all(|l| l.starts_with("https://autopkgtest.ubuntu.com/request.cgi?release=plucky&arch=")));

    let out = shepherd()
        .args([
            "retry",
            "--excuses",
            &plucky(),
            "--series",
            "plucky",
            "--blocks",
            "libsepol",
            "--arch",
            "s390x",
        ])
        .args([
            "--all-proposed",
            "--request-url",
            "http://127.0.0.1:1/request.cgi",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "http://127.0.0.1:1/request.cgi?release=plucky&arch=s390x&package=refpolicy&trigger=libsepol%2F3.8-1&all-proposed=1\n"
    );
    let out = shepherd()
        .args(["retry", "--excuses", &plucky()])
        .output()
        .unwrap();
    assert!(!out.status.success(), "refuses to run without --dry-run");
}

#[test]
fn offline_why_explains_or_suggests() {
    let out = shepherd()
        .args(["why", "libsepol", "--excuses", &plucky()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with(
            "next: `!retry libsepol` (6 requests) — or read the refpolicy amd64 log first\n"
        ),
        "{text}"
    );
    let out = shepherd()
        .args(["why", "libsepl", "--excuses", &plucky()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("did you mean libsepol?"));
}

#[test]
fn sandbox_previews_a_ppa_copy() {
    let (out, err, code) =
        sandbox("!copy hello --from ppa-owner/next --to ppa-owner/stable --dry-run\n!jobs\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("[t1] plan #1 (dry run, nothing sent) — 2 steps: copy hello 2.10-5 from ppa:ppa-owner/next to ppa:ppa-owner/stable for noble, jammy with binaries"),
        "{out}"
    );
    assert!(out.contains("[t2]   #1 !copy · dry-run 0/2"), "{out}");
}

/// SIGTERM stops `run` promptly even while stdin stays open (a terminal or
/// a supervisor's pipe); it used to wait until stdin closed.
#[test]
fn run_exits_promptly_on_sigterm_with_stdin_open() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("shepherd.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n[webhook]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().join("s.sqlite").display()
        ),
    )
    .unwrap();
    let mut child = shepherd()
        .args(["run", "--config", config.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take(); // held open for the whole test
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("shepherd is running") {
            break;
        }
    }
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            panic!("still running 10 s after SIGTERM with stdin open");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("shepherd stopped")),
        "{rest:?}"
    );
}

/// A store that cannot be opened (a fresh machine without the example's
/// /var/lib/shepherd) says which file, why — once — and what to do.
#[test]
fn run_with_a_store_in_a_missing_directory_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("var/lib/shepherd");
    let config = dir.path().join("shepherd.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n",
            missing.join("shepherd.sqlite").display()
        ),
    )
    .unwrap();
    let out = shepherd()
        .args(["run", "--config", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "shepherd: cannot open the store {}: unable to open database file — {} does not exist: create it, writable by the user shepherd runs as, or set SHEPHERD_STORE_PATH (store.path) to a file in an existing directory",
            missing.join("shepherd.sqlite").display(),
            missing.display()
        )
    );
    assert_eq!(
        err.matches("unable to open database file").count(),
        1,
        "{err}"
    );
    assert!(
        !missing.exists(),
        "nothing created behind the operator's back"
    );
}

/// `!why` with part of a name suggests the names containing it.
#[test]
fn sandbox_why_suggests_names_containing_what_was_typed() {
    let (out, err, code) = sandbox("!why demo\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("— did you mean shepherd-demo-lib, shepherd-demo-held or shepherd-demo-tool?"),
        "{out}"
    );
}

/// The CLI refuses an unknown `--state` as chat does, naming the states.
#[test]
fn retry_refuses_an_unknown_state() {
    let out = shepherd()
        .args([
            "retry",
            "--excuses",
            &plucky(),
            "--state",
            "bogus",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--state BOGUS is not a test state: use one of REGRESSION"),
        "{err}"
    );
}

/// The CLI refuses what chat refuses, and says so when nothing matches.
#[test]
fn retry_refuses_bad_ppas_and_urls_and_says_when_nothing_matches() {
    let run = |extra: &[&str]| {
        let mut args = vec!["retry", "--excuses", "PLUCKY", "--dry-run"];
        args.extend_from_slice(extra);
        let plucky = plucky();
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "PLUCKY" { plucky.as_str() } else { a })
            .collect();
        let out = shepherd().args(&args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, _, err) = run(&["--ppa", "bad"]);
    assert!(!ok && err.contains("PPA `bad` must be OWNER/NAME"), "{err}");
    let (ok, _, err) = run(&["--request-url", "notaurl"]);
    assert!(
        !ok && err.contains("--request-url `notaurl` is not a URL"),
        "{err}"
    );
    let (ok, out, err) = run(&["--state", "RUNNING-REFERENCE", "--blocks", "no-such-source"]);
    assert!(ok && out.is_empty(), "{out}");
    assert!(
        err.contains("nothing to retry: no RUNNING-REFERENCE results match"),
        "{err}"
    );
}

/// Logs into a pipe (journald, a file) carry no colour codes.
#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let (_, err, _) = sandbox_with("!jobs\n", &[("SHEPHERD_LOG", "info")]);
    assert!(err.contains("INFO"), "{err}");
    assert!(!err.contains('\x1b'), "{err}");
}

/// `SHEPHERD_LOG_FORMAT=json`: one JSON object per log line, carrying the
/// spans it happened in — the event's key, the plan step being applied.
#[test]
fn json_logs_carry_the_event_and_the_step() {
    let (_, err, code) = sandbox_with(
        "!copy hello --from ppa-owner/next --to ppa-owner/stable\n",
        &[("SHEPHERD_LOG", "debug"), ("SHEPHERD_LOG_FORMAT", "json")],
    );
    assert_eq!(code, 0, "{err}");
    let logs: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(logs
        .iter()
        .all(|l| l["level"].is_string() && l["fields"].is_object()));
    let in_span = |name: &str| logs.iter().find(|l| l["span"]["name"] == name).cloned();
    let event = in_span("event").expect("a line logged while an event was handled");
    assert!(event["span"]["key"]
        .as_str()
        .is_some_and(|k| k.starts_with("chat:console:")));
    let step = in_span("step").expect("a line logged while a step was applied");
    assert_eq!(step["span"]["plan"], 1);
    let key = step["span"]["key"].as_str().unwrap_or_default();
    assert!(
        key.starts_with("copy/ppa-owner/stable/hello/2.10-5/"),
        "{key}"
    );
}
