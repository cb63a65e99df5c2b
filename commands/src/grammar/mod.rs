//! The command grammar: `!name positional --flag value`, the registry of
//! command declarations it checks against, and `!help` generated from them.

pub mod help;
pub mod parse;
pub mod registry;
pub mod slash;
