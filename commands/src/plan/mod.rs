//! Plans: what Shepherd intends to do to the world, step by step.
//!
//! Commands, webhooks and schedules only *produce* a [`PlanDraft`]; the bot
//! stores it and its executor applies each [`Action`]. Every step carries an
//! idempotency key: a step whose key is already done is never applied again.

use serde::{Deserialize, Serialize};

pub mod format;

/// One world-changing call. New variants will not compile until their audit
/// text and danger rule are decided below (no wildcard arms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Post a message to a chat channel — in a thread of it, when given.
    Announce {
        channel: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<String>,
    },
    /// Copy one source (and its binaries) from one PPA to another for one
    /// series, then follow it until it is published in the destination.
    CopyPackage {
        name: String,
        version: String,
        /// `owner/ppa`.
        from: String,
        to: String,
        series: String,
        include_binaries: bool,
    },
    /// Build a snap on one architecture (its auto-build archive, pocket and
    /// channels), then follow the build to its end.
    RequestSnapBuild {
        owner: String,
        snap: String,
        arch: String,
        /// The arch's latest build when planned: any newer build of the
        /// arch is this step's own (requested before a crash, or by
        /// Launchpad itself), so it is followed rather than doubled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_build: Option<u64>,
        /// The series to build for, when the snap names none
        /// (`distro_series_link` null) and no earlier build of the arch does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        series: Option<String>,
    },
    /// Create (or re-key) a Launchpad webhook on `target` pointing at this
    /// bot, with a secret generated when applied and kept in the store.
    RegisterWebhook {
        target: String,
        events: Vec<String>,
        channel: Option<String>,
    },
    /// One request.cgi call: re-run `package`'s tests on `arch`.
    RequestAutopkgtest {
        release: String,
        arch: String,
        package: String,
        triggers: Vec<String>,
        all_proposed: bool,
        ppas: Vec<String>,
    },
}

impl Action {
    /// One line for plans, `!show` and the audit log.
    pub fn describe(&self) -> String {
        match self {
            Action::Announce { channel, text, .. } => {
                format!("announce in {channel}: {}", ellipsize(text, 60))
            }
            Action::CopyPackage {
                name,
                version,
                from,
                to,
                series,
                include_binaries,
            } => format!(
                "copy {name} {version} from ppa:{from} to ppa:{to} ({series}){}",
                if *include_binaries {
                    " with binaries"
                } else {
                    ", source only (rebuild)"
                }
            ),
            Action::RequestSnapBuild {
                owner,
                snap,
                arch,
                series,
                ..
            } => match series {
                Some(s) => format!("build snap ~{owner}/{snap} on {arch} for {s}"),
                None => format!("build snap ~{owner}/{snap} on {arch}"),
            },
            Action::RegisterWebhook {
                target,
                events,
                channel,
            } => format!(
                "register a Launchpad webhook on {target} for {}{}",
                events.join(", "),
                channel
                    .as_deref()
                    .map(|c| format!(", announced in {c}"))
                    .unwrap_or_default()
            ),
            Action::RequestAutopkgtest {
                release,
                arch,
                package,
                triggers,
                all_proposed,
                ppas,
            } => {
                let mut s = format!(
                    "test {package} on {arch} ({release}) · trigger {}",
                    triggers.join(" ")
                );
                if *all_proposed {
                    s.push_str(" · all-proposed");
                }
                for p in ppas {
                    s.push_str(&format!(" · ppa {p}"));
                }
                s
            }
        }
    }

    /// Why this step alone needs a `!confirm`, if it does.
    pub fn danger(&self, rules: &DangerRules) -> Option<String> {
        match self {
            Action::CopyPackage { to, .. } => rules
                .protected_ppa(to)
                .map(|p| format!("copies into ppa:{to}, a protected PPA ({p})")),
            // Bulk retries are caught by the plan-size rule, not per request.
            Action::Announce { .. }
            | Action::RequestAutopkgtest { .. }
            | Action::RequestSnapBuild { .. }
            | Action::RegisterWebhook { .. } => None,
        }
    }
}

/// What a deployment counts as dangerous (`[confirm]` in its config).
#[derive(Debug, Clone, Default)]
pub struct DangerRules {
    /// PPA patterns, `OWNER/NAME` with `*` for any run of characters;
    /// `!` before a pattern exempts what it matches. The last pattern
    /// that matches decides, as in a `.gitignore`: `["maas/*",
    /// "!maas/*-next"]` protects `maas/3.6` but not `maas/3.6-next`.
    pub protected_ppas: Vec<String>,
}

impl DangerRules {
    /// The pattern that makes `ppa` protected, if one does.
    pub fn protected_ppa(&self, ppa: &str) -> Option<&str> {
        let ppa = normal_ppa(ppa);
        self.protected_ppas
            .iter()
            .rev()
            .find(|p| glob(&normal_ppa(p.trim_start_matches('!')), &ppa))
            .filter(|p| !p.starts_with('!'))
            .map(String::as_str)
    }
}

