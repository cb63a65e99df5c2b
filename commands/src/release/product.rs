//! A product's release stages, as configured (`[[release.product]]`): which
//! PPA and snap channel each stage holds, which grades of release pass
//! through it, what it closes, whether it asks first. MAAS is the default
//! and the example (seed: MAAS release management): release-prep → beta
//! (QA) → rc → stable, the same binaries copied and released onwards,
//! never rebuilt. A snap-only product has no PPAs (`ubuntu_series` unset).

use serde::Deserialize;

use super::version::{Grade, Version};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// What `--product` names, e.g. `maas`.
    pub name: String,
    /// The Launchpad project (milestones, bugs); default: `name`.
    pub project: Option<String>,
    /// The source package in the PPAs; default: `name`.
    pub source: Option<String>,
    /// Snaps whose revisions move through the channels.
    #[serde(default)]
    pub snaps: Vec<String>,
    /// Snaps released alongside at stages with `companions = true` (e.g.
    /// `maas-test-db`): whatever their previous channel holds.
    #[serde(default)]
    pub companion_snaps: Vec<String>,
    /// Every PPA must build these, and every snap revision exist for each.
    pub architectures: Vec<String>,
    /// The Ubuntu series the PPAs publish for; unset: a snap-only product.
    pub ubuntu_series: Option<String>,
    /// Fills `{releaser}` (the release-prep PPA's owner).
    pub releaser: Option<String>,
    /// PPA whose packages must all be copied into the release-prep PPA.
    pub deps_ppa: Option<String>,
    /// `~owner/project/+git/name`, where release tags go.
    pub git_repository: Option<String>,
    /// The Launchpad snap recipe that builds the snap, `~owner/name`
    /// (`{series}` allowed), for `!rebuild` suggestions.
    pub snap_recipe: Option<String>,
    #[serde(default = "maas_stages")]
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    /// `owner/name`; `{series}` (X.Y), `{product}`, `{releaser}` filled in.
    pub ppa: Option<String>,
    /// `track/risk[/branch]`, same placeholders.
    pub channel: String,
    /// Grades that pass through: `alpha`, `beta`, `rc`, `final` (default all).
    #[serde(default = "all_grades")]
    pub grades: Vec<String>,
    /// Channels closed once the stage holds the release.
    #[serde(default)]
    pub close: Vec<String>,
    /// Promoting here always asks for `!confirm`.
    #[serde(default)]
    pub confirm: bool,
    /// Companion snaps are released (and closed) here too.
    #[serde(default)]
    pub companions: bool,
}

fn all_grades() -> Vec<String> {
    ["alpha", "beta", "rc", "final"].map(String::from).to_vec()
}

fn stage(name: &str, ppa: &str, channel: &str, grades: &[&str], close: &[&str]) -> Stage {
    Stage {
        name: name.into(),
        ppa: Some(ppa.into()),
        channel: channel.into(),
        grades: if grades.is_empty() {
            all_grades()
        } else {
            grades.iter().map(|g| g.to_string()).collect()
        },
        close: close.iter().map(|c| c.to_string()).collect(),
        confirm: !close.is_empty(),
        companions: name == "stable",
    }
}

/// MAAS's stages (seed: MAAS release management; shared reference
/// snapstore-maas, §2.3).
pub fn maas_stages() -> Vec<Stage> {
    vec![
        stage(
            "release-prep",
            "{releaser}/{product}-{series}-next",
            "{series}/beta/release-prep",
            &[],
            &[],
        ),
        stage("beta", "{product}/{series}-next", "{series}/beta", &[], &[]),
        stage(
            "rc",
            "{product}/{series}-next",
            "{series}/candidate",
            &["rc"],
            &["{series}/beta"],
        ),
        stage(
            "stable",
            "{product}/{series}",
            "{series}/stable",
            &["final"],
            &["{series}/candidate"],
        ),
    ]
}

fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::Alpha(_) => "alpha",
        Grade::Beta(_) => "beta",
        Grade::Rc(_) => "rc",
        Grade::Final => "final",
    }
}

impl Product {
    pub fn project(&self) -> &str {
        self.project.as_deref().unwrap_or(&self.name)
    }

