//! Snaps and their builds: a snap by owner and name, its builds (pending
//! ones read apart, since Launchpad lists them last), and build requests —
//! one arch (`requestBuild`) or every arch (`requestBuilds`, answered by a
//! build request that later lists its builds). Facts: shared reference
//! launchpad-api, §4.

use serde::Deserialize;
use serde_json::Value;

use super::decode::{decode, identity, last_segment};
use super::{LaunchpadClient, LpError, Param};

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct Snap {
    #[serde(deserialize_with = "identity")]
    pub self_link: String,
    #[serde(deserialize_with = "identity")]
    pub name: String,
    pub distro_series_link: Option<String>,
    pub auto_build_archive_link: Option<String>,
    pub auto_build_pocket: Option<String>,
    pub auto_build_channels: Option<Value>,
    #[serde(default)]
    pub store_channels: Vec<String>,
    pub builds_collection_link: Option<String>,
    pub pending_builds_collection_link: Option<String>,
    pub processors_collection_link: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct SnapBuild {
    #[serde(deserialize_with = "identity")]
    pub self_link: String,
    pub web_link: Option<String>,
    pub arch_tag: Option<String>,
    pub distro_arch_series_link: Option<String>,
    #[serde(default)]
    pub buildstate: String,
    pub store_upload_status: Option<String>,
    pub store_upload_error_message: Option<String>,
    pub build_request_link: Option<String>,
    pub datecreated: Option<String>,
}

/// Build states after which a build changes no more.
const FINAL: &[&str] = &[
    "Successfully built",
    "Failed to build",
    "Dependency wait",
    "Chroot problem",
    "Build for superseded Source",
    "Failed to upload",
    "Cancelled build",
];

/// A build state that ends a build without a usable result.
pub fn build_failed(state: &str) -> bool {
    state != "Successfully built" && FINAL.contains(&state)
}

impl SnapBuild {
    pub fn arch(&self) -> &str {
        self.arch_tag
            .as_deref()
            .or_else(|| last_segment(&self.distro_arch_series_link))
            .unwrap_or("?")
    }

    pub fn id(&self) -> &str {
        self.self_link.rsplit('/').next().unwrap_or("?")
    }

    pub fn is_final(&self) -> bool {
        FINAL.contains(&self.buildstate.as_str())
    }

    pub fn succeeded(&self) -> bool {
        self.buildstate == "Successfully built"
    }
}

impl LaunchpadClient {
    /// The architectures a snap builds for (its enabled processors);
    /// `None` when Launchpad does not say.
    pub async fn snap_processors(&self, snap: &Snap) -> Result<Option<Vec<String>>, LpError> {
        match &snap.processors_collection_link {
            Some(link) => self.processor_names(link).await.map(Some),
            None => Ok(None),
        }
    }

    pub async fn snap(&self, owner: &str, name: &str) -> Result<Snap, LpError> {
        let owner = format!("/~{}", owner.trim_start_matches('~'));
        decode(
            self.named_get(
                "/+snaps",
                "getByName",
                &[
                    ("owner", Param::Link(owner)),
                    ("name", Param::Str(name.to_string())),
                ],
            )
            .await?,
        )
    }

    /// Newest first, at most `limit`.
    pub async fn snap_builds(&self, snap: &Snap, limit: usize) -> Result<Vec<SnapBuild>, LpError> {
        let Some(link) = &snap.builds_collection_link else {
            return Ok(Vec::new());
        };
        self.entries(link, limit)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Every pending build and the newest `limit` others, newest first.
    /// Launchpad lists `builds` by start or finish time with builds not yet
    /// started *last*, so on a snap with many builds a queued one is not on
    /// the first page; its pending builds are read separately.
    pub async fn recent_snap_builds(
        &self,
        snap: &Snap,
        limit: usize,
    ) -> Result<Vec<SnapBuild>, LpError> {
        let mut all = self.pending_snap_builds(snap).await?;
        for b in self.snap_builds(snap, limit).await? {
            if !all.iter().any(|p| p.self_link == b.self_link) {
                all.push(b);
            }
        }
        let id = |b: &SnapBuild| b.id().parse::<u64>().unwrap_or(0);
        all.sort_by_key(|b| std::cmp::Reverse(id(b)));
        Ok(all)
    }

    pub async fn pending_snap_builds(&self, snap: &Snap) -> Result<Vec<SnapBuild>, LpError> {
        let Some(link) = &snap.pending_builds_collection_link else {
            return Ok(Vec::new());
        };
        self.entries(link, 300)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    pub async fn snap_build(&self, url: &str) -> Result<SnapBuild, LpError> {
        decode(self.get(url).await?)
    }

    /// Builds on every relevant arch, asynchronously (§4.3); returns the build request's URL.
    pub async fn request_snap_builds(
        &self,
        snap: &Snap,
        archive: &str,
        pocket: &str,
        channels: Option<&Value>,
    ) -> Result<String, LpError> {
        let mut params = vec![
            ("archive", Param::Link(archive.to_string())),
            ("pocket", Param::Enum(pocket.to_string())),
        ];
        if let Some(c) = channels.filter(|c| !c.is_null()) {
            params.push(("channels", Param::Json(c.clone())));
        }
        self.named_post(&snap.self_link, "requestBuilds", &params)
            .await?
            .created("requestBuilds")
    }

    /// A build request: `status` Pending → Completed | Failed, `error_message`.
    pub async fn snap_build_request(&self, url: &str) -> Result<Value, LpError> {
        self.get(url).await
    }

    /// The builds a completed request made.
    pub async fn snap_build_request_builds(&self, url: &str) -> Result<Vec<SnapBuild>, LpError> {
        self.entries(&format!("{}/builds", url.trim_end_matches('/')), 300)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// One build on one architecture (§4.2); returns the new build's URL.
    /// `distro_arch_series` is a path or link (`/ubuntu/noble/arm64`).
    pub async fn request_snap_build(
        &self,
        snap: &Snap,
        distro_arch_series: &str,
        archive: &str,
        pocket: &str,
        channels: Option<&Value>,
    ) -> Result<String, LpError> {
        let mut params = vec![
            ("archive", Param::Link(archive.to_string())),
            (
                "distro_arch_series",
                Param::Link(distro_arch_series.to_string()),
            ),
            ("pocket", Param::Enum(pocket.to_string())),
        ];
        if let Some(c) = channels.filter(|c| !c.is_null()) {
            params.push(("channels", Param::Json(c.clone())));
        }
        self.named_post(&snap.self_link, "requestBuild", &params)
            .await?
            .created("requestBuild")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn entries_without_their_identity_do_not_decode() {
        let snap = json!({ "self_link": "https://lp/~o/+snap/s", "name": "s" });
        assert_eq!(decode::<Snap>(snap.clone()).unwrap().name, "s");
        for key in ["self_link", "name"] {
            let mut missing = snap.clone();
            missing.as_object_mut().unwrap().remove(key);
            assert!(
                matches!(decode::<Snap>(missing), Err(LpError::Decode(_))),
                "{key}"
            );
            let mut empty = snap.clone();
            empty[key] = json!("");
            assert!(
                matches!(decode::<Snap>(empty), Err(LpError::Decode(_))),
                "{key}"
            );
        }
        let build = json!({ "buildstate": "Successfully built", "arch_tag": "amd64" });
        assert!(matches!(
            decode::<SnapBuild>(build),
            Err(LpError::Decode(_))
        ));
    }

    #[test]
    fn optional_fields_may_be_missing_or_null() {
        let b: SnapBuild = decode(json!({
            "self_link": "https://lp/~o/+snap/s/+build/1", "buildstate": "Needs building",
            "arch_tag": null, "future_field": 1
        }))
        .unwrap();
        assert_eq!((b.id(), b.arch(), b.web_link.as_deref()), ("1", "?", None));
        let s: Snap = decode(json!({ "self_link": "https://lp/~o/+snap/s", "name": "s" })).unwrap();
        assert!(s.store_channels.is_empty() && s.distro_series_link.is_none());
    }
}
