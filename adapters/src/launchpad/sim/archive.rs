//! The simulated PPAs: their entries, source and binary publications, and
//! copies into them (`copyPackage`, `syncSources`), which are asynchronous
//! as on Launchpad: a copy is queued, becomes a Pending publication, then
//! Published — or fails silently when the PPA already has that version.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::responses::{ok_json, page, text};
use super::routes::Req;
use super::state::{CopyJob, Inner};
use super::world::Publication;

fn copy_package(
    st: &mut Inner,
    who: Option<String>,
    archive: &str,
    param: &dyn Fn(&str) -> Option<String>,
) -> Response {
    let Some(who) = who else {
        return text(
            StatusCode::UNAUTHORIZED,
            "(<Archive object>, 'copyPackage', 'launchpad.Append')",
        );
    };
    if !st
        .world
        .ppa_writers
        .get(archive)
        .is_some_and(|w| w.contains(&who))
    {
        return text(
            StatusCode::FORBIDDEN,
            format!("{who} is not allowed to upload to ppa:{archive}."),
        );
    }
    let (Some(name), Some(version), Some(from), Some(series)) = (
        param("source_name"),
        param("version"),
        param("from_archive"),
        param("to_series"),
    ) else {
        return text(
            StatusCode::BAD_REQUEST,
            "source_name: Required input is missing.",
        );
    };
    if param("to_pocket").as_deref() != Some("Release") {
        return text(
            StatusCode::BAD_REQUEST,
            "PPA uploads must be for the RELEASE pocket.",
        );
    }
    let version = version.trim_matches('"').to_string();
    let from = reference(&from);
    let found = st.world.publications.iter().any(|p| {
        p.archive == from
            && p.name == name
            && p.version == version
            && p.series == series
            && p.status == "Published"
    });
    if !found {
        return text(
            StatusCode::BAD_REQUEST,
            format!("{name} {version} in {series} not found in ppa:{from}."),
        );
    }
    st.writes.copies.push((
        archive.to_string(),
        name.clone(),
        version.clone(),
        series.clone(),
    ));
    st.jobs.push(CopyJob {
        publication: Publication {
            archive: archive.to_string(),
            name,
            version,
            series,
            status: "Pending".into(),
        },
        stage: 0,
        binaries_from: (param("include_binaries").as_deref() == Some("true")).then_some(from),
    });
    ok_json(Value::Null)
}

/// `owner/name` of a PPA from its link (`…/~owner/+archive/ubuntu/name`).
fn reference(link: &str) -> String {
    link.split("/~")
        .nth(1)
        .map(|r| r.replace("/+archive/ubuntu/", "/"))
        .unwrap_or_default()
}

/// Queued → Pending publication (or a silent failure) → Published: each
/// look at the publications moves every copy one stage on.
fn advance_copies(st: &mut Inner) {
    let jobs = std::mem::take(&mut st.jobs);
    for mut job in jobs {
        let p = job.publication.clone();
        match job.stage {
            0 => {
                let dup = st.world.publications.iter().any(|q| {
                    q.archive == p.archive
                        && q.name == p.name
                        && q.version == p.version
                        && q.series == p.series
                });
                if dup {
                    st.copy_failures.push(format!(
                        "{} {} in {}: same version already in ppa:{}",
                        p.name, p.version, p.series, p.archive
                    ));
                    continue;
                }
                st.world.publications.push(p);
                job.stage = 1;
                st.jobs.push(job);
            }
            _ => {
                if let Some(q) = st.world.publications.iter_mut().find(|q| {
                    q.archive == p.archive
                        && q.name == p.name
                        && q.version == p.version
                        && q.series == p.series
                }) {
                    q.status = "Published".into();
                }
                if let Some(from) = &job.binaries_from {
                    copy_binaries(st, from, &p);
                }
            }
        }
    }
}

/// The same binaries, published in the copy's PPA: a binary copy never rebuilds.
fn copy_binaries(st: &mut Inner, from: &str, p: &Publication) {
    let copied: Vec<_> = st
        .world
        .binaries
        .iter()
        .filter(|(a, n, v, ..)| a == from && *n == p.name && *v == p.version)
        .map(|(_, n, v, arch, _)| {
            let published = "Published".to_string();
            (
                p.archive.clone(),
                n.clone(),
                v.clone(),
                arch.clone(),
                published,
            )
        })
        .filter(|b| !st.world.binaries.contains(b))
        .collect();
    st.world.binaries.extend(copied);
}

