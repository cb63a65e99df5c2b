//! Release fakes: MAAS mid-way through 3.6.0b1 — built and in
//! release-prep, the QA PPA not building s390x yet, a bug still open on
//! the milestone, no tag.

use async_trait::async_trait;
use serde_json::json;
use shepherd_adapters::launchpad::archive::SourcePublication;
use shepherd_adapters::launchpad::bugs::BugTask;
use shepherd_adapters::launchpad::milestones::Milestone;

use super::{decoded, ROOT};
use crate::release::product::{maas_stages, Product};
use crate::release::view::{ChannelEntry, ReleaseView, SnapChannels, SnapRevision};
use crate::UserError;

pub const ARCHES: [&str; 4] = ["amd64", "arm64", "ppc64el", "s390x"];
pub const BUILD: &str = "3.6.0~beta1-17580-g.1a2b3c4d5";

pub fn maas_product() -> Product {
    Product {
        name: "maas".into(),
        project: None,
        source: None,
        snaps: vec!["maas".into()],
        companion_snaps: vec!["maas-test-db".into()],
        architectures: ARCHES.map(String::from).to_vec(),
        ubuntu_series: Some("noble".into()),
        releaser: Some("alice".into()),
        deps_ppa: Some("maas-committers/latest-deps".into()),
        git_repository: Some("~maas-committers/maas/+git/maas".into()),
        snap_recipe: Some("~maas-committers/maas-{series}".into()),
        stages: maas_stages(),
    }
}

pub struct FakeRelease {
    pub products: Vec<Product>,
}

impl Default for FakeRelease {
    fn default() -> Self {
        Self {
            products: vec![maas_product()],
        }
    }
}

#[async_trait]
impl ReleaseView for FakeRelease {
    fn products(&self) -> &[Product] {
        &self.products
    }

    async fn snap_channels(&self, snap: &str) -> Result<SnapChannels, UserError> {
        let (first, channel, version) = match snap {
            "maas" => (101, "3.6/beta/release-prep", BUILD),
            "maas-test-db" => (20, "3.6/candidate", "14.2-3"),
            _ => return Err(UserError(format!("the Snap Store says: no snap {snap}"))),
        };
        let revisions: Vec<SnapRevision> = ARCHES
            .iter()
            .zip(first..)
            .map(|(arch, revision)| SnapRevision {
                revision,
                version: version.into(),
                arches: vec![arch.to_string()],
            })
            .collect();
        let entries = revisions
            .iter()
            .map(|r| ChannelEntry {
                channel: channel.into(),
                arch: r.arches[0].clone(),
                revision: r.revision,
                expires_at_ms: channel.matches('/').nth(1).map(|_| 1_744_588_022_000),
                progressive: false,
            })
            .collect();
        Ok(SnapChannels {
            default_track: Some("3.5".into()),
            entries,
            revisions,
            expired: Vec::new(),
        })
    }
}

fn publication(i: usize, name: &str, version: &str, series: &str) -> SourcePublication {
    decoded(json!({
        "self_link": format!("{ROOT}/~x/+archive/ubuntu/y/+sourcepub/{i}"),
        "source_package_name": name, "source_package_version": version,
        "status": "Published", "distro_series_link": format!("{ROOT}/ubuntu/{series}"),
        "pocket": "Release",
    }))
}

/// What the fake Launchpad publishes for the release (None: not its business).
pub fn release_published(ppa: &str, name: &str) -> Option<Vec<SourcePublication>> {
    match (ppa, name) {
        ("alice/maas-3.6-next", "maas") => Some(vec![publication(
            7,
            "maas",
            &format!("1:{BUILD}-0ubuntu1"),
            "noble",
        )]),
        _ => None,
    }
}

pub fn ppa_sources(ppa: &str) -> Vec<SourcePublication> {
    match ppa {
        "maas-committers/latest-deps" => {
            vec![publication(1, "python3-netaddr", "1.3.0-1", "noble")]
        }
        "alice/maas-3.6-next" => vec![
            publication(2, "python3-netaddr", "1.3.0-1", "noble"),
            publication(7, "maas", &format!("1:{BUILD}-0ubuntu1"), "noble"),
        ],
        _ => Vec::new(),
    }
}

pub fn ppa_processors(ppa: &str) -> Option<Vec<String>> {
    let arches = match ppa {
        "alice/maas-3.6-next" | "maas/3.6" => &ARCHES[..],
        "maas/3.6-next" => &ARCHES[..3],
        "ppa-owner/next" | "ppa-owner/stable" => &ARCHES[..1],
        _ => return None,
    };
    Some(arches.iter().map(|a| a.to_string()).collect())
}

pub fn milestone(project: &str, name: &str) -> Option<Milestone> {
    (project == "maas" && name.starts_with("3.6.0")).then(|| {
        decoded(json!({
            "self_link": format!("{ROOT}/maas/+milestone/{name}"), "name": name,
            "is_active": true, "date_targeted": null, "release_link": null,
        }))
    })
}

/// 3.6.0-beta1 has one bug in progress and two fixed (Fix Committed).
pub fn open_tasks(milestone: &str, statuses: &[&str]) -> Vec<BugTask> {
    if milestone != "3.6.0-beta1" {
        return Vec::new();
    }
    [
        (2080001, "In Progress", "UI hangs"),
        (2080002, "Fix Committed", "typo"),
        (2080003, "Fix Committed", "crash"),
    ]
    .iter()
    .filter(|(_, s, _)| statuses.is_empty() || statuses.contains(s))
    .map(|(id, status, title)| {
        decoded(json!({
            "self_link": format!("{ROOT}/maas/+bug/{id}"), "bug_link": format!("{ROOT}/bugs/{id}"),
            "status": status, "importance": "High", "http_etag": format!("\"e-{id}\""),
            "milestone_link": format!("{ROOT}/maas/+milestone/{milestone}"), "title": title,
        }))
    })
    .collect()
}
