//! The binding checked against pymacaroons: always against the committed
//! vector, and live against pymacaroons itself where it is installed
//! (required when `SHEPHERD_REQUIRE_PYMACAROONS=1`, as CI sets it).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::*;

const VECTOR: &str = include_str!("../testdata/pymacaroons_vector.json");
const GENERATOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/snapstore/testdata/gen_pymacaroons_vector.py"
);

fn cases(vector: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(vector).expect("the vector is JSON");
    v["cases"].as_array().expect("the vector has cases").clone()
}

fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {case}"))
}

/// Every case's bound discharge, as Rust binds it, equals pymacaroons'.
fn check(cases: &[Value]) {
    assert!(!cases.is_empty());
    for case in cases {
        let name = field(case, "name");
        let bound = bind_discharge(field(case, "root"), field(case, "discharge"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(bound, field(case, "bound"), "{name}");
        let header = crate::snapstore::credentials::header_value(
            field(case, "root"),
            field(case, "discharge"),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(header, field(case, "header"), "{name}");
    }
}

#[test]
fn binding_matches_the_committed_pymacaroons_vector() {
    check(&cases(VECTOR));
}

/// A `python3` that can import pymacaroons: `$SHEPHERD_PYTHON`, `python3`
/// on `PATH`, or Debian's (`python3-pymacaroons` installs there, and a
/// pyenv `python3` first on `PATH` would not see it).
fn python_with_pymacaroons() -> Option<PathBuf> {
    let candidates = std::env::var_os("SHEPHERD_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(["python3", "/usr/bin/python3"].map(PathBuf::from));
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import pymacaroons"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn run(python: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(GENERATOR)
        .args(args)
        .output()
        .expect("the generator runs");
    assert!(
        out.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the generator writes UTF-8")
}

#[test]
fn binding_matches_pymacaroons_live() {
    let Some(python) = python_with_pymacaroons() else {
        let required = std::env::var("SHEPHERD_REQUIRE_PYMACAROONS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SHEPHERD_REQUIRE_PYMACAROONS=1 but no python3 can import pymacaroons \
             (install python3-pymacaroons, or set SHEPHERD_PYTHON)"
        );
        eprintln!("pymacaroons not installed: checked against the committed vector only");
        return;
    };
    let fixed = cases(&run(&python, &[]));
    assert_eq!(
        fixed,
        cases(VECTOR),
        "the committed vector is stale: regenerate it (testdata/README.md)"
    );
    check(&fixed);
    check(&cases(&run(
        &python,
        &["--random", "60", "--seed", "20261128"],
    )));
}

#[test]
fn pymacaroons_output_reads_and_writes_back_unchanged() {
    for case in cases(VECTOR) {
        let name = field(&case, "name");
        for key in ["bound", "root"] {
            let text = field(&case, key);
            if name.contains("padding") {
                continue;
            }
            let m = Macaroon::deserialize(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.serialize(), text, "{name} {key}");
        }
    }
}

#[test]
fn minted_signatures_are_pymacaroons_signatures() {
    let case = &cases(VECTOR)[0];
    let root = Macaroon::deserialize(field(case, "root")).unwrap();
    let discharge = Macaroon::deserialize(field(case, "discharge")).unwrap();
    assert_eq!(root.expected_signature(b"store root key"), root.signature);
    assert_eq!(
        discharge.expected_signature(b"sso caveat key"),
        discharge.signature
    );
    assert_ne!(root.expected_signature(b"another key"), root.signature);
}

#[test]
fn damage_is_an_error_not_a_panic() {
    let good = Macaroon::mint(Version::V2, "here", b"k", b"id").serialize();
    let raw = b64_decode(&good).unwrap();
    for cut in 0..raw.len() {
        assert!(
            Macaroon::deserialize(&b64_encode(&raw[..cut])).is_err(),
            "cut at {cut}"
        );
    }
    let v1 = Macaroon::mint(Version::V1, "here", b"k", b"id").serialize();
    let raw = b64_decode(&v1).unwrap();
    for cut in 0..raw.len() {
        assert!(
            Macaroon::deserialize(&b64_encode(&raw[..cut])).is_err(),
            "v1 cut at {cut}"
        );
    }
    for text in ["", "!!!", "eHl6", "AgIBYQA", "MDAwMw"] {
        assert!(Macaroon::deserialize(text).is_err(), "{text:?}");
    }
    // Out-of-order header fields (identifier before location).
    let mut bad = vec![2u8];
    field_v2(&mut bad, IDENTIFIER, b"id");
    field_v2(&mut bad, LOCATION, b"l");
    bad.push(EOS);
    assert!(Macaroon::deserialize(&b64_encode(&bad)).is_err());
}

#[test]
fn errors_do_not_repeat_the_macaroon() {
    let e = bind_discharge("c2VjcmV0LXJvb3Q", "x")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("c2VjcmV0") && !e.contains("secret"), "{e}");
}
