//! Linux collector: `/proc/net/{tcp,tcp6,udp,udp6}` joined with the socket inodes found in
//! `/proc/<pid>/fd`, plus each owner's comm, exe, cmdline and user. Works without root with
//! what it can see, and says what it could not (sockets without owner, unreadable PIDs).
//! Only the collector's network namespace is visible in `/proc/net`.

use super::super::proc_net::{parse_table, ProcSocket};
use super::super::text::bounded;
use super::super::{Snapshot, SnapshotSource, SocketOwner, TimeOrigin};
use super::Collected;
use crate::flow::Proto;
use crate::time::Timestamp;
use crate::{Error, ErrorKind};
use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// Longest command line kept (bytes).
const MAX_CMDLINE_BYTES: usize = 8 * 1024;

pub fn collect() -> Result<Collected, Error> {
    let mut warnings = Vec::new();
    let taken_at = now();
    let mut sockets: Vec<ProcSocket> = Vec::new();
    let mut tables_read = 0;
    for (file, proto) in [
        ("/proc/net/tcp", Proto::Tcp),
        ("/proc/net/tcp6", Proto::Tcp),
        ("/proc/net/udp", Proto::Udp),
        ("/proc/net/udp6", Proto::Udp),
    ] {
        match fs::read_to_string(file) {
            Ok(text) => {
                tables_read += 1;
                let (rows, bad) = parse_table(&text, proto);
                if bad > 0 {
                    warnings.push(format!("{file}: {bad} rows not understood"));
                }
                sockets.extend(rows);
            }
            // tcp6/udp6 are absent when IPv6 is disabled.
            Err(err) => warnings.push(format!("{file}: {err}")),
        }
    }
    if tables_read == 0 {
        return Err(Error::new(
            ErrorKind::Io,
            "cannot read any of /proc/net/{tcp,tcp6,udp,udp6}: is /proc mounted?",
        ));
    }
    let (owners_by_inode, unreadable) = socket_owners();
    let users = read_passwd();
    let mut processes: HashMap<u32, SocketOwner> = HashMap::new();
    let mut snapshot = Snapshot::new(SnapshotSource::Netforensic);
    snapshot.taken_at = Some(taken_at);
    snapshot.time_origin = Some(TimeOrigin::Format);
    snapshot.host = hostname();
    snapshot.os = Some("linux".to_string());
    let mut without_owner = 0u64;
    for socket in sockets {
        let mut entry = socket.entry;
        match owners_by_inode
            .get(&socket.inode)
            .filter(|_| socket.inode != 0)
        {
            Some(pids) => {
                for &pid in pids {
                    let owner = processes
                        .entry(pid)
                        .or_insert_with(|| describe(pid, &users))
                        .clone();
                    entry.add_owner(owner);
                }
            }
            None => {
                if socket.inode != 0 {
                    without_owner += 1;
                }
            }
        }
        snapshot.sockets.push(entry);
    }
    if unreadable > 0 {
        let why = if is_root() {
            "processes that exited meanwhile"
        } else {
            "run as root to see all owners"
        };
        warnings.push(format!(
            "descriptors of {unreadable} process{} could not be read ({why})",
            if unreadable == 1 { "" } else { "es" }
        ));
    }
    if without_owner > 0 {
        warnings.push(format!(
            "{without_owner} socket{} without a visible owner (other users' processes, other \
             PID namespaces, or processes that exited meanwhile)",
            if without_owner == 1 { "" } else { "s" }
        ));
    }
    Ok(Collected { snapshot, warnings })
}

/// Socket inode -> PIDs holding it, and how many PIDs could not be inspected.
fn socket_owners() -> (HashMap<u64, Vec<u32>>, u64) {
    let mut map: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut unreadable = 0u64;
    let Ok(dir) = fs::read_dir("/proc") else {
        return (map, 0);
    };
    for proc_entry in dir.flatten() {
        let Some(pid) = proc_entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(proc_entry.path().join("fd")) else {
            unreadable += 1;
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
            else {
                continue;
            };
            let pids = map.entry(inode).or_default();
            if !pids.contains(&pid) {
                pids.push(pid);
            }
        }
    }
    (map, unreadable)
}

/// comm, exe, cmdline and user of a PID; what cannot be read stays `None`.
fn describe(pid: u32, users: &HashMap<u32, String>) -> SocketOwner {
    let dir = Path::new("/proc").join(pid.to_string());
    let process = fs::read_to_string(dir.join("comm"))
        .ok()
        .map(|c| bounded(c.trim_end_matches('\n')));
    let exe = fs::read_link(dir.join("exe"))
        .ok()
        .map(|p| bounded(&p.to_string_lossy()));
    let cmdline = fs::read(dir.join("cmdline")).ok().and_then(|raw| {
        let raw = raw.get(..raw.len().min(MAX_CMDLINE_BYTES)).unwrap_or(&[]);
        let joined: Vec<String> = raw
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        (!joined.is_empty()).then(|| joined.join(" "))
    });
    let uid = fs::read_to_string(dir.join("status")).ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u32>().ok())
    });
    let user = uid.map(|u| users.get(&u).cloned().unwrap_or_else(|| u.to_string()));
    SocketOwner {
        pid: Some(pid),
        process,
        exe,
        cmdline,
        user,
    }
}

/// uid -> name from /etc/passwd (`name:x:uid:...`).
fn read_passwd() -> HashMap<u32, String> {
    let mut users = HashMap::new();
    if let Ok(text) = fs::read_to_string("/etc/passwd") {
        for line in text.lines() {
            let mut fields = line.split(':');
            let (Some(name), _, Some(uid)) = (fields.next(), fields.next(), fields.next()) else {
                continue;
            };
            if let Ok(uid) = uid.parse::<u32>() {
                users.entry(uid).or_insert_with(|| bounded(name));
            }
        }
    }
    users
}

/// Effective uid 0, from `/proc/self/status` (`Uid: real effective saved fs`).
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .is_some_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1))
                == Some("0")
        })
}

fn hostname() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| bounded(h.trim()))
        .filter(|h| !h.is_empty())
}

fn now() -> Timestamp {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => Timestamp::from_secs_nanos(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            i64::from(d.subsec_nanos()),
        ),
        Err(_) => Timestamp(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener, TcpStream};

    #[test]
    fn sees_our_own_connection() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let _client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        let collected = collect().unwrap();
        let me = std::process::id();
        let found = collected.snapshot.sockets.iter().any(|s| {
            s.proto == Proto::Tcp && s.remote_port == Some(port) && s.owner_pids().contains(&me)
        });
        assert!(
            found,
            "our connection to port {port} not attributed to pid {me}"
        );
    }
}