    pub fn source(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.name)
    }

    /// A template with this product's and release's names filled in.
    pub fn fill(&self, template: &str, v: &Version) -> String {
        template
            .replace("{series}", &v.series())
            .replace("{product}", &self.name)
            .replace(
                "{releaser}",
                self.releaser.as_deref().unwrap_or("{releaser}"),
            )
    }

    /// The stages `v` passes through, first to last (its own stage last).
    pub fn path(&self, v: &Version) -> Vec<&Stage> {
        let g = grade_name(v.grade);
        self.stages
            .iter()
            .filter(|s| s.grades.iter().any(|x| x == g))
            .collect()
    }

    /// The stage `v` is released to in the end: beta for a beta, rc for a
    /// release candidate, stable for a final.
    pub fn target(&self, v: &Version) -> Option<&Stage> {
        self.path(v).last().copied()
    }

    /// `stage` in `v`'s path and the one before it (`None` for the first).
    pub fn step_to(&self, v: &Version, stage: &str) -> Option<(Option<&Stage>, &Stage)> {
        let path = self.path(v);
        let i = path.iter().position(|s| s.name == stage)?;
        Some((i.checked_sub(1).map(|p| path[p]), path[i]))
    }

    /// The stage's PPA for `v`, when the product has PPAs.
    pub fn ppa(&self, s: &Stage, v: &Version) -> Option<String> {
        self.ubuntu_series.as_ref()?;
        s.ppa.as_ref().map(|p| self.fill(p, v))
    }

    pub fn channel(&self, s: &Stage, v: &Version) -> String {
        self.fill(&s.channel, v)
    }

    /// What is wrong with this product's configuration, if anything.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.architectures.is_empty() {
            out.push("names no architectures".to_string());
        }
        if self.stages.is_empty() {
            out.push("has no stages".to_string());
        }
        for s in &self.stages {
            for g in &s.grades {
                if !all_grades().contains(g) {
                    out.push(format!(
                        "stage {}: unknown grade `{g}` (alpha, beta, rc, final)",
                        s.name
                    ));
                }
            }
            let uses_releaser = s.ppa.as_deref().is_some_and(|p| p.contains("{releaser}"));
            if uses_releaser && self.releaser.is_none() && self.ubuntu_series.is_some() {
                out.push(format!("stage {}: its PPA needs `releaser`", s.name));
            }
        }
        let mut names: Vec<&str> = self.stages.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            out.push("names a stage twice".to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::release::maas_product as maas;

    #[test]
    fn each_grade_walks_its_own_path() {
        let p = maas();
        let names = |v: &str| -> Vec<String> {
            p.path(&v.parse().unwrap())
                .iter()
                .map(|s| s.name.clone())
                .collect()
        };
        assert_eq!(names("3.6.0b1"), ["release-prep", "beta"]);
        assert_eq!(names("3.6.0rc1"), ["release-prep", "beta", "rc"]);
        assert_eq!(names("3.6.0"), ["release-prep", "beta", "stable"]);
        let v: Version = "3.6.0".parse().unwrap();
        let (from, to) = p.step_to(&v, "stable").unwrap();
        assert_eq!(from.map(|s| s.name.as_str()), Some("beta"));
        assert_eq!(p.ppa(to, &v).as_deref(), Some("maas/3.6"));
        assert_eq!(p.channel(to, &v), "3.6/stable");
        assert_eq!(p.ppa(from.unwrap(), &v).as_deref(), Some("maas/3.6-next"));
        assert!(p.step_to(&v, "rc").is_none(), "a final does not pass rc");
        let first = p.step_to(&v, "release-prep").unwrap();
        assert!(first.0.is_none());
        assert_eq!(p.ppa(first.1, &v).as_deref(), Some("alice/maas-3.6-next"));
        assert_eq!(p.channel(first.1, &v), "3.6/beta/release-prep");
        assert!(p.problems().is_empty(), "{:?}", p.problems());
    }

    #[test]
    fn snap_only_products_have_no_ppas_and_bad_configs_say_why() {
        let mut p = maas();
        p.ubuntu_series = None;
        let v: Version = "4.0.0".parse().unwrap();
        assert!(p.ppa(&p.stages[0], &v).is_none());
        p.ubuntu_series = Some("noble".into());
        p.releaser = None;
        p.stages[1].grades = vec!["gamma".into()];
        p.architectures.clear();
        let problems = p.problems().join("; ");
        assert!(problems.contains("names no architectures"), "{problems}");
        assert!(problems.contains("unknown grade `gamma`"), "{problems}");
        assert!(problems.contains("needs `releaser`"), "{problems}");
    }
}
