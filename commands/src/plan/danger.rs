//! What makes a plan wait for `!confirm`, beyond its size: the command's
//! own reason, or a step that is dangerous here (`[confirm]` rules).

use super::{Action, PlanDraft};

impl Action {
    /// Why this step alone needs a `!confirm`, if it does.
    pub fn danger(&self, rules: &DangerRules) -> Option<String> {
        match self {
            Action::CopyPackage { to, .. } => rules
                .protected_ppa(to)
                .map(|p| format!("copies into ppa:{to}, a protected PPA ({p})")),
            // Bulk retries and bug moves are caught by the plan-size rule,
            // not per request; release stages decide for their own plans.
            Action::Announce { .. }
            | Action::RequestAutopkgtest { .. }
            | Action::RequestSnapBuild { .. }
            | Action::RegisterWebhook { .. }
            | Action::ReleaseSnap { .. }
            | Action::CloseChannels { .. }
            | Action::CreateMilestone { .. }
            | Action::ReleaseMilestone { .. }
            | Action::UpdateBugTask { .. } => None,
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

impl PlanDraft {
    /// The first reason this plan needs confirmation, from the command or a step.
    pub fn danger(&self, rules: &DangerRules) -> Option<String> {
        self.confirm_reason
            .clone()
            .or_else(|| self.steps.iter().find_map(|s| s.action.danger(rules)))
    }
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
