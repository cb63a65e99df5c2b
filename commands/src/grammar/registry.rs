//! The command registry: every command declares its name, aliases, usage,
//! examples, the role it needs and whether it writes. Help, parsing and the
//! permission check all read from here, so they cannot drift apart.

use thiserror::Error;

use crate::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `--flag` alone.
    Bool,
    /// `--flag VALUE` or `--flag=VALUE`.
    Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagSpec {
    pub name: &'static str,
    pub kind: FlagKind,
    pub repeatable: bool,
    pub help: &'static str,
}

/// The global `--dry-run` every writing command accepts.
pub const DRY_RUN: FlagSpec = FlagSpec {
    name: "dry-run",
    kind: FlagKind::Bool,
    repeatable: false,
    help: "show the plan and stop; nothing is sent",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// One line: what the command is for.
    pub summary: &'static str,
    /// One line: `!name ARG [--flag V]…`. This is the reply to malformed input.
    pub usage: &'static str,
    /// Each example is parsed by a test, so help can never show a broken one.
    pub examples: &'static [&'static str],
    /// The role needed by default (config may override); `None` = anyone.
    pub role: Option<&'static str>,
    /// Whether the command changes the world (plans actions). Writing
    /// commands get `--dry-run` and the confirmation rules.
    pub writes: bool,
    pub flags: &'static [FlagSpec],
    /// (min, max) positional arguments.
    pub positionals: (usize, usize),
    /// How usage names the positionals, for "missing …" errors.
    pub positional_names: &'static str,
}

impl CommandSpec {
    pub fn flag(&self, name: &str) -> Option<&FlagSpec> {
        if self.writes && name == DRY_RUN.name {
            return Some(&DRY_RUN);
        }
        self.flags.iter().find(|f| f.name == name)
    }

    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("command name or alias `{0}` is declared twice")]
    Collision(String),
}

/// All commands known to this bot, looked up by name or alias.
pub struct Registry {
    commands: Vec<Box<dyn Command>>,
}

impl Registry {
    /// Fails when two commands claim the same name or alias.
    pub fn new(commands: Vec<Box<dyn Command>>) -> Result<Self, RegistryError> {
        let mut seen = std::collections::HashSet::new();
        for c in &commands {
            let spec = c.spec();
            for name in std::iter::once(&spec.name).chain(spec.aliases) {
                if !seen.insert(*name) {
                    return Err(RegistryError::Collision(name.to_string()));
                }
            }
        }
        Ok(Self { commands })
    }

    pub fn lookup(&self, name: &str) -> Option<&CommandSpec> {
        self.command(name).map(|c| c.spec())
    }

    pub fn command(&self, name: &str) -> Option<&dyn Command> {
        let name = name.to_ascii_lowercase();
        self.commands
            .iter()
            .find(|c| c.spec().answers_to(&name))
            .map(|c| c.as_ref())
    }

    pub fn specs(&self) -> impl Iterator<Item = &CommandSpec> {
        self.commands.iter().map(|c| c.spec())
    }

    /// The closest name or alias within two edits, for "did you mean".
    pub fn suggest(&self, typed: &str) -> Option<String> {
        let typed = typed.to_ascii_lowercase();
        self.specs()
            .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
            .map(|n| (edit_distance(&typed, n), n))
            .filter(|(d, _)| *d <= 2)
            .min()
            .map(|(_, n)| n.to_string())
    }
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}
