//! `netforensic dns`: one dns.log-style row per DNS transaction, in the chosen format.

use crate::args::{DnsArgs, RecordFormat};
use crate::commands::inputs;
use crate::stats::{Progress, RunStats};
use crate::{output, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL};
use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::dns::DnsRecord;
use netforensic_core::escape;
use netforensic_core::report::dns::DnsRow;
use netforensic_core::report::{self, RecordWriter};

fn core_format(format: RecordFormat) -> report::RecordFormat {
    match format {
        RecordFormat::Table => report::RecordFormat::Table,
        RecordFormat::Json => report::RecordFormat::Json,
        RecordFormat::Jsonl => report::RecordFormat::Jsonl,
        RecordFormat::Csv => report::RecordFormat::Csv,
        RecordFormat::Zeek => report::RecordFormat::Zeek,
    }
}

pub fn run(args: DnsArgs, stats: &mut RunStats, strict: bool) -> anyhow::Result<u8> {
    // Naming is not needed for DNS rows; flows are still tracked (uids, pairing per flow).
    let mut options = AnalysisOptions {
        naming: false,
        ..AnalysisOptions::default()
    };
    let format = core_format(args.format);
    // DNS rows are few and small: collect every input's, then write (machine formats in input
    // order, each input sorted; the table as one list sorted by time).
    let mut per_input: Vec<(String, Vec<DnsRecord>)> = Vec::new();
    let mut readable = 0usize;
    let mut partial = false;

    for name in &args.inputs.captures {
        let shown = escape::terminal(name);
        let progress = Progress::start(name);
        options.progress = progress.counter();
        let result = analyze_capture(name, inputs::source_for(name), &options);
        drop(progress);
        match result {
            Ok(analysis) => {
                readable += 1;
                stats.add_input(&analysis.summary, analysis.dns.len() as u64, "DNS records");
                for damage in &analysis.summary.damage {
                    eprintln!(
                        "netforensic: {shown}: byte offset {}: skipped {} bytes: {}",
                        damage.offset,
                        damage.length,
                        escape::terminal(&damage.reason)
                    );
                }
                if analysis.dns_stats.malformed > 0 {
                    eprintln!(
                        "netforensic: {shown}: {} DNS messages could not be read completely",
                        analysis.dns_stats.malformed
                    );
                }
                if !analysis.summary.complete() {
                    partial = true;
                }
                partial |= strict
                    && inputs::strict_anomalies(
                        name,
                        &analysis.summary,
                        Some(&analysis.decode_stats),
                        Some(&analysis.dns_stats),
                    );
                per_input.push((analysis.path, analysis.dns));
            }
            Err(err) => {
                partial = true;
                eprintln!("netforensic: {err}");
            }
        }
    }
    let mut rows: Vec<DnsRow> = per_input
        .iter()
        .flat_map(|(capture, records)| records.iter().map(|record| DnsRow { record, capture }))
        .collect();
    if format == report::RecordFormat::Table {
        // Stable sort: inputs in command-line order break ties.
        rows.sort_by_key(|r| r.record.ts);
    }
    let mut out = output::open(args.output.output.as_deref())?;
    let mut writer = RecordWriter::<DnsRow>::new(format, &mut *out);
    for row in &rows {
        writer.write(row)?;
    }
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
