//! Windows `tasklist /fo csv`, with or without `/v` (adds Status, User Name, CPU Time,
//! Window Title), `/svc` (Image Name, PID, Services) and `/nh` (no header). The header is
//! localised and memory sizes use the locale's thousands separator (`"1,459,088 K"`,
//! `"1.459.088 K"`): neither is needed, the PID column is always second and plain digits.

use super::text::{non_empty, ImportLog, Imported};
use super::{ProcessInfo, Snapshot, SnapshotSource};
use crate::{Error, ErrorKind};

/// Fields of a `/v` row; `/fo csv` rows have 5, `/svc` rows 3.
const VERBOSE_FIELDS: usize = 9;
const SVC_FIELDS: usize = 3;
/// Index of "User Name" in a `/v` row and of "Window Title".
const VERBOSE_USER: usize = 6;
const VERBOSE_TITLE: usize = 8;

/// True when `line` looks like a tasklist CSV line (header or row).
pub fn looks_like(line: &str) -> bool {
    let fields = csv_fields(line);
    if !line.trim_start().starts_with('"') || !matches!(fields.len(), 3 | 5 | 9) {
        return false;
    }
    let second = fields.get(1).map(String::as_str).unwrap_or("");
    // A row has a numeric PID; a header has "PID" (the same word in every language seen).
    second == "PID" || (second.parse::<u32>().is_ok() && !is_socket_proto(fields.get(2)))
}

fn is_socket_proto(field: Option<&String>) -> bool {
    field.is_some_and(|f| {
        matches!(
            f.to_ascii_uppercase().as_str(),
            "TCP" | "UDP" | "TCPV6" | "UDPV6"
        )
    })
}

pub fn parse(text: &str) -> Result<Imported, Error> {
    let mut log = ImportLog::default();
    let snapshot = parse_lines(text.lines().enumerate().map(|(i, l)| (i + 1, l)), &mut log);
    if snapshot.processes.is_empty() {
        return Err(Error::new(
            ErrorKind::UnknownFormat,
            "line 1: no tasklist CSV row (\"Image Name\",\"PID\",...) found",
        ));
    }
    Ok(log.finish(vec![snapshot]))
}

/// Rows given with their line numbers (the netstat importer passes a file's tasklist part).
pub(crate) fn parse_lines<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
    log: &mut ImportLog,
) -> Snapshot {
    let mut snapshot = Snapshot::new(SnapshotSource::Tasklist);
    for (number, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields = csv_fields(line);
        let Some(pid_field) = fields.get(1) else {
            log.skip(number);
            continue;
        };
        let Ok(pid) = pid_field.trim().parse::<u32>() else {
            if pid_field != "PID" {
                log.skip(number);
            }
            continue;
        };
        let detail = match fields.len() {
            SVC_FIELDS => fields.get(2).and_then(|s| non_empty(s)),
            VERBOSE_FIELDS => fields.get(VERBOSE_TITLE).and_then(|s| non_empty(s)),
            _ => None,
        };
        let user = if fields.len() == VERBOSE_FIELDS {
            fields.get(VERBOSE_USER).and_then(|s| non_empty(s))
        } else {
            None
        };
        snapshot.processes.push(ProcessInfo {
            pid,
            name: fields.first().and_then(|s| non_empty(s)),
            user,
            detail,
        });
    }
    snapshot
}

/// One CSV line's fields (quoted, `""` escapes), via the csv crate.
fn csv_fields(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_verbose_and_headerless() {
        // SNAPSHOT-FORMATS.md section 3 (header and row).
        let text = "\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\"\r\n\
\"node.exe\",\"16688\",\"Console\",\"1\",\"1,459,088 K\"\r\n\
\"System Idle Process\",\"0\",\"Services\",\"0\",\"8 K\"\r\n";
        let s = &parse(text).unwrap().snapshots[0];
        assert_eq!(s.processes.len(), 2);
        assert_eq!(s.processes[0].pid, 16688);
        assert_eq!(s.processes[0].name.as_deref(), Some("node.exe"));
        // /v /nh with a German thousands separator.
        let text = "\"chrome.exe\",\"4242\",\"Console\",\"1\",\"1.459.088 K\",\"Running\",\"PC\\anna\",\"0:01:02\",\"Neuer Tab - Google Chrome\"\n";
        let p = &parse(text).unwrap().snapshots[0].processes[0];
        assert_eq!(p.user.as_deref(), Some("PC\\anna"));
        assert_eq!(p.detail.as_deref(), Some("Neuer Tab - Google Chrome"));
        assert!(looks_like(text.lines().next().unwrap()));
        assert!(!looks_like(
            "svchost.exe,5124,TCP,Established,1.2.3.4,1,5.6.7.8,2,x,y,,,,"
        ));
    }
}
