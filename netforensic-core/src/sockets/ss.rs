//! `ss -tunap` (iproute2), with or without `-e` (`ino:`, `uid:`), with or without the `Netid`
//! column (`ss -tnap` omits it when only one protocol is asked for).
//!
//! One socket may list several processes (`users:(("master",pid=1,fd=86),("smtpd",...))`):
//! all are kept. Without root the process column is empty for other users' sockets.

use super::text::{
    bounded, error_at, numbered_lines, parse_endpoint, parse_host, split_fields, Endpoint,
    ImportLog, Imported,
};
use super::{state, Snapshot, SnapshotSource, SocketEntry, SocketOwner};
use crate::flow::Proto;
use crate::Error;

/// Most owners read from one `users:(...)` list (pre-fork servers list dozens, not more).
const MAX_OWNERS_PER_SOCKET: usize = 256;

/// True when `line` is an `ss` header.
pub fn is_header(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with("Netid") || t.starts_with("State"))
        && t.contains("Recv-Q")
        && t.contains("Local Address:Port")
}

/// Parse one `ss` listing.
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
    let mut snapshot = Snapshot::new(SnapshotSource::Ss);
    let mut has_netid: Option<bool> = None;
    let mut warned_no_netid = false;
    for (number, line) in numbered_lines(text, first_line) {
        let Some(line) = line else {
            log.too_long(number);
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        if is_header(line) {
            has_netid = Some(line.trim_start().starts_with("Netid"));
            continue;
        }
        let Some(with_netid) = has_netid else {
            log.skip(number);
            continue;
        };
        // A continuation line (older ss wrapped the process column).
        if line.starts_with([' ', '\t']) && !snapshot.sockets.is_empty() {
            if let Some(last) = snapshot.sockets.last_mut() {
                apply_extras(last, line.trim(), number, log);
            }
            continue;
        }
        match parse_row(line, with_netid, number, log, &mut warned_no_netid) {
            Row::Socket(entry) => snapshot.sockets.push(*entry),
            Row::Ignored => {}
            Row::Bad => log.skip(number),
        }
    }
    if has_netid.is_none() {
        return Err(error_at(
            first_line,
            "no `ss` header (Netid/State ... Local Address:Port) found",
        ));
    }
    Ok(snapshot)
}

enum Row {
    Socket(Box<SocketEntry>),
    /// A socket kind we do not model (raw, unix, netlink): not an error.
    Ignored,
    Bad,
}

fn parse_row(
    line: &str,
    with_netid: bool,
    number: usize,
    log: &mut ImportLog,
    warned_no_netid: &mut bool,
) -> Row {
    let n = if with_netid { 6 } else { 5 };
    let Some((fields, rest)) = split_fields(line, n) else {
        return Row::Bad;
    };
    let (netid, fields) = if with_netid {
        match fields.split_first() {
            Some((netid, others)) => (Some(*netid), others),
            None => return Row::Bad,
        }
    } else {
        (None, fields.as_slice())
    };
    let [state_word, _recv_q, _send_q, local, peer] = fields else {
        return Row::Bad;
    };
    let proto = match netid {
        Some("tcp") => Proto::Tcp,
        Some("udp") => Proto::Udp,
        Some(_) => return Row::Ignored,
        None => {
            // Without the Netid column the protocol is not printed: UNCONN is UDP only;
            // every other state is read as TCP (what `ss -t` prints), and said once.
            if *state_word == "UNCONN" {
                Proto::Udp
            } else {
                if !*warned_no_netid {
                    log.warn(format!(
                        "line {number}: no Netid column; rows other than UNCONN are read as TCP"
                    ));
                    *warned_no_netid = true;
                }
                Proto::Tcp
            }
        }
    };
    let (Some(local), Some(peer)) = (ss_endpoint(local), ss_endpoint(peer)) else {
        return Row::Bad;
    };
    let mut entry = SocketEntry::new(proto, local.addr, local.port.unwrap_or(0));
    entry.scope = local.scope;
    entry.set_remote(peer.addr, peer.port);
    if proto == Proto::Tcp {
        entry.state = match state::normalize(state_word) {
            Some(s) => Some(s.to_string()),
            None if *state_word == "UNCONN" => None,
            None => {
                log.warn(format!(
                    "line {number}: unknown state {state_word:?} kept as is"
                ));
                Some(bounded(state_word))
            }
        };
    }
    apply_extras(&mut entry, rest, number, log);
    Row::Socket(Box::new(entry))
}

/// An address column as ss prints it. Besides the common spellings, ss puts the zone of a
/// scoped IPv6 address after the bracket (`[fe80::10]%nfc0:59744`, as in the dualstack
/// recording's real snapshots), where a URL would put it inside.
fn ss_endpoint(s: &str) -> Option<Endpoint> {
    let zoned = s
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("]%"))
        .and_then(|(host, rest)| Some((host, rest.rsplit_once(':')?)));
    let Some((host, (zone, port))) = zoned else {
        return parse_endpoint(s);
    };
    if host.contains('%') {
        return None; // two zones: not something ss prints
    }
    let port = match port {
        "*" => None,
        p => Some(p.parse::<u16>().ok()?),
    };
    let (addr, scope) = parse_host(&format!("{host}%{zone}"))?;
    Some(Endpoint { addr, port, scope })
}

