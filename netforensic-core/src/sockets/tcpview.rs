//! Sysinternals TCPView: the GUI's CSV save/copy (v4: Process Name, Process ID, Protocol,
//! State, Local Address, Local Port, Remote Address, Remote Port, Create Time, Module Name,
//! Sent/Recv Packets, Sent/Recv Bytes; header optional) and `tcpvcon -a -c` (Protocol,
//! Process, PID, State, Local, Remote; some versions print addresses without ports, which
//! cannot be matched to packets: such rows are skipped with a warning).
//!
//! "Create Time" is the socket's creation time in the examined machine's local time and
//! locale format, without a zone: it is read as UTC (correct it with `--time-shift`).
//! Day/month order: AM/PM means US (M/D/Y); `.` means D.M.Y; `/` without AM/PM is read only
//! when one of the two numbers is above 12.

use super::text::{
    bounded, civil_to_timestamp, non_empty, parse_endpoint, parse_host, ImportLog, Imported,
};
use super::{state, Snapshot, SnapshotSource, SocketEntry, SocketOwner};
use crate::flow::Proto;
use crate::time::Timestamp;
use crate::{Error, ErrorKind};

/// Fewest columns of a GUI row we read: through "Remote Port".
const GUI_MIN_FIELDS: usize = 8;
/// Columns of `tcpvcon -c` rows.
const TCPVCON_FIELDS: usize = 6;
/// "Module Name" in the GUI export (0-based); older exports stop before it.
const MODULE_COLUMN: usize = 9;

/// True when a CSV line is a TCPView GUI row or header, or a `tcpvcon -c` row.
pub fn looks_like(line: &str) -> bool {
    let fields = fields(line);
    let proto_at = |i: usize| fields.get(i).and_then(|f| proto_of(f)).is_some();
    let header = fields.first().is_some_and(|f| f.trim() == "Process Name")
        && fields.get(2).is_some_and(|f| f.trim() == "Protocol");
    header
        || (fields.len() >= GUI_MIN_FIELDS
            && proto_at(2)
            && fields
                .get(1)
                .is_some_and(|p| p.trim().parse::<u32>().is_ok()))
        || (fields.len() == TCPVCON_FIELDS && proto_at(0))
}

fn proto_of(field: &str) -> Option<Proto> {
    match field.trim().to_ascii_uppercase().as_str() {
        "TCP" | "TCPV6" => Some(Proto::Tcp),
        "UDP" | "UDPV6" => Some(Proto::Udp),
        _ => None,
    }
}

pub fn parse(text: &str) -> Result<Imported, Error> {
    let mut log = ImportLog::default();
    let mut snapshot = Snapshot::new(SnapshotSource::Tcpview);
    let mut rows = 0usize;
    let mut portless = 0u64;
    let mut warned_time = false;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    loop {
        let number = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                log.warn(format!("line {number}: CSV error: {err}"));
                break;
            }
        }
        let f: Vec<&str> = record.iter().map(str::trim).collect();
        if f.iter().all(|x| x.is_empty()) || f.first() == Some(&"Process Name") {
            continue;
        }
        let parsed = if f.len() >= GUI_MIN_FIELDS && f.get(2).and_then(|p| proto_of(p)).is_some() {
            gui_row(&f, &mut log, number, &mut warned_time)
        } else if f.len() == TCPVCON_FIELDS && f.first().and_then(|p| proto_of(p)).is_some() {
            tcpvcon_row(&f)
        } else {
            log.skip(number);
            continue;
        };
        match parsed {
            RowResult::Entry(entry) => {
                snapshot.sockets.push(*entry);
                rows += 1;
            }
            RowResult::NoPorts => portless += 1,
            RowResult::Bad => log.skip(number),
        }
    }
    if portless > 0 {
        log.warn(format!(
            "{portless} tcpvcon rows have no port numbers and cannot be matched; skipped"
        ));
    }
    if rows == 0 && portless == 0 {
        return Err(Error::new(
            ErrorKind::UnknownFormat,
            "line 1: no TCPView or tcpvcon CSV row found",
        ));
    }
    Ok(log.finish(vec![snapshot]))
}

enum RowResult {
    Entry(Box<SocketEntry>),
    NoPorts,
    Bad,
}

fn gui_row(f: &[&str], log: &mut ImportLog, number: usize, warned_time: &mut bool) -> RowResult {
    let field = |i: usize| f.get(i).copied().unwrap_or("");
    let Some(proto) = proto_of(field(2)) else {
        return RowResult::Bad;
    };
    let (Some((local, scope)), Ok(local_port)) = (parse_host(field(4)), field(5).parse::<u16>())
    else {
        return RowResult::Bad;
    };
    let mut entry = SocketEntry::new(proto, local, local_port);
    entry.scope = scope;
    let remote = parse_host(field(6)).and_then(|(a, _)| a);
    let remote_port = field(7).parse::<u16>().ok();
    entry.set_remote(remote, remote_port);
    if proto == Proto::Tcp {
        entry.state = non_empty(field(3)).map(|s| state::normalize(&s).map_or(s, str::to_string));
    }
    entry.add_owner(SocketOwner {
        pid: field(1).parse::<u32>().ok(),
        process: non_empty(field(0)),
        ..SocketOwner::default()
    });
    let created = field(8);
    if !created.is_empty() {
        entry.create_time = parse_local_time(created);
        if entry.create_time.is_none() {
            log.warn(format!(
                "line {number}: Create Time {created:?} not understood"
            ));
        } else if !*warned_time {
            log.warn(
                "TCPView Create Time has no time zone: read as UTC (use --time-shift)".to_string(),
            );
            *warned_time = true;
        }
    }
    if f.len() > MODULE_COLUMN {
        entry.module = non_empty(field(MODULE_COLUMN));
    }
    RowResult::Entry(Box::new(entry))
}

