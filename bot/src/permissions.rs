//! Who may run what, where. Roles come from config; each command declares
//! the role it needs and config may override it or limit it to channels.
//! When a check cannot decide (a role nobody defined), it denies.

use std::collections::BTreeMap;

use shepherd_adapters::chat::Incoming;
use shepherd_commands::{CommandSpec, Policy};

use crate::config::{CommandPolicy, Config, RoleConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NeedsRole {
        role: String,
        ask: Option<String>,
        holders: Vec<String>,
    },
    /// The command needs a role this deployment never defined, or
    /// defined with no members: nobody may.
    NoOneHolds {
        role: String,
        /// `[roles.ROLE]` exists but lists nobody.
        defined: bool,
    },
    WrongChannel {
        allowed: Vec<String>,
    },
    /// Config keeps this command out of direct messages.
    NotInDirect {
        ask: Option<String>,
    },
}

/// Who asks, where: the identities a role may be granted to (the person,
/// and the platform groups they are in) and the channel.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub actor: &'a str,
    pub groups: &'a [String],
    pub channel: &'a str,
    pub direct: bool,
}

impl<'a> From<&'a Incoming> for Caller<'a> {
    fn from(m: &'a Incoming) -> Self {
        Self {
            actor: &m.actor,
            groups: &m.groups,
            channel: &m.channel,
            direct: m.direct,
        }
    }
}

impl Caller<'_> {
    fn is(&self, identity: &str) -> bool {
        self.actor == identity || self.groups.iter().any(|g| g == identity)
    }
}