/// `ppa:~Owner/Name` and `owner/name` are the same PPA (Launchpad names
/// are lower case).
fn normal_ppa(p: &str) -> String {
    p.trim()
        .trim_start_matches("ppa:")
        .trim_start_matches('~')
        .to_ascii_lowercase()
}

/// `*` matches any run of characters (also none); everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max - 1).collect();
    format!("{cut}…")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDraft {
    /// Idempotency key: the same effect always gets the same key.
    pub key: String,
    pub action: Action,
}

/// A plan before it is stored and numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDraft {
    /// One line: what the plan does, for replies and `!jobs`.
    pub summary: String,
    pub steps: Vec<StepDraft>,
    /// Set by the command when the plan as a whole needs a `!confirm`.
    pub confirm_reason: Option<String>,
    /// Extra lines for the reply (e.g. what was skipped and why).
    pub notes: Vec<String>,
}

impl PlanDraft {
    /// The first reason this plan needs confirmation, from the command or a step.
    pub fn danger(&self, rules: &DangerRules) -> Option<String> {
        self.confirm_reason
            .clone()
            .or_else(|| self.steps.iter().find_map(|s| s.action.danger(rules)))
    }
}

macro_rules! state_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

state_enum!(
    /// Where a plan is in its life. Stored as the text on the right.
    PlanState {
        DryRun => "dry-run",
        AwaitingConfirmation => "awaiting-confirmation",
        Pending => "pending",
        Running => "running",
        Done => "done",
        Failed => "failed",
        Cancelled => "cancelled",
        Expired => "expired",
    }
);

impl PlanState {
    /// Plans in these states will never run a step again.
    pub fn is_final(self) -> bool {
        match self {
            PlanState::DryRun
            | PlanState::Done
            | PlanState::Failed
            | PlanState::Cancelled
            | PlanState::Expired => true,
            PlanState::AwaitingConfirmation | PlanState::Pending | PlanState::Running => false,
        }
    }
}

state_enum!(
    /// Where a step is. `Waiting` = sent, and followed until the world
    /// answers (looked at again later, holding no worker). `Skipped` =
    /// never applied because its plan ended.
    StepState {
        Pending => "pending",
        Running => "running",
        Waiting => "waiting",
        Done => "done",
        Failed => "failed",
        Skipped => "skipped",
    }
);

/// A stored plan as `!jobs` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub id: i64,
    pub command: String,
    pub requested_by: String,
    pub summary: String,
    pub state: PlanState,
    pub steps_total: u32,
    pub steps_done: u32,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    pub seq: u32,
    pub key: String,
    pub action: Action,
    pub state: StepState,
    pub attempts: u32,
    pub result: Option<String>,
    pub error: Option<String>,
}

/// A stored plan with its steps, for `!show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDetail {
    pub plan: PlanSummary,
    pub steps: Vec<StepView>,
    pub confirmed_by: Option<String>,
    pub expires_at_ms: Option<i64>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub channel: String,
    pub action: String,
    pub plan_id: Option<i64>,
    pub outcome: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_to(to: &str) -> Action {
        Action::CopyPackage {
            name: "maas".into(),
            version: "1:3.6.0-1".into(),
            from: "maas/3.6-next".into(),
            to: to.into(),
            series: "noble".into(),
            include_binaries: true,
        }
    }

    #[test]
    fn copies_into_protected_ppas_are_dangerous() {
        let rules = DangerRules {
            protected_ppas: vec!["maas/*".into(), "!maas/*-next".into(), "*/stable".into()],
        };
        let danger = |to: &str| copy_to(to).danger(&rules);
        assert_eq!(
            danger("maas/3.6").as_deref(),
            Some("copies into ppa:maas/3.6, a protected PPA (maas/*)")
        );
        assert_eq!(danger("maas/3.6-next"), None);
        assert_eq!(danger("ppa-owner/next"), None);
        assert!(danger("ppa-owner/stable").is_some());
        assert!(danger("ppa:~maas/3.7").is_some());
        assert!(danger("MAAS/3.7").is_some());
        // Patterns written the way PPAs are often written match too.
        let written = DangerRules {
            protected_ppas: vec!["ppa:~maas/*".into()],
        };
        assert!(copy_to("maas/3.6").danger(&written).is_some());
        assert_eq!(copy_to("maas/3.6").danger(&DangerRules::default()), None);
    }

    #[test]
    fn glob_matches_runs_of_characters() {
        assert!(glob("maas/*", "maas/3.6"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "a-x-b-y-c"));
        assert!(!glob("a*b", "a-x-c"));
        assert!(glob("é*", "é3"));
        assert!(!glob("maas/3.6", "maas/3.60"));
    }
}
