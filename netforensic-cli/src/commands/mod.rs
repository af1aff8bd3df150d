//! One file per command; each turns validated arguments into core calls and writes the result.

mod analyze;
mod dns;
mod flows;
mod info;
mod inputs;
mod snapshot;

use crate::args::{Cli, Command};
use crate::stats::RunStats;

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    if let Some(threads) = cli.threads {
        inputs::set_threads(threads)?;
    }
    let mut stats = RunStats::new(cli.stats);
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args, &mut stats, cli.strict),
        Command::Flows(args) => flows::run(args, &mut stats, cli.strict),
        Command::Dns(args) => dns::run(args, &mut stats, cli.strict),
        Command::Info(args) => info::run(args, &mut stats, cli.strict),
        Command::Snapshot(args) => snapshot::run(args),
    };
    stats.print();
    result
}
