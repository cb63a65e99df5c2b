//! Slash command declarations as serenity's builders: what the bot
//! registers in each configured guild at start (a bulk overwrite, so a
//! command removed from the registry disappears from the picker too).

use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::CommandOptionType;

use crate::chat::slash::{SlashCommand, SlashKind};

pub fn create_commands(decls: &[SlashCommand]) -> Vec<CreateCommand> {
    decls.iter().map(create_command).collect()
}

fn create_command(d: &SlashCommand) -> CreateCommand {
    let options = d
        .options
        .iter()
        .map(|o| {
            let kind = match o.kind {
                SlashKind::Text => CommandOptionType::String,
                SlashKind::Switch => CommandOptionType::Boolean,
            };
            o.choices.iter().fold(
                CreateCommandOption::new(kind, &o.name, &o.description).required(o.required),
                |opt, c| opt.add_string_choice(c, c),
            )
        })
        .collect();
    CreateCommand::new(&d.name)
        .description(&d.description)
        .set_options(options)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::chat::slash::SlashOption;

    #[test]
    fn a_declaration_serializes_as_discord_expects() {
        let d = SlashCommand {
            name: "bugs".into(),
            description: "move or list bugs".into(),
            options: vec![
                SlashOption {
                    name: "action".into(),
                    description: "what to do".into(),
                    kind: SlashKind::Text,
                    required: true,
                    choices: vec!["list".into(), "release".into()],
                },
                SlashOption {
                    name: "dry-run".into(),
                    description: "show the plan".into(),
                    kind: SlashKind::Switch,
                    required: false,
                    choices: vec![],
                },
            ],
        };
        let v = serde_json::to_value(&create_commands(&[d])[0]).expect("serializes");
        assert_eq!(v["name"], "bugs");
        assert_eq!(v["description"], "move or list bugs");
        assert_eq!(v["options"][0]["type"], 3);
        assert_eq!(v["options"][0]["required"], true);
        assert_eq!(
            v["options"][0]["choices"],
            json!([{"name": "list", "value": "list"}, {"name": "release", "value": "release"}])
        );
        assert_eq!(v["options"][1]["type"], 5);
        assert_eq!(v["options"][1]["required"], false);
    }
}
