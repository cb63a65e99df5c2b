//! The `shepherd` binary as release engineers run it.

use std::io::Write;
use std::process::{Command, Stdio};

fn shepherd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shepherd"));
    c.env_remove("SHEPHERD_LOG");
    c
}

fn sandbox(input: &str) -> (String, String, i32) {
    let mut child = shepherd()
        .arg("sandbox")
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
        out.contains("[t2] plan #2 done ✓"),
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
    assert!(!out.contains("sneaky\n[#release]"), "{out}");
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
    assert!(err.contains("unknown field `owner`"), "{err}");
}