fn tcpvcon_row(f: &[&str]) -> RowResult {
    let field = |i: usize| f.get(i).copied().unwrap_or("");
    let Some(proto) = proto_of(field(0)) else {
        return RowResult::Bad;
    };
    let Some(local) = parse_endpoint(field(4)).filter(|e| e.port.is_some()) else {
        return RowResult::NoPorts;
    };
    let mut entry = SocketEntry::new(proto, local.addr, local.port.unwrap_or(0));
    entry.scope = local.scope;
    if let Some(remote) = parse_endpoint(field(5)) {
        entry.set_remote(remote.addr, remote.port);
    }
    if proto == Proto::Tcp {
        entry.state = non_empty(field(3))
            .filter(|s| s != "*")
            .map(|s| state::normalize(&s).map_or_else(|| bounded(&s), str::to_string));
    }
    entry.add_owner(SocketOwner {
        pid: field(2).parse::<u32>().ok(),
        process: non_empty(field(1)),
        ..SocketOwner::default()
    });
    RowResult::Entry(Box::new(entry))
}

/// `10/4/2025 7:53:23 PM`, `04.10.2025 19:53:23`, `2025-10-04 19:53:23`, `4/10/2025 19:53`.
fn parse_local_time(s: &str) -> Option<Timestamp> {
    let mut words = s.split_whitespace();
    let date = words.next()?;
    let clock = words.next()?;
    let meridiem = words.next().map(str::to_ascii_uppercase);
    let mut hms = clock.split(':').map(|p| p.parse::<u8>().ok());
    let mut hour = hms.next()??;
    let minute = hms.next()??;
    let second = hms.next().unwrap_or(Some(0))?;
    match meridiem.as_deref() {
        Some("PM") if hour < 12 => hour += 12,
        Some("AM") if hour == 12 => hour = 0,
        Some("AM" | "PM") | None => {}
        Some(_) => return None,
    }
    let (year, month, day) = if date.contains('-') {
        let mut p = date.split('-');
        (
            p.next()?.parse().ok()?,
            p.next()?.parse().ok()?,
            p.next()?.parse().ok()?,
        )
    } else if date.contains('.') {
        let mut p = date.split('.');
        let d = p.next()?.parse().ok()?;
        let m = p.next()?.parse().ok()?;
        (p.next()?.parse().ok()?, m, d)
    } else {
        let mut p = date.split('/');
        let a: u8 = p.next()?.parse().ok()?;
        let b: u8 = p.next()?.parse().ok()?;
        let y: i32 = p.next()?.parse().ok()?;
        if meridiem.is_some() || b > 12 {
            (y, a, b)
        } else if a > 12 {
            (y, b, a)
        } else {
            return None;
        }
    };
    civil_to_timestamp(year, month, day, hour, minute, second, 0)
}

fn fields(line: &str) -> Vec<String> {
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
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn gui_export_with_create_time() {
        // SNAPSHOT-FORMATS.md section 8 (zBlocker project's TCPView line).
        let text = "svchost.exe,5124,TCP,Established,192.168.18.198,49710,23.194.99.73,443,10/4/2025 7:53:23 PM,WpnUserService_61beb,,,,\n";
        assert!(looks_like(text.trim_end()));
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets[0];
        assert_eq!(s.pid, Some(5124));
        assert_eq!(s.process.as_deref(), Some("svchost.exe"));
        assert_eq!(s.state.as_deref(), Some("ESTABLISHED"));
        assert_eq!(s.local_port, 49710);
        assert_eq!(
            s.remote_addr,
            Some(IpAddr::V4(Ipv4Addr::new(23, 194, 99, 73)))
        );
        assert_eq!(s.module.as_deref(), Some("WpnUserService_61beb"));
        // 2025-10-04T19:53:23Z = 1759607603 (date -u -d @1759607603).
        assert_eq!(
            s.create_time,
            Some(Timestamp(1_759_607_603 * 1_000_000_000))
        );
    }

    #[test]
    fn tcpvcon_without_ports_is_skipped_with_warning() {
        // SNAPSHOT-FORMATS.md section 8 (tcpvcon -a -c -n as observed).
        let text = "TCP,firefox.exe,13116,ESTABLISHED,127.0.0.1,127.0.0.1\n\
UDP,svchost.exe,4108,*,0.0.0.0,*\n\
TCPV6,svchost.exe,924,LISTENING,[0:0:0:0:0:0:0:0],[0:0:0:0:0:0:0:0]\n";
        assert!(looks_like(text.lines().next().unwrap()));
        let imported = parse(text).unwrap();
        assert!(imported.snapshots[0].sockets.is_empty());
        assert!(imported.warnings.iter().any(|w| w.contains("no port")));
        let with_ports = "TCP,firefox.exe,13116,ESTABLISHED,127.0.0.1:5000,127.0.0.1:443\n";
        let s = &parse(with_ports).unwrap().snapshots[0].sockets[0];
        assert_eq!((s.local_port, s.remote_port), (5000, Some(443)));
    }

    #[test]
    fn local_time_formats() {
        let t = |s| parse_local_time(s).map(|t: Timestamp| t.secs());
        assert_eq!(t("10/4/2025 7:53:23 PM"), Some(1_759_607_603));
        assert_eq!(t("04.10.2025 19:53:23"), Some(1_759_607_603));
        assert_eq!(t("2025-10-04 19:53:23"), Some(1_759_607_603));
        assert!(t("13/10/2025 19:53:23").is_some());
        assert_eq!(t("4/10/2025 19:53:23"), None);
        assert_eq!(t("12/4/2025 12:00:00 AM"), Some(1_764_806_400));
    }
}
