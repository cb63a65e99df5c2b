//! Slash commands, platform-neutral: what the command registry declares
//! (names, options, choices) and what a user filled in. The registry turns
//! its declarations into these and an invocation back into the `!` text it
//! stands for, so a slash command and its `!` form are one request; a chat
//! adapter only converts these to and from its platform's types.

/// One command as a platform's command picker shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand {
    pub name: String,
    pub description: String,
    /// Required options first (platforms insist on it).
    pub options: Vec<SlashOption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashOption {
    pub name: String,
    pub description: String,
    pub kind: SlashKind,
    pub required: bool,
    /// The only values allowed (empty = any).
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlashKind {
    Text,
    Switch,
}

/// A slash command as a user sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashInvocation {
    pub name: String,
    pub options: Vec<(String, SlashValue)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlashValue {
    Text(String),
    Switch(bool),
}

/// Turns an invocation into the `!` text it stands for (`None`: not one of
/// ours). Given to the adapter by whoever owns the command registry.
pub type SlashRenderer = std::sync::Arc<dyn Fn(&SlashInvocation) -> Option<String> + Send + Sync>;
