//! Git repositories hosted on Launchpad: whether a release's tag exists.
//! `getRefByPath` answers the ref's entry, or `null` for a path the
//! repository does not have (inferred from lazr's convention for lookups
//! such as `getMilestone`; shared reference launchpad-api has no git
//! section).

use super::{LaunchpadClient, LpError, Param};

impl LaunchpadClient {
    /// Does `repository` (`~owner/project/+git/name`) have tag `tag`?
    pub async fn tag_exists(&self, repository: &str, tag: &str) -> Result<bool, LpError> {
        let path = format!("/{}", repository.trim_start_matches('/'));
        let v = self
            .named_get(
                &path,
                "getRefByPath",
                &[("path", Param::Str(format!("refs/tags/{tag}")))],
            )
            .await?;
        Ok(!v.is_null())
    }
}
