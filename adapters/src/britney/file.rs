//! Reading a local excuses file, as the offline tools and the sandbox do:
//! any compression, parsed, with the items the parser had to skip.

use std::path::Path;

use thiserror::Error;

use super::{parse_bytes_with, Excuses, ExcusesError, Prose};

#[derive(Debug, Error)]
pub enum FileError {
    // The cause is in the message, not chained as a `source`: the CLI
    // prints the chain, and would say it twice.
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {error}")]
    Excuses { path: String, error: ExcusesError },
}

/// Reads and parses `update_excuses.yaml` (.xz, .gz or plain), on every
/// core: parsing overlaps decompression (`parse_bytes`).
pub fn read_excuses(path: &Path) -> Result<Excuses, FileError> {
    read_excuses_with(path, Prose::Read)
}

/// `read_excuses`, reading britney's prose about each item or not
/// (`parse_bytes_with`).
pub fn read_excuses_with(path: &Path, prose: Prose) -> Result<Excuses, FileError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| FileError::Read {
        path: shown.clone(),
        error,
    })?;
    parse_bytes_with(&bytes, prose).map_err(|error| FileError::Excuses { path: shown, error })
}

/// Reads `update_output.txt` as text.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|error| FileError::Read {
        path: path.display().to_string(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() {
        let e = read_excuses(Path::new("/nonexistent/excuses.yaml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/excuses.yaml:"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("shepherd-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.yaml");
        std::fs::write(&bad, "sources: [unclosed").unwrap();
        let e = read_excuses(&bad).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!("{}: ", bad.display())),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
