//! Where results go: standard output or `--output FILE`, buffered.

use anyhow::Context;
use std::io::{BufWriter, Write};
use std::path::Path;

#[allow(dead_code)] // used as the commands land
pub fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}
