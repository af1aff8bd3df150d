//! Recognise a snapshot file's format by its content (never its name) and import it.
//!
//! Periodic text snapshots: examiners run `ss`/`netstat`/`lsof` every second while capturing.
//! Put a marker line before each listing and one file holds them all:
//!
//! ```text
//! while sleep 1; do echo "# taken_at: $(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"; ss -tunap; done > ss.log
//! ```
//!
//! A marker is `# taken_at: <RFC 3339>` or a line holding only an RFC 3339 time (as
//! `date -u +%FT%TZ` prints). Each marker starts a new snapshot taken at that time.

use super::text::{parse_rfc3339, ImportLog, Imported};
use super::{
    lsof, native_json, netstat_linux, netstat_windows, ss, sysmon, tasklist, tcpview, Snapshot,
    TimeOrigin,
};
use crate::time::Timestamp;
use crate::{Error, ErrorKind};

/// Lines examined to recognise a text format (headers come first; banners are short).
const DETECT_LINES: usize = 200;

/// The formats we import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    NativeJson,
    Ss,
    NetstatLinux,
    NetstatWindows,
    Tasklist,
    Lsof,
    Tcpview,
    Sysmon,
}

/// Which format `text` is in, or `None`.
pub fn detect(text: &str) -> Option<Format> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if native_json::looks_like(first) {
        return Some(Format::NativeJson);
    }
    if sysmon::looks_like(text) {
        return Some(Format::Sysmon);
    }
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && marker_time(l).is_none())
        .take(DETECT_LINES)
    {
        if ss::is_header(line) {
            return Some(Format::Ss);
        }
        if netstat_linux::is_header(line) {
            return Some(Format::NetstatLinux);
        }
        if netstat_windows::is_header(line) || netstat_windows::is_row(line) {
            return Some(Format::NetstatWindows);
        }
        if lsof::is_header(line) {
            return Some(Format::Lsof);
        }
        if tcpview::looks_like(line) {
            return Some(Format::Tcpview);
        }
        if tasklist::looks_like(line) {
            // `tasklist /fo csv > f & netstat -ano >> f`: the table is the snapshot, the
            // process list names its PIDs.
            let has_netstat = text
                .lines()
                .any(|l| netstat_windows::is_header(l) || netstat_windows::is_row(l));
            return Some(if has_netstat {
                Format::NetstatWindows
            } else {
                Format::Tasklist
            });
        }
    }
    None
}

/// Recognise and import. Text formats may hold several listings separated by markers.
pub fn import(text: &str) -> Result<Imported, Error> {
    let Some(format) = detect(text) else {
        return Err(Error::new(
            ErrorKind::UnknownFormat,
            "not a socket snapshot format we know (netforensic JSON, ss, netstat, lsof, \
             TCPView/tcpvcon CSV, tasklist CSV, Sysmon XML)",
        ));
    };
    match format {
        Format::NativeJson => native_json::parse(text),
        Format::Sysmon => sysmon::parse(text),
        Format::Tcpview => tcpview::parse(text),
        Format::Tasklist => tasklist::parse(text),
        Format::Ss => periodic(text, ss::parse_block),
        Format::NetstatLinux => periodic(text, netstat_linux::parse_block),
        Format::NetstatWindows => periodic(text, netstat_windows::parse_block),
        Format::Lsof => periodic(text, lsof::parse_block),
    }
}

type BlockParser = fn(&str, usize, &mut ImportLog) -> Result<Snapshot, Error>;

/// Split at marker lines and parse each listing; a listing before the first marker has no
/// time of its own.
fn periodic(text: &str, parse_block: BlockParser) -> Result<Imported, Error> {
    // (byte range, first line number, marker time) of each listing.
    let mut blocks: Vec<(usize, usize, usize, Option<Timestamp>)> = Vec::new();
    let mut block_start = 0usize;
    let mut block_line = 1usize;
    let mut block_time: Option<Timestamp> = None;
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if let Some(t) = marker_time(line) {
            blocks.push((block_start, offset, block_line, block_time));
            block_start = offset + line.len();
            block_line = i + 2;
            block_time = Some(t);
        }
        offset += line.len();
    }
    blocks.push((block_start, text.len(), block_line, block_time));

    let mut log = ImportLog::default();
    let mut snapshots = Vec::new();
    let mut first_error = None;
    for (start, end, line, time) in blocks {
        let block = text.get(start..end).unwrap_or("");
        if block.trim().is_empty() {
            continue;
        }
        match parse_block(block, line, &mut log) {
            Ok(mut snapshot) => {
                if let Some(t) = time {
                    snapshot.taken_at = Some(t);
                    snapshot.time_origin = Some(TimeOrigin::Format);
                }
                snapshots.push(snapshot);
            }
            Err(err) => {
                log.warn(err.message.clone());
                first_error.get_or_insert(err);
            }
        }
    }
    if snapshots.is_empty() {
        return Err(first_error
            .unwrap_or_else(|| Error::new(ErrorKind::UnknownFormat, "line 1: no listing found")));
    }
    Ok(log.finish(snapshots))
}

/// The time of a marker line (`# taken_at: RFC3339` or a bare RFC 3339 line).
fn marker_time(line: &str) -> Option<Timestamp> {
    let t = line.trim();
    if let Some(rest) = t.strip_prefix('#') {
        let rest = rest.trim_start();
        let value = rest.strip_prefix("taken_at:")?;
        return parse_rfc3339(value);
    }
    // A bare time: starts with a 4-digit year, short.
    if t.len() <= 40
        && t.as_bytes().get(4) == Some(&b'-')
        && t.bytes().take(4).all(|b| b.is_ascii_digit())
    {
        return parse_rfc3339(t);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_ss_blocks_get_their_times() {
        let listing = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
tcp ESTAB 0 0 10.0.0.1:5000 1.1.1.1:443 users:((\"a\",pid=1,fd=3))\n";
        let text =
            format!("# taken_at: 2026-11-24T10:00:00Z\n{listing}2026-11-24T10:00:01.5Z\n{listing}");
        let imported = import(&text).unwrap();
        assert_eq!(imported.snapshots.len(), 2);
        assert_eq!(
            imported.snapshots[0].taken_at.map(|t| t.secs()),
            Some(1_795_514_400)
        );
        assert_eq!(
            imported.snapshots[1]
                .taken_at
                .map(|t| t.nanos() % 1_000_000_000),
            Some(500_000_000)
        );
        assert_eq!(imported.snapshots[1].time_origin, Some(TimeOrigin::Format));
    }

    #[test]
    fn tasklist_before_netstat_is_one_windows_snapshot() {
        let text = "\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\"\r\n\
\"beacon.exe\",\"6608\",\"Console\",\"1\",\"9,100 K\"\r\n\r\n\
  Proto  Local Address          Foreign Address        State           PID\r\n\
  TCP    192.168.31.221:1028    169.150.202.133:443    ESTABLISHED     6608\r\n";
        assert_eq!(detect(text), Some(Format::NetstatWindows));
        let imported = import(text).unwrap();
        let socket = &imported.snapshots[0].sockets[0];
        assert_eq!(socket.process.as_deref(), Some("beacon.exe"));
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    }

    #[test]
    fn unknown_text_is_an_error() {
        assert!(import("hello\nworld\n").is_err());
        assert!(import("").is_err());
    }
}
