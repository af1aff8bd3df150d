//! Shared input handling for every command: capture names to readers (with the SHA-256 of
//! what was read), the worker-thread setting, diagnostics on stderr and the exit status.

use crate::{EXIT_FAILURE, EXIT_PARTIAL};
use netforensic_core::capture::{
    sha256_file, CaptureReader, CaptureSource, CaptureSummary, HashingReader, Sha256Handle,
};
use netforensic_core::decode::DecodeStats;
use netforensic_core::dns::DnsStats;
use netforensic_core::escape;
use std::path::PathBuf;

/// Size the global rayon pool (`--threads N`); must run before any parallel work.
pub fn set_threads(threads: usize) -> anyhow::Result<()> {
    if threads == 0 {
        anyhow::bail!("--threads must be at least 1");
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| anyhow::anyhow!("cannot set up {threads} worker threads: {e}"))
}

/// `-` is standard input; anything else a file path.
#[allow(dead_code)] // for commands that hash nothing (flows, dns)
pub fn source_for(name: &str) -> CaptureSource {
    if name == "-" {
        CaptureSource::Stream {
            name: "-".to_string(),
            reader: Box::new(std::io::stdin()),
        }
    } else {
        CaptureSource::File(name.into())
    }
}

/// How to get an input's SHA-256 once it has been read.
pub enum InputDigest {
    /// Hash the file's bytes.
    File(PathBuf),
    /// The bytes the stream delivered, hashed as the reader consumed them.
    Stream(Sha256Handle),
}

impl InputDigest {
    /// Lowercase hex SHA-256; `None` (with a diagnostic) if the file cannot be read again.
    pub fn sha256(&self) -> Option<String> {
        match self {
            InputDigest::File(path) => match sha256_file(path) {
                Ok(hex) => Some(hex),
                Err(err) => {
                    report_error(&err.to_string());
                    None
                }
            },
            InputDigest::Stream(handle) => handle.hex(),
        }
    }
}

/// Open a capture by its command-line name; standard input is hashed while it is read.
pub fn open_capture(name: &str) -> Result<(CaptureReader, InputDigest), netforensic_core::Error> {
    if name == "-" {
        let (reader, digest) = HashingReader::new(std::io::stdin());
        let source = CaptureSource::Stream {
            name: "-".to_string(),
            reader: Box::new(reader),
        };
        Ok((
            CaptureReader::from_source(source)?,
            InputDigest::Stream(digest),
        ))
    } else {
        let path = PathBuf::from(name);
        Ok((CaptureReader::open(&path)?, InputDigest::File(path)))
    }
}

/// Print one diagnostic line on stderr, prefixed and made safe for a terminal.
pub fn report_error(message: &str) {
    eprintln!("netforensic: {}", escape::terminal(message));
}

/// Print each damaged region of an input on stderr.
pub fn report_damage(name: &str, summary: &CaptureSummary) {
    for damage in &summary.damage {
        report_error(&format!(
            "{name}: byte offset {}: {} ({} bytes skipped)",
            damage.offset, damage.reason, damage.length
        ));
    }
}

/// `--strict`: report each kind of anomaly met in one input on one line and say whether
/// there was any (the caller then fails the run). Damage always counts; the decoder's and
/// DNS tracker's counts when the command ran them.
pub fn strict_anomalies(
    name: &str,
    summary: &CaptureSummary,
    decode: Option<&DecodeStats>,
    dns: Option<&DnsStats>,
) -> bool {
    let mut kinds: Vec<(u64, &str)> =
        vec![(summary.damage.len() as u64, "damaged regions skipped")];
    if let Some(decode) = decode {
        kinds.push((decode.malformed, "malformed packets"));
        kinds.push((decode.fragments_dropped, "IP fragments dropped"));
    }
    if let Some(dns) = dns {
        kinds.push((dns.malformed, "malformed DNS messages"));
        kinds.push((
            dns.tcp_buffer_overflows,
            "DNS-over-TCP segments dropped at the buffer bound",
        ));
    }
    let mut any = false;
    for (count, kind) in kinds.into_iter().filter(|(count, _)| *count > 0) {
        report_error(&format!("{name}: strict: {count} {kind}"));
        any = true;
    }
    any
}

/// The exit status over several inputs: the worst outcome wins (DESIGN.md 4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitStatus(u8);

impl ExitStatus {
    /// An input was only partly readable; what was read is reported.
    pub fn partial(&mut self) {
        self.0 = self.0.max(EXIT_PARTIAL);
    }

    /// An input could not be read at all.
    pub fn failed(&mut self) {
        self.0 = self.0.max(EXIT_FAILURE);
    }

    /// Record an input's summary: complete or partial.
    pub fn summary(&mut self, summary: &CaptureSummary) {
        if !summary.complete() {
            self.partial();
        }
    }

    pub fn code(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_outcome_wins() {
        let mut status = ExitStatus::default();
        assert_eq!(status.code(), crate::EXIT_OK);
        status.partial();
        assert_eq!(status.code(), EXIT_PARTIAL);
        status.failed();
        status.partial();
        assert_eq!(status.code(), EXIT_FAILURE);
    }
}
