//! `lsof -i -n -P` on macOS and Linux (with or without `+c 0`, `-l`, a `TID` column).
//!
//! One socket open in several processes is listed once per process (same DEVICE and NAME):
//! those rows become one [`SocketEntry`] with several owners. Command names are truncated to
//! 9 characters unless `+c 0`, and lsof escapes spaces and other bytes as `\xNN`.

use super::text::{
    bounded, error_at, non_empty, numbered_lines, parse_endpoint, ImportLog, Imported,
};
use super::{state, Snapshot, SnapshotSource, SocketEntry, SocketOwner};
use crate::flow::Proto;
use crate::Error;
use std::collections::HashMap;

/// True when `line` is an lsof header.
pub fn is_header(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("COMMAND") && words.next() == Some("PID") && line.contains("NAME")
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
    let mut snapshot = Snapshot::new(SnapshotSource::Lsof);
    let mut saw_header = false;
    let mut warned_names = false;
    // (proto, DEVICE, NAME) -> index of the entry, to merge one socket's owners.
    let mut seen: HashMap<(Proto, String, String), usize> = HashMap::new();
    for (number, line) in numbered_lines(text, first_line) {
        let Some(line) = line else {
            log.too_long(number);
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        if is_header(line) {
            saw_header = true;
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(row) = Row::read(&words) else {
            log.skip(number);
            continue;
        };
        let Some(mut entry) = row.entry() else {
            if !warned_names {
                log.warn(format!(
                    "line {number}: address not numeric (run lsof with -n -P); such rows are skipped"
                ));
                warned_names = true;
            }
            log.skip(number);
            continue;
        };
        let owner = SocketOwner {
            pid: row.pid.parse::<u32>().ok(),
            process: Some(bounded(&unescape(row.command))),
            user: non_empty(row.user),
            ..SocketOwner::default()
        };
        let key = (entry.proto, row.device.to_string(), row.name.to_string());
        match seen.get(&key).and_then(|&i| snapshot.sockets.get_mut(i)) {
            Some(existing) => existing.add_owner(owner),
            None => {
                entry.add_owner(owner);
                seen.insert(key, snapshot.sockets.len());
                snapshot.sockets.push(entry);
            }
        }
    }
    if !saw_header && snapshot.sockets.is_empty() {
        return Err(error_at(
            first_line,
            "no lsof header (COMMAND PID ... NAME) found",
        ));
    }
    Ok(snapshot)
}

/// The columns of one row, located around the TYPE column (`IPv4`/`IPv6`), which is the one
/// fixed point whatever optional columns (TID) are present.
struct Row<'a> {
    command: &'a str,
    pid: &'a str,
    user: &'a str,
    device: &'a str,
    proto: Proto,
    name: &'a str,
    state: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn read(words: &[&'a str]) -> Option<Row<'a>> {
        let type_at = words
            .iter()
            .position(|w| matches!(*w, "IPv4" | "IPv6"))
            .filter(|&i| i >= 4)?;
        let node_at = (type_at + 1..words.len().min(type_at + 5))
            .find(|&i| words.get(i).is_some_and(|w| matches!(*w, "TCP" | "UDP")))?;
        let proto = if words.get(node_at) == Some(&"TCP") {
            Proto::Tcp
        } else {
            Proto::Udp
        };
        let state = words
            .get(node_at + 2)
            .and_then(|w| w.strip_prefix('('))
            .and_then(|w| w.strip_suffix(')'));
        Some(Row {
            command: words.first()?,
            pid: words.get(1)?,
            user: words.get(type_at - 2)?,
            device: words.get(type_at + 1)?,
            proto,
            name: words.get(node_at + 1)?,
            state,
        })
    }

    /// The socket this row names (`local->remote` or `local`); `None` if not numeric.
    fn entry(&self) -> Option<SocketEntry> {
        let (local, remote) = match self.name.split_once("->") {
            Some((l, r)) => (parse_endpoint(l)?, Some(parse_endpoint(r)?)),
            None => (parse_endpoint(self.name)?, None),
        };
        let mut entry = SocketEntry::new(self.proto, local.addr, local.port.unwrap_or(0));
        entry.scope = local.scope;
        if let Some(remote) = remote {
            entry.set_remote(remote.addr, remote.port);
        }
        if self.proto == Proto::Tcp {
            entry.state = self
                .state
                .map(|s| state::normalize(s).map_or_else(|| bounded(s), str::to_string));
        }
        // On Linux DEVICE is the socket inode (decimal); on macOS a kernel address.
        entry.inode = self.device.parse::<u64>().ok();
        Some(entry)
    }
}

/// lsof's `\xNN` escapes (spaces and non-printable bytes in command names) decoded where the
/// result is printable ASCII; anything else stays escaped.
fn unescape(s: &str) -> String {
    if !s.contains("\\x") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("\\x") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let decoded = after
            .get(..2)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|b| (0x20..0x7f).contains(b));
        match decoded {
            Some(b) => {
                out.push(char::from(b));
                rest = &after[2..];
            }
            None => {
                out.push_str("\\x");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn macos_rows() {
        // SNAPSHOT-FORMATS.md section 7: bandwhich's example row, rustnet's escaped name.
        let text = "COMMAND     PID     USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME\n\
com.apple   664     user  198u  IPv4 0xeb179a6650592b8d      0t0    TCP 192.168.1.187:58535->1.2.3.4:443 (ESTABLISHED)\n\
curl\\x20helper 4294967295 501 9u IPv4 0x1 0t0 TCP 127.0.0.1:5000->1.1.1.1:443 (ESTABLISHED)\n";
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets;
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].process.as_deref(), Some("com.apple"));
        assert_eq!(s[0].pid, Some(664));
        assert_eq!(s[0].user.as_deref(), Some("user"));
        assert_eq!(
            s[0].remote_addr,
            Some(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)))
        );
        assert_eq!(s[0].state.as_deref(), Some("ESTABLISHED"));
        assert_eq!(s[0].inode, None);
        assert_eq!(s[1].process.as_deref(), Some("curl helper"));
        assert_eq!(s[1].pid, Some(4294967295));
    }

    #[test]
    fn one_socket_under_two_pids() {
        // jc centos-7.7/lsof-sudo.out (names resolved there; numeric here).
        let text = "COMMAND    PID  TID    USER   FD      TYPE             DEVICE  SIZE/OFF       NODE NAME\n\
sshd      4314         root    3u     IPv4              44866       0t0        TCP 10.0.0.5:22->192.168.71.1:58727 (ESTABLISHED)\n\
sshd      4318      kbrazil    3u     IPv4              44866       0t0        TCP 10.0.0.5:22->192.168.71.1:58727 (ESTABLISHED)\n";
        let s = &parse(text).unwrap().snapshots[0].sockets;
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].owner_pids(), vec![4314, 4318]);
        assert_eq!(s[0].other_owners[0].user.as_deref(), Some("kbrazil"));
        assert_eq!(s[0].inode, Some(44866));
    }

    #[test]
    fn resolved_names_are_skipped_with_a_warning() {
        let text = "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n\
sshd 4314 root 3u IPv4 44866 0t0 TCP localhost.localdomain:ssh->192.168.71.1:58727 (ESTABLISHED)\n";
        let imported = parse(text).unwrap();
        assert!(imported.snapshots[0].sockets.is_empty());
        assert!(imported.warnings.iter().any(|w| w.contains("-n -P")));
    }

    #[test]
    fn unescape_keeps_what_it_cannot_decode() {
        assert_eq!(unescape("a\\x20b"), "a b");
        assert_eq!(unescape("a\\x0ab"), "a\\x0ab");
        assert_eq!(unescape("a\\x"), "a\\x");
        assert_eq!(unescape("\\xzz"), "\\xzz");
    }
}
