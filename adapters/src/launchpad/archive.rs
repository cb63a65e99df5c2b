//! PPAs and what is published in them: a PPA by reference, source and
//! binary publications (exact names only), and copies into a PPA
//! (`copyPackage`, `syncSources`). Copies are asynchronous: a copy's answer
//! only means queued, so callers follow it with `published_sources`.
//! Facts: shared reference launchpad-api, §3.

use serde::Deserialize;
use serde_json::Value;

use super::decode::{decode, identity, last_segment};
use super::{LaunchpadClient, LpError, Param};

/// `/~owner/+archive/ubuntu/name` from `owner/name`.
pub fn ppa_path(reference: &str) -> Option<String> {
    let (owner, name) = reference.trim_start_matches('~').split_once('/')?;
    (!owner.is_empty() && !name.is_empty() && !name.contains('/'))
        .then(|| format!("/~{owner}/+archive/ubuntu/{name}"))
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct SourcePublication {
    #[serde(deserialize_with = "identity")]
    pub self_link: String,
    #[serde(deserialize_with = "identity")]
    pub source_package_name: String,
    #[serde(deserialize_with = "identity")]
    pub source_package_version: String,
    /// `Pending`, `Published`, `Superseded`, `Deleted`, `Obsolete`.
    #[serde(default)]
    pub status: String,
    pub distro_series_link: Option<String>,
    pub pocket: Option<String>,
}

impl SourcePublication {
    pub fn series(&self) -> Option<&str> {
        last_segment(&self.distro_series_link)
    }
}

/// Where a copy goes: PPAs take copies into pocket Release only (§3.4).
fn copy_target(from: &str, series: &str, include_binaries: bool) -> [(&'static str, Param); 4] {
    [
        ("from_archive", Param::Link(from.to_string())),
        ("to_pocket", Param::Enum("Release".into())),
        ("to_series", Param::Str(series.to_string())),
        ("include_binaries", Param::Bool(include_binaries)),
    ]
}

impl LaunchpadClient {
    /// Publications of exactly `name` (never the substring search, §3.3).
    pub async fn published_sources(
        &self,
        archive: &str,
        name: &str,
        version: Option<&str>,
        series: Option<&str>,
    ) -> Result<Vec<SourcePublication>, LpError> {
        let mut params = vec![
            ("source_name", Param::Str(name.to_string())),
            ("exact_match", Param::Bool(true)),
        ];
        if let Some(v) = version {
            params.push(("version", Param::Str(v.to_string())));
        }
        if let Some(s) = series {
            params.push(("distro_series", Param::Link(format!("/ubuntu/{s}"))));
        }
        self.sources(archive, &params, 300).await
    }

    async fn sources(
        &self,
        archive: &str,
        params: &[(&str, Param)],
        limit: usize,
    ) -> Result<Vec<SourcePublication>, LpError> {
        self.named_entries(archive, "getPublishedSources", params, limit)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Every Published source in `archive` for `series`.
    pub async fn published_in_series(
        &self,
        archive: &str,
        series: &str,
    ) -> Result<Vec<SourcePublication>, LpError> {
        let params = [
            ("status", Param::Enum("Published".into())),
            ("distro_series", Param::Link(format!("/ubuntu/{series}"))),
        ];
        self.sources(archive, &params, 1000).await
    }

    /// Queues an asynchronous copy into a PPA (pocket Release, §3.4). 200
    /// only means queued: follow it with `published_sources` on `to`.
    pub async fn copy_package(
        &self,
        to: &str,
        name: &str,
        version: &str,
        from: &str,
        series: &str,
        include_binaries: bool,
    ) -> Result<(), LpError> {
        self.named_post(
            to,
            "copyPackage",
            &[
                [
                    ("source_name", Param::Str(name.to_string())),
                    ("version", Param::Str(version.to_string())),
                ]
                .as_slice(),
                &copy_target(from, series, include_binaries),
            ]
            .concat(),
        )
        .await
        .map(|_| ())
    }

    /// A PPA entry from `owner/name`.
    pub async fn ppa(&self, reference: &str) -> Result<Value, LpError> {
        let path = ppa_path(reference)
            .ok_or_else(|| LpError::Invalid(format!("`{reference}` is not OWNER/NAME")))?;
        self.get(&path).await
    }

    /// The processors a PPA builds for; `None` when there is no such PPA.
    pub async fn ppa_processors(&self, reference: &str) -> Result<Option<Vec<String>>, LpError> {
        let entry = match self.ppa(reference).await {
            Ok(e) => e,
            Err(LpError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        match entry["processors_collection_link"].as_str() {
            Some(link) => self.processor_names(link).await.map(Some),
            None => Ok(Some(Vec::new())),
        }
    }

    /// The older bulk copy (§3.4): the latest publication of each source in `from`.
    pub async fn sync_sources(
        &self,
        to: &str,
        names: &[String],
        from: &str,
        series: &str,
        include_binaries: bool,
    ) -> Result<(), LpError> {
        self.named_post(
            to,
            "syncSources",
            &[
                [("source_names", Param::List(names.to_vec()))].as_slice(),
                &copy_target(from, series, include_binaries),
            ]
            .concat(),
        )
        .await
        .map(|_| ())
    }

    /// Binary publications of exactly `name` (§3.3).
    pub async fn published_binaries(
        &self,
        archive: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<Value>, LpError> {
        let mut params = vec![
            ("binary_name", Param::Str(name.to_string())),
            ("exact_match", Param::Bool(true)),
        ];
        if let Some(v) = version {
            params.push(("version", Param::Str(v.to_string())));
        }
        self.named_entries(archive, "getPublishedBinaries", &params, 300)
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn publications_without_their_identity_do_not_decode() {
        let publication = json!({
            "source_package_name": "hello", "source_package_version": "1", "status": "Published"
        });
        assert!(matches!(
            decode::<SourcePublication>(publication),
            Err(LpError::Decode(_))
        ));
    }
}
