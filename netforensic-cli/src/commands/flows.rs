//! `netforensic flows`: one conn.log-style row per connection, named and, where evidence
//! allows, attributed to a process, in the chosen format.

use super::analyze::{attribution_inputs, AttributionInputs};
use crate::args::{FlowsArgs, RecordFormat};
use crate::commands::inputs;
use crate::stats::{Progress, RunStats};
use crate::{output, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL};
use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::correlate;
use netforensic_core::report::{self, FlowRecord, RecordWriter};

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
    let AttributionInputs {
        snapshots,
        options: correlation,
        partial: snapshots_partial,
    } = attribution_inputs(&args.sockets)?;
    let mut options = AnalysisOptions::default();
    let format = core_format(args.format);
    let mut out = output::open(args.output.output.as_deref())?;
    let mut writer = RecordWriter::<FlowRecord>::new(format, &mut *out);
    // The table is read by people: one list sorted by first packet time over all inputs.
    // Machine formats stream each input's (sorted) flows as soon as it is read.
    let mut table_rows: Vec<FlowRecord> = Vec::new();
    let mut readable = 0usize;
    let mut partial = snapshots_partial;

    for name in &args.inputs.captures {
        let progress = Progress::start(name);
        options.progress = progress.counter();
        let result = analyze_capture(name, inputs::source_for(name), &options);
        drop(progress);
        match result {
            Ok(mut analysis) => {
                readable += 1;
                stats.add_input(&analysis.summary, analysis.flows.len(), "flows");
                inputs::report_damage(name, &analysis.summary);
                partial |= !analysis.summary.complete();
                partial |= strict
                    && inputs::strict_anomalies(
                        name,
                        &analysis.summary,
                        Some(&analysis.decode_stats),
                        Some(&analysis.dns_stats),
                    );
                correlate::attribute(
                    &mut analysis.flows,
                    &snapshots,
                    &analysis.process_evidence,
                    &analysis.dns,
                    &correlation,
                );
                if format == report::RecordFormat::Table {
                    table_rows.extend(analysis.flows);
                } else {
                    writer.write_slice(&analysis.flows)?;
                }
            }
            Err(err) => {
                partial = true;
                inputs::report_error(&err.to_string());
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
