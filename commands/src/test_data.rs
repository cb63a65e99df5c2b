//! The vendored fixtures tests read (`tests/fixtures/` in the workspace,
//! provenance in its README); never read by the bot itself.

use shepherd_adapters::britney::{decompress, parse, Excuses};

pub fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(path)
}

/// The real plucky excuses of 2025-03-14.
pub fn plucky() -> Excuses {
    let bytes = std::fs::read(fixture(
        "fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz",
    ))
    .unwrap();
    parse(&decompress(&bytes).unwrap()).unwrap()
}
