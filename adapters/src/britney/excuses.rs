//! `update_excuses.yaml` as typed data.
//!
//! The file is read item by item: each `- ` entry of `sources` is parsed on
//! its own, so a malformed item (the TRIMMED fixture has one) is skipped and
//! counted instead of failing the whole file, and memory stays near the
//! size of the typed result. Every key of the reference is kept (shared
//! reference: britney-autopkgtest, §1.3–§1.5); versions and bug ids stay
//! strings.

use std::io::Read;
use std::sync::Arc;

use thiserror::Error;

use super::yaml::{self, Node};

#[derive(Debug, Error)]
pub enum ExcusesError {
    #[error("cannot read excuses: {0}")]
    Io(#[from] std::io::Error),
    #[error("excuses are not UTF-8")]
    Utf8,
    #[error("not an update_excuses file: {0}")]
    Format(String),
}

/// One autopkgtest status, as britney spells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Pass,
    OldPass,
    Neutral,
    OldNeutral,
    Regression,
    AlwaysFail,
    IgnoreFail,
    Running,
    RunningAlwaysFail,
    RunningReference,
    /// A status this version does not know; kept verbatim.
    Other(String),
}

impl Status {
    pub fn parse(s: &str) -> Self {
        match s {
            "PASS" => Status::Pass,
            "OLD_PASS" => Status::OldPass,
            "NEUTRAL" => Status::Neutral,
            "OLD_NEUTRAL" => Status::OldNeutral,
            "REGRESSION" => Status::Regression,
            "ALWAYSFAIL" => Status::AlwaysFail,
            "IGNORE-FAIL" => Status::IgnoreFail,
            "RUNNING" => Status::Running,
            "RUNNING-ALWAYSFAIL" => Status::RunningAlwaysFail,
            "RUNNING-REFERENCE" => Status::RunningReference,
            other => Status::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Status::Pass => "PASS",
            Status::OldPass => "OLD_PASS",
            Status::Neutral => "NEUTRAL",
            Status::OldNeutral => "OLD_NEUTRAL",
            Status::Regression => "REGRESSION",
            Status::AlwaysFail => "ALWAYSFAIL",
            Status::IgnoreFail => "IGNORE-FAIL",
            Status::Running => "RUNNING",
            Status::RunningAlwaysFail => "RUNNING-ALWAYSFAIL",
            Status::RunningReference => "RUNNING-REFERENCE",
            Status::Other(s) => s,
        }
    }

    /// Does this result hold the package in -proposed? (reference §1.5)
    pub fn blocks(&self) -> bool {
        matches!(
            self,
            Status::Regression | Status::Running | Status::RunningReference
        )
    }

    pub fn is_running(&self) -> bool {
        matches!(
            self,
            Status::Running | Status::RunningAlwaysFail | Status::RunningReference
        )
    }
}

/// One (test package, arch) result of an item.
///
/// Compact on purpose: a busy excuses file holds tens of thousands of
/// these and the previous snapshot stays in memory between polls, so the
/// package and version are shared between arches and the four URLs live in
/// one allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub package: Arc<str>,
    /// The tested version; `None` while every arch is still running.
    pub version: Option<Arc<str>>,
    pub arch: Box<str>,
    pub status: Status,
    /// log, history, artifacts and retry URLs joined by `\n` (empty = none).
    urls: Box<str>,
}

impl TestResult {
    /// `urls` = [log, history, artifacts, retry], as britney lists them.
    pub fn new(
        package: Arc<str>,
        version: Option<Arc<str>>,
        arch: &str,
        status: Status,
        urls: [Option<&str>; 4],
    ) -> Self {
        // `\n` separates the URLs, so a value holding one (no URL does) is
        // dropped rather than allowed to shift the others into wrong slots.
        let urls = urls
            .map(|u| u.filter(|u| !u.contains('\n')).unwrap_or(""))
            .join("\n")
            .into_boxed_str();
        Self {
            package,
            version,
            arch: arch.into(),
            status,
            urls,
        }
    }

    fn url(&self, i: usize) -> Option<&str> {
        self.urls.split('\n').nth(i).filter(|u| !u.is_empty())
    }

