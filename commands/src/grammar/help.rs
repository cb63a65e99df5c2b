//! `!help` and `!help CMD`, generated from the registry.

use async_trait::async_trait;

use crate::registry::{CommandSpec, FlagKind, DRY_RUN};
use crate::{Command, Context, Invocation, Outcome, UserError};

pub struct Help;

static SPEC: CommandSpec = CommandSpec {
    name: "help",
    aliases: &["commands"],
    summary: "list what I can do, or explain one command",
    usage: "!help [COMMAND]",
    examples: &["!help", "!help jobs"],
    role: None,
    writes: false,
    flags: &[],
    positionals: (0, 1),
    positional_names: "COMMAND",
};

#[async_trait]
impl Command for Help {
    fn spec(&self) -> &CommandSpec {
        &SPEC
    }

    async fn plan(&self, inv: &Invocation, cx: &Context<'_>) -> Result<Outcome, UserError> {
        let text = match inv.positionals.first() {
            None => overview(cx),
            Some(name) => {
                let name = name.trim_start_matches('!');
                match cx.registry.lookup(name) {
                    Some(spec) => detail(spec, cx),
                    None => {
                        let hint = cx
                            .registry
                            .suggest(name)
                            .map(|s| format!(" — did you mean !{s}?"))
                            .unwrap_or_default();
                        return Err(UserError(format!("no command !{name}{hint}")));
                    }
                }
            }
        };
        Ok(Outcome::Reply(text))
    }
}

fn role_note(spec: &CommandSpec, cx: &Context<'_>) -> String {
    let mut notes = Vec::new();
    if let Some(role) = cx.policy.required_role(spec) {
        notes.push(format!("needs {role}"));
    }
    if spec.writes {
        notes.push("writes".to_string());
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" [{}]", notes.join(", "))
    }
}

fn overview(cx: &Context<'_>) -> String {
    let mut out = String::from("Shepherd commands — `!help COMMAND` for details:");
    for spec in cx.registry.specs() {
        out.push_str(&format!(
            "\n  {} — {}{}",
            spec.usage,
            spec.summary,
            role_note(spec, cx)
        ));
    }
    out.push_str(
        "\nEvery writing command takes --dry-run to show its plan without sending anything.",
    );
    out
}

fn detail(spec: &CommandSpec, cx: &Context<'_>) -> String {
    let mut out = format!("!{} — {}{}", spec.name, spec.summary, role_note(spec, cx));
    out.push_str(&format!("\nusage: {}", spec.usage));
    if !spec.aliases.is_empty() {
        let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("!{a}")).collect();
        out.push_str(&format!("\naliases: {}", aliases.join(", ")));
    }
    let dry = spec.writes.then_some(&DRY_RUN);
    for f in spec.flags.iter().chain(dry) {
        let value = match f.kind {
            FlagKind::Bool => "",
            FlagKind::Value => " V",
        };
        let rep = if f.repeatable { " (repeatable)" } else { "" };
        out.push_str(&format!("\n  --{}{value}{rep}: {}", f.name, f.help));
    }
    if !spec.examples.is_empty() {
        let ex: Vec<String> = spec.examples.iter().map(|e| format!("`{e}`")).collect();
        out.push_str(&format!("\nexamples: {}", ex.join(" · ")));
    }
    out
}
