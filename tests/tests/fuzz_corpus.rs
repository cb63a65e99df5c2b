//! The fuzz targets on stable (README "Fuzzing"): every cargo-fuzz target in
//! `fuzz/fuzz_targets/` is one call to an entry function of a `fuzzing`
//! module (`shepherd_adapters::fuzzing`, `shepherd_commands::fuzzing`), and
//! here the same functions run over every file of the committed corpus
//! (`fuzz/corpus/<target>/`) and over property-test inputs: structure-aware
//! mutations of those seeds, random bytes and token soup. An entry function
//! panics only when an invariant breaks.
//!
//! The corpus holds the seeds cut from the fixtures (`fuzz_corpus/seeds.rs`;
//! `SHEPHERD_WRITE_CORPUS=1` writes them) and every input a fuzzer found
//! that broke a target (`regression-*`), so each stays fixed.

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::Value;
use shepherd_adapters::fuzzing as adapters;
use shepherd_commands::fuzzing as commands;

#[path = "fuzz_corpus/mutate.rs"]
mod mutate;
#[path = "fuzz_corpus/seeds.rs"]
mod seeds;

use mutate::{junk, mutated};

type Entry = fn(&[u8]);

/// Every cargo-fuzz target: its name, the call its body makes, and that
/// function.
const TARGETS: &[(&str, &str, Entry)] = &[
    (
        "grammar",
        "shepherd_commands::fuzzing::grammar(data)",
        commands::grammar,
    ),
    (
        "excuses",
        "shepherd_adapters::fuzzing::excuses(data)",
        adapters::excuses,
    ),
    (
        "update_output",
        "shepherd_adapters::fuzzing::update_output(data)",
        adapters::update_output,
    ),
    (
        "request_cgi",
        "shepherd_adapters::fuzzing::request_cgi(data)",
        adapters::request_cgi,
    ),
    (
        "webhook",
        "shepherd_commands::fuzzing::webhook(data)",
        commands::webhook,
    ),
    (
        "queues",
        "shepherd_adapters::fuzzing::queues(data)",
        adapters::queues,
    ),
];

fn fuzz_dir() -> PathBuf {
    seeds::root().join("fuzz")
}

/// `fuzz/corpus/<target>/*`, by target: (file name, contents).
static CORPUS: LazyLock<BTreeMap<&'static str, Vec<(String, Vec<u8>)>>> = LazyLock::new(|| {
    TARGETS
        .iter()
        .map(|(target, ..)| {
            let dir = fuzz_dir().join("corpus").join(target);
            let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| {
                    let path = e.expect("a directory entry").path();
                    let bytes =
                        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    (
                        path.file_name().unwrap().to_string_lossy().into_owned(),
                        bytes,
                    )
                })
                .collect();
            files.sort();
            (*target, files)
        })
        .collect()
});

/// One target's corpus contents, for mutation.
fn seeds_of(target: &'static str) -> &'static [Vec<u8>] {
    static SEEDS: LazyLock<BTreeMap<&'static str, Vec<Vec<u8>>>> = LazyLock::new(|| {
        CORPUS
            .iter()
            .map(|(t, files)| (*t, files.iter().map(|(_, b)| b.clone()).collect()))
            .collect()
    });
    &SEEDS[target]
}

#[test]
fn fuzz_targets_are_one_call_into_their_entry_function() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let mut found: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut expected: Vec<String> = TARGETS.iter().map(|(t, ..)| format!("{t}.rs")).collect();
    expected.sort();
    assert_eq!(found, expected, "fuzz/fuzz_targets/ and TARGETS differ");
    for (target, call, _) in TARGETS {
        let source =
            std::fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{target}.rs"))).unwrap();
        let body: Vec<&str> = source
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("#![no_main]"))
            .collect();
        assert_eq!(
            body,
            [format!(
                "libfuzzer_sys::fuzz_target!(|data: &[u8]| {call});"
            )],
            "fuzz/fuzz_targets/{target}.rs"
        );
        assert!(
            manifest.contains(&format!(
                "name = \"{target}\"\npath = \"fuzz_targets/{target}.rs\""
            )),
            "fuzz/Cargo.toml has no [[bin]] {target}"
        );
    }
}

