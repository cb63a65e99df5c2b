//! Bugs and their tasks: search a target's tasks, move a task's status or
//! milestone, and retag a bug. Every change is a PATCH with `If-Match`,
//! computed from the entry as read so a retry after a 412 applies to fresh
//! data. Facts: shared reference launchpad-api, §6.

use serde::Deserialize;
use serde_json::{json, Value};

use super::decode::{decode, identity};
use super::{LaunchpadClient, LpError, Param};

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
    /// As read: `If-Match` for a change planned from this read.
    pub http_etag: Option<String>,
}

/// What a planned task change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskUpdate {
    Changed(BugTask),
    /// It was as wanted already (e.g. this change, sent before a crash).
    Already(BugTask),
    /// Someone changed it since it was planned: left alone.
    ChangedSincePlanned(BugTask),
}

impl LaunchpadClient {
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
        self.named_entries(target, "searchTasks", &params, 10_000)
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

    /// Sets a task's status and/or milestone (a milestone *link*) as
    /// planned: one PATCH with the ETag read when planning. A 412 means the
    /// task changed since: it is read again; already as wanted = nothing
    /// sent; no longer `as_planned` (someone reopened or moved it) = left
    /// alone; else changed. So a repeat after a crash sends nothing twice,
    /// and a person's change wins over the plan.
    pub async fn update_task_as_planned(
        &self,
        task: &str,
        etag: &str,
        status: Option<&str>,
        milestone_link: Option<&str>,
        as_planned: impl Fn(&BugTask) -> bool,
    ) -> Result<TaskUpdate, LpError> {
        let mut changes = serde_json::Map::new();
        if let Some(s) = status {
            changes.insert("status".into(), json!(s));
        }
        if let Some(m) = milestone_link {
            changes.insert("milestone_link".into(), json!(self.url(m)));
        }
        match self
            .patch_if_match(task, etag, &Value::Object(changes))
            .await
        {
            Ok(v) => Ok(TaskUpdate::Changed(decode(v)?)),
            Err(LpError::PreconditionFailed { .. }) => {
                let now: BugTask = decode(self.get(task).await?)?;
                let wanted_status = status.is_none_or(|s| now.status == s);
                let wanted_milestone = milestone_link.is_none_or(|m| {
                    now.milestone_link
                        .as_deref()
                        .is_some_and(|l| l.ends_with(m.trim_start_matches('/')))
                });
                if wanted_status && wanted_milestone {
                    return Ok(TaskUpdate::Already(now));
                }
                if !as_planned(&now) {
                    return Ok(TaskUpdate::ChangedSincePlanned(now));
                }
                let t = self.update_task(task, status, milestone_link).await?;
                Ok(TaskUpdate::Changed(t))
            }
            Err(e) => Err(e),
        }
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
    fn tasks_without_their_identity_do_not_decode() {
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
