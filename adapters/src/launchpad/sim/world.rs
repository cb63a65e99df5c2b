//! What the simulated Launchpad holds at start: who has a token, which PPAs
//! exist and who may copy into them, what is published, which snaps build
//! for which arches (and which fail), and projects with their bugs. Tests
//! and the sandbox describe a world; the simulator changes its own copy.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct LpWorld {
    /// OAuth token → user name.
    pub tokens: HashMap<String, String>,
    /// PPA `owner/name` → users who may copy into it.
    pub ppa_writers: HashMap<String, Vec<String>>,
    pub publications: Vec<Publication>,
    pub snaps: Vec<SnapDef>,
    /// (PPA `owner/name`, binary, version, arch, status).
    pub binaries: Vec<(String, String, String, String, String)>,
    pub projects: Vec<ProjectDef>,
    pub bugs: Vec<BugDef>,
    /// PPA `owner/name` → the processors it builds for (default: amd64).
    pub ppa_processors: HashMap<String, Vec<String>>,
    /// Git repository path (`~owner/project/+git/name`) → its tags.
    pub git_tags: HashMap<String, Vec<String>>,
    /// Milestones at start: (project, series, name, active).
    pub milestones: Vec<(String, String, String, bool)>,
}

impl LpWorld {
    /// Project `maas` (series 3.6, milestones `next` and `3.6.0`, driven by
    /// `bot`, whose OAuth token is `token`) with `n` Fix Committed bug
    /// tasks on `next`, bugs numbered from `first_bug`: what a release's
    /// bug housekeeping (`!bugs move-done`) works on, at any scale.
    pub fn fix_committed_on_next(token: &str, bot: &str, first_bug: u64, n: u64) -> Self {
        let mut w = Self::default();
        w.tokens.insert(token.into(), bot.into());
        w.projects.push(ProjectDef {
            name: "maas".into(),
            series: vec!["3.6".into()],
            drivers: vec![bot.into()],
        });
        for m in ["next", "3.6.0"] {
            w.milestones
                .push(("maas".into(), "3.6".into(), m.into(), true));
        }
        w.bugs = (0..n)
            .map(|i| BugDef {
                id: first_bug + i,
                title: format!("bug {i}"),
                tags: Vec::new(),
                tasks: vec![TaskDef {
                    project: "maas".into(),
                    status: "Fix Committed".into(),
                    importance: "Medium".into(),
                    milestone: Some("next".into()),
                }],
            })
            .collect();
        w
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// `owner/name` of the PPA.
    pub archive: String,
    pub name: String,
    pub version: String,
    pub series: String,
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct SnapDef {
    pub owner: String,
    pub name: String,
    /// Empty = `distro_series_link: null`, as production snaps that take
    /// their series from snapcraft.yaml's `base` commonly have.
    pub series: String,
    pub processors: Vec<String>,
    /// Arches whose builds fail.
    pub failing: Vec<String>,
    /// Arches whose builds succeed but whose store upload fails.
    pub failing_uploads: Vec<String>,
    pub store_upload: bool,
    pub channels: Option<Value>,
}

impl SnapDef {
    /// The series it builds for when nothing names one: its own, or (for
    /// a snap without `distro_series`) the one its `base` would give — noble.
    pub(super) fn build_series(&self) -> String {
        if self.series.is_empty() {
            "noble".into()
        } else {
            self.series.clone()
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProjectDef {
    pub name: String,
    pub series: Vec<String>,
    /// Who may create milestones, release, and edit tasks.
    pub drivers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct BugDef {
    pub id: u64,
    pub title: String,
    pub tags: Vec<String>,
    pub tasks: Vec<TaskDef>,
}

/// A bug's task on one project.
#[derive(Debug, Clone)]
pub struct TaskDef {
    pub project: String,
    pub status: String,
    pub importance: String,
    pub milestone: Option<String>,
}
