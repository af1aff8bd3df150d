//! Linux `netstat -tunap` / `-anop` / `-tunapee` (net-tools), in English or a localised
//! header (Spanish `Recib Enviad ... Temporizador` seen in the wild).
//!
//! Pitfalls handled: the program name is truncated to the column (`428918/nginx: worke`,
//! spaces included); `-` instead of `PID/Program` without root; an optional `User Inode`
//! pair (`-e`) and `Timer` column (`-o`); UDP rows without a state; the UNIX-socket section
//! that `-a` appends.

use super::text::{
    bounded, error_at, non_empty, numbered_lines, parse_endpoint, split_fields, ImportLog, Imported,
};
use super::{state, Snapshot, SnapshotSource, SocketEntry, SocketOwner};
use crate::flow::Proto;
use crate::Error;

/// Column layout learnt from the header line.
#[derive(Clone, Copy, Debug)]
struct Layout {
    user_inode: bool,
    timer: bool,
}

/// True when `line` is a Linux netstat header (`Proto Recv-Q Send-Q ...`).
pub fn is_header(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("Proto") && matches!(words.next(), Some("Recv-Q" | "Recib" | "Empf-Q"))
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
    let mut snapshot = Snapshot::new(SnapshotSource::NetstatLinux);
    let mut layout: Option<Layout> = None;
    let mut in_inet_section = true;
    let mut warned_names = false;
    let mut warned_root = false;
    for (number, line) in numbered_lines(text, first_line) {
        let Some(line) = line else {
            log.too_long(number);
            continue;
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if is_header(line) {
            layout = Some(Layout {
                user_inode: line.contains("Inode") || line.contains("Nodo-i"),
                timer: line.contains("Timer") || line.contains("Temporizador"),
            });
            in_inet_section = true;
            continue;
        }
        if trimmed.starts_with("Active ") || trimmed.starts_with("Conexiones activas") {
            // `Active Internet connections` starts our section; `Active UNIX domain
            // sockets`, `Active Bluetooth connections` start others.
            in_inet_section = trimmed.contains("Internet");
            continue;
        }
        if trimmed.starts_with('(') {
            // "(Not all processes could be identified ...)" / "(No info could be read ...)".
            if !warned_root {
                log.warn(format!(
                    "line {number}: netstat could not see every owner (not run as root)"
                ));
                warned_root = true;
            }
            continue;
        }
        if trimmed.starts_with("will not be shown") {
            continue;
        }
        let Some(layout) = layout.filter(|_| in_inet_section) else {
            if in_inet_section {
                log.skip(number);
            }
            continue;
        };
        let Some((fields, rest)) = split_fields(line, 5) else {
            log.skip(number);
            continue;
        };
        let proto = match fields.first().copied() {
            Some("tcp" | "tcp6") => Proto::Tcp,
            Some("udp" | "udp6" | "udpl" | "udpl6") => Proto::Udp,
            Some("raw" | "raw6" | "unix") => continue,
            _ => {
                log.skip(number);
                continue;
            }
        };
        let (Some(local), Some(foreign)) = (
            fields.get(3).and_then(|s| parse_endpoint(s)),
            fields.get(4).and_then(|s| parse_endpoint(s)),
        ) else {
            if !warned_names {
                log.warn(format!(
                    "line {number}: address not numeric (run netstat with -n); such rows are skipped"
                ));
                warned_names = true;
            }
            log.skip(number);
            continue;
        };
        let mut entry = SocketEntry::new(proto, local.addr, local.port.unwrap_or(0));
        entry.scope = local.scope;
        entry.set_remote(foreign.addr, foreign.port);
        read_tail(&mut entry, rest, layout, number, log);
        snapshot.sockets.push(entry);
    }
    if layout.is_none() {
        return Err(error_at(
            first_line,
            "no Linux netstat header (Proto Recv-Q Send-Q ...) found",
        ));
    }
    Ok(snapshot)
}

/// `[State] [User Inode] PID/Program name [Timer]`.
fn read_tail(
    entry: &mut SocketEntry,
    rest: &str,
    layout: Layout,
    number: usize,
    log: &mut ImportLog,
) {
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    if layout.timer && words.len() >= 2 {
        // The timer is `off (0.00/0/0)` / `keepalive (10.87/0/0)`: a word and a parenthesis.
        if words
            .last()
            .is_some_and(|w| w.starts_with('(') && w.ends_with(')'))
        {
            words.truncate(words.len() - 2);
        }
    }
    let mut i = 0;
    if let Some(first) = words.first() {
        match state::normalize(first) {
            Some(s) => {
                if entry.proto == Proto::Tcp {
                    entry.state = Some(s.to_string());
                }
                i = 1;
            }
            None if entry.proto == Proto::Tcp => {
                log.warn(format!("line {number}: unknown state {first:?} kept as is"));
                entry.state = Some(bounded(first));
                i = 1;
            }
            None => {}
        }
    }
    let mut user = None;
    if layout.user_inode {
        user = words.get(i).and_then(|u| non_empty(u));
        entry.inode = words
            .get(i + 1)
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n != 0);
        i += 2;
    }
    let program = words.get(i..).map(|w| w.join(" ")).unwrap_or_default();
    if let Some((pid, name)) = program.split_once('/') {
        if let Ok(pid) = pid.parse::<u32>() {
            entry.add_owner(SocketOwner {
                pid: Some(pid),
                process: non_empty(name),
                user,
                ..SocketOwner::default()
            });
        }
    } else if !program.is_empty() && program != "-" {
        log.warn(format!("line {number}: unreadable PID/Program {program:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_sample_with_timers_and_truncated_names() {
        // SNAPSHOT-FORMATS.md section 4.
        let text = "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name     Timer\n\
tcp        0      0 10.28.112.11:60868      10.28.112.11:2379       ESTABLISHED 3865/kube-apiserver  keepalive (10.87/0/0)\n\
tcp        0      0 10.28.112.11:6379       10.28.111.9:34884       ESTABLISHED 428918/nginx: worke  off (0.00/0/0)\n";
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets;
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].pid, Some(3865));
        assert_eq!(s[0].process.as_deref(), Some("kube-apiserver"));
        assert_eq!(s[1].process.as_deref(), Some("nginx: worke"));
        assert_eq!(s[1].remote_port, Some(34884));
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    }

    #[test]
    fn extended_columns_and_resolved_names() {
        // jc centos-7.7/netstat-sudo-aeep.out: names resolved (no -n) cannot be matched.
        let text = "Proto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name    \n\
tcp6       0      0 localhost:38134         localhost:ssh           ESTABLISHED kbrazil    63128      6491/ssh            \n\
tcp6       0      0 ::1:38134               ::1:22                  ESTABLISHED kbrazil    63128      6491/ssh            \n";
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets;
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].user.as_deref(), Some("kbrazil"));
        assert_eq!(s[0].inode, Some(63128));
        assert_eq!(s[0].local_port, 38134);
        assert!(imported.warnings.iter().any(|w| w.contains("-n")));
    }

    #[test]
    fn spanish_locale() {
        // Real output quoted in a public write-up (netstat -tunlp, es_ES, not root).
        let text = "Conexiones activas de Internet (solo servidores)\n\
Proto  Recib Enviad Dirección local         Dirección remota       Estado       PID/Program name\n\
tcp        0      0 0.0.0.0:4512            0.0.0.0:*               ESCUCHAR    -\n\
udp        0      0 0.0.0.0:68              0.0.0.0:*                           -\n";
        let s = &parse(text).unwrap().snapshots[0].sockets;
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].state.as_deref(), Some("LISTEN"));
        assert_eq!(s[0].pid, None);
        assert_eq!(s[1].proto, Proto::Udp);
    }
}
