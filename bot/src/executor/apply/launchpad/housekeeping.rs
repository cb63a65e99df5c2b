//! Release housekeeping on Launchpad: milestones created and released,
//! bug tasks moved. Each step looks before it writes, so applying it again
//! (after a crash, or a second request) changes nothing twice.

use shepherd_adapters::launchpad::bugs::{BugTask, TaskUpdate};
use shepherd_adapters::launchpad::LpError;

use super::{apply_error, LaunchpadApplier};
use crate::executor::{Applied, ApplyError};

impl LaunchpadApplier {
    /// Creates the milestone unless the project has it already.
    pub async fn create_milestone(
        &self,
        project: &str,
        series: &str,
        name: &str,
        date_targeted: Option<&str>,
    ) -> Result<Applied, ApplyError> {
        if let Some(m) = self
            .client
            .milestone(project, name)
            .await
            .map_err(apply_error)?
        {
            return Ok(Applied::Done(format!(
                "{project} {name} exists already ({})",
                m.self_link
            )));
        }
        let url = self
            .client
            .new_milestone(project, series, name, date_targeted)
            .await
            .map_err(apply_error)?;
        Ok(Applied::Done(format!("created {url}")))
    }

    /// A product release for the milestone (unless it has one), then the
    /// milestone deactivated — which releasing does not do.
    pub async fn release_milestone(
        &self,
        project: &str,
        name: &str,
        date_released: &str,
    ) -> Result<Applied, ApplyError> {
        let Some(m) = self
            .client
            .milestone(project, name)
            .await
            .map_err(apply_error)?
        else {
            return Err(ApplyError::Permanent(format!(
                "{project} has no milestone {name} — `!milestone create` it first"
            )));
        };
        let mut done = Vec::new();
        if m.release_link.is_none() {
            match self
                .client
                .create_product_release(&m.self_link, date_released)
                .await
            {
                Ok(url) => done.push(format!("released ({url})")),
                // Released meanwhile (by a person, or by this step before a crash).
                Err(LpError::BadRequest { body, .. }) if body.contains("only have one") => {
                    done.push("already released".to_string())
                }
                Err(e) => return Err(apply_error(e)),
            }
        } else {
            done.push("already released".to_string());
        }
        if m.is_active {
            self.client
                .set_milestone_active(&m.self_link, false)
                .await
                .map_err(apply_error)?;
            done.push("deactivated".to_string());
        } else {
            done.push("already inactive".to_string());
        }
        Ok(Applied::Done(format!(
            "{project} {name}: {}",
            done.join(", ")
        )))
    }

    /// One task's status and/or milestone, as planned (see
    /// `update_task_as_planned`): already as wanted = done, changed by
    /// someone since planning = left alone and said so.
    pub async fn update_bug_task(&self, c: &TaskChange<'_>) -> Result<Applied, ApplyError> {
        let root = self.client.root().trim_end_matches('/');
        let path = c.task.strip_prefix(root).unwrap_or(c.task).to_string();
        // The milestone belongs to the task's project: `/maas/+bug/1` → maas.
        let project = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        let link = c.milestone.map(|m| format!("/{project}/+milestone/{m}"));
        let as_planned = |t: &BugTask| {
            let milestone = t
                .milestone_link
                .as_deref()
                .and_then(|l| l.rsplit('/').next());
            c.from_status.is_none_or(|s| t.status == s)
                && c.from_milestone.is_none_or(|m| milestone == Some(m))
        };
        let update = match c.etag {
            Some(etag) => self
                .client
                .update_task_as_planned(&path, etag, c.status, link.as_deref(), as_planned)
                .await
                .map_err(apply_error)?,
            None => TaskUpdate::Changed(
                self.client
                    .update_task(&path, c.status, link.as_deref())
                    .await
                    .map_err(apply_error)?,
            ),
        };
        let state = |t: &BugTask| {
            format!(
                "{}{}",
                t.status,
                t.milestone_link
                    .as_deref()
                    .and_then(|l| l.rsplit('/').next())
                    .map(|m| format!(", milestone {m}"))
                    .unwrap_or_default()
            )
        };
        Ok(Applied::Done(match update {
            TaskUpdate::Changed(t) => format!("now {}", state(&t)),
            TaskUpdate::Already(t) => format!("already {}", state(&t)),
            TaskUpdate::ChangedSincePlanned(t) => {
                format!("left alone: changed since planned (now {})", state(&t))
            }
        }))
    }
}

/// A planned change of one bug task, as the step holds it.
pub struct TaskChange<'a> {
    pub task: &'a str,
    pub status: Option<&'a str>,
    pub milestone: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub from_status: Option<&'a str>,
    pub from_milestone: Option<&'a str>,
}
