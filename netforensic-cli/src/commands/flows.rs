//! `netforensic flows`: one conn.log-style row per connection, named and, where evidence
//! allows, attributed to a process, in the chosen format.

use super::analyze::{
    account_input, analyze_attributed, attribution_inputs, AttributionInputs, InputRead,
};
use crate::args::{FlowsArgs, RecordFormat};
use crate::commands::inputs;
use crate::stats::{Progress, RunStats};
use crate::{output, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL};
use netforensic_core::analysis::{analyze_capture_streamed, AnalysisOptions, StreamOutput};
use netforensic_core::report::{self, FlowRecord, RecordWriter};
use std::io::Write;

fn core_format(format: RecordFormat) -> report::RecordFormat {
    match format {
        RecordFormat::Table => report::RecordFormat::Table,
        RecordFormat::Json => report::RecordFormat::Json,
        RecordFormat::Jsonl => report::RecordFormat::Jsonl,
        RecordFormat::Csv => report::RecordFormat::Csv,
        RecordFormat::Zeek => report::RecordFormat::Zeek,
    }
}

pub fn run(args: FlowsArgs, stats: &mut RunStats, strict: bool) -> anyhow::Result<u8> {
    let attribution = attribution_inputs(&args.sockets)?;
    let format = core_format(args.format);
    let mut out = output::open(args.output.output.as_deref())?;
    let mut writer = RecordWriter::<FlowRecord>::new(format, &mut *out);
    // The table is read by people: one list sorted by first packet time over all inputs.
    // Machine formats are written as connections end (memory follows the live connections),
    // unless snapshots are given: the DNS follow-up attribution needs the whole capture, so
    // then each input's flows are written, sorted, once it is read.
    let mut table_rows: Vec<FlowRecord> = Vec::new();
    let mut readable = 0usize;
    let mut partial = attribution.partial;
    let streamed = format != report::RecordFormat::Table && attribution.snapshots.is_empty();

    for name in &args.inputs.captures {
        let source = inputs::source_for(name);
        if streamed {
            if stream_input(
                name,
                source,
                &attribution,
                &mut writer,
                strict,
                stats,
                &mut partial,
            )? {
                readable += 1;
            }
            continue;
        }
        if let Some(analysis) =
            analyze_attributed(name, source, &attribution, strict, stats, &mut partial)
        {
            readable += 1;
            if format == report::RecordFormat::Table {
                table_rows.extend(analysis.flows);
            } else {
                writer.write_slice(&analysis.flows)?;
            }
        }
    }
    // Stable sort: inputs in command-line order break ties, then flow ids.
    table_rows.sort_by_key(|r| r.conn.ts);
    writer.write_all(&table_rows)?;
    writer.finish()?;
    out.flush()?;

    Ok(if readable == 0 {
        EXIT_FAILURE
    } else if partial {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}

/// Analyse one input streamed, writing its connections as they end. `false` when it was
/// unreadable (the error is reported and `partial` set).
fn stream_input(
    name: &str,
    source: netforensic_core::capture::CaptureSource,
    attribution: &AttributionInputs,
    writer: &mut RecordWriter<'_, FlowRecord>,
    strict: bool,
    stats: &mut RunStats,
    partial: &mut bool,
) -> anyhow::Result<bool> {
    let progress = Progress::start(name);
    let options = AnalysisOptions {
        progress: progress.counter(),
        ..AnalysisOptions::default()
    };
    let mut sink = |flows: &[FlowRecord]| writer.write_slice(flows);
    let output = StreamOutput {
        snapshots: &attribution.snapshots,
        correlate: &attribution.options,
        sink: &mut sink,
    };
    let result = analyze_capture_streamed(name, source, &options, output);
    drop(progress);
    let streamed = match result {
        Ok(streamed) => streamed,
        Err(err) => {
            inputs::report_error(&err.to_string());
            *partial = true;
            return Ok(false);
        }
    };
    if let Some(err) = streamed.write_error {
        return Err(err.into());
    }
    let read = InputRead {
        summary: &streamed.summary,
        decode: &streamed.decode_stats,
        dns: &streamed.dns_stats,
        flows: streamed.flows,
    };
    account_input(name, &read, strict, stats, partial);
    Ok(true)
}