    pub fn log_url(&self) -> Option<&str> {
        self.url(0)
    }

    pub fn history_url(&self) -> Option<&str> {
        self.url(1)
    }

    /// Only in PPA mode.
    pub fn artifacts_url(&self) -> Option<&str> {
        self.url(2)
    }

    /// Only for REGRESSION and RUNNING-REFERENCE.
    pub fn retry_url(&self) -> Option<&str> {
        self.url(3)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub from: String,
    pub kind: String,
}

/// One migration item of `update_excuses.yaml`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Excuse {
    /// `src`, `-src` (removal) or `src/arch`.
    pub item_name: String,
    pub source: String,
    /// `-` when new to the release.
    pub old_version: String,
    /// `-` for removals.
    pub new_version: String,
    pub verdict: String,
    pub is_candidate: bool,
    pub reasons: Vec<String>,
    pub excuses: Vec<String>,
    pub maintainer: Option<String>,
    /// Absent for main.
    pub component: Option<String>,
    pub age_days: Option<f64>,
    pub age_required: Option<f64>,
    pub tests: Vec<TestResult>,
    pub autopkgtest_verdict: Option<String>,
    /// Verdict of each policy that applied, e.g. `("depends", "REJECTED_PERMANENTLY")`.
    pub policy_verdicts: Vec<(String, String)>,
    /// block-proposed bugs: (bug, epoch seconds).
    pub block_bugs: Vec<(String, i64)>,
    /// update-excuse bugs: (bug, epoch seconds).
    pub update_excuse_bugs: Vec<(String, i64)>,
    pub missing_builds: Vec<String>,
    pub missing_builds_unimportant: Vec<String>,
    pub blocked_by: Vec<String>,
    pub migrate_after: Vec<String>,
    pub unsatisfiable_dependencies: Vec<String>,
    pub invalidated_by_other_package: bool,
    pub hints: Vec<Hint>,
    pub forced_reason: Vec<String>,
    pub detailed_info: Vec<String>,
    /// (old source version, binaries) left behind.
    pub old_binaries: Vec<(String, Vec<String>)>,
    pub manual_approval_status: Option<String>,
    /// source-ppa grouping: (source, ppa).
    pub source_ppa: Vec<(String, String)>,
    /// depends policy: arches where dependency checks were skipped.
    pub skip_dep_check: Vec<String>,
}

impl Excuse {
    pub fn is_removal(&self) -> bool {
        self.item_name.starts_with('-')
    }

    pub fn regressions(&self) -> impl Iterator<Item = &TestResult> {
        self.tests.iter().filter(|t| t.status == Status::Regression)
    }
}

/// A `sources` entry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 0-based position in `sources`.
    pub index: usize,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Excuses {
    pub generated_date: Option<String>,
    pub items: Vec<Excuse>,
    pub skipped: Vec<Skipped>,
}

impl Excuses {
    pub fn get(&self, item_name: &str) -> Option<&Excuse> {
        self.items.iter().find(|e| e.item_name == item_name)
    }

    /// The item for a source package (its plain item first, then any other).
    pub fn for_source(&self, source: &str) -> Option<&Excuse> {
        self.get(source)
            .or_else(|| self.items.iter().find(|e| e.source == source))
    }
}

/// Reads a file as Ubuntu publishes it: `.xz`, `.gz` or plain, by magic bytes.
pub fn decompress(bytes: &[u8]) -> Result<String, ExcusesError> {
    let mut out = Vec::new();
    if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        xz2::read::XzDecoder::new(bytes).read_to_end(&mut out)?;
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    } else {
        out.extend_from_slice(bytes);
    }
    String::from_utf8(out).map_err(|_| ExcusesError::Utf8)
}

