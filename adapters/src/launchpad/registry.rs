//! Milestones, releases and bugs (shared reference launchpad-api, §5–§6):
//! what release housekeeping needs — create a milestone, release it,
//! deactivate it, find and move bug tasks, retag bugs.

use serde::Deserialize;
use serde_json::{json, Value};

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

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct BugTask {
    #[serde(deserialize_with = "identity")]
    pub self_link: String,
    /// The bug this task belongs to: as much its identity as `self_link`.
    #[serde(deserialize_with = "identity")]
    pub bug_link: String,
    #[serde(default)]
    pub status: String,
    pub importance: Option<String>,
    pub milestone_link: Option<String>,
    pub title: Option<String>,
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

    /// Bug tasks of a target; with no `statuses`, Launchpad returns only unresolved ones.
    pub async fn search_tasks(
        &self,
        target: &str,
        statuses: &[&str],
        tags: &[&str],
        milestone: Option<&str>,
    ) -> Result<Vec<BugTask>, LpError> {
        let mut params = Vec::new();
        if !statuses.is_empty() {
            params.push((
                "status",
                Param::List(statuses.iter().map(|s| s.to_string()).collect()),
            ));
        }
        if !tags.is_empty() {
            params.push((
                "tags",
                Param::List(tags.iter().map(|s| s.to_string()).collect()),
            ));
        }
        if let Some(m) = milestone {
            params.push(("milestone", Param::Link(m.into())));
        }
        self.named_entries(target, "searchTasks", &params, 1000)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Sets a task's status and/or milestone (only the fields given are sent).
    pub async fn update_task(
        &self,
        task: &str,
        status: Option<&str>,
        milestone: Option<&str>,
    ) -> Result<BugTask, LpError> {
        let milestone = milestone.map(|m| self.url(m));
        decode(
            self.patch(task, |_| {
                let mut changes = serde_json::Map::new();
                if let Some(s) = status {
                    changes.insert("status".into(), json!(s));
                }
                if let Some(m) = &milestone {
                    changes.insert("milestone_link".into(), json!(m));
                }
                Value::Object(changes)
            })
            .await?,
        )
    }

    /// Adds and removes tags on a bug. PATCH replaces the whole list, so it
    /// is computed from the bug as read, and recomputed after a 412.
    pub async fn retag_bug(
        &self,
        bug: &str,
        add: &[&str],
        remove: &[&str],
    ) -> Result<Vec<String>, LpError> {
        let updated = self
            .patch(bug, |entry| {
                let mut tags: Vec<String> = entry["tags"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                tags.retain(|t| !remove.contains(&t.as_str()));
                for t in add {
                    if !tags.iter().any(|x| x == t) {
                        tags.push(t.to_string());
                    }
                }
                json!({ "tags": tags })
            })
            .await?;
        Ok(updated["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
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
        let task = json!({ "self_link": "https://lp/maas/+bug/1", "bug_link": "https://lp/bugs/1", "status": "New" });
        assert_eq!(decode::<BugTask>(task.clone()).unwrap().status, "New");
        for key in ["self_link", "bug_link"] {
            let mut missing = task.clone();
            missing.as_object_mut().unwrap().remove(key);
            assert!(
                matches!(decode::<BugTask>(missing), Err(LpError::Decode(_))),
                "{key}"
            );
        }
    }
}
