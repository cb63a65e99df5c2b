//! The `shepherd` command line (see `shepherd::cli`).

use std::process::ExitCode;

use clap::Parser;
use shepherd::cli::{dispatch, report, Cli};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shepherd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(dispatch(cli.command));
    // A console read blocked on a terminal or a supervisor's open pipe
    // lives on a blocking thread; dropping the runtime would wait for it
    // (until stdin closes). Everything that matters has stopped by now.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shepherd: {}", report(&e));
            ExitCode::FAILURE
        }
    }
}
