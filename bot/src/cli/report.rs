//! The one line a failed command prints: the error and its causes, each
//! said once.

/// `error: cause: cause…`, leaving out a cause whose words the line
/// already holds. Shepherd's own errors put their cause in their message
/// and return no `source()`, but some libraries do both (sqlx's database
/// errors say theirs twice), and a person should read each fact once.
pub fn report(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let words = cause.to_string();
        if line.is_empty() {
            line = words;
        } else if !line.contains(&words) {
            line = format!("{line}: {words}");
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that says its cause and also returns it, as sqlx's do.
    #[derive(Debug, thiserror::Error)]
    #[error("error returned from database: {0}")]
    struct Framed(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot start")]
    struct Silent(#[source] std::io::Error);

    fn io(words: &str) -> std::io::Error {
        std::io::Error::other(words.to_string())
    }

    #[test]
    fn each_cause_is_said_once() {
        let rows: Vec<(anyhow::Error, &str)> = vec![
            (
                anyhow::Error::new(Framed(io("unable to open database file"))),
                "error returned from database: unable to open database file",
            ),
            (
                anyhow::Error::new(Framed(io("unable to open database file")))
                    .context("cannot open the store"),
                "cannot open the store: error returned from database: unable to open database file",
            ),
            // A cause the message does not say is kept.
            (
                anyhow::Error::new(Silent(io("address in use"))),
                "cannot start: address in use",
            ),
            (anyhow::anyhow!("plain"), "plain"),
        ];
        for (error, expected) in rows {
            assert_eq!(report(&error), expected);
        }
    }
}
