//! Release housekeeping on Launchpad: milestones created and released,
//! bug tasks moved. Each step looks before it writes, so applying it again
//! (after a crash, or a second request) changes nothing twice.

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
    /// `update_task_as_planned`: a task already as wanted is done).
    pub async fn update_bug_task(
        &self,
        task: &str,
        status: Option<&str>,
        milestone: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Applied, ApplyError> {
        let root = self.client.root().trim_end_matches('/');
        let path = task.strip_prefix(root).unwrap_or(task).to_string();
        // The milestone belongs to the task's project: `/maas/+bug/1` → maas.
        let project = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        let link = milestone.map(|m| format!("/{project}/+milestone/{m}"));
        let (t, changed) = match etag {
            Some(etag) => self
                .client
                .update_task_as_planned(&path, etag, status, link.as_deref())
                .await
                .map_err(apply_error)?,
            None => (
                self.client
                    .update_task(&path, status, link.as_deref())
                    .await
                    .map_err(apply_error)?,
                true,
            ),
        };
        let state = format!(
            "{}{}",
            t.status,
            t.milestone_link
                .as_deref()
                .and_then(|l| l.rsplit('/').next())
                .map(|m| format!(", milestone {m}"))
                .unwrap_or_default()
        );
        Ok(Applied::Done(if changed {
            format!("now {state}")
        } else {
            format!("already {state}")
        }))
    }
}
