//! A PPA copy: sent once, then followed until Launchpad publishes it.

use super::{apply_error, LaunchpadApplier};
use crate::executor::{Applied, ApplyError, StepCall};
use shepherd_adapters::launchpad::archive::ppa_path;
use shepherd_adapters::launchpad::LpError;

impl LaunchpadApplier {
    /// Copies unless the destination already has it (first apply only),
    /// then waits until Launchpad publishes it there.
    #[allow(clippy::too_many_arguments)]
    pub async fn copy(
        &self,
        name: &str,
        version: &str,
        from: &str,
        to: &str,
        series: &str,
        include_binaries: bool,
        step: &StepCall<'_>,
    ) -> Result<Applied, ApplyError> {
        let bad = |r: &str| ApplyError::Permanent(format!("`{r}` is not a PPA"));
        let (from_path, to_path) = (
            ppa_path(from).ok_or_else(|| bad(from))?,
            ppa_path(to).ok_or_else(|| bad(to))?,
        );
        // A look that fails while following is the executor's to retry:
        // the step stays followed, and its own timeout still applies.
        let state = self
            .state_in(&to_path, name, version, series)
            .await
            .map_err(apply_error)?;
        if state.as_deref() == Some("Published") {
            let page = self.links.ppa_packages(to);
            return Ok(Applied::Done(if step.following {
                format!("{name} {version} published in ppa:{to} ({series}) · {page}")
            } else {
                format!("{name} {version} already published in ppa:{to} ({series}); not copied again · {page}")
            }));
        }
        if state.is_none() && !step.following {
            self.client
                .copy_package(
                    &to_path,
                    name,
                    version,
                    &from_path,
                    series,
                    include_binaries,
                )
                .await
                .map_err(apply_error)?;
            return self.wait(
                format!("copy of {name} {version} to ppa:{to} ({series}) requested"),
                None,
            );
        }
        if !Self::in_time(step, self.copy_timeout) {
            return Err(ApplyError::Permanent(format!(
                "{name} {version} not published in ppa:{to} ({series}) after {} min — Launchpad shows why only on the PPA's +packages page (often: that version is already there)",
                self.copy_timeout.as_secs() / 60
            )));
        }
        self.wait(
            format!(
                "{name} {version} in ppa:{to} ({series}): {}",
                state.as_deref().unwrap_or("copy requested, not listed yet")
            ),
            None,
        )
    }

    async fn state_in(
        &self,
        archive: &str,
        name: &str,
        version: &str,
        series: &str,
    ) -> Result<Option<String>, LpError> {
        let pubs = self
            .looks
            .published_sources(archive, name, Some(version), Some(series))
            .await?;
        Ok(pubs
            .iter()
            .find(|p| p.status == "Published")
            .or_else(|| pubs.iter().find(|p| p.status == "Pending"))
            .map(|p| p.status.clone()))
    }
}
