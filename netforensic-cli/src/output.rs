//! Where results go: standard output or `--output FILE`, buffered; and small helpers for
//! aligned, terminal-safe text.

use anyhow::Context;
use std::io::{BufWriter, Write};
use std::path::Path;

pub fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

/// Write `rows` of (label, value) with the values aligned in one column. Values are made safe
/// for a terminal (no control bytes reach it).
pub fn write_fields(out: &mut dyn Write, rows: &[(&str, String)]) -> std::io::Result<()> {
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in rows {
        let value = netforensic_core::escape::terminal(value);
        writeln!(out, "{label:<width$}  {value}")?;
    }
    Ok(())
}
