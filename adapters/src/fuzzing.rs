//! Fuzzing entry points: each takes bytes as a fuzzer makes them, feeds
//! them to one reader of outside input, and asserts what must hold for any
//! input. A broken invariant panics, with the reason.
//!
//! The cargo-fuzz targets (`fuzz/fuzz_targets/`, nightly) are one call to
//! one of these each, and the stable stand-in (`tests/tests/fuzz_corpus.rs`,
//! part of `cargo test --workspace`) calls the same functions over the
//! committed corpus (`fuzz/corpus/<target>/`) and property-test inputs: both
//! exercise exactly this code. Not an API: hidden from the docs.

use secrecy::SecretString;
use serde_json::Value;

use crate::autopkgtest::{queues, response};
use crate::britney::{self, output, yaml, ExcusesError};
use crate::launchpad::webhooks::{payload, receiver::LaunchpadReceiver, signature, target};
use crate::webhook::{Receiver, Refused};

/// Invalid UTF-8 replaced, as a lossy read would: every input is text.
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Unicode's mandatory line breaks (LF, VT, FF, CR, NEL, LS, PS): chat
/// clients and terminals start a new line at any of them.
pub fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\u{b}' | '\u{c}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Asserts that `s`, shown to a person as one line, is one.
pub fn assert_one_line(what: &str, s: &str) {
    assert!(!s.contains(is_line_break), "{what} is not one line: {s:?}");
}

fn lines(t: &str) -> usize {
    t.lines().count().max(1)
}

/// `update_excuses.yaml`: the YAML subset reader (errors name a line of
/// the input, counted from the first line given) and the excuses parser
/// (a file or a clear error; skipped items name their line; a snapshot
/// diffed with itself changes nothing).
pub fn excuses(data: &[u8]) {
    let t = text(data);
    for first in [1, 1000] {
        if let Err(e) = yaml::parse(&t, first) {
            assert!(
                (first..first + lines(&t)).contains(&e.line),
                "{e}: outside the input"
            );
            assert_one_line("a YAML error", &e.to_string());
        }
    }
    let x = match britney::parse(&t) {
        Ok(x) => x,
        Err(e) => {
            assert!(matches!(e, ExcusesError::Format(_)), "{e:?} from text");
            assert_one_line("an excuses error", &e.to_string());
            return;
        }
    };
    for s in &x.skipped {
        assert!(
            (1..=lines(&t)).contains(&s.line),
            "{s:?}: outside the input"
        );
        assert!(!s.reason.is_empty(), "{s:?}: no reason");
        assert_one_line("a skipped item's reason", &s.reason);
    }
    for e in &x.items {
        // Every accessor over the compact test results.
        for r in &e.tests {
            let _ = (
                r.log_url(),
                r.history_url(),
                r.artifacts_url(),
                r.retry_url(),
                r.status.blocks(),
                r.status.is_running(),
            );
        }
        let _ = (e.is_removal(), e.regressions().count());
        assert!(
            x.get(&e.item_name).is_some(),
            "{} not found by its own name",
            e.item_name
        );
    }
    let same = britney::diff(&x, &x, None);
    assert!(same.is_empty(), "a snapshot differs from itself: {same:?}");
}

/// `update_output.txt`: anything is read (unknown lines are ignored), into
/// words that are words.
pub fn update_output(data: &[u8]) {
    let o = output::parse(&text(data));
    let word = |w: &String| !w.is_empty() && !w.contains(|c: char| c.is_whitespace() || c == ',');
    assert!(o.arch_order.iter().all(word), "{:?}", o.arch_order);
    assert!(o.migrated.iter().all(word), "{:?}", o.migrated);
    for a in &o.attempts {
        assert!(a.items.iter().all(word), "{a:?}");
        for (arch, pkgs) in &a.uninstallable {
            assert_eq!(arch.trim(), arch, "{a:?}");
            assert!(pkgs.iter().all(word), "{a:?}");
        }
        for item in &a.items {
            let _ = o.breaks(item);
        }
    }
    for m in &o.migrated {
        assert!(o.migrated(m));
    }
}

/// The HTTP status of a request.cgi input that names none.
const DEFAULT_STATUS: u16 = 200;

