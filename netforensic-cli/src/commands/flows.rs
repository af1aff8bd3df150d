//! `netforensic flows`: one conn.log-style row per connection, in the chosen format.

use crate::args::{FlowsArgs, RecordFormat};
use crate::commands::inputs;
use crate::{output, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL};
use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::escape;
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

pub fn run(args: FlowsArgs) -> anyhow::Result<u8> {
    if !args.sockets.sockets.is_empty() {
        eprintln!(
            "netforensic: --sockets is not applied by `flows` yet; flows are reported unattributed"
        );
    }
    let options = AnalysisOptions::default();
    let format = core_format(args.format);
    let mut out = output::open(args.output.output.as_deref())?;
    let mut writer = RecordWriter::<FlowRecord>::new(format, &mut *out);
    // The table is read by people: one list sorted by first packet time over all inputs.
    // Machine formats stream each input's (sorted) flows as soon as it is read.
    let mut table_rows: Vec<FlowRecord> = Vec::new();
    let mut readable = 0usize;
    let mut partial = false;

    for name in &args.inputs.captures {
        let shown = escape::terminal(name);
        match analyze_capture(name, inputs::source_for(name), &options) {
            Ok(analysis) => {
                readable += 1;
                for damage in &analysis.summary.damage {
                    eprintln!(
                        "netforensic: {shown}: byte offset {}: skipped {} bytes: {}",
                        damage.offset,
                        damage.length,
                        escape::terminal(&damage.reason)
                    );
                }
                if !analysis.summary.complete() {
                    partial = true;
                }
                if format == report::RecordFormat::Table {
                    table_rows.extend(analysis.flows);
                } else {
                    writer.write_all(&analysis.flows)?;
                }
            }
            Err(err) => {
                partial = true;
                eprintln!("netforensic: {err}");
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
