//! One file per command; each turns validated arguments into core calls and writes the result.

mod analyze;
mod dns;
mod flows;
mod info;
mod inputs;
mod snapshot;

use crate::args::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    if let Some(threads) = cli.threads {
        inputs::set_threads(threads)?;
    }
    match cli.command {
        Command::Analyze(args) => analyze::run(args, cli.strict),
        Command::Flows(args) => flows::run(args, cli.strict),
        Command::Dns(args) => dns::run(args, cli.strict),
        Command::Info(args) => info::run(args, cli.strict),
        Command::Snapshot(args) => snapshot::run(args),
    }
}
