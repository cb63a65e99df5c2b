//! Authentication end to end: the bound header, refresh-and-retry-once,
//! refusals that need a new export-login, and headers the store must refuse.

use secrecy::ExposeSecret;

use super::*;
use crate::snapstore::StoreError;

const ADVICE: &str =
    "snapcraft export-login --snaps maas,maas-test-db --acls package_access,package_release";

async fn maas() -> (SnapStoreSim, SnapStoreClient) {
    let sim = SnapStoreSim::start_maas().await.unwrap();
    let client = sim
        .client()
        .unwrap()
        .with_login_snaps(vec!["maas".into(), "maas-test-db".into()]);
    (sim, client)
}

#[tokio::test]
async fn a_stale_discharge_is_refreshed_once_and_the_request_retried() {
    let (sim, c) = maas().await;
    let before = c.credentials().discharge().expose_secret().to_string();
    sim.expire_discharge();
    c.channel_map("maas").await.unwrap();
    assert_eq!(sim.refreshes(), 1);
    assert_eq!(
        sim.count("GET", "/api/v2/snaps/maas/channel-map"),
        2,
        "refused, then retried"
    );
    let after = c.credentials();
    assert_ne!(
        after.discharge().expose_secret(),
        before,
        "the new discharge is kept"
    );
    // The bot persists it like this, and it reads back.
    let saved = Credentials::parse(after.export().expose_secret()).unwrap();
    assert_eq!(
        saved.discharge().expose_secret(),
        after.discharge().expose_secret()
    );
    c.channel_map("maas").await.unwrap();
    assert_eq!(sim.refreshes(), 1, "no refresh while the discharge is good");
    let refresh = sim
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/sso/"))
        .unwrap();
    assert_eq!(refresh.path, "/sso/api/v2/tokens/refresh");
    assert!(
        !refresh.authorized,
        "SSO gets the discharge in the body, not the store's header"
    );
    assert_eq!(
        refresh.body.unwrap()["discharge_macaroon"].as_str(),
        Some(before.as_str())
    );
}

#[tokio::test]
async fn concurrent_refusals_refresh_once() {
    let (sim, c) = maas().await;
    sim.expire_discharge();
    let (a, b, d) = tokio::join!(c.channel_map("maas"), c.releases("maas"), c.snap_id("maas"));
    a.unwrap();
    b.unwrap();
    d.unwrap();
    assert_eq!(sim.refreshes(), 1);
}

#[tokio::test]
async fn a_refused_refresh_asks_for_a_new_export_login() {
    let (sim, c) = maas().await;
    sim.expire_discharge();
    sim.revoke();
    let e = c
        .release("maas", 41650, &[Channel::parse("3.6/beta").unwrap()])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NeedsLogin { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(ADVICE), "{text}");
    assert!(
        text.contains("/sso/api/v2/tokens/refresh"),
        "names the refused request: {text}"
    );
    assert!(
        !text.contains(c.credentials().discharge().expose_secret()),
        "{text}"
    );
    assert_eq!(sim.release_calls().len(), 0);
    assert_eq!(
        sim.count("POST", "/dev/api/snap-release/"),
        1,
        "not retried as if transient"
    );
}

#[tokio::test]
async fn a_second_refusal_after_refreshing_asks_for_a_new_export_login() {
    let (sim, c) = maas().await;
    let stale = r#"{"error_list": [{"code": "macaroon-needs-refresh", "message": "Expired macaroon (age: 90000 seconds)"}]}"#;
    sim.fail_next_with(401, stale);
    sim.fail_next_with(401, stale);
    let e = c.channel_map("maas").await.unwrap_err();
    assert!(matches!(e, StoreError::NeedsLogin { .. }), "{e}");
    assert!(
        e.to_string().contains("refused again after refreshing"),
        "{e}"
    );
    assert!(e.to_string().contains(ADVICE), "{e}");
    assert_eq!(sim.refreshes(), 1, "one refresh, one retry");
    assert_eq!(sim.count("GET", "/api/v2/snaps/maas/channel-map"), 2);
}

#[tokio::test]
async fn the_store_refuses_what_is_not_bound_to_its_root() {
    let sim = SnapStoreSim::start_maas().await.unwrap();
    let good = sim.credentials();
    let other = sim.credentials();
    let url = format!("{}/api/v2/snaps/maas/channel-map", sim.dashboard_url());
    let http = reqwest::Client::new();
    let get = |auth: String| http.get(&url).header("Authorization", auth).send();
    let bound = good.authorization().unwrap().expose_secret().to_string();
    assert_eq!(get(bound.clone()).await.unwrap().status(), 200);
    let root = good.root().expose_secret();
    let unbound = format!(
        "Macaroon root={root}, discharge={}",
        good.discharge().expose_secret()
    );
    let foreign = crate::snapstore::bind_discharge(
        other.root().expose_secret(),
        good.discharge().expose_secret(),
    )
    .unwrap();
    let crossed = format!("Macaroon root={root}, discharge={foreign}");
    let other_discharge =
        crate::snapstore::bind_discharge(root, other.discharge().expose_secret()).unwrap();
    let mismatched = format!("Macaroon root={root}, discharge={other_discharge}");
    for (name, header) in [
        ("unbound", unbound),
        ("bound to another root", crossed),
        ("another root's discharge", mismatched),
    ] {
        let resp = get(header).await.unwrap();
        assert_eq!(resp.status(), 401, "{name}");
        assert!(
            resp.headers().get("www-authenticate").is_none(),
            "{name}: not a refresh"
        );
    }
    assert_eq!(
        http.get(&url).send().await.unwrap().status(),
        401,
        "no header"
    );
}

#[tokio::test]
async fn credentials_another_store_minted_need_a_new_login_without_a_refresh() {
    let (sim, _) = maas().await;
    let elsewhere = SnapStoreSim::start().await.unwrap();
    let c = SnapStoreClient::new(
        &sim.dashboard_url(),
        &sim.sso_url(),
        elsewhere.credentials(),
        std::time::Duration::from_secs(5),
    )
    .unwrap()
    .with_retry_delays(vec![]);
    let e = c.channel_map("maas").await.unwrap_err();
    assert!(matches!(e, StoreError::NeedsLogin { .. }), "{e}");
    assert!(e.to_string().contains("refused (401)"), "{e}");
    assert_eq!(sim.refreshes(), 0);
}

#[tokio::test]
async fn v2_macaroons_work_end_to_end() {
    let (sim, _) = maas().await;
    let c = SnapStoreClient::new(
        &sim.dashboard_url(),
        &sim.sso_url(),
        sim.credentials_v2(),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    assert!(
        c.credentials().root().expose_secret().starts_with("Ag"),
        "v2 binary"
    );
    sim.expire_discharge();
    c.channel_map("maas").await.unwrap();
    assert_eq!(sim.refreshes(), 1);
}
