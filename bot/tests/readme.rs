//! The sandbox transcripts README.md shows are what the sandbox says: each
//! `$ printf '…' | cargo run --release -- sandbox …` block is run against
//! the built binary, and every line the README shows must appear in the
//! output, in order within its thread or channel (`[t2]`, `[#release]`:
//! the bot answers threads and announces in channels concurrently, so
//! lines of different ones interleave as they happen to); `…` stands for
//! anything, a line of only `…` for any number of lines. The `curl`
//! delivery README shows is posted to a running sandbox as written. A
//! reply that changes fails here until README is updated.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::Sandbox;

struct Transcript {
    input: String,
    args: Vec<String>,
    expected: Vec<String>,
}

/// `printf`'s escapes the README uses: `\n`, `\\`, `\'`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

fn transcripts(readme: &str) -> Vec<Transcript> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(rest) = lines[i].strip_prefix("$ printf '") else {
            i += 1;
            continue;
        };
        // The command may continue on the next line after a trailing `\`.
        let mut command = rest.to_string();
        while command.ends_with('\\') {
            command.pop();
            i += 1;
            command.push_str(lines[i].trim_start());
        }
        let (input, tail) = command.split_once("' |").expect("printf '…' | …");
        let args = tail
            .trim()
            .strip_prefix("cargo run --release -- ")
            .expect("cargo run --release -- sandbox …")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        i += 1;
        let mut expected = Vec::new();
        while i < lines.len() && !lines[i].starts_with("```") && !lines[i].starts_with("$ ") {
            if !lines[i].trim().is_empty() {
                expected.push(lines[i].to_string());
            }
            i += 1;
        }
        out.push(Transcript {
            input: unescape(input),
            args,
            expected,
        });
    }
    out
}

/// Does `line` match `pattern`, where `…` matches anything?
fn matches(pattern: &str, line: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('…').collect();
    let mut rest = line;
    for (n, piece) in pieces.iter().enumerate() {
        if n == 0 {
            let Some(r) = rest.strip_prefix(piece) else {
                return false;
            };
            rest = r;
        } else if n == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else {
            let Some(at) = rest.find(piece) else {
                return false;
            };
            rest = &rest[at + piece.len()..];
        }
    }
    rest.is_empty()
}

#[test]
fn the_readme_transcripts_are_what_the_sandbox_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let all = transcripts(&readme);
    assert!(all.len() >= 3, "found {} transcripts", all.len());
    for t in all {
        let mut child = common::shepherd()
            .args(&t.args)
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(t.input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{:?}: {}",
            t.args,
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = got.lines().collect();
        if let Err(want) = said_in_order(&t.expected, &got) {
            panic!(
                "README shows a line the sandbox did not say (in order in its thread or channel):\n  {want}\ninput: {:?}\noutput:\n{}",
                t.input,
                got.join("\n")
            );
        }
    }
}