/// request.cgi's answer: the first line is the HTTP status (`403`), the
/// rest the page; without a status line the whole input is a 200's page.
/// Every answer is classified, and what the classification says is one
/// line (it ends up in a step's error and a progress message).
pub fn request_cgi(data: &[u8]) {
    let t = text(data);
    let (status, html) = match t.split_once('\n') {
        Some((s, rest)) => match s.trim().parse::<u16>() {
            Ok(status) => (status, rest),
            Err(_) => (DEFAULT_STATUS, t.as_str()),
        },
        None => (DEFAULT_STATUS, t.as_str()),
    };
    match response::classify(status, html) {
        Ok(s) => {
            assert!(status == 200, "submitted with HTTP {status}");
            for (k, _) in &s.fields {
                assert!(s.field(k).is_some(), "{k}");
            }
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.trim().is_empty(), "{e:?} says nothing");
            assert_one_line("a request.cgi error", &shown);
            if let response::RequestError::Unexpected { message, .. } = &e {
                assert!(message.chars().count() <= 200, "message not cut: {message}");
            }
            assert!(!(e.is_transient() && e.is_duplicate()), "{e:?}");
        }
    }
}

/// autopkgtest-cloud's `running.json` and `queues.json`: whatever JSON they
/// are, every test read from them is found again by its own keys.
pub fn queues(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let mut all = queues::parse_running(&v);
    all.extend(queues::parse_queues(&v));
    for f in &all {
        let mut sorted = f.triggers.clone();
        sorted.sort();
        assert_eq!(sorted, f.triggers, "triggers not sorted");
        assert!(
            queues::find(&all, &f.release, &f.arch, &f.package, &f.triggers, true).is_some(),
            "{f:?} not found by its own keys"
        );
    }
}

/// Targets that have a webhook, each with its own secret.
pub const HOOKS: &[(&str, &str)] = &[
    ("/~maas-committers/+snap/maas-3.5", "maas-secret-0123456"),
    ("/~low-trust/+snap/toy", "toy-secret-01234567"),
    ("/ubuntu", "ubuntu-secret-012345"),
    ("/~maas-committers/maas/+git/maas", "git-secret-01234567"),
];
const CATCH_ALL: &str = "catch-all-secret-0123";
/// The secret of a webhook on whatever target the payload names.
const OWN: &str = "own-target-secret-012";
const TOY: usize = 1;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

fn hooks(extra: Option<&str>) -> LaunchpadReceiver {
    let mut targeted: Vec<(String, SecretString)> = HOOKS
        .iter()
        .map(|(t, k)| (t.to_string(), secret(k)))
        .collect();
    if let Some(t) = extra {
        targeted.push((t.to_string(), secret(OWN)));
    }
    LaunchpadReceiver::new(Vec::new(), targeted)
}

/// The input [`webhook`] reads for this delivery, signed as Launchpad signs
/// it with the secret of the first of [`HOOKS`] that hears the payload's
/// target (with the first one's if none does: a ping, any of them).
pub fn webhook_input(event_type: &str, body: &str) -> Vec<u8> {
    let named = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| target::delivery_target(event_type, &v));
    let key = HOOKS
        .iter()
        .find(|(hook, _)| {
            named
                .as_deref()
                .is_some_and(|t| target::hears(hook, event_type, t))
        })
        .map_or(HOOKS[0].1, |(_, k)| k);
    let signed = signature::sign(key.as_bytes(), body.as_bytes());
    format!("{event_type}\n{signed}\n{body}").into_bytes()
}

/// A header as `HeaderValue::to_str` passes it on: visible ASCII, spaces
/// and tabs only; anything else is as good as missing.
fn header(line: Option<&[u8]>) -> Option<String> {
    let line = line?;
    line.iter()
        .all(|b| *b == b'\t' || (b' '..=b'~').contains(b))
        .then(|| text(line))
}

/// A Launchpad webhook delivery, as [`webhook`] read it and verified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<'a> {
    pub event_type: String,
    pub body: &'a [u8],
    /// The webhook whose secret verified the body (correctly signed with
    /// it): the target the payload names, or `None` (a catch-all secret).
    pub hook_target: Option<String>,
}

