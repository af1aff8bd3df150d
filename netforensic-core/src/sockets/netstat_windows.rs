//! Windows `netstat -ano` and `netstat -anob`, English or localised.
//!
//! Headers and state words are translated by Windows: German `Proto Lokale Adresse
//! Remoteadresse Status PID` with `ABHÖREN`/`HERGESTELLT`/...; French `Proto Adresse locale
//! Adresse distante État`; Spanish `Proto Dirección local Dirección remota Estado` (both
//! with English state words). A TCP row whose foreign address is `0.0.0.0:0` or `[::]:0` is a
//! listener in any language. `-b` adds, below each row, an optional component line (`RpcSs`)
//! and the image in brackets (`[svchost.exe]`), or a sentence when ownership is unknown.
//! PID 0 (TIME_WAIT rows) means no owner. A file may also carry `tasklist /fo csv` output after the table (`netstat -ano > f &
//! tasklist /fo csv >> f`): its rows name the PIDs.

use super::text::{bounded, error_at, numbered_lines, parse_endpoint, ImportLog, Imported};
use super::{state, tasklist, Snapshot, SnapshotSource, SocketEntry, SocketOwner};
use crate::flow::Proto;
use crate::Error;

/// True when `line` is a Windows netstat header: `Proto` then a translated address column
/// (the Linux one has `Recv-Q` second).
pub fn is_header(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("Proto")
        && !matches!(words.next(), Some("Recv-Q" | "Recib" | "Empf-Q") | None)
}

/// True when `line` is a Windows netstat row (`  TCP    0.0.0.0:135  0.0.0.0:0  LISTENING  1712`).
pub fn is_row(line: &str) -> bool {
    let mut words = line.split_whitespace();
    matches!(words.next(), Some("TCP" | "UDP")) && words.next().and_then(parse_endpoint).is_some()
}

pub fn parse(text: &str) -> Result<Imported, Error> {
    let mut log = ImportLog::default();
    let snapshot = parse_block(text, 1, &mut log)?;
    Ok(log.finish(vec![snapshot]))
}