/// Parses `update_excuses.yaml` text.
pub fn parse(text: &str) -> Result<Excuses, ExcusesError> {
    let (header, body, body_line) = split_header(text)?;
    let generated_date = yaml::parse(header, 1).ok().and_then(|h| {
        h.get("generated-date")
            .and_then(|d| d.as_str().map(str::to_string))
    });
    let mut out = Excuses {
        generated_date,
        ..Default::default()
    };
    for (index, (line, chunk)) in items(body, body_line).enumerate() {
        let parsed = yaml::parse(chunk, line)
            .map_err(|e| e.to_string())
            .and_then(|node| match node.as_seq() {
                [item] => excuse(item),
                _ => Err("not a single list entry".to_string()),
            });
        match parsed {
            Ok(e) => out.items.push(e),
            Err(reason) => out.skipped.push(Skipped {
                index,
                line,
                reason,
            }),
        }
    }
    Ok(out)
}

/// Splits off everything before the `sources:` list.
fn split_header(text: &str) -> Result<(&str, &str, usize), ExcusesError> {
    let at = if text.starts_with("sources:") {
        0
    } else {
        text.find("\nsources:")
            .map(|i| i + 1)
            .ok_or_else(|| ExcusesError::Format("no `sources:` list".into()))?
    };
    let rest = &text[at..];
    let first_nl = rest.find('\n').unwrap_or(rest.len());
    let inline = rest[..first_nl].trim_end();
    if inline != "sources:" && inline != "sources: []" {
        return Err(ExcusesError::Format(
            "`sources:` is not a block list".into(),
        ));
    }
    let header_lines = text[..at].matches('\n').count();
    let body = rest.get(first_nl + 1..).unwrap_or("");
    Ok((&text[..at], body, header_lines + 2))
}

/// The text of each list entry under `sources:` with its first line number.
/// Entries start with `- ` at the list's indentation; the list ends at the
/// next top-level key (a non-blank line at column 0 that is no entry). A
/// line indented less than the entries but not at column 0 is bad YAML: it
/// stays with the entry before it, so that entry is skipped with its line
/// number rather than the rest of the list being silently dropped.
fn items(body: &str, first_line: usize) -> impl Iterator<Item = (usize, &str)> {
    let indent = body.len() - body.trim_start_matches(' ').len();
    let mut starts = Vec::new();
    let mut end = body.len();
    let mut offset = 0;
    for (i, line) in body.split_inclusive('\n').enumerate() {
        // Indentation counts spaces, so everything is measured on the
        // trimmed line: never slice at a byte count that may split a char.
        let text = line.trim_start_matches(' ');
        let leading = line.len() - text.len();
        let entry = text.starts_with("- ") || text.trim_end() == "-";
        if entry && leading == indent {
            starts.push((first_line + i, offset));
        } else if leading == 0 && !text.trim().is_empty() && !text.starts_with('#') {
            end = offset;
            break;
        }
        offset += line.len();
    }
    let bounds: Vec<(usize, usize, usize)> = starts
        .iter()
        .enumerate()
        .map(|(k, &(line, from))| {
            let to = starts.get(k + 1).map_or(end, |&(_, next)| next);
            (line, from, to)
        })
        .collect();
    bounds
        .into_iter()
        .map(move |(line, from, to)| (line, &body[from..to]))
}

fn text(n: Option<&Node<'_>>) -> Option<String> {
    n.and_then(Node::as_str).map(str::to_string)
}