/// A Launchpad webhook delivery: the first line is `X-Launchpad-Event-Type`,
/// the second `X-Hub-Signature`, the rest the body (a missing line is a
/// missing header). The receiver refuses what it must with one line; the
/// signature header is read without panicking and verifies only the
/// body's own signature; a payload's target is verified by that target's
/// secret and by no other hook's unless that hook hears the target; the
/// typed payloads decode without contradictions. Returns the delivery as
/// the reactions get it.
pub fn webhook(data: &[u8]) -> Delivery<'_> {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let (event_line, signature_line) = (parts.next(), parts.next());
    let body = parts.next().unwrap_or_default();
    let (event, given) = (header(event_line), header(signature_line));

    // The receiver with the headers as given.
    let fixed = hooks(None);
    let lookup = |name: &str| match name {
        "x-launchpad-event-type" => event.clone(),
        "x-hub-signature" => given.clone(),
        "x-launchpad-delivery" => Some("fuzz-delivery-1".to_string()),
        _ => None,
    };
    match fixed.receive(&lookup, body) {
        Ok(r) => {
            assert_eq!(Some(&r.event_type), event.as_ref());
            let t = r.hook_target.as_deref().expect("no catch-all here");
            assert!(HOOKS.iter().any(|(h, _)| *h == t), "verified by {t}");
        }
        Err(refused) => {
            let reason = refused.reason();
            assert!([400, 401].contains(&refused.status()), "{refused:?}");
            assert!(
                reason.ends_with('\n') && reason.matches('\n').count() == 1,
                "{reason:?}"
            );
            match (&given, &event) {
                (None, _) => assert!(matches!(refused, Refused::Unsigned(_))),
                (Some(_), None) => assert!(matches!(refused, Refused::BadHeaders(_))),
                (Some(_), Some(_)) => assert_eq!(refused, Refused::BadSignature),
            }
        }
    }

    // The signature header: never a panic; valid only as the body's own.
    let signed = signature::sign(OWN.as_bytes(), body);
    if let Some(given) = &given {
        if signature::verify(OWN.as_bytes(), body, given) {
            assert!(
                given.trim().eq_ignore_ascii_case(&signed),
                "{given:?} verified, the signature is {signed}"
            );
        }
    }
    assert!(signature::verify(OWN.as_bytes(), body, &signed));
    assert!(!signature::verify(CATCH_ALL.as_bytes(), body, &signed));
    assert!(!signature::verify(OWN.as_bytes(), body, &signed[5..]));

    // Who may speak for the payload's target.
    let event = event.unwrap_or_default();
    let json = serde_json::from_slice::<Value>(body).ok();
    let named = json
        .as_ref()
        .and_then(|v| target::delivery_target(&event, v));
    if let Some(t) = &named {
        assert!(t.starts_with('/'), "{t}");
        assert!(target::hears(t, &event, t), "{t} does not hear itself");
    }
    let own = hooks(named.as_deref());
    assert_eq!(
        own.verify(&event, body, &signed),
        named.clone().map(Some),
        "the target's own secret"
    );
    let ping = event == "ping" && json == Some(serde_json::json!({"ping": true}));
    let (toy, toy_secret) = HOOKS[TOY];
    let toy_hears = named
        .as_deref()
        .is_some_and(|t| target::hears(toy, &event, t));
    assert_eq!(
        fixed
            .verify(&event, body, &signature::sign(toy_secret.as_bytes(), body))
            .is_some(),
        toy_hears || ping,
        "{toy}'s secret for {named:?}"
    );
    let catch_all = LaunchpadReceiver::new(vec![secret(CATCH_ALL)], Vec::new());
    let signed_all = signature::sign(CATCH_ALL.as_bytes(), body);
    assert_eq!(catch_all.verify(&event, body, &signed_all), Some(None));

    // The typed payloads the reactions read.
    if let Ok(p) = serde_json::from_slice::<payload::SnapBuild>(body) {
        let _ = (
            p.snap_name(),
            p.owner(),
            p.build_failed(),
            p.upload_failed(),
        );
        assert!(!p.build_id().contains('/'), "{p:?}");
        assert!(p.owner().is_none_or(|o| o.starts_with('~')), "{p:?}");
    }
    if let Ok(p) = serde_json::from_slice::<payload::Bug>(body) {
        assert!(!p.number().contains('/'), "{p:?}");
        let _ = p.source_package();
        let (added, removed) = (p.added_tags(), p.removed_tags());
        assert!(!added.iter().any(|t| removed.contains(t)), "{p:?}");
        for t in added.into_iter().chain(removed) {
            let _ = payload::migration_tag(t);
        }
    }

    Delivery {
        event_type: event,
        body,
        hook_target: named,
    }
}
