//! `shepherd retry` and `shepherd why`: the offline tools, on a local
//! excuses file (the logic is `shepherd_commands::proposed_migration::offline`).

use std::path::Path;

use anyhow::Context as _;
use shepherd_adapters::autopkgtest::request::check_trigger;
use shepherd_adapters::britney::file::{read_excuses_with, read_text};
use shepherd_adapters::britney::{output, Excuses, Prose};
use shepherd_commands::proposed_migration::offline::{retry_urls, series_of};
use shepherd_commands::proposed_migration::retry_select::Selection;

use super::RetryArgs;

/// Reads the file, warning on stderr about items the parser skipped.
fn load(path: &Path, prose: Prose) -> anyhow::Result<Excuses> {
    let excuses = read_excuses_with(path, prose)?;
    for s in &excuses.skipped {
        eprintln!(
            "warning: {}:{}: item {} skipped: {}",
            path.display(),
            s.line,
            s.index,
            s.reason
        );
    }
    Ok(excuses)
}

pub(super) fn retry(a: RetryArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.dry_run,
        "add --dry-run: this prints request URLs (pipe them to curl with your cookie), or use !retry in chat to send them"
    );
    // Retrying needs the results, not britney's prose about each item.
    let excuses = load(&a.excuses, Prose::Skip)?;
    let series = match a.series {
        Some(s) => s,
        None => {
            series_of(&excuses).context("cannot tell the series from the file; give --series")?
        }
    };
    shepherd_commands::proposed_migration::retry::check_state(&a.state.to_ascii_uppercase())
        .map_err(anyhow::Error::msg)?;
    for t in &a.trigger {
        check_trigger(t)?;
    }
    shepherd_commands::proposed_migration::retry::check_ppas(&a.ppa).map_err(anyhow::Error::msg)?;
    url::Url::parse(&a.request_url)
        .map_err(|e| anyhow::anyhow!("--request-url `{}` is not a URL: {e}", a.request_url))?;
    let sel = Selection {
        state: Some(a.state.to_ascii_uppercase()),
        arches: a.arch,
        extra_triggers: a.trigger,
        all_proposed: a.all_proposed,
        ppas: a.ppa,
        no_proposed: a.no_proposed,
        min_age: a.min_age,
        max_age: a.max_age,
        blocks: a.blocks,
        reference: false,
    };
    let urls = retry_urls(&excuses, &series, &sel, &a.request_url);
    exiting_with(excuses);
    if urls.is_empty() {
        // Scripts read stdout; a person reads this.
        eprintln!(
            "nothing to retry: no {} results match",
            a.state.to_ascii_uppercase()
        );
    }
    // A few writes for all the lines: stdout alone flushes at every newline.
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for url in urls {
        writeln!(out, "{url}")?;
    }
    out.flush()?;
    Ok(())
}

/// The process ends when the command returns: freeing the tens of
/// thousands of strings of a parsed file one by one would only delay that
/// (by ~5 ms on the plucky file), so the memory goes back with the process.
fn exiting_with(excuses: Excuses) {
    std::mem::forget(excuses);
}

/// The `!why` text, or the "not in -proposed" answer as the error.
pub(super) fn why(
    package: &str,
    excuses: &Path,
    output_path: Option<&Path>,
) -> anyhow::Result<String> {
    let excuses = load(excuses, Prose::Read)?;
    let out = match output_path {
        Some(p) => Some(output::parse(&read_text(p)?)),
        None => None,
    };
    let answer =
        shepherd_commands::proposed_migration::offline::why(&excuses, package, out.as_ref())
            .map_err(anyhow::Error::msg);
    exiting_with(excuses);
    answer
}
