//! The offline tools: `shepherd retry` and `shepherd why` on a local
//! excuses file, for release engineers without the bot and for scripts.
//! Same selection and wording as `!retry` and `!why`.

use std::path::Path;

use shepherd_adapters::britney::{self, output, Excuses, ExcusesError};
use shepherd_commands::proposed_migration::explain::{explain, not_found};
use shepherd_commands::proposed_migration::retry_select::{select, Selection};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OfflineError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Excuses { path: String, source: ExcusesError },
    #[error("{0}")]
    Usage(String),
}

pub fn load_excuses(path: &Path) -> Result<Excuses, OfflineError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| OfflineError::Read {
        path: shown.clone(),
        source,
    })?;
    let text = britney::decompress(&bytes).map_err(|source| OfflineError::Excuses {
        path: shown.clone(),
        source,
    })?;
    let excuses = britney::parse(&text).map_err(|source| OfflineError::Excuses {
        path: shown.clone(),
        source,
    })?;
    for s in &excuses.skipped {
        eprintln!(
            "warning: {shown}:{}: item {} skipped: {}",
            s.line, s.index, s.reason
        );
    }
    Ok(excuses)
}

/// The request URLs, one per line, in retry-autopkgtest-regressions' order.
pub fn retry_urls(excuses: &Excuses, series: &str, sel: &Selection, base: &str) -> Vec<String> {
    select(series, excuses, sel)
        .iter()
        .map(|p| p.request.url(base))
        .collect()
}

/// The `!why` text for `pkg`, or the "not in -proposed" answer (as an error).
pub fn why(
    excuses: &Excuses,
    pkg: &str,
    output_path: Option<&Path>,
) -> Result<String, OfflineError> {
    let out = match output_path {
        Some(p) => Some(output::parse(&std::fs::read_to_string(p).map_err(
            |source| OfflineError::Read {
                path: p.display().to_string(),
                source,
            },
        )?)),
        None => None,
    };
    match excuses.for_source(pkg) {
        Some(item) => Ok(explain(item, out.as_ref())),
        None => Err(OfflineError::Usage(not_found(pkg, excuses))),
    }
}
