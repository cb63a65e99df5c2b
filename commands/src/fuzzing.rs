//! Fuzzing entry points for what this crate reads from outside: chat
//! messages (the command grammar) and, after the adapters' receiver, webhook
//! deliveries (their reactions). As in `shepherd_adapters::fuzzing`, each
//! takes a fuzzer's bytes and panics only on a broken invariant; the
//! cargo-fuzz targets and the stable stand-in (`tests/tests/fuzz_corpus.rs`)
//! both call these. Not an API: hidden from the docs.

use std::sync::LazyLock;

use serde_json::Value;
use shepherd_adapters::fuzzing::{self as adapters, assert_one_line};

use crate::deliveries::{DeliveryReactions, Hook, PlanThread, StoredDelivery, Surroundings};
use crate::launchpad::deliveries::LaunchpadDeliveries;
use crate::launchpad::reactions::react;
use crate::links::Links;
use crate::{builtins, parse, Action, Parsed, Registry, Subscription};

static REGISTRY: LazyLock<Registry> =
    LazyLock::new(|| Registry::new(builtins()).expect("the builtins do not collide"));

/// A chat message (invalid UTF-8 replaced: a message is text). Parsing
/// never panics; a command binds to its declaration and renders back to
/// text that parses to the same command; an unknown name is unknown; a
/// malformed command's position is a place in the message and its usage
/// reply one line.
pub fn grammar(data: &[u8]) {
    let message = String::from_utf8_lossy(data);
    match parse(&message, &REGISTRY) {
        Parsed::NotACommand => {}
        Parsed::Command(inv) => {
            let spec = REGISTRY.lookup(&inv.name).expect("bound to a command");
            assert_eq!(spec.name, inv.name, "not the canonical name");
            let (min, max) = spec.positionals;
            assert!((min..=max).contains(&inv.positionals.len()), "{inv:?}");
            for (flag, values) in &inv.flags {
                let declared = spec.flag(flag).expect("an undeclared flag");
                assert!(!values.is_empty(), "{inv:?}");
                assert!(declared.repeatable || values.len() == 1, "{inv:?}");
            }
            let text = inv.render(spec);
            assert_eq!(
                parse(&text, &REGISTRY),
                Parsed::Command(inv),
                "rendered as {text:?}"
            );
        }
        Parsed::Unknown { name, suggestion } => {
            assert!(REGISTRY.lookup(&name).is_none(), "{name} is known");
            assert_one_line("an unknown command's name", &name);
            if let Some(s) = suggestion {
                assert!(REGISTRY.lookup(&s).is_some(), "suggests unknown {s}");
            }
        }
        Parsed::Malformed {
            position,
            reason,
            usage,
        } => {
            assert!(
                message.is_char_boundary(position),
                "position {position} is not a place in {message:?}"
            );
            assert!(!reason.is_empty(), "no reason");
            assert_one_line("a usage error", &format!("usage: {usage} — {reason}"));
        }
    }
}

/// A Launchpad webhook delivery, as `shepherd_adapters::fuzzing::webhook`
/// reads it, then what the bot makes of it: what it says (unknown event
/// types say nothing) and who hears it — only channels the bot knows of,
/// one announcement per line and channel, each keyed once.
pub fn webhook(data: &[u8]) {
    let d = adapters::webhook(data);
    let links = Links::default();
    let payload: Value = serde_json::from_slice(d.body).unwrap_or(Value::Null);
    let reaction = react(&d.event_type, &payload, &links);
    let known = [
        "snap:build:0.1",
        "bug:0.1",
        "bug:comment:0.1",
        "git:push:0.1",
        "merge-proposal:0.1",
        "livefs:build:0.1",
        "ci:build:0.1",
    ];
    if !known.contains(&d.event_type.as_str()) {
        assert!(reaction.is_empty(), "{} says {reaction:?}", d.event_type);
    }
    assert!(reaction.lines.iter().all(|l| !l.is_empty()), "{reaction:?}");

    let mut hooks = vec![
        Hook {
            target: "/ubuntu".into(),
            channel: Some("#ubuntu".into()),
        },
        Hook {
            target: "/~maas-committers/+snap/maas-3.5".into(),
            channel: Some("#maas".into()),
        },
    ];
    if let Some(t) = &d.hook_target {
        hooks.push(Hook {
            target: t.clone(),
            channel: Some("#own".into()),
        });
    }
    let mut around = Surroundings {
        hooks,
        ..Default::default()
    };
    if let Some(pkg) = &reaction.package {
        around.subscriptions.push(Subscription {
            channel: "#watchers".into(),
            kind: "package".into(),
            target: pkg.clone(),
            created_by: "fuzz".into(),
        });
    }
    if let Some(f) = &reaction.rebuild_follow_up {
        around.recent.push(PlanThread {
            channel: "#asked".into(),
            thread: "t1".into(),
            action: Action::RequestSnapBuild {
                owner: f.owner.clone(),
                snap: f.snap.clone(),
                arch: "amd64".into(),
                after_build: None,
                series: None,
            },
        });
    }
    let stored = StoredDelivery {
        id: "fuzz-delivery-1",
        event_type: &d.event_type,
        body: d.body,
        hook_target: d.hook_target.as_deref(),
    };
    let said = LaunchpadDeliveries { links }.react(&stored, &around, &|i| format!("step-{i}"));
    let Some(said) = said else {
        assert!(
            d.hook_target.is_none() || reaction.lines.is_empty(),
            "{reaction:?} verified by {:?}, announced nowhere",
            d.hook_target
        );
        return;
    };
    assert!(!reaction.is_empty(), "announced {said:?} for nothing");
    let channels = ["#ubuntu", "#maas", "#own", "#watchers", "#asked"];
    let mut keys = Vec::new();
    for (i, step) in said.draft.steps.iter().enumerate() {
        let Action::Announce { channel, text, .. } = &step.action else {
            panic!("step {i} is not an announcement: {step:?}");
        };
        assert!(
            channels.contains(&channel.as_str()),
            "announced in {channel}"
        );
        assert!(
            i > 0 || *channel == said.channel,
            "filed under {}",
            said.channel
        );
        assert!(!text.is_empty(), "step {i} says nothing");
        keys.push(step.key.clone());
    }
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), said.draft.steps.len(), "a step key twice");
}
