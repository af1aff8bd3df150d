//! `netforensic analyze`: read the captures, attribute their flows (in-capture process
//! metadata, socket snapshots, DNS follow-ups), write the per-process report.

use super::inputs;
use crate::args::{AnalyzeArgs, ReportFormat, SocketArgs};
use anyhow::Context;
use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::capture::{CaptureSource, HashingReader};
use netforensic_core::correlate::{self, CorrelateOptions, LocalNet};
use netforensic_core::report::analyze::{
    write_html, write_json, write_table, InputReport, ReportBuilder,
};
use netforensic_core::sockets::Snapshot;
use netforensic_core::Timestamp;
use std::io::Write;

/// Largest `--time-shift` accepted: ten years, in seconds (beyond that it is a typo).
const MAX_TIME_SHIFT_SECS: f64 = 10.0 * 366.0 * 86_400.0;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<u8> {
    let options = correlate_options(&args.sockets)?;
    let snapshots = load_snapshot_files(&args.sockets.sockets)?;
    let mut report = ReportBuilder::new();
    report.add_snapshots(&snapshots);
    let analysis_options = AnalysisOptions::default();
    let mut read_any = false;
    let mut partial = false;
    for name in &args.inputs.captures {
        let (source, digest) = source_with_digest(name);
        let mut analysis = match analyze_capture(name, source, &analysis_options) {
            Ok(analysis) => analysis,
            Err(err) => {
                inputs::report_error(&err.to_string());
                partial = true;
                continue;
            }
        };
        read_any = true;
        inputs::report_damage(name, &analysis.summary);
        partial |= !analysis.summary.complete();
        correlate::attribute(
            &mut analysis.flows,
            &snapshots,
            &analysis.process_evidence,
            &analysis.dns,
            &options,
        );
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

/// `--local-net` and `--time-shift` as correlation options.
pub fn correlate_options(args: &SocketArgs) -> anyhow::Result<CorrelateOptions> {
    let local_nets = args
        .local_net
        .iter()
        .map(|s| s.parse::<LocalNet>())
        .collect::<Result<Vec<_>, _>>()?;
    if !args.time_shift.is_finite() || args.time_shift.abs() > MAX_TIME_SHIFT_SECS {
        anyhow::bail!(
            "--time-shift {} is not a number of seconds within ten years",
            args.time_shift
        );
    }
    Ok(CorrelateOptions {
        local_nets,
        time_shift_nanos: Timestamp::from_secs_f64(args.time_shift).nanos(),
        ..CorrelateOptions::default()
    })
}

/// Stand-in for the snapshot importers (`sockets::load_all`, being written in parallel): reads
/// netforensic's own JSON-lines snapshot format only.
// TODO(sockets): replace by `sockets::load_all` once merged; it applies `--time-shift`
// itself, so `time_shift_nanos` must then be 0 here.
pub fn load_snapshot_files(specs: &[String]) -> anyhow::Result<Vec<Snapshot>> {
    let mut snapshots = Vec::new();
    for spec in specs {
        let text = std::fs::read_to_string(spec)
            .with_context(|| format!("cannot read {}", netforensic_core::escape::terminal(spec)))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let mut value: serde_json::Value = serde_json::from_str(line).with_context(|| {
                format!(
                    "{} line {}: not a netforensic JSON snapshot",
                    netforensic_core::escape::terminal(spec),
                    i + 1
                )
            })?;
            if let Some(object) = value.as_object_mut() {
                object
                    .entry("source")
                    .or_insert_with(|| serde_json::Value::from("netforensic"));
            }
            let snapshot: Snapshot = serde_json::from_value(value).with_context(|| {
                format!(
                    "{} line {}: not a netforensic JSON snapshot",
                    netforensic_core::escape::terminal(spec),
                    i + 1
                )
            })?;
            snapshots.push(snapshot);
        }
    }
    Ok(snapshots)
}