/// `/~owner/+archive/ubuntu/name`: the entry, its processors, publications, copies.
pub(super) fn route(st: &mut Inner, req: &Req<'_>, owner: &str, name: &str) -> Response {
    let archive = format!("{}/{name}", owner.trim_start_matches('~'));
    if !st.world.ppa_writers.contains_key(&archive) {
        return text(StatusCode::NOT_FOUND, format!("No such ppa: '{name}'."));
    }
    match (&req.method, req.op) {
        (&Method::GET, None) => ok_json(json!({
            "self_link": req.base, "resource_type_link": format!("{}/#archive", st.root), "name": name,
            "reference": format!("{owner}/ubuntu/{name}"), "http_etag": "\"a-1\"",
            "processors_collection_link": format!("{}/processors", req.base),
        })),
        (&Method::GET, Some("getPublishedBinaries")) => published_binaries(st, req, &archive),
        (&Method::GET, Some("getPublishedSources")) => published_sources(st, req, &archive),
        (&Method::POST, Some("copyPackage")) => {
            copy_package(st, req.who.clone(), &archive, req.param)
        }
        (&Method::POST, Some("syncSources")) => sync_sources(st, req, &archive),
        _ => text(
            StatusCode::BAD_REQUEST,
            format!("No such operation: {}", req.op.unwrap_or("")),
        ),
    }
}

/// The processors a PPA builds for (default amd64), as a collection.
pub(super) fn processors(st: &Inner, req: &Req<'_>, owner: &str, name: &str) -> Response {
    let archive = format!("{}/{name}", owner.trim_start_matches('~'));
    if !st.world.ppa_writers.contains_key(&archive) {
        return text(StatusCode::NOT_FOUND, format!("No such ppa: '{name}'."));
    }
    let names = st
        .world
        .ppa_processors
        .get(&archive)
        .cloned()
        .unwrap_or_else(|| vec!["amd64".to_string()]);
    let root = &st.root;
    let entries: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "self_link": format!("{root}/+processors/{n}")}))
        .collect();
    ok_json(page(entries, req.query, req.base))
}

fn published_binaries(st: &Inner, req: &Req<'_>, archive: &str) -> Response {
    let wanted = (req.param)("binary_name").unwrap_or_default();
    let version = (req.param)("version").map(|v| v.trim_matches('"').to_string());
    let root = &st.root;
    let entries: Vec<Value> = st
        .world
        .binaries
        .iter()
        .filter(|(a, n, v, ..)| {
            *a == archive && *n == wanted && version.as_ref().is_none_or(|w| w == v)
        })
        .map(|(_, n, v, arch, status)| {
            json!({
                "binary_package_name": n, "binary_package_version": v, "status": status,
                "distro_arch_series_link": format!("{root}/ubuntu/noble/{arch}"),
            })
        })
        .collect();
    ok_json(page(entries, req.query, req.base))
}

/// Publications by name (exact, or Launchpad's substring match), version
/// and series — after moving queued copies on.
fn published_sources(st: &mut Inner, req: &Req<'_>, archive: &str) -> Response {
    advance_copies(st);
    let param = req.param;
    let name_q = param("source_name").unwrap_or_default();
    let exact = param("exact_match").as_deref() == Some("true");
    let version = param("version").map(|v| v.trim_matches('"').to_string());
    let series = param("distro_series").map(|s| s.rsplit('/').next().unwrap_or("").to_string());
    let (root, base) = (&st.root, req.base);
    let entries: Vec<Value> = st
        .world
        .publications
        .iter()
        .filter(|p| p.archive == archive)
        .filter(|p| {
            if exact {
                p.name == name_q
            } else {
                p.name.contains(&name_q)
            }
        })
        .filter(|p| version.as_ref().is_none_or(|v| *v == p.version))
        .filter(|p| series.as_ref().is_none_or(|s| *s == p.series))
        .enumerate()
        .map(|(i, p)| {
            json!({
                "self_link": format!("{base}/+sourcepub/{}", 1000 + i),
                "source_package_name": p.name, "source_package_version": p.version,
                "status": p.status, "pocket": "Release",
                "distro_series_link": format!("{root}/ubuntu/{}", p.series),
            })
        })
        .collect();
    ok_json(page(entries, req.query, base))
}

/// The older bulk copy: each named source's latest publication in
/// `from_archive`, copied as `copyPackage` would; stops at the first refusal.
fn sync_sources(st: &mut Inner, req: &Req<'_>, archive: &str) -> Response {
    let param = req.param;
    let names: Vec<String> = param("source_names")
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    let from = param("from_archive").unwrap_or_default();
    let from_ref = reference(&from);
    let mut last = ok_json(Value::Null);
    for name in names {
        let version = st
            .world
            .publications
            .iter()
            .rev()
            .find(|p| p.archive == from_ref && p.name == name && p.status == "Published")
            .map(|p| p.version.clone())
            .unwrap_or_default();
        let one = |k: &str| match k {
            "source_name" => Some(name.clone()),
            "version" => Some(version.clone()),
            "from_archive" => Some(from.clone()),
            other => param(other),
        };
        last = copy_package(st, req.who.clone(), archive, &one);
        if !last.status().is_success() {
            return last;
        }
    }
    last
}
