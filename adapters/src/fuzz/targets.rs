//! The readers under test and what must hold for any input: no panic, and
//! errors that point inside the input.

use proptest::prelude::*;
use serde_json::Value;

use super::{junk, mutated, COMPRESSED, EXCUSES, IN_FLIGHT, OUTPUTS, REQUEST_CGI, WEBHOOKS};
use crate::autopkgtest::{queues, response};
use crate::britney::{self, output, yaml};
use crate::launchpad::webhooks::payload;

/// The readers take text: invalid UTF-8 is replaced, as a caller's lossy
/// read would.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(t: &str) -> usize {
    t.lines().count().max(1)
}

fn check_yaml(b: &[u8]) -> Result<(), TestCaseError> {
    let t = text(b);
    if let Err(e) = yaml::parse(&t, 1) {
        prop_assert!((1..=lines(&t)).contains(&e.line), "{e}: outside the input");
    }
    Ok(())
}

fn check_excuses(t: &str) -> Result<(), TestCaseError> {
    if let Ok(x) = britney::parse(t) {
        for s in &x.skipped {
            prop_assert!((1..=lines(t)).contains(&s.line), "{s:?}: outside the input");
        }
        for e in &x.items {
            // Every accessor over the compact test results.
            for r in &e.tests {
                let _ = (
                    r.log_url(),
                    r.history_url(),
                    r.artifacts_url(),
                    r.retry_url(),
                );
            }
            let _ = (e.is_removal(), e.regressions().count());
        }
    }
    Ok(())
}

fn check_output(b: &[u8]) {
    let o = output::parse(&text(b));
    for item in o.attempts.iter().flat_map(|a| &a.items) {
        let _ = (o.migrated(item), o.breaks(item));
    }
}

fn check_classify(status: u16, b: &[u8]) -> Result<(), TestCaseError> {
    if let Err(response::RequestError::Unexpected { message, .. }) =
        response::classify(status, &text(b))
    {
        prop_assert!(message.chars().count() <= 200, "message not cut: {message}");
    }
    Ok(())
}

fn check_in_flight(v: &Value) {
    let mut all = queues::parse_running(v);
    all.extend(queues::parse_queues(v));
    if let Some(f) = all.first() {
        let _ = queues::find(&all, &f.release, &f.arch, &f.package, &f.triggers, true);
    }
}

fn check_webhook(b: &[u8]) {
    if let Ok(p) = serde_json::from_slice::<payload::SnapBuild>(b) {
        let _ = (p.snap_name(), p.owner(), p.build_id());
        let _ = (p.build_failed(), p.upload_failed());
    }
    if let Ok(p) = serde_json::from_slice::<payload::Bug>(b) {
        let _ = (p.number(), p.source_package());
        for t in p.added_tags().into_iter().chain(p.removed_tags()) {
            let _ = payload::migration_tag(t);
        }
    }
}

/// Any JSON, with keys and strings from the shapes autopkgtest-web uses.
fn json() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(
        &[
            "hello",
            "resolute",
            "amd64",
            "triggers",
            "all-proposed",
            "ppas",
            "1",
            "",
            "hello\n{\"triggers\": [\"a/1\"]}",
            "hello\n{",
            "\n",
        ][..],
    );
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        words.clone().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((words.clone(), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

const STATUSES: &[u16] = &[200, 400, 401, 403, 404, 500, 502, 503];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn yaml_reader_survives_mutated_fixtures(b in mutated(&EXCUSES)) {
        check_yaml(&b)?;
    }

    #[test]
    fn yaml_reader_survives_junk(b in junk()) {
        check_yaml(&b)?;
    }

}

proptest! {
    // Reaching a stray line inside a re-indented list takes two lucky
    // mutations at once: more cases here.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn excuses_parser_survives_mutated_fixtures(b in mutated(&EXCUSES)) {
        check_excuses(&text(&b))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn excuses_parser_survives_junk(b in junk()) {
        check_excuses(&text(&b))?;
    }

    #[test]
    fn update_output_parser_survives_anything(b in prop_oneof![mutated(&OUTPUTS), junk()]) {
        check_output(&b);
    }

    #[test]
    fn request_cgi_classifier_survives_anything(
        status in prop::sample::select(STATUSES),
        b in prop_oneof![mutated(&REQUEST_CGI), junk()],
    ) {
        check_classify(status, &b)?;
    }

    #[test]
    fn in_flight_readers_survive_mutated_fixtures(b in prop_oneof![mutated(&IN_FLIGHT), junk()]) {
        if let Ok(v) = serde_json::from_slice::<Value>(&b) {
            check_in_flight(&v);
        }
    }

    #[test]
    fn in_flight_readers_survive_any_json(v in json()) {
        check_in_flight(&v);
    }

    #[test]
    fn webhook_payload_decoders_survive_anything(b in prop_oneof![mutated(&WEBHOOKS), junk()]) {
        check_webhook(&b);
    }
}

proptest! {
    // Each case inflates an archive: fewer of them.
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn decompress_then_parse_survives_mutated_archives(
        b in prop_oneof![mutated(&COMPRESSED), mutated(&EXCUSES), junk()],
    ) {
        if let Ok(t) = britney::decompress(&b) {
            check_excuses(&t)?;
        }
    }
}
