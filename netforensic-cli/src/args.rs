//! Command-line arguments (DESIGN.md 4.1).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "netforensic",
    version,
    about = "Which local program talked to which host, when, how much, and how sure we are."
)]
pub struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// After the run, print packets, bytes, records, elapsed time, throughput and peak memory
    /// to stderr.
    #[arg(long, global = true)]
    pub stats: bool,
    /// Treat anomalies as failure, for pipelines: damaged capture regions, malformed packets,
    /// dropped IP fragments, malformed DNS messages and DNS reassembly overflows each print
    /// one line per kind on stderr and make the exit status 1 (2 if nothing was readable).
    #[arg(long, global = true)]
    pub strict: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Per process: the hosts it talked to, how much, when; then unattributed traffic.
    Analyze(AnalyzeArgs),
    /// Connections (Zeek conn.log semantics), named and attributed.
    Flows(FlowsArgs),
    /// DNS transactions (Zeek dns.log semantics).
    Dns(DnsArgs),
    /// Format, link types, packets, time span, SHA-256 and damage of each capture.
    Info(InfoArgs),
    /// Write this machine's process-socket table (netforensic JSON snapshot format).
    Snapshot(SnapshotArgs),
}

#[derive(Args, Debug)]
pub struct Inputs {
    /// Capture files (pcap, pcapng); `-` reads standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<String>,
}

#[derive(Args, Debug)]
pub struct OutputArg {
    /// Write results to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SocketArgs {
    /// Socket snapshot files (ss, netstat, lsof, TCPView, Sysmon, netforensic JSON);
    /// `FILE@RFC3339` gives the time a snapshot was taken when the format has none.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub sockets: Vec<String>,
    /// Address prefix of the examined machine (repeatable), e.g. 192.168.1.0/24; loopback
    /// and addresses the snapshots or the capture show as local count anyway.
    #[arg(long = "local-net", value_name = "CIDR")]
    pub local_net: Vec<String>,
    /// Seconds added to snapshot times to reach the capture's clock (clock skew between
    /// the machine that took the snapshots and the one that captured).
    #[arg(
        long = "time-shift",
        value_name = "SECS",
        allow_hyphen_values = true,
        default_value_t = 0.0
    )]
    pub time_shift: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    Table,
    Json,
    Jsonl,
    Csv,
    Zeek,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub sockets: SocketArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub output: OutputArg,
}

#[derive(Args, Debug)]
pub struct FlowsArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub sockets: SocketArgs,
    #[arg(long, value_enum, default_value_t = RecordFormat::Table)]
    pub format: RecordFormat,
    #[command(flatten)]
    pub output: OutputArg,
}

#[derive(Args, Debug)]
pub struct DnsArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    #[arg(long, value_enum, default_value_t = RecordFormat::Table)]
    pub format: RecordFormat,
    #[command(flatten)]
    pub output: OutputArg,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    #[arg(long, value_enum, default_value_t = InfoFormat::Table)]
    pub format: InfoFormat,
    #[command(flatten)]
    pub output: OutputArg,
}

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub output: OutputArg,
    /// Seconds between snapshots (with --count).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    /// Number of snapshots to take.
    #[arg(long, value_name = "N")]
    pub count: Option<u32>,
}
