use std::path::Path;

use secrecy::ExposeSecret;

use super::*;

fn registry() -> Registry {
    Registry::new(shepherd_commands::builtins()).unwrap()
}

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_toml(text, Path::new("test.toml"), &env, &registry())
}

fn error(text: &str) -> String {
    load(text, &[]).expect_err("should be rejected").to_string()
}

const GOOD: &str = r##"
[store]
path = "/var/lib/shepherd/shepherd.sqlite"

[roles.release-team]
members = ["console:alice", "discord:1234"]
ask = "#ubuntu-release"

[commands.announce]
role = "release-team"
channels = ["#ubuntu-release"]
confirm = true

[[schedule]]
name = "freeze-reminder"
cron = "0 9 * * Mon-Fri"
announce = { channel = "#ubuntu-release", text = "freeze in effect" }

[autopkgtest]
request_url = "https://autopkgtest.ubuntu.com/request.cgi"
api_key = "s3cr3t-api-key"
"##;

#[test]
fn a_complete_file_loads() {
    let c = load(GOOD, &[]).unwrap();
    assert_eq!(c.roles["release-team"].members.len(), 2);
    assert!(c.commands["announce"].confirm);
    assert_eq!(c.confirm.expiry_minutes, 10, "default expiry is 10 minutes");
    assert_eq!(
        c.schedules[0].announce.as_ref().unwrap().channel,
        "#ubuntu-release"
    );
}

#[test]
fn unknown_keys_are_errors() {
    assert!(error("[store]\npath = 'x'\nsize = 3\n").contains("unknown field `size`"));
    assert!(error("[stroe]\npath = 'x'\n").contains("unknown field `stroe`"));
}

