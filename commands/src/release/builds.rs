//! Which snap revisions are *the* release: built from the release's
//! version and from one commit — the one its deb in the release-prep PPA
//! was built from, when the product has PPAs, else the newest such build's.
//! "Same binaries" means one build set, never revisions of two commits.

use super::product::Product;
use super::version::{BuildVersion, Version};
use super::view::SnapChannels;
use crate::{Context, UserError};

/// The commit the release-prep PPA's build of `v` was made from.
pub(crate) async fn prep_commit(
    cx: &Context<'_>,
    p: &Product,
    v: &Version,
) -> Result<Option<String>, UserError> {
    let (Some(series), Some(first)) = (&p.ubuntu_series, p.path(v).first().copied()) else {
        return Ok(None);
    };
    let Some(ppa) = p.ppa(first, v) else {
        return Ok(None);
    };
    // No such PPA (yet) or no build there: no commit to hold revisions to;
    // the PPA checks and the copy step say what is wrong with the PPA.
    let Ok(published) = cx.launchpad.published(&ppa, p.source(), None).await else {
        return Ok(None);
    };
    Ok(published
        .iter()
        .filter(|s| s.status == "Published" && s.series() == Some(series.as_str()))
        .filter_map(|s| s.source_package_version.parse::<BuildVersion>().ok())
        .find(|b| b.version == *v)
        .map(|b| b.sha))
}

/// Per architecture, the newest revision built from `v` at `commit` (or,
/// without one, at the commit of the newest revision built from `v`).
pub(crate) fn release_revisions(
    channels: &SnapChannels,
    v: &Version,
    arches: &[String],
    commit: Option<&str>,
) -> (Option<String>, Vec<(String, Option<u64>)>) {
    let builds: Vec<(u64, BuildVersion, &Vec<String>)> = channels
        .revisions
        .iter()
        .filter_map(|r| {
            let b = r.version.parse::<BuildVersion>().ok()?;
            (b.version == *v).then_some((r.revision, b, &r.arches))
        })
        .collect();
    let commit = commit.map(str::to_string).or_else(|| {
        builds
            .iter()
            .max_by_key(|(rev, ..)| *rev)
            .map(|(_, b, _)| b.sha.clone())
    });
    let per_arch = arches
        .iter()
        .map(|arch| {
            let rev = builds
                .iter()
                .filter(|(_, b, a)| a.contains(arch) && Some(&b.sha) == commit.as_ref())
                .map(|(rev, ..)| *rev)
                .max();
            (arch.clone(), rev)
        })
        .collect();
    (commit, per_arch)
}
