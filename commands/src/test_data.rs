//! The shared fixtures tests read (../shared beside the workspace, or
//! `$SHEPHERD_SHARED`); never read by the bot itself.

use shepherd_adapters::britney::{decompress, parse, Excuses};

pub fn shared(path: &str) -> std::path::PathBuf {
    let root = std::env::var("SHEPHERD_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    root.join(path)
}

/// The real plucky excuses of 2025-03-14.
pub fn plucky() -> Excuses {
    let bytes = std::fs::read(shared(
        "fixtures/excuses/production/plucky-2025-03-14.update_excuses.yaml.xz",
    ))
    .unwrap();
    parse(&decompress(&bytes).unwrap()).unwrap()
}