/// The fenced block (its lines) that opens with `fence` and holds `marker`,
/// and the plain block after it: a command, and what it makes the sandbox say.
fn block_and_outcome<'r>(
    readme: &'r str,
    fence: &str,
    marker: &str,
) -> (Vec<&'r str>, Vec<&'r str>) {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(info) = lines[i].strip_prefix("```") {
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].starts_with("```"))
                .unwrap_or(lines.len());
            blocks.push((info, &lines[i + 1..end]));
            i = end;
        }
        i += 1;
    }
    let at = blocks
        .iter()
        .position(|(info, body)| *info == fence && body.iter().any(|l| l.contains(marker)))
        .unwrap_or_else(|| panic!("README has no ```{fence} block with {marker:?}"));
    let outcome = blocks
        .get(at + 1)
        .filter(|(info, _)| info.is_empty())
        .unwrap_or_else(|| {
            panic!("README shows no output after its ```{fence} block with {marker:?}")
        });
    (blocks[at].1.to_vec(), outcome.1.to_vec())
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// README's webhook delivery, as a person follows it: the sandbox started,
/// its banner's URL put in the block, the block run with `sh`, and the
/// announcement README shows seen on the sandbox's stdout.
#[test]
fn the_readme_curl_delivery_is_announced() {
    let missing: Vec<&str> = ["curl", "openssl"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        // `.ci/run` installs both and says so: there a skip is a failure.
        assert!(
            std::env::var_os("SHEPHERD_REQUIRE_CURL").is_none(),
            "README's delivery needs {} (SHEPHERD_REQUIRE_CURL is set)",
            missing.join(" and ")
        );
        // Elsewhere bot/tests/sandbox.rs posts deliveries without them.
        eprintln!("skipped: README's delivery needs {}", missing.join(" and "));
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let (script, outcome) = block_and_outcome(&readme, "sh", "X-Hub-Signature");
    let mut sb = Sandbox::start(&[]);
    let secret_line = script
        .iter()
        .find_map(|l| l.strip_prefix("SECRET="))
        .expect("README sets SECRET");
    assert_eq!(
        secret_line.split_whitespace().next(),
        Some(sb.secret.as_str()),
        "README's SECRET is the one the banner prints"
    );
    let script: Vec<String> = script
        .iter()
        .map(|l| match l.starts_with("URL=") {
            true => format!("URL={}", sb.hooks_url),
            false => l.to_string(),
        })
        .collect();
    let out = Command::new("sh")
        .args(["-e", "-c", &script.join("\n")])
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "202\n",
        "curl prints the status"
    );
    for want in outcome.iter().filter(|l| !l.trim().is_empty()) {
        sb.expect_where(want, |l| matches(want, l));
    }
    sb.finish();
}

/// `[t2]` or `[#release]`: the thread or channel a line belongs to.
fn place(line: &str) -> &str {
    match (line.starts_with('['), line.find("] ")) {
        (true, Some(end)) => &line[..=end],
        _ => "",
    }
}

/// Does `got` say every `expected` line (lines of only `…` aside), in
/// order within each thread or channel? `Err` names the first one missing.
fn said_in_order<'e>(expected: &'e [String], got: &[&str]) -> Result<(), &'e str> {
    // Per place: how far into `got` its lines have been matched.
    let mut at: HashMap<&str, usize> = HashMap::new();
    for want in expected.iter().filter(|w| w.trim() != "…") {
        let here = place(want);
        let from = at.get(here).copied().unwrap_or(0);
        match got[from..]
            .iter()
            .position(|l| place(l) == here && matches(want, l))
        {
            Some(p) => {
                at.insert(here, from + p + 1);
            }
            None => return Err(want),
        }
    }
    Ok(())
}

#[test]
fn ellipsis_matching() {
    assert!(matches("a … b", "a x y b"));
    assert!(matches(
        "[t1] log: https://…/log.gz",
        "[t1] log: https://h/x/log.gz"
    ));
    assert!(matches("[t2] x …", "[t2] x and more"));
    assert!(!matches("[t2] x", "[t2] x and more"));
    assert!(!matches("a…b…c", "a c b"));
    assert_eq!(unescape(r"!why x\n!jobs\n"), "!why x\n!jobs\n");
}

#[test]
fn order_counts_within_a_thread_or_channel_only() {
    let want = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let got = ["[t2] a", "[#release] x", "[t2] b", "[t3] c"];
    assert!(said_in_order(&want(&["[t2] a", "[t2] b", "[#release] x"]), &got).is_ok());
    assert!(said_in_order(&want(&["[t3] c", "…", "[#release] x"]), &got).is_ok());
    assert_eq!(
        said_in_order(&want(&["[t2] b", "[t2] a"]), &got),
        Err("[t2] a")
    );
    assert_eq!(said_in_order(&want(&["[t3] x"]), &got), Err("[t3] x"));
}