#[test]
fn corpus_holds_every_seed_cut_from_the_fixtures() {
    let write = std::env::var_os("SHEPHERD_WRITE_CORPUS").is_some_and(|v| v == "1");
    let mut missing = Vec::new();
    for seed in seeds::all() {
        let path = fuzz_dir().join("corpus").join(seed.target).join(&seed.name);
        if std::fs::read(&path).ok().as_ref() == Some(&seed.bytes) {
            continue;
        }
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &seed.bytes).unwrap();
            eprintln!("wrote {}", path.display());
        } else {
            missing.push(format!("{}/{}", seed.target, seed.name));
        }
    }
    assert!(
        missing.is_empty(),
        "fuzz/corpus lacks or differs in {missing:?}: run this test with SHEPHERD_WRITE_CORPUS=1"
    );
}

#[test]
fn corpus_stays_small() {
    let total: usize = CORPUS.values().flatten().map(|(_, b)| b.len()).sum();
    assert!(total < 1024 * 1024, "fuzz/corpus is {total} bytes");
    for (target, files) in CORPUS.iter() {
        assert!(!files.is_empty(), "fuzz/corpus/{target} is empty");
    }
}

#[test]
fn every_corpus_input_passes_its_target() {
    let mut failed = Vec::new();
    for (target, _, entry) in TARGETS {
        for (name, bytes) in &CORPUS[target] {
            if catch_unwind(AssertUnwindSafe(|| entry(bytes))).is_err() {
                failed.push(format!("{target}/{name}"));
            }
        }
    }
    assert!(failed.is_empty(), "broke an invariant: {failed:?}");
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
            "hello\n{\"triggers\": [\"b/1\", \"a/1\"]}",
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn grammar_survives_mutated_seeds(b in mutated(seeds_of("grammar"))) {
        commands::grammar(&b);
    }

    #[test]
    fn grammar_survives_junk(b in junk()) {
        commands::grammar(&b);
    }

    #[test]
    fn excuses_survive_junk(b in junk()) {
        adapters::excuses(&b);
    }

    #[test]
    fn update_output_survives_mutated_seeds_and_junk(
        b in prop_oneof![mutated(seeds_of("update_output")), junk()],
    ) {
        adapters::update_output(&b);
    }

    #[test]
    fn request_cgi_survives_mutated_seeds_and_junk(
        b in prop_oneof![mutated(seeds_of("request_cgi")), junk()],
    ) {
        adapters::request_cgi(&b);
    }

    #[test]
    fn webhook_survives_mutated_seeds_and_junk(
        b in prop_oneof![mutated(seeds_of("webhook")), junk()],
    ) {
        commands::webhook(&b);
    }

    #[test]
    fn queues_survive_mutated_seeds_and_junk(
        b in prop_oneof![mutated(seeds_of("queues")), junk()],
    ) {
        adapters::queues(&b);
    }

    #[test]
    fn queues_survive_any_json(v in json()) {
        adapters::queues(&serde_json::to_vec(&v).unwrap());
    }
}

proptest! {
    // Reaching a stray line inside a re-indented list takes two lucky
    // mutations at once: more cases here.
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn excuses_survive_mutated_seeds(b in mutated(seeds_of("excuses"))) {
        adapters::excuses(&b);
    }
}

/// A few excuses seeds as .xz and .gz, for `decompress`.
static COMPRESSED: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for plain in seeds_of("excuses").iter().take(3) {
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(plain).expect("xz in memory");
        out.push(xz.finish().expect("xz in memory"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(plain).expect("gz in memory");
        out.push(gz.finish().expect("gz in memory"));
    }
    out
});

proptest! {
    // Each case inflates an archive: fewer of them. Not a fuzz target: a
    // fuzzer's archives inflate without bound, and the files come from
    // britney's own site.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decompress_then_excuses_survive_mutated_archives(
        b in prop_oneof![mutated(&COMPRESSED), mutated(seeds_of("excuses")), junk()],
    ) {
        if let Ok(t) = shepherd_adapters::britney::decompress(&b) {
            adapters::excuses(t.as_bytes());
        }
    }
}
