//! Loading snapshot files: `FILE@RFC3339` specs, text encodings (UTF-8, UTF-16 with BOM as
//! PowerShell redirects write it, OEM code page 850 as `cmd` redirects write it on Western
//! European Windows), the snapshot time rule and `--time-shift`.
//!
//! Time rule (DESIGN.md 4.5): the format's own time where it has one; else the time given as
//! `FILE@RFC3339`; else the file's modification time, with a warning.

use super::text::parse_rfc3339;
use super::{detect, Snapshot, SnapshotSource, TimeOrigin};
use crate::time::Timestamp;
use crate::{Error, ErrorKind};
use std::path::{Path, PathBuf};

/// Largest snapshot file read (socket tables are kilobytes; a day of Sysmon events is a few
/// hundred megabytes).
const MAX_SNAPSHOT_FILE_BYTES: u64 = 1 << 30;
/// Largest `--time-shift` accepted: 10 years, in seconds.
const MAX_TIME_SHIFT_SECS: f64 = 10.0 * 366.0 * 86_400.0;

/// Correction added to every time read from snapshots (snapshot clock + shift = capture
/// clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeShift {
    nanos: i64,
}

impl TimeShift {
    pub const ZERO: TimeShift = TimeShift { nanos: 0 };

    /// From signed seconds (`--time-shift -3.5`).
    pub fn from_secs_f64(secs: f64) -> Result<Self, Error> {
        if !secs.is_finite() || secs.abs() > MAX_TIME_SHIFT_SECS {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("time shift {secs} s is not a number of seconds within ±10 years"),
            ));
        }
        Ok(TimeShift {
            nanos: (secs * 1e9).round() as i64,
        })
    }

    pub fn nanos(self) -> i64 {
        self.nanos
    }

    fn apply(self, t: Timestamp) -> Timestamp {
        t.saturating_add_nanos(self.nanos)
    }
}

/// Snapshots read from one or more files, and what could not be read in them (each warning
/// starts with the file's name).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadedSnapshots {
    pub snapshots: Vec<Snapshot>,
    pub warnings: Vec<String>,
}

/// `FILE@2026-11-24T10:00:00Z` -> (FILE, time). A file name that itself contains `@` works:
/// only a suffix that parses as RFC 3339 is taken as the time.
pub fn parse_spec(spec: &str) -> (PathBuf, Option<Timestamp>) {
    if let Some((file, time)) = spec.rsplit_once('@') {
        if let Some(t) = parse_rfc3339(time) {
            return (PathBuf::from(file), Some(t));
        }
    }
    (PathBuf::from(spec), None)
}

/// Load one `FILE[@RFC3339]`.
pub fn load(spec: &str, time_shift: TimeShift) -> Result<LoadedSnapshots, Error> {
    let (path, user_time) = parse_spec(spec);
    let shown = crate::escape::terminal(&path.to_string_lossy()).into_owned();
    let bytes = read_bounded(&path)?;
    let mut warnings = Vec::new();
    let (text, encoding_note) = decode(&bytes);
    if let Some(note) = encoding_note {
        warnings.push(format!("{shown}: {note}"));
    }
    let imported = detect::import(&text).map_err(|e| e.with_path(&path))?;
    warnings.extend(imported.warnings.iter().map(|w| format!("{shown}: {w}")));
    let mut snapshots = imported.snapshots;
    let mut mtime_used = false;
    let mut user_time_ignored = false;
    for snapshot in &mut snapshots {
        snapshot.origin = Some(path.to_string_lossy().into_owned());
        if snapshot.taken_at.is_some() {
            snapshot.time_origin.get_or_insert(TimeOrigin::Format);
            user_time_ignored |= user_time.is_some();
        } else if let Some(t) = user_time {
            snapshot.taken_at = Some(t);
            snapshot.time_origin = Some(TimeOrigin::User);
        } else {
            snapshot.taken_at = file_mtime(&path);
            snapshot.time_origin = snapshot.taken_at.map(|_| TimeOrigin::FileMtime);
            mtime_used = true;
        }
        shift_times(snapshot, time_shift);
    }
    if mtime_used {
        warnings.push(format!(
            "{shown}: no time in the file; using its modification time (give {shown}@RFC3339 to set it)"
        ));
    }
    if user_time_ignored {
        warnings.push(format!(
            "{shown}: the file carries its own times; the time after @ is not used for those snapshots"
        ));
    }
    Ok(LoadedSnapshots {
        snapshots,
        warnings,
    })
}

/// Load several specs, then name PIDs of socket tables from process tables (tasklist) loaded
/// alongside.
pub fn load_all(specs: &[String], time_shift: TimeShift) -> Result<LoadedSnapshots, Error> {
    let mut all = LoadedSnapshots::default();
    for spec in specs {
        let loaded = load(spec, time_shift)?;
        all.snapshots.extend(loaded.snapshots);
        all.warnings.extend(loaded.warnings);
    }
    name_processes(&mut all.snapshots);
    Ok(all)
}

