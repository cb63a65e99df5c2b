//! Milestones and releases of a project: find a milestone, create one on a
//! series, release it (`createProductRelease`), and deactivate it — which
//! releasing does not do. Facts: shared reference launchpad-api, §5.

use serde::Deserialize;
use serde_json::json;

use super::decode::{decode, identity};
use super::{LaunchpadClient, LpError, Param};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct Milestone {
    #[serde(deserialize_with = "identity")]
    pub self_link: String,
    #[serde(deserialize_with = "identity")]
    pub name: String,
    #[serde(default)]
    pub is_active: bool,
    pub date_targeted: Option<String>,
    pub release_link: Option<String>,
}

impl LaunchpadClient {
    /// `None` when the project has no milestone of that name (Launchpad answers `null`).
    pub async fn milestone(&self, project: &str, name: &str) -> Result<Option<Milestone>, LpError> {
        let v = self
            .named_get(
                &format!("/{project}"),
                "getMilestone",
                &[("name", Param::Str(name.into()))],
            )
            .await?;
        if v.is_null() {
            return Ok(None);
        }
        decode(v).map(Some)
    }

    /// Every milestone of the project, active or not.
    pub async fn milestones(&self, project: &str) -> Result<Vec<Milestone>, LpError> {
        let first = self.url(&format!("/{project}/all_milestones"));
        self.entries(&first, 500)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Creates a milestone on a project series; returns its URL.
    pub async fn new_milestone(
        &self,
        project: &str,
        series: &str,
        name: &str,
        date_targeted: Option<&str>,
    ) -> Result<String, LpError> {
        let mut params = vec![("name", Param::Str(name.into()))];
        if let Some(d) = date_targeted {
            params.push(("date_targeted", Param::Str(d.into())));
        }
        self.named_post(&format!("/{project}/{series}"), "newMilestone", &params)
            .await?
            .created("newMilestone")
    }

    /// Releases a milestone (`date_released` in UTC, ISO 8601); returns the release's URL.
    pub async fn create_product_release(
        &self,
        milestone: &str,
        date_released: &str,
    ) -> Result<String, LpError> {
        let params = [("date_released", Param::Str(date_released.into()))];
        self.named_post(milestone, "createProductRelease", &params)
            .await?
            .created("createProductRelease")
    }

    /// Releasing does not deactivate: this does (PATCH `is_active`).
    pub async fn set_milestone_active(
        &self,
        milestone: &str,
        active: bool,
    ) -> Result<Milestone, LpError> {
        decode(
            self.patch(milestone, |_| json!({ "is_active": active }))
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn entries_without_their_identity_do_not_decode() {
        let m =
            json!({ "self_link": "https://lp/maas/+milestone/1", "name": "1", "is_active": true });
        assert!(decode::<Milestone>(m.clone()).unwrap().is_active);
        for key in ["self_link", "name"] {
            let mut missing = m.clone();
            missing.as_object_mut().unwrap().remove(key);
            assert!(
                matches!(decode::<Milestone>(missing), Err(LpError::Decode(_))),
                "{key}"
            );
        }
    }
}
