//! The real client against the simulator, over loopback HTTP.

use std::time::Duration;

use secrecy::SecretString;

use super::*;
use crate::autopkgtest::{
    Auth, AutopkgtestClient, ClientError, InFlightState, RequestError, TestRequest,
};

fn world() -> SimWorld {
    let mut w = SimWorld {
        releases: vec![(
            "plucky".into(),
            vec!["amd64".into(), "arm64".into(), "s390x".into()],
        )],
        ..Default::default()
    };
    w.published
        .insert(("plucky".into(), "libsepol".into(), "3.8-1".into()));
    w.published
        .insert(("plucky".into(), "libselinux".into(), "3.8-1".into()));
    w.users.insert("shepherd:k3y".into(), "shepherd-bot".into());
    w.users.insert("outsider:k3y".into(), "outsider".into());
    w.uploaders.insert("shepherd-bot".into());
    w
}

fn client(sim: &AutopkgtestSim, key: Option<&str>) -> AutopkgtestClient {
    let auth = match key {
        Some(k) => Auth::ApiKey(SecretString::from(k.to_string())),
        None => Auth::Anonymous,
    };
    AutopkgtestClient::new(&sim.request_url(), auth, Duration::from_secs(5)).unwrap()
}

fn req(arch: &str, triggers: &[&str]) -> TestRequest {
    TestRequest {
        release: "plucky".into(),
        arches: vec![arch.into()],
        package: "refpolicy".into(),
        triggers: triggers.iter().map(|t| t.to_string()).collect(),
        all_proposed: false,
        ppas: vec![],
    }
}

#[tokio::test]
async fn a_request_is_queued_then_runs_then_finishes() {
    let sim = AutopkgtestSim::start(world()).await.unwrap();
    let c = client(&sim, Some("shepherd:k3y"));
    let ok = c
        .request(&req("amd64", &["libsepol/3.8-1", "libselinux/3.8-1"]))
        .await
        .unwrap();
    assert_eq!(
        ok.field("triggers"),
        Some("['libsepol/3.8-1', 'libselinux/3.8-1']")
    );
    assert_eq!(ok.field("requester"), Some("shepherd-bot"));

    let f = c.in_flight().await.unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].state, f[0].triggers.clone()),
        (
            InFlightState::Queued,
            vec!["libselinux/3.8-1".to_string(), "libsepol/3.8-1".to_string()]
        )
    );
    sim.advance();
    assert_eq!(
        c.in_flight().await.unwrap()[0].state,
        InFlightState::Running
    );
    // While it runs, the same request is refused as request.cgi does.
    let dup = c
        .request(&req("amd64", &["libselinux/3.8-1", "libsepol/3.8-1"]))
        .await
        .unwrap_err();
    assert!(
        matches!(dup, ClientError::Refused(RequestError::AlreadyRunning)),
        "{dup}"
    );
    sim.advance();
    assert!(c.in_flight().await.unwrap().is_empty());
    assert_eq!(sim.accepted().len(), 1, "one request, one job");
}

#[tokio::test]
async fn refusals_are_typed() {
    let sim = AutopkgtestSim::start(world()).await.unwrap();
    let anon = client(&sim, None)
        .request(&req("amd64", &["libsepol/3.8-1"]))
        .await
        .unwrap_err();
    assert!(
        matches!(anon, ClientError::Refused(RequestError::NotLoggedIn)),
        "{anon}"
    );
    let c = client(&sim, Some("shepherd:k3y"));
    let e = c
        .request(&req("amd64", &["libsepol/9.9-1"]))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "libsepol/9.9-1 is not published in plucky");
    let e = c
        .request(&req("sparc", &["libsepol/3.8-1"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::Refused(RequestError::UnknownArch(ref a)) if a == "sparc"),
        "{e}"
    );
    let mut r = req("amd64", &["libsepol/3.8-1"]);
    r.release = "nosuch".into();
    assert!(matches!(
        c.request(&r).await.unwrap_err(),
        ClientError::Refused(RequestError::UnknownRelease(_))
    ));
    let e = client(&sim, Some("outsider:k3y"))
        .request(&req("amd64", &["libsepol/3.8-1"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::Refused(RequestError::Forbidden(_))),
        "{e}"
    );
    // Caught before sending: nothing reaches the service.
    let e = c
        .request(&req("amd64", &["migration-reference/0", "libsepol/3.8-1"]))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Invalid(_)), "{e}");
    assert!(sim.accepted().is_empty());
}

#[tokio::test]
async fn gateway_errors_are_transient_and_nothing_is_queued() {
    let sim = AutopkgtestSim::start(world()).await.unwrap();
    sim.fail_next(1, 503);
    let c = client(&sim, Some("shepherd:k3y"));
    let e = c
        .request(&req("amd64", &["libsepol/3.8-1"]))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert!(sim.accepted().is_empty());
    c.request(&req("amd64", &["libsepol/3.8-1"])).await.unwrap();
    assert_eq!(sim.accepted().len(), 1);
}

#[tokio::test]
async fn migration_reference_runs_alone() {
    let sim = AutopkgtestSim::start(world()).await.unwrap();
    let c = client(&sim, Some("shepherd:k3y"));
    c.request(&req("s390x", &["migration-reference/0"]))
        .await
        .unwrap();
    assert_eq!(sim.accepted()[0].triggers, ["migration-reference/0"]);
}

#[tokio::test]
async fn unreachable_service_is_a_transient_network_error() {
    let c = AutopkgtestClient::new(
        "http://127.0.0.1:9/request.cgi",
        Auth::Anonymous,
        Duration::from_secs(2),
    )
    .unwrap();
    let e = c.in_flight().await.unwrap_err();
    assert!(
        matches!(e, ClientError::Network(_)) && e.is_transient(),
        "{e}"
    );
}