pub(crate) fn parse_block(
    text: &str,
    first_line: usize,
    log: &mut ImportLog,
) -> Result<Snapshot, Error> {
    let mut snapshot = Snapshot::new(SnapshotSource::NetstatWindows);
    let mut saw_table = false;
    let mut tasklist_lines: Vec<(usize, &str)> = Vec::new();
    let mut warned_names = false;
    // Whether the last line was a row, so `-b` lines below it belong to it.
    let mut last_was_row = false;
    for (number, line) in numbered_lines(text, first_line) {
        let Some(line) = line else {
            log.too_long(number);
            continue;
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('"') {
            tasklist_lines.push((number, line));
            last_was_row = false;
            continue;
        }
        if is_header(line) {
            saw_table = true;
            last_was_row = false;
            continue;
        }
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        let proto = match words.first().copied() {
            Some("TCP") => Some(Proto::Tcp),
            Some("UDP") => Some(Proto::Udp),
            _ => None,
        };
        let Some(proto) = proto else {
            if last_was_row {
                if let Some(entry) = snapshot.sockets.last_mut() {
                    apply_b_line(entry, trimmed);
                }
            } else if saw_table {
                log.skip(number);
            }
            // Titles ("Active Connections", "Aktive Verbindungen", ...) before the header
            // are not rows: ignored.
            continue;
        };
        saw_table = true;
        match parse_row(proto, &words) {
            Some(entry) => {
                if entry
                    .state
                    .as_deref()
                    .is_some_and(|s| state::normalize(s).is_none())
                {
                    log.warn(format!(
                        "line {number}: unknown state {:?} kept as is",
                        entry.state.as_deref().unwrap_or("")
                    ));
                }
                snapshot.sockets.push(entry);
                last_was_row = true;
            }
            None => {
                if !warned_names {
                    log.warn(format!(
                        "line {number}: row not numeric (run netstat with -n); such rows are skipped"
                    ));
                    warned_names = true;
                }
                log.skip(number);
                last_was_row = false;
            }
        }
    }
    if !saw_table {
        return Err(error_at(
            first_line,
            "no Windows netstat table (Proto ... / TCP rows) found",
        ));
    }
    if !tasklist_lines.is_empty() {
        let table = tasklist::parse_lines(tasklist_lines.into_iter(), log);
        snapshot.processes = table.processes;
        super::load::name_from_processes(&mut snapshot);
    }
    Ok(snapshot)
}

/// `TCP local foreign state [pid]` / `UDP local *:* [pid]`.
fn parse_row(proto: Proto, words: &[&str]) -> Option<SocketEntry> {
    let local = parse_endpoint(words.get(1)?)?;
    let foreign = parse_endpoint(words.get(2)?)?;
    let mut rest = words.get(3..).unwrap_or(&[]);
    let mut entry = SocketEntry::new(proto, local.addr, local.port.unwrap_or(0));
    entry.scope = local.scope;
    entry.set_remote(foreign.addr, foreign.port);
    if proto == Proto::Tcp {
        let (word, after) = rest.split_first()?;
        rest = after;
        let listener_shape =
            foreign.addr.is_some_and(|a| a.is_unspecified()) && foreign.port == Some(0);
        entry.state = Some(match state::normalize(word) {
            Some(s) => s.to_string(),
            None if listener_shape => state::LISTEN.to_string(),
            None => bounded(word),
        });
    }
    match rest {
        [] => {}
        [pid] => {
            // PID 0 is "System Idle Process": what Windows shows for TIME_WAIT and other
            // sockets no process holds any more. It is not an owner.
            let pid = pid.parse::<u32>().ok()?;
            if pid != 0 {
                entry.add_owner(SocketOwner {
                    pid: Some(pid),
                    ..SocketOwner::default()
                });
            }
        }
        _ => return None,
    }
    Some(entry)
}

/// A `-b` line under a row: `[image.exe]`, a component name, or a sentence saying ownership
/// is unknown (ignored).
fn apply_b_line(entry: &mut SocketEntry, line: &str) {
    if let Some(image) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        entry.process = Some(bounded(image));
    } else if !line.contains(char::is_whitespace) {
        entry.module = Some(bounded(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv6Addr};

    #[test]
    fn english_ano() {
        // SNAPSHOT-FORMATS.md section 1 (jc windows-10/netstat-aon.out, CRLF).
        let text = "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n\
  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1712\r\n\
  TCP    127.0.0.1:1031         127.0.0.1:1032         ESTABLISHED     10644\r\n\
  TCP    [::]:135               [::]:0                 LISTENING       1712\r\n\
  UDP    0.0.0.0:53             *:*                                    4808\r\n";
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets;
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].state.as_deref(), Some("LISTEN"));
        assert_eq!(s[0].remote_addr, None);
        assert_eq!(s[1].pid, Some(10644));
        assert_eq!(s[1].remote_port, Some(1032));
        assert_eq!(s[2].local_addr, Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        assert_eq!(s[3].proto, Proto::Udp);
        assert_eq!(s[3].pid, Some(4808));
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    }

    #[test]
    fn anob_names_and_components() {
        // SNAPSHOT-FORMATS.md section 2 (jc windows-10/netstat-aonb.out).
        let text = "  Proto  Local Address          Foreign Address        State           PID\n\
  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1712\n  RpcSs\n [svchost.exe]\n\
  TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4\n Can not obtain ownership information\n\
  TCP    192.168.31.221:4713    157.240.252.61:5222    TIME_WAIT       0\n";
        let s = &parse(text).unwrap().snapshots[0].sockets;
        assert_eq!(s[0].process.as_deref(), Some("svchost.exe"));
        assert_eq!(s[0].module.as_deref(), Some("RpcSs"));
        assert_eq!(s[1].pid, Some(4));
        assert_eq!(s[1].process, None);
        assert_eq!(s[2].state.as_deref(), Some("TIME_WAIT"));
        assert_eq!(s[2].pid, None);
    }

    #[test]
    fn german_with_code_page_damage() {
        // Real German `netstat -an` output quoted in a public write-up (ABHÖREN read as
        // CP1252 shows as ABH™REN).
        let text = "Aktive Verbindungen\n\n  Proto  Lokale Adresse         Remoteadresse          Status\n\
  TCP    0.0.0.0:135            0.0.0.0:0              ABH™REN\n\
  TCP    127.0.0.1:44080        127.0.0.1:51244        FIN_WARTEN_2\n\
  TCP    127.0.0.1:51231        127.0.0.1:44080        WARTEND\n\
  TCP    127.0.0.1:49186        127.0.0.1:49273        SCHLIESSEN_WARTEN\n\
  TCP    [::1]:49155            [::1]:49156            HERGESTELLT\n\
  UDP    0.0.0.0:123            *:*                    \n";
        let imported = parse(text).unwrap();
        let states: Vec<Option<&str>> = imported.snapshots[0]
            .sockets
            .iter()
            .map(|s| s.state.as_deref())
            .collect();
        assert_eq!(
            states,
            [
                Some("LISTEN"),
                Some("FIN_WAIT2"),
                Some("TIME_WAIT"),
                Some("CLOSE_WAIT"),
                Some("ESTABLISHED"),
                None
            ]
        );
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    }

    #[test]
    fn french_and_spanish_headers() {
        // Real French and Spanish Windows outputs quoted in public write-ups.
        let fr =
            "Connexions actives\n\n  Proto  Adresse locale         Adresse distante       État\n\
  TCP    10.33.16.169:49797     20.54.232.160:443      ESTABLISHED\n";
        let es =
            "Conexiones activas\n\n  Proto  Dirección local        Dirección remota       Estado\n\
  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING\n";
        assert_eq!(parse(fr).unwrap().snapshots[0].sockets.len(), 1);
        let s = &parse(es).unwrap().snapshots[0].sockets[0];
        assert_eq!(s.state.as_deref(), Some("LISTEN"));
    }

    #[test]
    fn unknown_listener_word_recognised_by_shape() {
        let text = "  Proto  Adresse locale   Adresse distante   État   PID\n  TCP    0.0.0.0:135   0.0.0.0:0   ÉCOUTE   1712\n";
        let s = &parse(text).unwrap().snapshots[0].sockets[0];
        assert_eq!(s.state.as_deref(), Some("LISTEN"));
    }

    #[test]
    fn tasklist_in_the_same_file_names_pids() {
        let text = "  Proto  Local Address          Foreign Address        State           PID\n\
  TCP    127.0.0.1:1031         127.0.0.1:1032         ESTABLISHED     10644\n\n\
\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\"\n\
\"firefox.exe\",\"10644\",\"Console\",\"1\",\"301,112 K\"\n";
        let s = &parse(text).unwrap().snapshots[0];
        assert_eq!(s.sockets[0].process.as_deref(), Some("firefox.exe"));
        assert_eq!(s.processes.len(), 1);
    }
}
