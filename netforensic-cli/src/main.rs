//! `netforensic`: thin glue over netforensic-core. Argument parsing and terminal output only.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod output;
mod stats;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the analysis allocates and frees many small objects (connection strings, DNS
/// answers, names) from several threads; glibc's allocator spent ~17% of a run in malloc/free
/// and heap consolidation, mimalloc's thread-local free lists a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit statuses (DESIGN.md 4.1).
pub const EXIT_OK: u8 = 0;
pub const EXIT_PARTIAL: u8 = 1;
pub const EXIT_FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                EXIT_FAILURE
            } else {
                EXIT_OK
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(EXIT_OK);
            }
            eprintln!("netforensic: {err:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `netforensic flows big.pcap | head` must end quietly.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
