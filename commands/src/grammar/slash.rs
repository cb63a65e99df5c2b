//! Slash commands from the registry: the same declarations as the grammar
//! and `!help`, so the command picker can never offer what `!` refuses.
//!
//! Positionals become options named after the usage's words (`PKG` →
//! `pkg`; `create|release|list` → `action` with those choices; `…` →
//! `args`), the last one taking the rest of the words when the command
//! accepts more; value flags become text options, `--flag` switches
//! boolean ones. An invocation is rendered back to the `!` text it stands
//! for and parsed like any message, so both forms make the same plan.

use shepherd_adapters::chat::slash::{
    SlashCommand, SlashInvocation, SlashKind, SlashOption, SlashValue,
};

use super::parse::quote;
use super::registry::{CommandSpec, FlagKind, Registry, DRY_RUN};

/// Platforms cap a description at 100 characters and options at 25.
const MAX_DESCRIPTION: usize = 100;
const MAX_OPTIONS: usize = 25;

/// One slash command per registered command (aliases are `!` shorthands).
pub fn declarations(registry: &Registry) -> Vec<SlashCommand> {
    registry.specs().map(declare).collect()
}

fn declare(spec: &CommandSpec) -> SlashCommand {
    let mut options: Vec<SlashOption> = positionals(spec)
        .into_iter()
        .enumerate()
        .map(|(i, p)| SlashOption {
            name: p.name,
            description: clip(&format!("{} — {}", p.word, spec.usage)),
            kind: SlashKind::Text,
            required: i < spec.positionals.0,
            choices: p.choices,
        })
        .collect();
    let dry_run = spec.writes.then_some(&DRY_RUN);
    for flag in spec.flags.iter().chain(dry_run) {
        let more = if flag.repeatable {
            " (several: separate with spaces)"
        } else {
            ""
        };
        options.push(SlashOption {
            name: flag.name.to_string(),
            description: clip(&format!("{}{more}", flag.help)),
            kind: match flag.kind {
                FlagKind::Bool => SlashKind::Switch,
                FlagKind::Value => SlashKind::Text,
            },
            required: false,
            choices: Vec::new(),
        });
    }
    // Required first, as platforms insist; the order is otherwise kept.
    options.sort_by_key(|o| !o.required);
    options.truncate(MAX_OPTIONS);
    SlashCommand {
        name: spec.name.to_string(),
        description: clip(spec.summary),
        options,
    }
}

struct Positional {
    /// As usage writes it (`PKG`, `create|release|list`).
    word: String,
    name: String,
    choices: Vec<String>,
    /// Takes every remaining word, unquoted.
    rest: bool,
}

fn positionals(spec: &CommandSpec) -> Vec<Positional> {
    let words: Vec<&str> = spec.positional_names.split_whitespace().collect();
    let count = words.len();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let last = i + 1 == count;
            let rest = *w == "…" || (last && spec.positionals.1 > count);
            let literal = w.chars().any(|c| c.is_ascii_lowercase());
            let (name, choices) = if *w == "…" {
                ("args".to_string(), Vec::new())
            } else if literal {
                let choices = w.split('|').map(str::to_string).collect();
                ("action".to_string(), choices)
            } else {
                (w.to_ascii_lowercase(), Vec::new())
            };
            Positional {
                word: w.to_string(),
                name,
                choices,
                rest,
            }
        })
        .collect()
}

