//! Channel names as config and commands write them (`#ubuntu-release`) and
//! the ids Discord uses. A channel without a configured name is its id.

use std::collections::{BTreeMap, HashMap};

use crate::chat::ChatError;

#[derive(Debug, Clone, Default)]
pub struct ChannelNames {
    ids: BTreeMap<String, u64>,
    names: HashMap<u64, String>,
}

impl ChannelNames {
    /// From `name → id` pairs; a name may be written with or without `#`.
    pub fn new(pairs: impl IntoIterator<Item = (String, u64)>) -> Self {
        let mut out = Self::default();
        for (name, id) in pairs {
            let name = format!("#{}", name.trim_start_matches('#'));
            out.names.insert(id, name.clone());
            out.ids.insert(name, id);
        }
        out
    }

    /// How the bot speaks of a channel.
    pub fn name_of(&self, id: u64) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The channel id a name (or an id written as text) stands for.
    pub fn resolve(&self, channel: &str) -> Result<u64, ChatError> {
        let named = format!("#{}", channel.trim_start_matches('#'));
        if let Some(id) = self.ids.get(&named) {
            return Ok(*id);
        }
        channel.parse::<u64>().map_err(|_| {
            ChatError::Refused(format!(
                "no Discord channel is configured as {named}: add it to [chat.discord.channels]"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_round_trip() {
        let n = ChannelNames::new([("ubuntu-release".to_string(), 7), ("#maas".to_string(), 9)]);
        assert_eq!(n.name_of(7), "#ubuntu-release");
        assert_eq!(n.name_of(8), "8");
        assert_eq!(n.resolve("#maas").ok(), Some(9));
        assert_eq!(n.resolve("ubuntu-release").ok(), Some(7));
        assert_eq!(n.resolve("12").ok(), Some(12));
        let err = n.resolve("#nowhere").expect_err("unknown name");
        assert!(err.to_string().contains("[chat.discord.channels]"), "{err}");
    }
}
