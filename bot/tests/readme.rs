//! The sandbox transcripts README.md shows are what the sandbox says: each
//! `$ printf '…' | cargo run --release -- sandbox …` block is run against
//! the built binary, and every line the README shows must appear in the
//! output, in order (`…` stands for anything; a line of only `…` for any
//! number of lines). A reply that changes fails here until README is updated.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_shepherd"))
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
        let mut at = 0;
        for want in t.expected.iter().filter(|w| w.trim() != "…") {
            match got[at..].iter().position(|l| matches(want, l)) {
                Some(p) => at += p + 1,
                None => panic!(
                    "README shows a line the sandbox did not say (in order):\n  {want}\ninput: {:?}\noutput:\n{}",
                    t.input,
                    got.join("\n")
                ),
            }
        }
    }
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
