//! netforensic's own snapshot format: JSON lines, one snapshot per line:
//! `{"format":"netforensic-sockets","version":1,"taken_at":1764000000.5,"time_origin":"format",
//!   "host":"...","os":"linux","source":"netforensic","sockets":[...],
//!   "taken_at_rfc3339":"2025-11-24T16:00:00.5Z"}`.
//!
//! The fields after `version` are [`Snapshot`]'s serde serialization. `taken_at` is epoch
//! seconds as a float (as Zeek's `ts`, so the same tools read both); `taken_at_rfc3339` is
//! the same instant for humans and is ignored on input.

use super::text::{ImportLog, Imported};
use super::{Snapshot, TimeOrigin};
use crate::{Error, ErrorKind};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "netforensic-sockets";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Line {
    format: String,
    version: u32,
    #[serde(flatten)]
    snapshot: Snapshot,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taken_at_rfc3339: Option<String>,
}

/// True when the first line is one of ours.
pub fn looks_like(first_line: &str) -> bool {
    let t = first_line.trim_start();
    t.starts_with('{') && t.contains(FORMAT)
}

/// One snapshot as one JSON line (no trailing newline).
pub fn to_line(snapshot: &Snapshot) -> Result<String, Error> {
    let line = Line {
        format: FORMAT.to_string(),
        version: VERSION,
        taken_at_rfc3339: snapshot.taken_at.map(|t| t.to_rfc3339()),
        snapshot: snapshot.clone(),
    };
    serde_json::to_string(&line)
        .map_err(|e| Error::new(ErrorKind::Output, format!("cannot serialise snapshot: {e}")))
}

pub fn parse(text: &str) -> Result<Imported, Error> {
    let mut log = ImportLog::default();
    let mut snapshots = Vec::new();
    let mut first_error = None;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(parsed) if parsed.format == FORMAT => {
                if parsed.version > VERSION {
                    log.warn(format!(
                        "line {number}: format version {} is newer than {VERSION}; read as {VERSION}",
                        parsed.version
                    ));
                }
                let mut snapshot = parsed.snapshot;
                if snapshot.taken_at.is_some() {
                    snapshot.time_origin = Some(TimeOrigin::Format);
                }
                snapshots.push(snapshot);
            }
            Ok(parsed) => log.warn(format!(
                "line {number}: \"format\" is {:?}, not {FORMAT:?}; skipped",
                crate::escape::terminal(&parsed.format)
            )),
            Err(err) => {
                log.warn(format!("line {number}: not a snapshot: {err}"));
                first_error.get_or_insert(number);
            }
        }
    }
    if snapshots.is_empty() {
        return Err(Error::new(
            ErrorKind::UnknownFormat,
            format!(
                "line {}: no netforensic-sockets snapshot line could be read",
                first_error.unwrap_or(1)
            ),
        ));
    }
    Ok(log.finish(snapshots))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Proto;
    use crate::sockets::{SnapshotSource, SocketEntry, SocketOwner};
    use crate::time::Timestamp;

    #[test]
    fn round_trip_keeps_every_owner() {
        let mut entry = SocketEntry::new(Proto::Tcp, Some("10.0.0.1".parse().unwrap()), 5000);
        entry.set_remote(Some("1.1.1.1".parse().unwrap()), Some(443));
        entry.state = Some("ESTABLISHED".into());
        entry.add_owner(SocketOwner {
            pid: Some(1),
            process: Some("a".into()),
            ..Default::default()
        });
        entry.add_owner(SocketOwner {
            pid: Some(2),
            process: Some("b".into()),
            ..Default::default()
        });
        entry.inode = Some(42);
        let mut snapshot = Snapshot::new(SnapshotSource::Netforensic);
        snapshot.taken_at = Some(Timestamp(1_764_000_000_500_000_000));
        snapshot.host = Some("h".into());
        snapshot.sockets.push(entry);
        let line = to_line(&snapshot).unwrap();
        assert!(line.starts_with("{\"format\":\"netforensic-sockets\",\"version\":1,\"taken_at\":"));
        assert!(line.contains("\"taken_at\":1764000000.5"));
        let back = parse(&format!("{line}\n{line}\n")).unwrap();
        assert_eq!(back.snapshots.len(), 2);
        let mut expected = snapshot.clone();
        expected.time_origin = Some(TimeOrigin::Format);
        assert_eq!(back.snapshots[0], expected);
    }

    #[test]
    fn bad_lines_are_warnings_not_fatal() {
        let good = r#"{"format":"netforensic-sockets","version":1,"taken_at":1.0,"sockets":[]}"#;
        let imported = parse(&format!(
            "{good}\n{{\"format\":\"netforensic-sockets\",\"sockets\":7}}\n"
        ))
        .unwrap();
        assert_eq!(imported.snapshots.len(), 1);
        assert!(imported.warnings[0].starts_with("line 2:"));
        assert!(parse("{}\n").is_err());
    }
}