/// The process column and `-e` extras: `users:((...))`, `ino:N`, `uid:N`.
fn apply_extras(entry: &mut SocketEntry, rest: &str, number: usize, log: &mut ImportLog) {
    let mut extras = rest;
    if let Some(at) = rest.find("users:((") {
        let after = &rest[at + "users:(".len()..];
        // The list ends at the last `))` followed by whitespace or the end of the line:
        // process names may contain anything, the later extras (`ino:`, `cgroup:` paths of
        // systemd unit names, `timer:(..)`) never contain `))`.
        let end = after
            .match_indices("))")
            .map(|(i, _)| i)
            .filter(|&i| {
                after
                    .get(i + 2..)
                    .is_some_and(|t| t.is_empty() || t.starts_with(char::is_whitespace))
            })
            .last();
        match end {
            Some(end) => {
                let body = &after[..end + 1];
                let (owners, complete) = parse_users(body);
                if !complete {
                    log.warn(format!(
                        "line {number}: process list not fully readable (a process name may \
                         imitate its syntax); kept the {} owner(s) read from its end",
                        owners.len()
                    ));
                }
                for owner in owners {
                    entry.add_owner(owner);
                }
                extras = &after[end + 2..];
            }
            None => {
                log.warn(format!("line {number}: unreadable users:(...) list"));
                extras = "";
            }
        }
    }
    for token in extras.split_whitespace() {
        if let Some(ino) = token.strip_prefix("ino:") {
            entry.inode = ino.parse::<u64>().ok().filter(|&i| i != 0);
        } else if let Some(uid) = token.strip_prefix("uid:") {
            if entry.user.is_none() && entry.pid.is_some() {
                entry.user = uid.parse::<u32>().ok().map(|u| u.to_string());
            }
        }
    }
}

/// `("name",pid=1,fd=3),("other",pid=2,fd=4)` -> owners, in listed order, and whether the
/// whole list was read. Read from the right: each owner's true end (`",pid=P,fd=F)`) is
/// anchored there, so a process named `x",pid=1,fd=3)` cannot pass itself off as PID 1.
fn parse_users(body: &str) -> (Vec<SocketOwner>, bool) {
    let mut owners = Vec::new();
    let mut rest = body;
    let complete = loop {
        if rest.is_empty() {
            break true;
        }
        let Some(owner_end) = rest.strip_suffix(')') else {
            break false;
        };
        let Some((before_pid, pid, fd)) = split_owner_end(owner_end) else {
            break false;
        };
        let (Ok(pid), true) = (pid.parse::<u32>(), fd.bytes().all(|b| b.is_ascii_digit())) else {
            break false;
        };
        // The name starts after the last `("` that begins an owner (start of the list, or
        // after `),`).
        let start = before_pid
            .match_indices("(\"")
            .map(|(i, _)| i)
            .filter(|&i| i == 0 || before_pid[..i].ends_with("),"))
            .last();
        let Some(start) = start else {
            break false;
        };
        if owners.len() < MAX_OWNERS_PER_SOCKET {
            owners.push(SocketOwner {
                pid: Some(pid),
                process: Some(bounded(&before_pid[start + 2..])),
                ..SocketOwner::default()
            });
        }
        rest = before_pid[..start].strip_suffix(',').unwrap_or("");
        if start > 0 && rest.is_empty() {
            break false;
        }
    };
    owners.reverse();
    (owners, complete)
}

