use secrecy::ExposeSecret;

use super::*;
use crate::snapstore::macaroon::b64_standard;

fn pair() -> (String, String) {
    let v: Value =
        serde_json::from_str(include_str!("../testdata/pymacaroons_vector.json")).unwrap();
    let case = &v["cases"][0];
    (
        case["root"].as_str().unwrap().to_string(),
        case["discharge"].as_str().unwrap().to_string(),
    )
}

fn same(c: &Credentials, root: &str, discharge: &str) {
    assert_eq!(c.root().expose_secret(), root);
    assert_eq!(c.discharge().expose_secret(), discharge);
}

#[test]
fn all_three_export_login_forms_are_read() {
    let (r, d) = pair();
    let u1 = serde_json::json!({"t": "u1-macaroon", "v": {"r": r, "d": d}}).to_string();
    same(
        &Credentials::parse(&b64_standard(u1.as_bytes())).unwrap(),
        &r,
        &d,
    );
    // With a trailing newline, as a file holds it.
    same(
        &Credentials::parse(&format!("{}\n", b64_standard(u1.as_bytes()))).unwrap(),
        &r,
        &d,
    );

    let old = serde_json::json!({"r": r, "d": d}).to_string();
    same(
        &Credentials::parse(&b64_standard(old.as_bytes())).unwrap(),
        &r,
        &d,
    );

    let ini = format!(
        "[login.ubuntu.com]\nmacaroon = {r}\nunbound_discharge = {d}\nemail = bot@example.com\n"
    );
    same(&Credentials::parse(&ini).unwrap(), &r, &d);
    same(
        &Credentials::parse(&b64_standard(ini.as_bytes())).unwrap(),
        &r,
        &d,
    );
    let other_sections = format!(
        "[other]\nmacaroon = x\n\n[login.ubuntu.com]\nmacaroon: {r}\nunbound_discharge: {d}\n"
    );
    same(&Credentials::parse(&other_sections).unwrap(), &r, &d);
}

#[test]
fn exported_credentials_read_back() {
    let (r, d) = pair();
    let c = Credentials::new(SecretString::from(r.clone()), SecretString::from(d.clone())).unwrap();
    same(
        &Credentials::parse(c.export().expose_secret()).unwrap(),
        &r,
        &d,
    );
}

#[test]
fn anything_else_is_a_typed_error() {
    let (r, d) = pair();
    let b64 = |s: &str| b64_standard(s.as_bytes());
    let cases = [
        (String::new(), CredentialsError::Unrecognized),
        (
            "not credentials at all".into(),
            CredentialsError::Unrecognized,
        ),
        (b64("[1, 2]"), CredentialsError::Unrecognized),
        (b64("{\"user\": \"x\"}"), CredentialsError::Unrecognized),
        (
            b64("{\"t\": \"macaroon\", \"v\": \"x\"}"),
            CredentialsError::Unsupported("Candid macaroons".into()),
        ),
        (
            b64(&serde_json::json!({"t": "u1-macaroon", "v": {"r": r}}).to_string()),
            CredentialsError::Missing("the discharge (\"d\")"),
        ),
        (
            format!("[login.ubuntu.com]\nmacaroon = {r}\n"),
            CredentialsError::Missing("`unbound_discharge` in [login.ubuntu.com]"),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Credentials::parse(&text).unwrap_err(), want, "{text:?}");
    }
    let garbage_root = serde_json::json!({"r": "bm90IGEgbWFjYXJvb24", "d": d}).to_string();
    assert!(matches!(
        Credentials::parse(&b64(&garbage_root)),
        Err(CredentialsError::BadMacaroon { which: "root", .. })
    ));
}

#[test]
fn secrets_never_show() {
    let (r, d) = pair();
    let c = Credentials::new(SecretString::from(r.clone()), SecretString::from(d.clone())).unwrap();
    let shown = format!("{c:?}");
    assert!(
        !shown.contains(&r[..20]) && !shown.contains(&d[..20]),
        "{shown}"
    );
    let bad =
        serde_json::json!({"t": "u1-macaroon", "v": {"r": r, "d": "AgZzZWNyZXQ"}}).to_string();
    let e = Credentials::parse(&b64_standard(bad.as_bytes()))
        .unwrap_err()
        .to_string();
    assert!(!e.contains(&r[..20]) && !e.contains("AgZzZWNyZXQ"), "{e}");
}

#[test]
fn the_header_binds_the_discharge() {
    let (r, d) = pair();
    let c = Credentials::new(SecretString::from(r.clone()), SecretString::from(d.clone())).unwrap();
    let h = c.authorization().unwrap();
    let h = h.expose_secret();
    assert!(
        h.starts_with(&format!("Macaroon root={r}, discharge=")),
        "{h}"
    );
    assert!(
        !h.ends_with(&d),
        "the discharge is sent bound, not as exported"
    );
}
