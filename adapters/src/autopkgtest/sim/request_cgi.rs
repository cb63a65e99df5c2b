//! request.cgi: a request is read, checked and queued in the real app's
//! order, so the same request gets the same answer here as there — unknown
//! parameters and a bad `all-proposed` are tracebacks, then missing
//! arguments, the release, the triggers (shape, then published), upload
//! rights, and each arch in turn (unknown, or the same test running). Jobs
//! of arches before a refused one stay queued, as in the real app.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::pages::{invalid, invalid1, login_page, submitted, traceback};
use super::{lock, Inner, Job, Shared, SimWorld};
use crate::autopkgtest::request::{check_trigger, MIGRATION_REFERENCE};
use crate::wire::form::parse_query;

/// The page refusing a request (boxed: a response is large, a refusal rare).
type Refusal = Box<Response>;

/// What a well-formed request asks for.
pub(super) struct Asked {
    pub release: String,
    pub package: String,
    pub triggers: Vec<String>,
    pub arches: Vec<String>,
    pub ppas: Vec<String>,
    pub all_proposed: bool,
}

pub(super) async fn request_cgi(
    State(s): State<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = q.unwrap_or_default();
    let mut st = lock(&s);
    if let Some(code) = st.faults.pop_front() {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (status, "<html><body>Service Unavailable</body></html>").into_response();
    }
    let Some(nick) = who(&st.world, &headers) else {
        return login_page(&query);
    };
    match accept(&mut st, &query, &nick) {
        Ok(asked) => submitted(&asked, &nick),
        Err(refusal) => *refusal,
    }
}

/// Reads, checks and queues the request, or gives the page refusing it.
fn accept(st: &mut Inner, query: &str, nick: &str) -> Result<Asked, Refusal> {
    let asked = read(&parse_query(query), nick)?;
    let known_arches = check(&st.world, &asked, nick)?;
    queue(st, &asked, &known_arches, nick)?;
    Ok(asked)
}

/// The user a cookie (API key or session) belongs to.
fn who(world: &SimWorld, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        matches!(k, "X-Api-Key" | "session")
            .then(|| world.users.get(v).cloned())
            .flatten()
    })
}

/// The request's arguments: only known ones, and all that are required.
fn read(pairs: &[(String, String)], nick: &str) -> Result<Asked, Refusal> {
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    if let Some((bad, _)) = pairs.iter().find(|(k, _)| {
        !matches!(
            k.as_str(),
            "release" | "arch" | "package" | "trigger" | "ppa" | "all-proposed" | "readable-by"
        )
    }) {
        return Err(Box::new(traceback(&format!(
            "ValueError: Invalid argument {bad}"
        ))));
    }
    let all_proposed = match all("all-proposed").last().map(String::as_str) {
        None => false,
        Some("1") => true,
        Some(_) => {
            return Err(Box::new(traceback(
                "ValueError: Invalid all-proposed value",
            )))
        }
    };
    let (release, package, triggers, arches, ppas) = (
        all("release").pop(),
        all("package").pop(),
        all("trigger"),
        all("arch"),
        all("ppa"),
    );
    let (Some(release), Some(package), false, false) =
        (release, package, triggers.is_empty(), arches.is_empty())
    else {
        return Err(Box::new(invalid(
            StatusCode::BAD_REQUEST,
            nick,
            &[
                "You have passed invalid args: release, arch, package, requester".into(),
                "Please see an example url below:".into(),
                "https://autopkgtest.ubuntu.com/request.cgi/?release=release&arch=arch&package=pkg&trigger=trigger1&trigger=trigger2".into(),
            ],
        )));
    };
    Ok(Asked {
        release,
        package,
        triggers,
        arches,
        ppas,
        all_proposed,
    })
}

/// The release, the triggers and the requester's rights; answers the
/// release's arches.
fn check(world: &SimWorld, asked: &Asked, nick: &str) -> Result<Vec<String>, Refusal> {
    let (release, triggers) = (&asked.release, &asked.triggers);
    let refuse = |status, message: &str| Err(Box::new(invalid1(status, nick, message)));
    let Some(known_arches) = world
        .releases
        .iter()
        .find(|(r, _)| r == release)
        .map(|(_, a)| a.clone())
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            &format!("release {release} not found"),
        );
    };
    if triggers.iter().any(|t| t == MIGRATION_REFERENCE) {
        if triggers.len() > 1 {
            return refuse(
                StatusCode::BAD_REQUEST,
                "Cannot use additional triggers with migration-reference/0",
            );
        }
        if asked.all_proposed {
            return refuse(
                StatusCode::BAD_REQUEST,
                "migration-reference/0 and all-proposed=1 are not compatible arguments.",
            );
        }
    } else {
        for t in triggers {
            if check_trigger(t).is_err() {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "Malformed trigger, must be srcpackage/version",
                );
            }
            let (src, ver) = t.split_once('/').unwrap_or((t, ""));
            if !world
                .published
                .contains(&(release.clone(), src.to_string(), ver.to_string()))
            {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    &format!("{t} is not published in {release}"),
                );
            }
        }
    }
    if !world.uploaders.contains(nick) {
        let first = triggers.first().cloned().unwrap_or_default();
        let package = &asked.package;
        return refuse(
            StatusCode::FORBIDDEN,
            &format!("You are not allowed to upload {package} or {first} to Ubuntu, thus you are not allowed to use this service."),
        );
    }
    Ok(known_arches)
}

/// One job per arch, each checked and queued in turn, as the real app does.
fn queue(
    st: &mut Inner,
    asked: &Asked,
    known_arches: &[String],
    nick: &str,
) -> Result<(), Refusal> {
    let Asked {
        release,
        package,
        triggers,
        ..
    } = asked;
    let mut sorted = triggers.clone();
    sorted.sort();
    for arch in &asked.arches {
        if !known_arches.contains(arch) {
            return Err(Box::new(invalid1(
                StatusCode::NOT_FOUND,
                nick,
                &format!("arch {arch} not found"),
            )));
        }
        let running = st.running.iter().any(|j| {
            j.release == *release && j.arch == *arch && j.package == *package && {
                let mut t = j.triggers.clone();
                t.sort();
                t == sorted
            }
        });
        if running {
            return Err(Box::new(invalid(
                StatusCode::FORBIDDEN,
                nick,
                &[
                    "Test already running:".into(),
                    format!("release: {release}"),
                    format!("pkg: {package}"),
                    format!("arch: {arch}"),
                    format!("triggers: {}", triggers.join(", ")),
                ],
            )));
        }
        let job = Job {
            release: release.clone(),
            arch: arch.clone(),
            package: package.clone(),
            triggers: triggers.clone(),
            all_proposed: asked.all_proposed,
            ppas: asked.ppas.clone(),
            requester: nick.to_string(),
        };
        st.queued.push(job.clone());
        st.accepted.push(job);
    }
    Ok(())
}