fn strings(n: Option<&Node<'_>>) -> Vec<String> {
    n.map(|n| {
        n.as_seq()
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

fn required(item: &Node<'_>, key: &str) -> Result<String, String> {
    text(item.get(key)).ok_or_else(|| format!("missing `{key}`"))
}

/// Bug → epoch entries of block-bugs / update-excuse, without `verdict`.
fn bug_entries(policy: Option<&Node<'_>>) -> Vec<(String, i64)> {
    policy
        .map(|p| {
            p.entries()
                .iter()
                .filter(|(k, _)| k != "verdict")
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn excuse(item: &Node<'_>) -> Result<Excuse, String> {
    if !matches!(item, Node::Map(_)) {
        return Err("entry is not a mapping".into());
    }
    let policy = item.get("policy_info");
    let pol = |name: &str| policy.and_then(|p| p.get(name));
    let age = pol("age");
    let deps = item.get("dependencies");
    let missing = item.get("missing-builds");
    let mut e = Excuse {
        item_name: required(item, "item-name")?,
        source: required(item, "source")?,
        old_version: required(item, "old-version")?,
        new_version: required(item, "new-version")?,
        verdict: required(item, "migration-policy-verdict")?,
        is_candidate: text(item.get("is-candidate")).as_deref() == Some("true"),
        reasons: strings(item.get("reason")),
        excuses: strings(item.get("excuses")),
        maintainer: text(item.get("maintainer")),
        component: text(item.get("component")),
        age_days: age
            .and_then(|a| text(a.get("current-age")))
            .and_then(|s| s.parse().ok()),
        age_required: age
            .and_then(|a| text(a.get("age-requirement")))
            .and_then(|s| s.parse().ok()),
        tests: Vec::new(),
        autopkgtest_verdict: pol("autopkgtest").and_then(|a| text(a.get("verdict"))),
        policy_verdicts: policy
            .map(|p| {
                p.entries()
                    .iter()
                    .filter_map(|(k, v)| Some((k.to_string(), text(v.get("verdict"))?)))
                    .collect()
            })
            .unwrap_or_default(),
        block_bugs: bug_entries(pol("block-bugs")),
        update_excuse_bugs: bug_entries(pol("update-excuse")),
        missing_builds: strings(missing.and_then(|m| m.get("on-architectures"))),
        missing_builds_unimportant: strings(
            missing.and_then(|m| m.get("on-unimportant-architectures")),
        ),
        blocked_by: strings(deps.and_then(|d| d.get("blocked-by"))),
        migrate_after: strings(deps.and_then(|d| d.get("migrate-after"))),
        unsatisfiable_dependencies: strings(deps.and_then(|d| d.get("unsatisfiable-dependencies"))),
        invalidated_by_other_package: text(item.get("invalidated-by-other-package")).as_deref()
            == Some("true"),
        hints: item
            .get("hints")
            .map(|h| {
                h.as_seq()
                    .iter()
                    .map(|h| Hint {
                        from: text(h.get("hint-from")).unwrap_or_default(),
                        kind: text(h.get("hint-type")).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        forced_reason: strings(item.get("forced-reason")),
        detailed_info: strings(item.get("detailed-info")),
        old_binaries: item
            .get("old-binaries")
            .map(|o| {
                o.entries()
                    .iter()
                    .map(|(k, v)| (k.to_string(), strings(Some(v))))
                    .collect()
            })
            .unwrap_or_default(),
        manual_approval_status: text(item.get("manual-approval-status")),
        source_ppa: pol("source-ppa")
            .map(|p| {
                p.entries()
                    .iter()
                    .filter(|(k, _)| k != "verdict")
                    .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        skip_dep_check: strings(pol("depends").and_then(|d| d.get("skip_dep_check"))),
    };
    if let Some(adt) = pol("autopkgtest") {
        e.tests = tests(adt);
        // Snapshots are kept in memory between polls: no growth slack.
        e.tests.shrink_to_fit();
    }
    Ok(e)
}

/// Flattens `policy_info.autopkgtest`: `pkg[/version] → arch → [status, log,
/// history, artifacts, retry]`, skipping the `verdict` string among them.
fn tests(adt: &Node<'_>) -> Vec<TestResult> {
    let mut out = Vec::new();
    for (key, arches) in adt.entries() {
        if key == "verdict" || !matches!(arches, Node::Map(_)) {
            continue;
        }
        let (package, version): (Arc<str>, Option<Arc<str>>) = match key.split_once('/') {
            Some((p, v)) => (Arc::from(p), Some(Arc::from(v))),
            None => (Arc::from(key.as_ref()), None),
        };
        for (arch, result) in arches.entries() {
            let field = |i: usize| result.as_seq().get(i).and_then(Node::as_str);
            let Some(status) = field(0) else { continue };
            out.push(TestResult::new(
                package.clone(),
                version.clone(),
                arch,
                Status::parse(status),
                [field(1), field(2), field(3), field(4)],
            ));
        }
    }
    out
}

#[cfg(test)]
#[path = "excuses_tests.rs"]
mod tests;
