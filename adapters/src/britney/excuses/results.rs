//! The autopkgtest results of an item: britney's status words, and one
//! (test package, arch) result with its URLs — kept compact, because a busy
//! excuses file holds tens of thousands of them.

use std::sync::Arc;

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
