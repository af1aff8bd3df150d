//! `netforensic analyze`: read the captures, attribute their flows (in-capture process
//! metadata, socket snapshots, DNS follow-ups), write the per-process report.

use super::inputs;
use crate::args::{AnalyzeArgs, ReportFormat, SocketArgs};
use crate::stats::{Progress, RunStats};
use anyhow::Context;
use netforensic_core::analysis::{analyze_capture, AnalysisOptions, CaptureAnalysis};
use netforensic_core::capture::{CaptureSource, CaptureSummary, HashingReader};
use netforensic_core::correlate::{self, CorrelateOptions, LocalNet};
use netforensic_core::decode::DecodeStats;
use netforensic_core::dns::DnsStats;
use netforensic_core::report::analyze::{
    write_html, write_json, write_table, InputReport, ReportBuilder,
};
use netforensic_core::sockets::{self, Snapshot, TimeShift};
use netforensic_core::ErrorKind;
use std::io::Write;

pub fn run(args: AnalyzeArgs, stats: &mut RunStats, strict: bool) -> anyhow::Result<u8> {
    let attribution = attribution_inputs(&args.sockets)?;
    let mut report = ReportBuilder::new();
    report.add_snapshots(&attribution.snapshots);
    let mut read_any = false;
    let mut partial = attribution.partial;
    for name in &args.inputs.captures {
        let (source, digest) = source_with_digest(name);
        let Some(analysis) =
            analyze_attributed(name, source, &attribution, strict, stats, &mut partial)
        else {
            continue;
        };
        read_any = true;
        report.add_input(InputReport::new(name, &analysis.summary, digest.sha256()));
        report.add_packets_with_process(analysis.process_evidence.stats.packets_with_process);
        report.add_flows(&analysis.flows);
    }
    if !read_any {
        return Ok(crate::EXIT_FAILURE);
    }
    let report = report.finish();
    let mut out = crate::output::open(args.output.output.as_deref())?;
    match args.format {
        ReportFormat::Json => write_json(&report, &mut *out)?,
        ReportFormat::Table => write_table(&report, &mut *out)?,
        ReportFormat::Html => write_html(&report, &mut *out)?,
    }
    out.flush().context("cannot write the report")?;
    Ok(if partial {
        crate::EXIT_PARTIAL
    } else {
        crate::EXIT_OK
    })
}

/// The capture source for a command-line name, and how to get its SHA-256 afterwards
/// (standard input is hashed while it is read).
fn source_with_digest(name: &str) -> (CaptureSource, inputs::InputDigest) {
    if name == "-" {
        let (reader, handle) = HashingReader::new(std::io::stdin());
        let source = CaptureSource::Stream {
            name: "-".to_string(),
            reader: Box::new(reader),
        };
        (source, inputs::InputDigest::Stream(handle))
    } else {
        (
            CaptureSource::File(name.into()),
            inputs::InputDigest::File(name.into()),
        )
    }
}

/// Read one capture (with a progress bar and run statistics), report its damage (and, with
/// `--strict`, its anomalies), and attribute its flows. `None` when it was unreadable (the
/// error is reported); `partial` is set when the input or its anomalies call for exit 1.
pub fn analyze_attributed(
    name: &str,
    source: CaptureSource,
    attribution: &AttributionInputs,
    strict: bool,
    stats: &mut RunStats,
    partial: &mut bool,
) -> Option<CaptureAnalysis> {
    let progress = Progress::start(name);
    let options = AnalysisOptions {
        progress: progress.counter(),
        ..AnalysisOptions::default()
    };
    let result = analyze_capture(name, source, &options);
    drop(progress);
    let mut analysis = match result {
        Ok(analysis) => analysis,
        Err(err) => {
            inputs::report_error(&err.to_string());
            *partial = true;
            return None;
        }
    };
    let read = InputRead {
        summary: &analysis.summary,
        decode: &analysis.decode_stats,
        dns: &analysis.dns_stats,
        flows: analysis.flows.len() as u64,
    };
    account_input(name, &read, strict, stats, partial);
    correlate::attribute(
        &mut analysis.flows,
        &attribution.snapshots,
        &analysis.process_evidence,
        &analysis.dns,
        &attribution.options,
    );
    Some(analysis)
}

/// What reading one input gave, for [`account_input`].
pub struct InputRead<'a> {
    pub summary: &'a CaptureSummary,
    pub decode: &'a DecodeStats,
    pub dns: &'a DnsStats,
    pub flows: u64,
}

/// Count an input in the run statistics, report its damage (and, with `--strict`, its
/// anomalies), and set `partial` when either calls for exit 1.
pub fn account_input(
    name: &str,
    read: &InputRead<'_>,
    strict: bool,
    stats: &mut RunStats,
    partial: &mut bool,
) {
    stats.add_input(read.summary, read.flows, "flows");
    inputs::report_damage(name, read.summary);
    *partial |= !read.summary.complete();
    *partial |=
        strict && inputs::strict_anomalies(name, read.summary, Some(read.decode), Some(read.dns));
}

/// Snapshots and attribution settings from the shared socket arguments (`--sockets`,
/// `--local-net`, `--time-shift`), for `analyze` and `flows --sockets`. The loader applies the
/// time shift to the snapshots, so the correlator gets them already on the capture's clock.
pub struct AttributionInputs {
    pub snapshots: Vec<Snapshot>,
    pub options: CorrelateOptions,
    /// A snapshot file was not understood (reported on stderr): exit status 1.
    pub partial: bool,
}

/// Read the snapshot files. A file that cannot be read at all is fatal (a mistyped path); a
/// file whose content is not understood is reported and skipped, so one odd file does not
/// cost the attribution the others give.
pub fn attribution_inputs(args: &SocketArgs) -> anyhow::Result<AttributionInputs> {
    let local_nets = args
        .local_net
        .iter()
        .map(|s| s.parse::<LocalNet>())
        .collect::<Result<Vec<_>, _>>()?;
    let shift = TimeShift::from_secs_f64(args.time_shift)?;
    let mut snapshots = Vec::new();
    let mut partial = false;
    for spec in &args.sockets {
        match sockets::load(spec, shift) {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    inputs::report_error(warning);
                }
                snapshots.extend(loaded.snapshots);
            }
            Err(err) if err.kind == ErrorKind::Io => return Err(err.into()),
            Err(err) => {
                inputs::report_error(&format!("{err}; snapshot file skipped"));
                partial = true;
            }
        }
    }
    sockets::name_processes(&mut snapshots);
    let options = CorrelateOptions {
        local_nets,
        time_shift_nanos: 0,
        ..CorrelateOptions::default()
    };
    Ok(AttributionInputs {
        snapshots,
        options,
        partial,
    })
}
