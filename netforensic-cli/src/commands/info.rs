//! `netforensic info`: per input, what it is (format, link types), how much (packets, time
//! span), its SHA-256, and whether it was read completely (damage list).
//!
//! `--format json` writes one object per input, one per line (JSON lines), in input order;
//! unreadable inputs get a diagnostic on stderr and no object. Table output is one aligned
//! block of fields per input.

use super::inputs::{self, ExitStatus};
use crate::args::{InfoArgs, InfoFormat};
use crate::output;
use crate::stats::RunStats;
use netforensic_core::capture::{CaptureSummary, Damage};
use serde::Serialize;
use std::io::Write;

/// One `info --format json` object (DESIGN.md 4.1).
#[derive(Serialize)]
struct InputInfo<'a> {
    path: &'a str,
    sha256: Option<String>,
    format: Option<&'static str>,
    link_types: Vec<LinkTypeInfo>,
    packets: u64,
    first_ts: Option<f64>,
    last_ts: Option<f64>,
    complete: bool,
    damage: &'a [Damage],
}

#[derive(Serialize)]
struct LinkTypeInfo {
    number: u32,
    name: String,
}

impl<'a> InputInfo<'a> {
    fn new(path: &'a str, sha256: Option<String>, summary: &'a CaptureSummary) -> Self {
        InputInfo {
            path,
            sha256,
            format: summary.format.map(|f| f.as_str()),
            link_types: summary
                .link_types
                .iter()
                .map(|&lt| LinkTypeInfo {
                    number: lt.0,
                    name: lt.name(),
                })
                .collect(),
            packets: summary.packets,
            first_ts: summary.first_ts.map(|t| t.as_secs_f64()),
            last_ts: summary.last_ts.map(|t| t.as_secs_f64()),
            complete: summary.complete(),
            damage: &summary.damage,
        }
    }
}

pub fn run(args: InfoArgs, stats: &mut RunStats, strict: bool) -> anyhow::Result<u8> {
    let mut out = output::open(args.output.output.as_deref())?;
    let mut status = ExitStatus::default();
    let mut first = true;
    for name in &args.inputs.captures {
        let (mut reader, digest) = match inputs::open_capture(name) {
            Ok(opened) => opened,
            Err(err) => {
                inputs::report_error(&err.to_string());
                status.failed();
                continue;
            }
        };
        while reader.next_frame().is_some() {}
        let summary = reader.into_summary();
        stats.add_input(&summary, 0, "");
        inputs::report_damage(name, &summary);
        status.summary(&summary);
        if strict && inputs::strict_anomalies(name, &summary, None, None) {
            status.partial();
        }
        let info = InputInfo::new(name, digest.sha256(), &summary);
        match args.format {
            InfoFormat::Json => {
                serde_json::to_writer(&mut out, &info)?;
                writeln!(out)?;
            }
            InfoFormat::Table => {
                if !first {
                    writeln!(out)?;
                }
                write_table(&mut out, &info, &summary)?;
            }
        }
        first = false;
    }
    out.flush()?;
    Ok(status.code())
}

fn write_table(
    out: &mut dyn Write,
    info: &InputInfo<'_>,
    summary: &CaptureSummary,
) -> std::io::Result<()> {
    let time = |t: Option<netforensic_core::Timestamp>| {
        t.map_or_else(|| "-".to_string(), |t| t.to_rfc3339())
    };
    let link_types = if info.link_types.is_empty() {
        "-".to_string()
    } else {
        info.link_types
            .iter()
            .map(|lt| format!("{} ({})", lt.number, lt.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut rows = vec![
        ("path", info.path.to_string()),
        ("sha256", info.sha256.clone().unwrap_or_else(|| "-".into())),
        ("format", info.format.unwrap_or("-").to_string()),
        ("link types", link_types),
        ("packets", info.packets.to_string()),
        ("first packet", time(summary.first_ts)),
        ("last packet", time(summary.last_ts)),
        (
            "complete",
            if info.complete { "yes" } else { "no (damaged)" }.to_string(),
        ),
    ];
    for damage in info.damage {
        rows.push((
            "damage",
            format!(
                "byte offset {}, {} bytes: {}",
                damage.offset, damage.length, damage.reason
            ),
        ));
    }
    output::write_fields(out, &rows)
}
