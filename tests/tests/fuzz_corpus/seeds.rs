//! The corpus seeds cut from the repository's fixtures (`tests/fixtures/`)
//! and declarations (every `!help` example), by target. Small on purpose:
//! the big production excuses files give one item per feature, not all 599.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use shepherd_adapters::fuzzing::webhook_input;

/// One corpus file: `fuzz/corpus/<target>/<name>`.
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(path: &str) -> PathBuf {
    root().join("tests/fixtures").join(path)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn xz(path: &str) -> String {
    shepherd_adapters::britney::decompress(&read(&fixture(path)))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dir(path: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .and_then(|d| d.map(|e| e.map(|e| e.path())).collect())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    entries.sort();
    entries
}

const SUITE: &str = "excuses/britney2-ubuntu-testsuite";

/// (run directory name, contents) of a britney2-ubuntu-testsuite file.
fn suite(file: &str) -> Vec<(String, Vec<u8>)> {
    dir(&fixture(SUITE))
        .into_iter()
        .filter_map(|d| {
            let name = d.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read(d.join(file)).ok()?))
        })
        .collect()
}

/// The header of an excuses file and its `sources:` items, each with its
/// text (PyYAML writes the list at column 0).
fn items(text: &str) -> (&str, Vec<&str>) {
    let at = text.find("\nsources:\n").expect("a sources list") + "\nsources:\n".len();
    let mut starts: Vec<usize> = text[at..]
        .match_indices("\n- ")
        .map(|(i, _)| at + i + 1)
        .collect();
    starts.insert(0, at);
    let items = starts
        .iter()
        .zip(starts.iter().skip(1).chain([&text.len()]))
        .map(|(&a, &b)| &text[a..b])
        .collect();
    (&text[..at], items)
}

/// In the plucky file, the smallest item showing each of these.
const PLUCKY_FEATURES: &[(&str, &str)] = &[
    ("pass", "migration-policy-verdict: PASS\n"),
    ("rejected-permanently", "REJECTED_PERMANENTLY"),
    ("rejected-temporarily", "REJECTED_TEMPORARILY"),
    ("cannot-determine", "REJECTED_CANNOT_DETERMINE_IF_PERMANENT"),
    ("blocked-by-another", "REJECTED_BLOCKED_BY_ANOTHER_ITEM"),
    ("regression", "- REGRESSION\n"),
    ("neutral", "- NEUTRAL\n"),
    ("missing-builds", "missing-builds:"),
    ("invalidated", "invalidated-by-other-package:"),
    ("migrate-after", "migrate-after:"),
    ("linux-policy", "\n    linux:"),
    ("update-excuse-bug", "update-excuse:\n      '"),
    ("block-bug", "block-bugs:\n      '"),
];

fn excuses() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = suite("excuses.yaml")
        .into_iter()
        .filter(|(_, b)| b.len() <= 8 * 1024)
        .map(|(run, b)| (format!("suite-{run}.yaml"), b))
        .collect();
    out.push((
        "resolute-base-files.yaml".into(),
        read(&fixture(
            "excuses/production/resolute-2026-04-20.base-files.excerpt.yaml",
        )),
    ));
    let plucky = xz("excuses/production/plucky-2025-03-14.update_excuses.yaml.xz");
    let (header, all) = items(&plucky);
    for (name, marker) in PLUCKY_FEATURES {
        let item = all
            .iter()
            .filter(|i| i.contains(marker))
            .min_by_key(|i| i.len())
            .unwrap_or_else(|| panic!("no plucky item shows {name}"));
        out.push((
            format!("plucky-{name}.yaml"),
            format!("{header}{item}").into_bytes(),
        ));
    }
    // The hand-trimmed file ends with a stub item (no item-name): its last
    // real item and the stub.
    let trimmed = xz("excuses/production/plucky-2025-03-14.update_excuses_light.TRIMMED.yaml.xz");
    let (header, all) = items(&trimmed);
    let tail = all[all.len().saturating_sub(2)..].concat();
    out.push((
        "plucky-trimmed-stub.yaml".into(),
        format!("{header}{tail}").into_bytes(),
    ));
    out
}

fn update_output() -> Vec<(String, Vec<u8>)> {
    suite("output.txt")
        .into_iter()
        .map(|(run, b)| (format!("suite-{run}.txt"), b))
        .collect()
}

/// Each rendered page, after the status line `request_cgi` reads first.
fn request_cgi() -> Vec<(String, Vec<u8>)> {
    let index: serde_json::Value =
        serde_json::from_slice(&read(&fixture("excuses/request-cgi/index.json")))
            .expect("index.json is JSON");
    index
        .as_array()
        .expect("index.json is a list")
        .iter()
        .map(|case| {
            let name = case["scenario"].as_str().expect("a scenario");
            let status = case["status"].as_u64().expect("a status");
            let page = read(&fixture(&format!("excuses/request-cgi/{name}.html")));
            let mut bytes = format!("{status}\n").into_bytes();
            bytes.extend(page);
            (format!("{name}.html"), bytes)
        })
        .collect()
}

fn queues() -> Vec<(String, Vec<u8>)> {
    ["running.json", "queues.json", "queued.json"]
        .iter()
        .map(|f| {
            let b = read(&fixture(&format!("excuses/autopkgtest-web/{f}")));
            (f.to_string(), b)
        })
        .collect()
}