/// An identity as a person reads it: `console:alice` → alice; on Discord a
/// mention, which names without pinging (the bot sends no mentions).
fn shown(identity: &str) -> String {
    match identity.split_once(':') {
        Some(("discord", id)) => format!("<@{id}>"),
        Some(("discord-role", id)) => format!("<@&{id}>"),
        Some((_, id)) => id.to_string(),
        None => identity.to_string(),
    }
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
            Refusal::NoOneHolds {
                role,
                defined: false,
            } => format!(
                "!{command} needs the {role} role, which nobody holds here — an operator must add [roles.{role}] to the config"
            ),
            Refusal::NoOneHolds {
                role,
                defined: true,
            } => format!(
                "!{command} needs the {role} role, which nobody holds here — an operator must add members to [roles.{role}] in the config"
            ),
            Refusal::WrongChannel { allowed } => {
                format!("!{command} is only available in {}", allowed.join(", "))
            }
            Refusal::NotInDirect { ask } => match ask {
                Some(ask) => format!("!{command} is not available in direct messages — ask in {ask}"),
                None => format!("!{command} is not available in direct messages — ask in a channel"),
            },
        }
    }

    /// Short form for the audit log.
    pub fn audit_detail(&self) -> String {
        match self {
            Refusal::NeedsRole { role, .. } => format!("needs role {role}"),
            Refusal::NoOneHolds {
                role,
                defined: false,
            } => format!("role {role} undefined"),
            Refusal::NoOneHolds {
                role,
                defined: true,
            } => format!("role {role} has no members"),
            Refusal::WrongChannel { .. } => "wrong channel".to_string(),
            Refusal::NotInDirect { .. } => "not in direct messages".to_string(),
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

    /// Whether config asks for every plan of this command to be confirmed.
    pub fn forces_confirm(&self, spec: &CommandSpec) -> bool {
        self.policies.get(spec.name).is_some_and(|p| p.confirm)
    }

    /// May the caller run `spec` where they are?
    pub fn check(&self, caller: Caller<'_>, spec: &CommandSpec) -> Result<(), Refusal> {
        let role = self.required_role(spec);
        self.check_place(caller, spec.name, role.as_deref())?;
        match role {
            None => Ok(()),
            Some(role) => self.check_role(caller, &role),
        }
    }

    /// Is `command` (needing `role`) allowed where the caller is: in a DM,
    /// in this channel? Also asked when confirming a plan of that command.
    pub fn check_place(
        &self,
        caller: Caller<'_>,
        command: &str,
        role: Option<&str>,
    ) -> Result<(), Refusal> {
        let Some(policy) = self.policies.get(command) else {
            return Ok(());
        };
        if caller.direct && policy.dm == Some(false) {
            let ask = role.and_then(|r| self.roles.get(r)?.ask.clone());
            return Err(Refusal::NotInDirect { ask });
        }
        if !policy.channels.is_empty() && !policy.channels.iter().any(|c| c == caller.channel) {
            return Err(Refusal::WrongChannel {
                allowed: policy.channels.clone(),
            });
        }
        Ok(())
    }

    /// Does the caller (or a group they are in) hold `role`? The refusal
    /// says who to ask if not.
    pub fn check_role(&self, caller: Caller<'_>, role: &str) -> Result<(), Refusal> {
        let rc = match self.roles.get(role) {
            Some(rc) if !rc.members.is_empty() => rc,
            found => {
                return Err(Refusal::NoOneHolds {
                    role: role.to_string(),
                    defined: found.is_some(),
                })
            }
        };
        if rc.members.iter().any(|m| caller.is(m)) {
            return Ok(());
        }
        Err(Refusal::NeedsRole {
            role: role.to_string(),
            ask: rc.ask.clone(),
            holders: rc.members.iter().map(|m| shown(m)).collect(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CommandPolicy, RoleConfig};

    static RETRY: CommandSpec = CommandSpec {
        name: "retry",
        aliases: &[],
        summary: "",
        usage: "",
        examples: &[],
        role: Some("release-team"),
        writes: true,
        flags: &[],
        positionals: (1, 1),
        positional_names: "PKG",
    };

    fn permissions(dm: Option<bool>) -> Permissions {
        let role = RoleConfig {
            members: vec!["discord:42".into(), "discord-role:7".into()],
            ask: Some("#release".into()),
        };
        let policy = CommandPolicy {
            dm,
            ..CommandPolicy::default()
        };
        Permissions {
            roles: [("release-team".to_string(), role)].into(),
            policies: [("retry".to_string(), policy)].into(),
        }
    }

    fn caller<'a>(actor: &'a str, groups: &'a [String], direct: bool) -> Caller<'a> {
        Caller {
            actor,
            groups,
            channel: "#release",
            direct,
        }
    }

    #[test]
    fn a_role_is_held_in_person_or_through_a_discord_role() {
        let p = permissions(None);
        let role7 = ["discord-role:7".to_string()];
        let role8 = ["discord-role:8".to_string()];
        let rows: &[(&str, &[String], bool)] = &[
            ("discord:42", &[], true),
            ("discord:43", &role7, true),
            ("discord:43", &role8, false),
            ("discord:43", &[], false),
        ];
        for (actor, groups, ok) in rows {
            let got = p.check(caller(actor, groups, false), &RETRY);
            assert_eq!(got.is_ok(), *ok, "{actor} {groups:?}: {got:?}");
        }
        let refusal = p
            .check(caller("discord:43", &[], false), &RETRY)
            .unwrap_err();
        let text = refusal.message("retry");
        assert!(text.contains("release-team: <@42>, <@&7>"), "{text}");
    }

    #[test]
    fn a_role_nobody_holds_is_refused_with_what_an_operator_must_do() {
        let mut p = permissions(None);
        let anyone = caller("discord:42", &[], false);
        p.policies.clear();
        let rows: &[(Option<Vec<String>>, &str, &str)] = &[
            (
                None,
                "an operator must add [roles.release-team] to the config",
                "role release-team undefined",
            ),
            (
                Some(Vec::new()),
                "an operator must add members to [roles.release-team] in the config",
                "role release-team has no members",
            ),
        ];
        for (members, says, audit) in rows {
            p.roles.clear();
            if let Some(members) = members {
                let role = RoleConfig {
                    members: members.clone(),
                    ask: None,
                };
                p.roles.insert("release-team".into(), role);
            }
            let refusal = p.check(anyone, &RETRY).unwrap_err();
            assert!(refusal.message("retry").ends_with(says), "{refusal:?}");
            assert_eq!(refusal.audit_detail(), *audit);
        }
    }

    #[test]
    fn direct_messages_follow_the_command_policy() {
        let no = permissions(Some(false));
        let refusal = no
            .check(caller("discord:42", &[], true), &RETRY)
            .unwrap_err();
        assert_eq!(
            refusal.message("retry"),
            "!retry is not available in direct messages — ask in #release"
        );
        assert!(no.check(caller("discord:42", &[], false), &RETRY).is_ok());
        assert!(permissions(None)
            .check(caller("discord:42", &[], true), &RETRY)
            .is_ok());
    }
}
