//! The Launchpad housekeeping checks: dependencies copied, milestone,
//! open bugs, the release tag.

use std::collections::BTreeSet;

use super::{list, Check, Checker, OPEN};
use crate::UserError;
use shepherd_adapters::launchpad::milestones::Milestone;

impl Checker<'_> {
    pub(super) async fn deps(&self) -> Result<Check, UserError> {
        let (Some(deps), Some(prep)) = (
            self.p.deps_ppa.as_deref(),
            self.path.first().and_then(|s| self.p.ppa(s, &self.v)),
        ) else {
            return Ok(Check::new("no dependencies PPA".into(), Vec::new(), None));
        };
        let series = self.p.ubuntu_series.as_deref().unwrap_or_default();
        let have: BTreeSet<(String, String)> = self
            .cx
            .launchpad
            .ppa_sources(&prep, series)
            .await?
            .into_iter()
            .map(|s| (s.source_package_name, s.source_package_version))
            .collect();
        let missing: Vec<(String, String)> = self
            .cx
            .launchpad
            .ppa_sources(deps, series)
            .await?
            .into_iter()
            .map(|s| (s.source_package_name, s.source_package_version))
            .filter(|k| !have.contains(k))
            .collect();
        let next = missing
            .first()
            .map(|(n, v)| format!("`!copy {n} {v} --from {deps} --to {prep} --series {series}`"));
        let problems = if missing.is_empty() {
            Vec::new()
        } else {
            let names: Vec<String> = missing.iter().map(|(n, v)| format!("{n} {v}")).collect();
            vec![format!("not copied yet: {}", list(&names))]
        };
        Ok(Check::new(
            format!("dependencies from ppa:{deps} copied to ppa:{prep}"),
            problems,
            next,
        ))
    }

    /// The milestone check, given the milestone as read (once, for this
    /// and the bugs check).
    pub(super) fn milestone(&self, found: Option<&Milestone>) -> Check {
        let (project, name) = (self.p.project(), self.v.tag());
        let title = format!("milestone {project} {name} exists");
        match found {
            None => Check::new(
                title,
                vec!["no such milestone".into()],
                format!("`!milestone create {project} {} {name}`", self.v.series()),
            ),
            Some(m) if !m.is_active && m.release_link.is_none() => Check::new(
                title,
                vec!["it is inactive and was never released".into()],
                format!("`!milestone release {project} {name}` once the release is out"),
            ),
            Some(_) => Check::new(title, Vec::new(), None),
        }
    }

    pub(super) async fn bugs(&self, milestone: Option<&Milestone>) -> Result<Check, UserError> {
        let (project, name) = (self.p.project(), self.v.tag());
        // No milestone, no bugs on it: nothing to say until it exists.
        if milestone.is_none() {
            return Ok(Check::new(
                format!("no open bugs on milestone {name} (no milestone yet)"),
                Vec::new(),
                None,
            ));
        }
        let open = self
            .cx
            .launchpad
            .milestone_tasks(project, &name, OPEN)
            .await?;
        let shown: Vec<String> = open
            .iter()
            .take(5)
            .map(|t| {
                let id = t.bug_link.rsplit('/').next().unwrap_or("?");
                format!("LP: #{id} ({})", t.status)
            })
            .collect();
        let mut problems = Vec::new();
        if !open.is_empty() {
            let more = open.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            problems.push(format!("{} still open: {}{more}", open.len(), list(&shown)));
        }
        Ok(Check::new(
            format!("no open bugs on milestone {name}"),
            problems,
            format!("fix or retarget them: `!bugs list {project} {name}`"),
        ))
    }

    pub(super) async fn tag(&self, repo: &str) -> Result<Check, UserError> {
        let tag = self.v.tag();
        let problems = if self.cx.launchpad.tag_exists(repo, &tag).await? {
            Vec::new()
        } else {
            vec![format!("no tag {tag} in {repo}")]
        };
        Ok(Check::new(
            format!("release tagged {tag}"),
            problems,
            format!("tag the released commit: `git tag -a {tag} -m \"{tag} release\" && git push origin {tag}`"),
        ))
    }
}