#[test]
fn faults_in_the_file_name_their_line_and_column() {
    let rows: &[(&str, &str)] = &[
        // Not TOML at all.
        ("[store]\npath = \n", "test.toml:2:8: "),
        ("[store\n", "test.toml:1:7: "),
        // TOML, but not a key this file may have.
        (
            "[store]\npath = 'x'\n\n[roles.a]\nmembers = []\nowner = 'x'\n",
            "test.toml:6:1: unknown field `owner`",
        ),
        // The wrong type of value.
        (
            "# a comment\n[executor]\nmax_attempts = 'five'\n",
            "test.toml:3:16: invalid type: string \"five\", expected u32",
        ),
        // Columns count characters, not bytes.
        (
            "[roles]\n\"équipe\" = { members = 'x' }\n",
            "test.toml:2:24: invalid type: string \"x\", expected a sequence",
        ),
    ];
    for (text, starts) in rows {
        let e = error(text);
        assert!(e.starts_with(starts), "{text:?}: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

#[test]
fn faults_keep_their_place_with_environment_overrides() {
    let text = "[store]\npath = 'x'\nsize = 3\n";
    let e = load(text, &[("SHEPHERD_CHAT_DEFAULT_USER", "alice")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("test.toml:3:1: unknown field `size`"), "{e}");
    // A fault only the variable brings has no place in the file.
    let e = load("", &[("SHEPHERD_WEBHOOK_LISTEN", "not an address")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("test.toml: invalid"), "{e}");
    assert!(e.ends_with("(with SHEPHERD_* variables applied)"), "{e}");
}

#[test]
fn a_chat_section_without_adapter_is_the_console() {
    let c = load("[chat]\ndefault_user = 'alice'\n", &[]).unwrap();
    assert_eq!(c.chat.adapter, ChatAdapter::Console);
    assert_eq!(c.chat.default_user, "alice");
}

#[test]
fn unknown_roles_and_commands_are_errors() {
    // Faults are reported at their section's header (line 3, after the role).
    let role = "[roles.release-team]\nmembers = ['console:alice']\n";
    let rows: &[(&str, &str)] = &[
        (
            "[commands.announce]\nrole = 'ghosts'\n",
            "test.toml:3:1: [commands.announce] role `ghosts` is not defined in [roles]",
        ),
        (
            "[commands.frobnicate]\n",
            "test.toml:3:1: [commands.frobnicate]: no such command",
        ),
        (
            "[commands.retyr]\n",
            "test.toml:3:1: [commands.retyr]: no such command — did you mean [commands.retry]?",
        ),
        // An alias is suggested as the command's name, as config must say it.
        (
            "[commands.rerunn]\n",
            "test.toml:3:1: [commands.rerunn]: no such command — did you mean [commands.retry]?",
        ),
        (
            "[commands.say]\n",
            "test.toml:3:1: [commands.say]: use the command's name `announce`",
        ),
        (
            "  [commands.announce]  # indented\nrole = 'relase-team'\n",
            "test.toml:3:3: [commands.announce] role `relase-team` is not defined in [roles] — did you mean `release-team`?",
        ),
        (
            "[commands.announce]\nrole = 'nome'\n",
            "test.toml:3:1: [commands.announce] role `nome` is not defined in [roles] — did you mean `none`?",
        ),
        // Nothing close: no guess.
        (
            "[commands.announce]\nrole = 'ops'\n",
            "test.toml:3:1: [commands.announce] role `ops` is not defined in [roles]",
        ),
        // Written as a dotted key, the section has no header to point at.
        (
            "[commands]\nretyr = {}\n",
            "test.toml: [commands.retyr]: no such command — did you mean [commands.retry]?",
        ),
    ];
    for (text, expected) in rows {
        assert_eq!(error(&format!("{role}{text}")), *expected, "{text}");
    }
    assert!(error("[roles.x]\nmembers = ['alice']\n").contains("must be `platform:id`"));
}

#[test]
fn schedules_are_checked() {
    let e = error(
        "[[schedule]]\nname = 'a'\ncron = 'every day'\nannounce = { channel = 'c', text = 't' }\n",
    );
    assert!(
        e.starts_with("test.toml: schedule `a`: bad cron expression `every day`"),
        "{e}"
    );
    let e = error("[[schedule]]\nname = 'a'\ncron = '* * * * *'\n");
    assert!(e.contains("has no job"), "{e}");
    let e = error("[[schedule]]\nname = 'a'\ncron = '* * * * *'\npoll_excuses = {}\n");
    assert!(e.contains("[proposed_migration] is missing"), "{e}");
    let ok = "[[schedule]]\nname = 'a'\ncron = '*/15 * * * *'\npoll_excuses = {}\n[proposed_migration]\nseries = 'resolute'\n";
    let c = load(ok, &[]).unwrap();
    assert!(c.schedules[0].poll_excuses.is_some());
    assert_eq!(
        c.proposed_migration.unwrap().excuses_url,
        DEVEL_EXCUSES_URL,
        "devel URL by default"
    );
}

#[test]
fn environment_overrides_the_file_and_unknown_variables_fail() {
    let c = load(GOOD, &[("SHEPHERD_STORE_PATH", "/tmp/other.sqlite")]).unwrap();
    assert_eq!(c.store.path, Path::new("/tmp/other.sqlite"));
    let c = load(GOOD, &[("SHEPHERD_AUTOPKGTEST_API_KEY", "from-env")]).unwrap();
    assert_eq!(
        c.autopkgtest.unwrap().api_key.unwrap().expose_secret(),
        "from-env"
    );
    let e = load(GOOD, &[("SHEPHERD_STORE_PAHT", "x")])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("environment variable SHEPHERD_STORE_PAHT"),
        "{e}"
    );
    // The logger's variables are not configuration, and no error.
    let logging = [("SHEPHERD_LOG", "debug"), ("SHEPHERD_LOG_FORMAT", "json")];
    assert!(load(GOOD, &logging).is_ok());
}

#[test]
fn summary_redacts_secrets() {
    let c = load(GOOD, &[]).unwrap();
    let s = c.redacted_summary();
    assert!(!s.contains("s3cr3t"), "{s}");
    assert!(s.contains("api key [redacted]"), "{s}");
    assert!(
        !format!("{c:?}").contains("s3cr3t"),
        "Debug must not leak either"
    );
}

#[test]
fn roles_nobody_holds_are_reported() {
    let writers = [
        "announce",
        "retry",
        "copy",
        "rebuild",
        "webhook",
        "promote",
        "milestone",
        "bugs",
    ];
    // Undefined, or defined with no members: nobody holds it either way.
    for (text, defined) in [("", false), ("[roles.release-team]\nmembers = []\n", true)] {
        let unheld = load(text, &[]).unwrap().unheld_roles(&registry());
        let expected: Vec<UnheldRole> = writers
            .iter()
            .map(|c| UnheldRole {
                command: c.to_string(),
                role: "release-team".to_string(),
                defined,
            })
            .collect();
        assert_eq!(unheld, expected, "{text}");
    }
    assert_eq!(
        UnheldRole {
            command: "retry".into(),
            role: "ops".into(),
            defined: true
        }
        .why(),
        "[roles.ops] has no members"
    );
    assert!(load(GOOD, &[])
        .unwrap()
        .unheld_roles(&registry())
        .is_empty());
    // A role emptied for a command that config points elsewhere is no matter.
    let moved = "[roles.release-team]\nmembers = []\n[roles.ops]\nmembers = ['console:alice']\n";
    let moved = format!(
        "{moved}{}",
        writers
            .iter()
            .map(|c| format!("[commands.{c}]\nrole = 'ops'\n"))
            .collect::<String>()
    );
    assert!(load(&moved, &[])
        .unwrap()
        .unheld_roles(&registry())
        .is_empty());
}

#[test]
fn five_field_cron_means_minute_first() {
    use chrono::TimeZone;
    let s = parse_cron("30 9 * * *").unwrap();
    let from = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let next = s.next_after(&from).unwrap();
    assert_eq!(
        next,
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 9, 30, 0).unwrap()
    );
}

#[test]
fn empty_or_short_webhook_secrets_are_errors() {
    let e = load("", &[("SHEPHERD_WEBHOOK_LAUNCHPAD_SECRET", "")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 16 bytes"), "{e}");
    let e = error("[webhook]\nlaunchpad_secret = ''\n");
    assert!(e.contains("at least 16 bytes"), "{e}");
    let e = error("[webhook]\nlaunchpad_secret = 'short'\n");
    assert!(e.contains("at least 16 bytes"), "{e}");
    let e = error("[[webhook.launchpad]]\ntarget = '/~o/+snap/s'\nsecret = ''\n");
    assert!(
        e.contains("/~o/+snap/s: secret must be at least 16 bytes"),
        "{e}"
    );
    let e = error("[[webhook.launchpad]]\ntarget = '~o/+snap/s'\nsecret = 'sixteen-bytes-ok'\n");
    assert!(e.contains("must be a path"), "{e}");
    let c = load(
        "[[webhook.launchpad]]\ntarget = '/~o/+snap/s'\nsecret = 'sixteen-bytes-ok'\n",
        &[("SHEPHERD_WEBHOOK_LAUNCHPAD_SECRET", "another-long-secret")],
    )
    .unwrap();
    assert_eq!(c.secrets().len(), 2);
}

#[test]
fn summary_redacts_passwords_in_urls() {
    let c = load(
        "[launchpad]\nservice_root = 'https://bot:hunter2-pass@api.example/devel/'\n\
         [proposed_migration]\nseries = 'resolute'\nexcuses_url = 'https://u:pw-in-url@host/x.yaml.xz'\n\
         output_url = 'https://u:other-pw@host/update_output.txt'\n",
        &[],
    )
    .unwrap();
    let s = c.redacted_summary();
    for leaked in ["hunter2-pass", "pw-in-url", "other-pw"] {
        assert!(!s.contains(leaked), "{leaked} in {s}");
    }
    assert!(
        s.contains("https://bot:[redacted]@api.example/devel/"),
        "{s}"
    );
    assert_eq!(
        summary::redact_url("https://tok3n-as-user@host/x?series=noble&api_token=abc"),
        "https://[redacted]@host/x?series=noble&api_token=[redacted]"
    );
}

#[test]
fn protected_ppas_are_owner_slash_name_patterns() {
    let c = load(
        "[confirm]\nprotected_ppas = ['maas/*', '!maas/*-next', '*/stable']\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        c.confirm.protected_ppas,
        ["maas/*", "!maas/*-next", "*/stable"]
    );
    let e = error("[confirm]\nprotected_ppas = ['maas']\n");
    assert!(e.contains("must be OWNER/NAME"), "{e}");
}

const DISCORD: &str = r##"
[chat]
adapter = "discord"

[chat.discord]
guilds = [81384788765712384]

[chat.discord.channels]
"#ubuntu-release" = 381870553235193857

[roles.release-team]
members = ["discord:80351110224678912", "discord-role:41771983423143936"]

[commands.announce]
channels = ["#ubuntu-release"]
dm = false
"##;

#[test]
fn discord_takes_its_token_from_the_environment_and_redacts_it() {
    let token = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";
    let c = load(DISCORD, &[("SHEPHERD_DISCORD_TOKEN", token)]).unwrap();
    let d = c.chat.discord.as_ref().unwrap();
    assert_eq!(d.token.as_ref().unwrap().expose_secret(), token);
    assert_eq!(d.guilds, [81384788765712384]);
    assert_eq!(
        c.chat.flood_limit(),
        Some(10),
        "Discord is flood-limited by default"
    );
    assert_eq!(c.commands["announce"].dm, Some(false));
    let summary = c.redacted_summary();
    assert!(!summary.contains(token), "{summary}");
    assert!(
        summary.contains("chat: discord (token [redacted]"),
        "{summary}"
    );
    assert!(
        summary.contains("#ubuntu-release: 381870553235193857"),
        "{summary}"
    );
    assert!(c.secrets().iter().any(|s| s.expose_secret() == token));
}

#[test]
fn discord_configuration_mistakes_are_named() {
    let e = load(DISCORD, &[]).unwrap_err().to_string();
    assert!(e.contains("SHEPHERD_DISCORD_TOKEN"), "{e}");
    let e = load(DISCORD, &[("SHEPHERD_DISCORD_TOKEN", "Bot abc")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("without `Bot `"), "{e}");
    let e = error("[chat]\nadapter = \"discord\"\n");
    assert!(e.contains("needs a [chat.discord] section"), "{e}");
    let e = error("[chat.discord]\nguilds = [1]\n");
    assert!(e.contains("adapter is \"console\""), "{e}");
    let typo = DISCORD.replace("discord:80351110224678912", "discord:alice");
    let e = load(&typo, &[("SHEPHERD_DISCORD_TOKEN", "t0ken")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("member `discord:alice`"), "{e}");
    let unmapped = DISCORD.replace("channels = [\"#ubuntu-release\"]", "channels = [\"#maas\"]");
    let e = load(&unmapped, &[("SHEPHERD_DISCORD_TOKEN", "t0ken")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("channel #maas is not in [chat.discord.channels]"),
        "{e}"
    );
}

#[test]
fn the_console_is_not_flood_limited_unless_asked() {
    assert_eq!(load("", &[]).unwrap().chat.flood_limit(), None);
    let c = load("[chat]\ncommands_per_minute = 5\n", &[]).unwrap();
    assert_eq!(c.chat.flood_limit(), Some(5));
}

#[test]
fn discord_ids_names_and_api_url_are_checked() {
    let env = [("SHEPHERD_DISCORD_TOKEN", "t0ken")];
    let rows: &[(&str, &str, &str)] = &[
        (
            "guilds = [81384788765712384]",
            "guilds = []",
            "guilds is empty",
        ),
        (
            "guilds = [81384788765712384]",
            "guilds = [0]",
            "0 is not a Discord id",
        ),
        (
            "\"#ubuntu-release\" = 381870553235193857",
            "\"ubuntu-release\" = 381870553235193857",
            "with # (\"#ubuntu-release\")",
        ),
        (
            "channels = [\"#ubuntu-release\"]",
            "channels = [\"381870553235193857\"]",
            "write #ubuntu-release",
        ),
        (
            "guilds = [81384788765712384]",
            "guilds = [81384788765712384]\napi_url = \"http://proxy.example:8080\"",
            "api_url must be https",
        ),
        (
            "guilds = [81384788765712384]",
            "guilds = [81384788765712384]\napi_url = \"https://u:p@proxy.example\"",
            "must not carry credentials",
        ),
    ];
    for (from, to, expected) in rows {
        assert!(DISCORD.contains(from), "{from}");
        let e = load(&DISCORD.replace(from, to), &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{to}: {e}");
    }
    let local = DISCORD.replace(
        "guilds = [81384788765712384]",
        "guilds = [81384788765712384]\napi_url = \"http://127.0.0.1:9999\"",
    );
    assert!(load(&local, &env).is_ok(), "the tests' fake on loopback");
    // A token in the environment of a console run is no error.
    assert!(load("", &env).is_ok());
}
