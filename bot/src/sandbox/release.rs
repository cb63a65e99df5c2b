//! MAAS mid-release, for the sandbox and the release tests: PPAs for 3.6
//! (the release-prep one alice's), 3.6.0b1 built in release-prep and its
//! snaps in `3.6/beta/release-prep` (the Snap Store simulator's seed), the
//! dependencies copied, milestone 3.6.0-beta1 with a bug still open, no
//! tag yet. `!release-status 3.6.0b1` then shows ✓ and ✗ and says
//! `!promote 3.6.0b1 beta` next.

use secrecy::SecretString;
use shepherd_adapters::launchpad::sim::{BugDef, LpWorld, ProjectDef, Publication, TaskDef};
use shepherd_adapters::snapstore::sim::SnapStoreSim;

use crate::config::{Config, ConfigError, SnapStoreConfig};

pub const ARCHES: [&str; 4] = ["amd64", "arm64", "ppc64el", "s390x"];
/// The beta's deb build in release-prep (the snap store seed's build, as a deb).
pub const BETA1_DEB: &str = "1:3.6.0~beta1-17580-g.1a2b3c4d5-0ubuntu1";
/// Where MAAS release tags go.
pub const GIT_REPOSITORY: &str = "~maas-committers/maas/+git/maas";

/// MAAS as a `[[release.product]]` of this world (releaser alice), for
/// tests' configurations; the sandbox's own is in `sandbox.toml`.
pub const MAAS_PRODUCT: &str = r#"
[[release.product]]
name = "maas"
snaps = ["maas"]
companion_snaps = ["maas-test-db"]
architectures = ["amd64", "arm64", "ppc64el", "s390x"]
ubuntu_series = "noble"
releaser = "alice"
deps_ppa = "maas-committers/latest-deps"
git_repository = "~maas-committers/maas/+git/maas"
snap_recipe = "~maas-committers/maas"
"#;

fn publish(w: &mut LpWorld, archive: &str, name: &str, version: &str) {
    w.publications.push(Publication {
        archive: archive.into(),
        name: name.into(),
        version: version.into(),
        series: "noble".into(),
        status: "Published".into(),
    });
}

/// A source published in `archive` with its binaries built everywhere.
pub fn publish_built(w: &mut LpWorld, archive: &str, name: &str, version: &str) {
    publish(w, archive, name, version);
    for arch in ARCHES {
        w.binaries.push((
            archive.into(),
            name.into(),
            version.into(),
            arch.into(),
            "Published".into(),
        ));
    }
}

/// Adds MAAS's release world to a Launchpad world where `user` may write.
pub fn maas_release_world(w: &mut LpWorld, user: &str) {
    for ppa in [
        "alice/maas-3.6-next",
        "maas/3.6-next",
        "maas/3.6",
        "maas-committers/latest-deps",
    ] {
        w.ppa_writers.insert(ppa.into(), vec![user.into()]);
        w.ppa_processors
            .insert(ppa.into(), ARCHES.iter().map(|a| a.to_string()).collect());
    }
    publish_built(w, "alice/maas-3.6-next", "maas", BETA1_DEB);
    for archive in ["maas-committers/latest-deps", "alice/maas-3.6-next"] {
        publish(w, archive, "python3-netaddr", "1.3.0-1");
    }
    w.projects.push(ProjectDef {
        name: "maas".into(),
        series: vec!["3.5".into(), "3.6".into()],
        drivers: vec![user.into()],
    });
    w.milestones
        .push(("maas".into(), "3.6".into(), "3.6.0-beta1".into(), true));
    let task = |status: &str| TaskDef {
        project: "maas".into(),
        status: status.into(),
        importance: "High".into(),
        milestone: Some("3.6.0-beta1".into()),
    };
    w.bugs.push(BugDef {
        id: 2080001,
        title: "UI hangs on the machine list".into(),
        tags: Vec::new(),
        tasks: vec![task("In Progress")],
    });
    w.bugs.push(BugDef {
        id: 2080002,
        title: "typo in the settings page".into(),
        tags: Vec::new(),
        tasks: vec![task("Fix Committed")],
    });
    w.git_tags
        .insert(GIT_REPOSITORY.trim_start_matches('~').into(), Vec::new());
}

/// Points `config` at a Snap Store simulator.
pub fn with_snapstore(
    config: &mut Config,
    sim: &SnapStoreSim,
    poll_ms: u64,
) -> Result<(), ConfigError> {
    let url = |u: String| {
        u.parse::<url::Url>()
            .map_err(|e| ConfigError::Invalid(format!("simulator URL: {e}")))
    };
    config.snapstore = Some(SnapStoreConfig {
        dashboard_url: url(sim.dashboard_url())?,
        sso_url: url(sim.sso_url())?,
        credentials: Some(SecretString::from(
            secrecy::ExposeSecret::expose_secret(&sim.credentials().export()).to_string(),
        )),
        poll_interval_ms: poll_ms,
    });
    Ok(())
}
