//! One line per action, for plans, `!show` and the audit log.

use super::Action;

impl Action {
    /// One line for plans, `!show` and the audit log.
    pub fn describe(&self) -> String {
        match self {
            Action::Announce { channel, text, .. } => {
                format!("announce in {channel}: {}", ellipsize(text, 60))
            }
            Action::CopyPackage {
                name,
                version,
                from,
                to,
                series,
                include_binaries,
            } => format!(
                "copy {name} {version} from ppa:{from} to ppa:{to} ({series}){}",
                if *include_binaries {
                    " with binaries"
                } else {
                    ", source only (rebuild)"
                }
            ),
            Action::RequestSnapBuild {
                owner,
                snap,
                arch,
                series,
                ..
            } => match series {
                Some(s) => format!("build snap ~{owner}/{snap} on {arch} for {s}"),
                None => format!("build snap ~{owner}/{snap} on {arch}"),
            },
            Action::RegisterWebhook {
                target,
                events,
                channel,
            } => format!(
                "register a Launchpad webhook on {target} for {}{}",
                events.join(", "),
                channel
                    .as_deref()
                    .map(|c| format!(", announced in {c}"))
                    .unwrap_or_default()
            ),
            Action::ReleaseSnap {
                snap,
                revision,
                channel,
                arch,
            } => format!("release {snap} r{revision} ({arch}) to {channel}"),
            Action::CloseChannels { snap, channels } => {
                format!("close {snap} {}", channels.join(", "))
            }
            Action::CreateMilestone {
                project,
                series,
                name,
                date_targeted,
            } => format!(
                "create milestone {project} {name} on series {series}{}",
                date_targeted
                    .as_deref()
                    .map(|d| format!(", targeted {d}"))
                    .unwrap_or_default()
            ),
            Action::ReleaseMilestone { project, name, .. } => {
                format!("release milestone {project} {name} and deactivate it")
            }
            Action::UpdateBugTask {
                bug,
                status,
                milestone,
                ..
            } => {
                let mut changes = Vec::new();
                if let Some(s) = status {
                    changes.push(format!("status {s}"));
                }
                if let Some(m) = milestone {
                    changes.push(format!("milestone {m}"));
                }
                format!("LP: #{bug} → {}", changes.join(", "))
            }
            Action::RequestAutopkgtest {
                release,
                arch,
                package,
                triggers,
                all_proposed,
                ppas,
            } => {
                let mut s = format!(
                    "test {package} on {arch} ({release}) · trigger {}",
                    triggers.join(" ")
                );
                if *all_proposed {
                    s.push_str(" · all-proposed");
                }
                for p in ppas {
                    s.push_str(&format!(" · ppa {p}"));
                }
                s
            }
        }
    }
}

fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max - 1).collect();
    format!("{cut}…")
}
