//! Who may run what, where. Roles come from config; each command declares
//! the role it needs and config may override it or limit it to channels.
//! When a check cannot decide (a role nobody defined), it denies.

use std::collections::BTreeMap;

use shepherd_commands::{CommandSpec, Policy};

use crate::config::{CommandPolicy, Config, RoleConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NeedsRole {
        role: String,
        ask: Option<String>,
        holders: Vec<String>,
    },
    /// The command needs a role this deployment never defined: nobody may.
    NoOneHolds {
        role: String,
    },
    WrongChannel {
        allowed: Vec<String>,
    },
}

impl Refusal {
    /// The polite reply: what is missing and who to ask.
    pub fn message(&self, command: &str) -> String {
        match self {
            Refusal::NeedsRole { role, ask, holders } => {
                let mut who = Vec::new();
                if let Some(ask) = ask {
                    who.push(format!("ask in {ask}"));
                }
                if !holders.is_empty() {
                    who.push(format!("{role}: {}", holders.join(", ")));
                }
                let who = if who.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", who.join("; "))
                };
                format!("you need the {role} role for !{command} here{who} — see `!help {command}`")
            }
            Refusal::NoOneHolds { role } => format!(
                "!{command} needs the {role} role, which nobody holds here — an operator must add [roles.{role}] to the config"
            ),
            Refusal::WrongChannel { allowed } => {
                format!("!{command} is only available in {}", allowed.join(", "))
            }
        }
    }

    /// Short form for the audit log.
    pub fn audit_detail(&self) -> String {
        match self {
            Refusal::NeedsRole { role, .. } => format!("needs role {role}"),
            Refusal::NoOneHolds { role } => format!("role {role} undefined"),
            Refusal::WrongChannel { .. } => "wrong channel".to_string(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Permissions {
    roles: BTreeMap<String, RoleConfig>,
    policies: BTreeMap<String, CommandPolicy>,
}

impl Permissions {
    pub fn from_config(config: &Config) -> Self {
        Self {
            roles: config.roles.clone(),
            policies: config.commands.clone(),
        }
    }

    pub fn holds(&self, actor: &str, role: &str) -> bool {
        self.roles
            .get(role)
            .is_some_and(|r| r.members.iter().any(|m| m == actor))
    }

    /// Whether config asks for every plan of this command to be confirmed.
    pub fn forces_confirm(&self, spec: &CommandSpec) -> bool {
        self.policies.get(spec.name).is_some_and(|p| p.confirm)
    }

    /// May `actor` run `spec` in `channel`?
    pub fn check(&self, actor: &str, channel: &str, spec: &CommandSpec) -> Result<(), Refusal> {
        if let Some(policy) = self.policies.get(spec.name) {
            if !policy.channels.is_empty() && !policy.channels.iter().any(|c| c == channel) {
                return Err(Refusal::WrongChannel {
                    allowed: policy.channels.clone(),
                });
            }
        }
        match self.required_role(spec) {
            None => Ok(()),
            Some(role) => self.check_role(actor, &role),
        }
    }

    /// Does `actor` hold `role`? The refusal says who to ask if not.
    pub fn check_role(&self, actor: &str, role: &str) -> Result<(), Refusal> {
        let Some(rc) = self.roles.get(role) else {
            return Err(Refusal::NoOneHolds {
                role: role.to_string(),
            });
        };
        if rc.members.iter().any(|m| m == actor) {
            return Ok(());
        }
        Err(Refusal::NeedsRole {
            role: role.to_string(),
            ask: rc.ask.clone(),
            holders: rc
                .members
                .iter()
                .map(|m| {
                    m.split_once(':')
                        .map_or(m.as_str(), |(_, id)| id)
                        .to_string()
                })
                .collect(),
        })
    }
}

impl Policy for Permissions {
    fn required_role(&self, spec: &CommandSpec) -> Option<String> {
        let role = match self.policies.get(spec.name).and_then(|p| p.role.as_deref()) {
            Some(r) => r,
            None => spec.role?,
        };
        (role != "none").then(|| role.to_string())
    }
}