/// The `!` text an invocation stands for; `None` if no such command.
pub fn to_text(registry: &Registry, inv: &SlashInvocation) -> Option<String> {
    let spec = registry.lookup(&inv.name)?;
    let value = |name: &str| inv.options.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let mut out = format!("!{}", spec.name);
    for p in positionals(spec) {
        let Some(SlashValue::Text(v)) = value(&p.name) else {
            continue;
        };
        out.push(' ');
        // The rest is words the user typed as they would after `!`.
        out.push_str(&if p.rest {
            v.trim().to_string()
        } else {
            quote(v)
        });
    }
    let dry_run = spec.writes.then_some(&DRY_RUN);
    for flag in spec.flags.iter().chain(dry_run) {
        match value(flag.name) {
            Some(SlashValue::Switch(true)) => out.push_str(&format!(" --{}", flag.name)),
            Some(SlashValue::Text(v)) if flag.repeatable => {
                for one in v.split(|c: char| c.is_whitespace() || c == ',') {
                    if !one.is_empty() {
                        out.push_str(&format!(" --{} {}", flag.name, quote(one)));
                    }
                }
            }
            Some(SlashValue::Text(v)) => out.push_str(&format!(" --{} {}", flag.name, quote(v))),
            _ => {}
        }
    }
    Some(out)
}

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_DESCRIPTION - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Parsed};

    fn registry() -> Registry {
        Registry::new(crate::builtins()).expect("builtins")
    }

    fn text(pairs: &[(&str, &str)]) -> Vec<(String, SlashValue)> {
        pairs
            .iter()
            .map(|(n, v)| match *v {
                "true" => (n.to_string(), SlashValue::Switch(true)),
                "false" => (n.to_string(), SlashValue::Switch(false)),
                v => (n.to_string(), SlashValue::Text(v.to_string())),
            })
            .collect()
    }

    #[test]
    fn every_command_is_declared_within_the_platform_limits() {
        let r = registry();
        let decls = declarations(&r);
        assert_eq!(decls.len(), r.specs().count());
        for d in &decls {
            assert!((1..=32).contains(&d.name.len()), "{}", d.name);
            assert!((1..=MAX_DESCRIPTION).contains(&d.description.chars().count()));
            assert!(d.options.len() <= MAX_OPTIONS);
            let mut names: Vec<&str> = d.options.iter().map(|o| o.name.as_str()).collect();
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                d.options.len(),
                "{}: option names repeat",
                d.name
            );
            let first_optional = d.options.iter().position(|o| !o.required);
            let last_required = d.options.iter().rposition(|o| o.required);
            if let (Some(f), Some(l)) = (first_optional, last_required) {
                assert!(l < f, "{}: a required option after an optional one", d.name);
            }
            for o in &d.options {
                let valid = o
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
                assert!(
                    valid && !o.name.is_empty(),
                    "{}: option `{}`",
                    d.name,
                    o.name
                );
                assert!((1..=MAX_DESCRIPTION).contains(&o.description.chars().count()));
            }
        }
    }

    #[test]
    fn declarations_follow_usage_and_flags() {
        let r = registry();
        let decls = declarations(&r);
        let retry = decls.iter().find(|d| d.name == "retry").expect("retry");
        assert_eq!(retry.options[0].name, "pkg");
        assert!(retry.options[0].required);
        let dry = retry
            .options
            .iter()
            .find(|o| o.name == "dry-run")
            .expect("dry-run");
        assert_eq!(dry.kind, SlashKind::Switch);
        let bugs = decls.iter().find(|d| d.name == "bugs").expect("bugs");
        assert_eq!(bugs.options[0].name, "action");
        assert_eq!(bugs.options[0].choices, ["move-done", "release", "list"]);
        assert_eq!(
            bugs.options
                .iter()
                .map(|o| (o.name.as_str(), o.required))
                .take(3)
                .collect::<Vec<_>>(),
            [("action", true), ("project", true), ("args", true)]
        );
        let why = decls.iter().find(|d| d.name == "why").expect("why");
        assert!(
            !why.options.iter().any(|o| o.name == "dry-run"),
            "why writes nothing"
        );
    }

    /// Each row: a slash invocation and the `!` text that must parse to
    /// the very same invocation.
    #[test]
    fn an_invocation_parses_like_its_bang_form() {
        let r = registry();
        let rows: &[(&str, &[(&str, &str)], &str)] = &[
            ("retry", &[("pkg", "hello"), ("dry-run", "true")], "!retry hello --dry-run"),
            ("retry", &[("pkg", "hello"), ("dry-run", "false")], "!retry hello"),
            (
                "copy",
                &[("pkg", "maas 1:3.6.0-1"), ("from", "maas/3.6-next"), ("to", "maas/3.6"), ("series", "noble, jammy")],
                "!copy maas 1:3.6.0-1 --from maas/3.6-next --to maas/3.6 --series noble --series jammy",
            ),
            ("bugs", &[("action", "list"), ("project", "maas"), ("args", "3.6.0-beta1")], "!bugs list maas 3.6.0-beta1"),
            ("announce", &[("channel", "#release"), ("text", "freeze at 18:00 \"UTC\"")], "!announce #release freeze at 18:00 \"UTC\""),
            ("why", &[("pkg", "a b")], "!why \"a b\""),
            ("watch", &[("kind", "package"), ("name", "hello")], "!watch package hello"),
            ("help", &[], "!help"),
        ];
        for (name, options, bang) in rows {
            let inv = SlashInvocation {
                name: name.to_string(),
                options: text(options),
            };
            let rendered = to_text(&r, &inv).expect(name);
            let (Parsed::Command(a), Parsed::Command(b)) = (parse(&rendered, &r), parse(bang, &r))
            else {
                panic!("{name}: `{rendered}` or `{bang}` is not a command");
            };
            assert_eq!(a, b, "{name}: `{rendered}` vs `{bang}`");
        }
        let unknown = SlashInvocation {
            name: "nosuch".into(),
            options: vec![],
        };
        assert_eq!(to_text(&r, &unknown), None);
    }
}
