//! What autopkgtest-cloud is already doing: `static/running.json` and
//! `queues.json` (shapes: shared reference britney-autopkgtest, §3.1;
//! fixtures/excuses/autopkgtest-web). Read leniently: unknown shapes are
//! skipped, never fatal.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlightState {
    Queued,
    Running,
}

/// One test requested and not finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub package: String,
    pub release: String,
    pub arch: String,
    /// Sorted, as request.cgi compares them.
    pub triggers: Vec<String>,
    pub all_proposed: bool,
    pub ppas: Vec<String>,
    pub state: InFlightState,
}

fn params(p: &Value) -> (Vec<String>, bool, Vec<String>) {
    let list = |k: &str| -> Vec<String> {
        p.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut triggers = list("triggers");
    triggers.sort();
    let all_proposed = matches!(p.get("all-proposed"), Some(Value::String(s)) if s == "1")
        || matches!(p.get("all-proposed"), Some(Value::Bool(true)));
    (triggers, all_proposed, list("ppas"))
}

fn object(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
    v.as_object().into_iter().flat_map(|m| m.iter())
}

/// `package → run hash → release → arch → [params, seconds, log tail]`.
pub fn parse_running(json: &Value) -> Vec<InFlight> {
    let mut out = Vec::new();
    for (package, runs) in object(json) {
        for (_, releases) in object(runs) {
            for (release, arches) in object(releases) {
                for (arch, entry) in object(arches) {
                    let Some(p) = entry.get(0) else { continue };
                    let (triggers, all_proposed, ppas) = params(p);
                    out.push(InFlight {
                        package: package.clone(),
                        release: release.clone(),
                        arch: arch.clone(),
                        triggers,
                        all_proposed,
                        ppas,
                        state: InFlightState::Running,
                    });
                }
            }
        }
    }
    out
}

/// `context → release → arch → ["package\n{json params}", …]`.
pub fn parse_queues(json: &Value) -> Vec<InFlight> {
    let mut out = Vec::new();
    for (_, releases) in object(json) {
        for (release, arches) in object(releases) {
            for (arch, list) in object(arches) {
                for item in list.as_array().into_iter().flatten() {
                    let Some((package, rest)) = item.as_str().and_then(|s| s.split_once('\n'))
                    else {
                        continue;
                    };
                    let p: Value = serde_json::from_str(rest).unwrap_or(Value::Null);
                    let (triggers, all_proposed, ppas) = params(&p);
                    out.push(InFlight {
                        package: package.to_string(),
                        release: release.clone(),
                        arch: arch.clone(),
                        triggers,
                        all_proposed,
                        ppas,
                        state: InFlightState::Queued,
                    });
                }
            }
        }
    }
    out
}

/// Is this (release, arch, package, triggers) already queued or running?
/// Matches as request.cgi does: same sorted triggers; a running plain test
/// also covers an all-proposed request, not the other way round.
pub fn find<'a>(
    in_flight: &'a [InFlight],
    release: &str,
    arch: &str,
    package: &str,
    sorted_triggers: &[String],
    all_proposed: bool,
) -> Option<&'a InFlight> {
    in_flight.iter().find(|f| {
        f.release == release
            && f.arch == arch
            && f.package == package
            && f.triggers == sorted_triggers
            && (!f.all_proposed || all_proposed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let p = crate::britney::fixture(&format!("fixtures/excuses/autopkgtest-web/{name}"));
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn running_json_fixture() {
        let r = parse_running(&fixture("running.json"));
        assert_eq!(r.len(), 5);
        let hello = find(
            &r,
            "resolute",
            "amd64",
            "hello",
            &["hello/1.2.3".into(), "hello2/2.2.2".into()],
            false,
        );
        assert!(hello.is_some());
        assert!(r.iter().any(|f| f.package == "hello2" && f.all_proposed));
        assert!(r.iter().all(|f| f.state == InFlightState::Running));
    }

    #[test]
    fn queues_json_fixture() {
        let q = parse_queues(&fixture("queues.json"));
        assert_eq!(q.len(), 6);
        assert!(find(
            &q,
            "questing",
            "amd64",
            "hello",
            &["migration-reference/0".into()],
            false
        )
        .is_some());
        assert!(find(&q, "resolute", "amd64", "hello", &["hello/9".into()], false).is_none());
    }

    #[test]
    fn all_proposed_runs_do_not_cover_plain_requests() {
        let r = parse_running(&fixture("running.json"));
        let t = ["hello2/1.2.3-0ubuntu1".to_string()];
        assert!(find(&r, "jammy", "amd64", "hello2", &t, false).is_none());
        assert!(find(&r, "jammy", "amd64", "hello2", &t, true).is_some());
    }
}