/// The deliveries of the webhook tests (`tests/tests/webhooks.rs`) and the
/// reference (launchpad-api §7.4), each signed by the hook on its target.
const DELIVERIES: &[(&str, &str, &str)] = &[
    (
        "snap-build-failed",
        "snap:build:0.1",
        r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/2789012", "action": "status-changed", "snap": "/~maas-committers/+snap/maas-3.5", "build_request": null, "status": "Failed to build", "store_upload_status": "Unscheduled"}"#,
    ),
    (
        "snap-upload-failed",
        "snap:build:0.1",
        r#"{"snap_build": "/~maas-committers/+snap/maas-3.5/+build/5", "action": "status-changed", "snap": "/~maas-committers/+snap/maas-3.5", "status": "Successfully built", "store_upload_status": "Failed to upload"}"#,
    ),
    (
        "snap-build-nested",
        "snap:build:0.1",
        r#"{"snap_build": "/~maas-committers/+snap/maas/+snap/maas-agent/+build/1", "snap": "/~maas-committers/+snap/maas/+snap/maas-agent", "status": "Failed to build"}"#,
    ),
    (
        "bug-tags-changed",
        "bug:0.1",
        r#"{"action": "tags-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/2100001", "new": {"tags": ["block-proposed", "foo"], "status": "New", "title": "t"}, "old": {"tags": ["foo", "update-excuse"]}}"#,
    ),
    (
        "bug-status-changed",
        "bug:0.1",
        r#"{"action": "status-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/5", "new": {"status": "Triaged", "tags": []}, "old": {"status": "New", "tags": []}}"#,
    ),
    (
        "bug-mentions-a-snap",
        "bug:comment:0.1",
        r#"{"action": "tags-changed", "target": "/ubuntu/+source/glibc", "bug": "/bugs/9", "snap": "/~maas-committers/+snap/maas-3.5", "new": {"tags": ["block-proposed"]}, "old": {"tags": []}}"#,
    ),
    (
        "git-push",
        "git:push:0.1",
        r#"{"git_repository": "/~maas-committers/maas/+git/maas", "git_repository_path": "~maas-committers/maas/+git/maas", "ref_changes": {"refs/heads/3.6": {"old": {"commit_sha1": "a"}, "new": {"commit_sha1": "b"}}}}"#,
    ),
    (
        "merge-proposal",
        "merge-proposal:0.1",
        r#"{"merge_proposal": "/~maas-committers/maas/+git/maas/+merge/4321", "action": "created", "new": {"queue_status": "Needs review"}}"#,
    ),
    (
        "ci-build",
        "ci:build:0.1",
        r#"{"build": "/~maas-committers/maas/+git/maas/+build/77", "action": "status-changed", "git_repository": "/~maas-committers/maas/+git/maas", "commit_sha1": "b", "status": "Failed to build"}"#,
    ),
    (
        "livefs-build",
        "livefs:build:0.1",
        r#"{"livefs_build": "/~ubuntu-cdimage/+livefs/ubuntu/resolute/ubuntu/+build/9", "action": "status-changed", "livefs": "/~ubuntu-cdimage/+livefs/ubuntu/resolute/ubuntu", "status": "Successfully built"}"#,
    ),
    ("ping", "ping", r#"{"ping": true}"#),
];

fn webhook() -> Vec<(String, Vec<u8>)> {
    DELIVERIES
        .iter()
        .map(|(name, event, body)| (format!("{name}.txt"), webhook_input(event, body)))
        .collect()
}

/// Messages the chat tests and README use that `!help` examples do not
/// show: quoting, code, several lines, mistakes.
const MESSAGES: &[(&str, &str)] = &[
    ("plain-chat", "thanks, that fixed it"),
    ("quoted-command", "> !retry hello\nlike this?"),
    ("code-fence", "```\n!retry hello\n```\n!why hello"),
    ("inline-code", "!help `!retry hello`"),
    (
        "quotes",
        "!announce #a \"hello \\\"world\\\"\" 'single' “curly” --also=#b",
    ),
    ("unknown", "!retyr hello"),
    ("malformed", "!retry hello --arch"),
    ("unterminated", "!announce #a \"open"),
    ("double-dash", "!announce -- --not-a-flag"),
    ("second-line", "see below\n  !jobs 5"),
];

fn grammar() -> Vec<(String, Vec<u8>)> {
    let registry = shepherd_commands::Registry::new(shepherd_commands::builtins())
        .expect("the builtins do not collide");
    let mut out: Vec<(String, Vec<u8>)> = registry
        .specs()
        .flat_map(|spec| {
            spec.examples
                .iter()
                .enumerate()
                .map(move |(i, e)| (format!("help-{}-{i}.txt", spec.name), e.as_bytes().to_vec()))
        })
        .collect();
    out.extend(
        MESSAGES
            .iter()
            .map(|(name, m)| (format!("{name}.txt"), m.as_bytes().to_vec())),
    );
    out
}

/// Every seed, by target; within a target, contents that are already
/// there under another name are left out.
pub fn all() -> Vec<Seed> {
    let targets: [(&'static str, Vec<(String, Vec<u8>)>); 6] = [
        ("grammar", grammar()),
        ("excuses", excuses()),
        ("update_output", update_output()),
        ("request_cgi", request_cgi()),
        ("webhook", webhook()),
        ("queues", queues()),
    ];
    let mut out = Vec::new();
    for (target, seeds) in targets {
        let mut seen = BTreeSet::new();
        for (name, bytes) in seeds {
            if seen.insert(bytes.clone()) {
                out.push(Seed {
                    target,
                    name,
                    bytes,
                });
            }
        }
    }
    out
}
