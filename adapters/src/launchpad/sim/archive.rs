//! The simulated archive side: `copyPackage` and its asynchronous job.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::{ok_json, text, CopyJob, Inner, Publication};

pub(super) fn copy_package(
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
    let from = from
        .split("/~")
        .nth(1)
        .map(|r| r.replace("/+archive/ubuntu/", "/"))
        .unwrap_or_default();
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
    });
    ok_json(Value::Null)
}

/// Queued → Pending publication (or a silent failure) → Published.
pub(super) fn advance_copies(st: &mut Inner) {
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
            }
        }
    }
}
