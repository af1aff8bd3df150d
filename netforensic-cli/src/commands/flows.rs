//! `netforensic flows`: one conn.log-style row per connection, named and, where evidence
//! allows, attributed to a process, in the chosen format.

use super::analyze::{analyze_attributed, attribution_inputs};
use crate::args::{FlowsArgs, RecordFormat};
use crate::commands::inputs;
use crate::stats::RunStats;
use crate::{output, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL};
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
    let attribution = attribution_inputs(&args.sockets)?;
    let format = core_format(args.format);
    let mut out = output::open(args.output.output.as_deref())?;
    let mut writer = RecordWriter::<FlowRecord>::new(format, &mut *out);
    // The table is read by people: one list sorted by first packet time over all inputs.
    // Machine formats stream each input's (sorted) flows as soon as it is read.
    let mut table_rows: Vec<FlowRecord> = Vec::new();
    let mut readable = 0usize;
    let mut partial = attribution.partial;

    for name in &args.inputs.captures {
        let source = inputs::source_for(name);
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