/// Give unnamed owners the image name of their PID from the process table (tasklist)
/// nearest in time, on the same host when both say which.
pub fn name_processes(snapshots: &mut [Snapshot]) {
    let tables: Vec<Snapshot> = snapshots
        .iter()
        .filter(|s| s.source == SnapshotSource::Tasklist && !s.processes.is_empty())
        .cloned()
        .collect();
    if tables.is_empty() {
        return;
    }
    for snapshot in snapshots
        .iter_mut()
        .filter(|s| s.source != SnapshotSource::Tasklist)
    {
        let nearest = tables
            .iter()
            .filter(|t| match (&t.host, &snapshot.host) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => true,
            })
            .min_by_key(|t| match (t.taken_at, snapshot.taken_at) {
                (Some(a), Some(b)) => a.nanos_since(b).unsigned_abs(),
                _ => u64::MAX,
            });
        if let Some(table) = nearest {
            name_with(snapshot, table);
        }
    }
}

/// Within one snapshot that carries its own process table.
pub(crate) fn name_from_processes(snapshot: &mut Snapshot) {
    let table = Snapshot {
        processes: std::mem::take(&mut snapshot.processes),
        ..Snapshot::default()
    };
    name_with(snapshot, &table);
    snapshot.processes = table.processes;
}

fn name_with(snapshot: &mut Snapshot, table: &Snapshot) {
    let lookup =
        |pid: Option<u32>| pid.and_then(|p| table.processes.iter().find(|proc| proc.pid == p));
    for entry in &mut snapshot.sockets {
        if entry.process.is_none() {
            if let Some(p) = lookup(entry.pid) {
                entry.process = p.name.clone();
                if entry.user.is_none() {
                    entry.user = p.user.clone();
                }
            }
        }
        for owner in &mut entry.other_owners {
            if owner.process.is_none() {
                if let Some(p) = lookup(owner.pid) {
                    owner.process = p.name.clone();
                }
            }
        }
    }
}

fn shift_times(snapshot: &mut Snapshot, shift: TimeShift) {
    if shift == TimeShift::ZERO {
        return;
    }
    snapshot.taken_at = snapshot.taken_at.map(|t| shift.apply(t));
    for entry in &mut snapshot.sockets {
        entry.create_time = entry.create_time.map(|t| shift.apply(t));
    }
    for query in &mut snapshot.dns_queries {
        query.time = query.time.map(|t| shift.apply(t));
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, &e))?;
    if meta.len() > MAX_SNAPSHOT_FILE_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "snapshot file is {} bytes; at most {MAX_SNAPSHOT_FILE_BYTES} are read",
                meta.len()
            ),
        )
        .with_path(path));
    }
    std::fs::read(path).map_err(|e| Error::io(path, &e))
}

fn file_mtime(path: &Path) -> Option<Timestamp> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(Timestamp::from_secs_nanos(
        i64::try_from(since.as_secs()).ok()?,
        i64::from(since.subsec_nanos()),
    ))
}

/// Bytes to text: UTF-8 (BOM dropped), UTF-16 with a BOM, else code page 850 (the OEM code
/// page `cmd` uses on Western European Windows), which is said in the returned note.
pub(crate) fn decode(bytes: &[u8]) -> (String, Option<String>) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (String::from_utf8_lossy(rest).into_owned(), None);
    }
    let utf16 = |rest: &[u8], le: bool| {
        let units = rest.chunks_exact(2).map(|c| {
            let pair = [
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ];
            if le {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (utf16(rest, true), None);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (utf16(rest, false), None);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), None),
        Err(_) => (
            bytes.iter().map(|&b| cp850(b)).collect(),
            Some("not UTF-8: read as code page 850 (Windows console)".to_string()),
        ),
    }
}

/// Code page 850's upper half, bytes 0x80..=0xFF (from Python's `cp850` codec).
const CP850_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u{ad}±‗¾¶§÷¸°¨·¹³²■\u{a0}";

fn cp850(b: u8) -> char {
    if b < 0x80 {
        char::from(b)
    } else {
        CP850_HIGH
            .chars()
            .nth(usize::from(b - 0x80))
            .unwrap_or(char::REPLACEMENT_CHARACTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_with_times_and_at_signs() {
        let (p, t) = parse_spec("a@b.txt@1970-01-01T00:00:10Z");
        assert_eq!(p, PathBuf::from("a@b.txt"));
        assert_eq!(t, Some(Timestamp(10_000_000_000)));
        let (p, t) = parse_spec("user@host.txt");
        assert_eq!((p, t), (PathBuf::from("user@host.txt"), None));
    }

    #[test]
    fn encodings() {
        assert_eq!(CP850_HIGH.chars().count(), 128);
        let (text, note) = decode(b"ABH\x99REN");
        assert_eq!(text, "ABHÖREN");
        assert!(note.is_some());
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("TCP".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).0, "TCP");
    }

    #[test]
    fn time_shift_bounds() {
        assert!(TimeShift::from_secs_f64(f64::NAN).is_err());
        assert!(TimeShift::from_secs_f64(1e12).is_err());
        assert_eq!(
            TimeShift::from_secs_f64(-1.5).unwrap().nanos(),
            -1_500_000_000
        );
    }
}