/// `..."name",pid=P,fd=F` (iproute2 since 2014) or `..."name",P,F` (older, RHEL 6) ->
/// (`...("name`, P, F).
fn split_owner_end(owner: &str) -> Option<(&str, &str, &str)> {
    if let Some((before_fd, fd)) = owner.rsplit_once(",fd=") {
        let (before_pid, pid) = before_fd.rsplit_once("\",pid=")?;
        return Some((before_pid, pid, fd));
    }
    let (before_fd, fd) = owner.rsplit_once(',')?;
    let (before_pid, pid) = before_fd.rsplit_once(',')?;
    Some((before_pid.strip_suffix('"')?, pid, fd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn v4(a: u8, b: u8, c: u8, d: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
    }

    #[test]
    fn public_samples() {
        // SNAPSHOT-FORMATS.md section 5 (pastebin.com/7YY1jjKE, jc ss-wide.out).
        let text = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
tcp ESTAB 0 0 172.20.10.9:50414 142.109.1.86:22 users:((\"ssh\",pid=5815,fd=3))\n\
udp UNCONN 0 0 192.168.1.196:41613 0.0.0.0:* users:((\"chromium\",pid=3184,fd=137))\n\
tcp   LISTEN 0      100                             0.0.0.0:587        0.0.0.0:*    users:((\"master\",pid=1978854,fd=86),(\"smtpd\",pid=320188,fd=6),(\"smtpd\",pid=319502,fd=6),(\"smtpd\",pid=319370,fd=6)) ino:815320090 sk:2005 cgroup:/system.slice/system-p…\n";
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets;
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].proto, Proto::Tcp);
        assert_eq!(s[0].local_addr, v4(172, 20, 10, 9));
        assert_eq!(s[0].remote_port, Some(22));
        assert_eq!(s[0].state.as_deref(), Some("ESTABLISHED"));
        assert_eq!(s[0].pid, Some(5815));
        assert_eq!(s[0].process.as_deref(), Some("ssh"));
        assert_eq!(s[1].proto, Proto::Udp);
        assert_eq!(s[1].remote_addr, None);
        assert_eq!(s[1].state, None);
        assert_eq!(s[2].owner_pids(), vec![1978854, 320188, 319502, 319370]);
        assert_eq!(s[2].inode, Some(815320090));
        assert_eq!(s[2].state.as_deref(), Some("LISTEN"));
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    }

    #[test]
    fn scoped_address() {
        // pastebin.com/X8i7Gu20: systemd-resolved stub listener.
        let text = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
udp   UNCONN 0      0      127.0.0.53%lo:53        0.0.0.0:*    users:((\"systemd-resolve\",pid=640,fd=12))\n";
        let s = &parse(text).unwrap().snapshots[0].sockets[0];
        assert_eq!(s.local_addr, v4(127, 0, 0, 53));
        assert_eq!(s.scope.as_deref(), Some("lo"));
        assert_eq!(s.local_port, 53);
    }

    /// A line of testdata/recordings/dualstack/snapshots (real `ss -tunap` output): the zone
    /// of a link-local address follows the bracket.
    #[test]
    fn zone_after_the_bracket() {
        let text = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
tcp   ESTAB  0      0         [fe80::10]%nfc0:59744          [fe80::1]:7000  users:((\"ll-agent\",pid=19477,fd=3))\n\
udp   UNCONN 0      0         [fe80::10]%nfc0:*          [::]:*  users:((\"x\",pid=7,fd=3))\n";
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets;
        assert_eq!(s.len(), 2);
        let ll: IpAddr = "fe80::10".parse().unwrap();
        assert_eq!(s[0].local_addr, Some(ll));
        assert_eq!(s[0].local_port, 59744);
        assert_eq!(s[0].scope.as_deref(), Some("nfc0"));
        assert_eq!(s[0].remote_addr, Some("fe80::1".parse().unwrap()));
        assert_eq!(s[0].remote_port, Some(7000));
        assert_eq!(s[0].pid, Some(19477));
        assert_eq!((s[1].local_addr, s[1].local_port), (Some(ll), 0));
        assert!(ss_endpoint("[fe80::1%a]%b:1").is_none());
        assert!(ss_endpoint("[fe80::1]%b").is_none());
    }

    #[test]
    fn hostile_users_lists_do_not_panic() {
        for rest in [
            "users:((\"",
            "users:((\"a\",pid=",
            "users:((\"a\",pid=99999999999,fd=1))",
            "users:((",
        ] {
            let text = format!("Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\ntcp ESTAB 0 0 1.2.3.4:1 5.6.7.8:2 {rest}\n");
            let imported = parse(&text).unwrap();
            assert_eq!(imported.snapshots[0].sockets.len(), 1);
        }
    }

    #[test]
    fn a_process_name_cannot_forge_its_pid() {
        // comm is up to 15 bytes: `x",pid=1,fd=3)` fits.
        let text = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
tcp ESTAB 0 0 10.0.0.2:40000 1.2.3.4:443 users:((\"x\",pid=1,fd=3)\",pid=4242,fd=3)) ino:9 sk:1 cgroup:/user.slice <->\n\
tcp ESTAB 0 0 10.0.0.2:40001 1.2.3.4:443 users:((\"a),(\"b\",pid=4243,fd=5))\n";
        let imported = parse(text).unwrap();
        let s = &imported.snapshots[0].sockets;
        assert_eq!(s[0].owner_pids(), vec![4242]);
        assert_eq!(s[0].process.as_deref(), Some("x\",pid=1,fd=3)"));
        assert_eq!(s[0].inode, Some(9));
        assert_eq!(s[1].owner_pids(), vec![4243]);
        assert!(imported.warnings.iter().any(|w| w.contains("line 3")));
    }

    #[test]
    fn legacy_users_format() {
        // iproute2 before pid=/fd= labels: `users:(("sshd",1234,3))`.
        let text = "State      Recv-Q Send-Q        Local Address:Port          Peer Address:Port \n\
ESTAB      0      0              10.0.0.2:22              10.0.0.9:51000  users:((\"sshd\",1234,3),(\"sshd\",1240,3))\n";
        let s = &parse(text).unwrap().snapshots[0].sockets[0];
        assert_eq!(s.owner_pids(), vec![1234, 1240]);
        assert_eq!(s.process.as_deref(), Some("sshd"));
    }

    #[test]
    fn no_header_is_an_error() {
        assert!(parse("tcp ESTAB 0 0 1.2.3.4:1 5.6.7.8:2\n").is_err());
    }
}
