//! Socket snapshots: which process owned which socket at a point in time. The model, the
//! importers of every format examiners already have (recognised by content), and collectors
//! for the machine netforensic runs on.
//!
//! Conventions every importer follows, so the correlator can rely on them:
//! - addresses are canonical: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) becomes IPv4;
//! - `local_addr: None` means "any address" (`*`); an unspecified address (`0.0.0.0`, `::`)
//!   is kept as such (a wildcard bind of that family);
//! - `remote_addr`/`remote_port` are `None` for listeners and unconnected UDP;
//! - `state` uses the Linux/netstat names of [`state`] (`LISTEN`, `ESTABLISHED`, ...), `None`
//!   for UDP; a word no table knows is kept verbatim (with a warning);
//! - every owner a source lists is kept ([`SocketEntry::owners`]): a socket shared by several
//!   processes must reach the correlator as a conflict, never as a guess.
//!
//! What to run on the examined machine (as root/Administrator to see every owner), every
//! second while capturing, with a time marker before each listing (see [`detect`]):
//! - Linux: `netforensic snapshot --interval 1`, or `ss -tunap` (`-e` adds inodes), or
//!   `netstat -tunap`;
//! - macOS: `lsof -i -n -P +c 0` (`-n -P`: numeric addresses and ports are needed);
//! - Windows: `netstat -anob`, or `netstat -ano` plus `tasklist /fo csv` (same file or a
//!   second `--sockets` file), TCPView "Save" (CSV), Sysmon events 3 and 22 exported with
//!   `wevtutil qe Microsoft-Windows-Sysmon/Operational /f:xml`.
//!
//! Entry points: [`load`] / [`load_all`] (files, `FILE@RFC3339`, `--time-shift`),
//! [`detect::import`] (text already in memory), [`collect()`] (this machine), and
//! [`native_json::to_line`] (our format).

use crate::flow::Proto;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

pub mod collect;
pub mod detect;
mod load;
pub mod lsof;
pub mod native_json;
pub mod netstat_linux;
pub mod netstat_windows;
pub mod proc_net;
pub mod ss;
pub mod state;
pub mod sysmon;
pub mod tasklist;
pub mod tcpview;
mod text;

pub use collect::{collect, Collected};
pub use load::{load, load_all, name_processes, parse_spec, LoadedSnapshots, TimeShift};
pub use text::Imported;

/// One socket as a snapshot saw it. The flat owner fields (`pid` .. `user`) describe the
/// first owner the source listed; further owners are in `other_owners`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketEntry {
    pub proto: Proto,
    pub local_addr: Option<IpAddr>,
    pub local_port: u16,
    /// `None` for listeners and unconnected UDP (`*`, `0.0.0.0:0`).
    pub remote_addr: Option<IpAddr>,
    pub remote_port: Option<u16>,
    /// Normalised state: `LISTEN`, `ESTABLISHED`, `TIME_WAIT`, ... (`None` for UDP).
    pub state: Option<String>,
    pub pid: Option<u32>,
    pub process: Option<String>,
    pub exe: Option<String>,
    pub cmdline: Option<String>,
    pub user: Option<String>,
    /// Owners beyond the first: fork-inherited or passed descriptors, pre-fork servers
    /// (`ss` lists several `users:`, `lsof` one socket under several PIDs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_owners: Vec<SocketOwner>,
    /// Kernel socket identity (Linux inode; lsof DEVICE on Linux) where the source shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
    /// Interface scope of a link-local/scoped local address (`%lo`, `%eth0`, `%12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the socket was created, where the source says (TCPView "Create Time"): lets the
    /// correlator tell a reused port's generations apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// Service or module inside the owning process (`netstat -b` component line, TCPView
    /// "Module Name").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

/// A process holding a socket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketOwner {
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Default for SocketEntry {
    fn default() -> Self {
        SocketEntry {
            proto: Proto::Tcp,
            local_addr: None,
            local_port: 0,
            remote_addr: None,
            remote_port: None,
            state: None,
            pid: None,
            process: None,
            exe: None,
            cmdline: None,
            user: None,
            other_owners: Vec::new(),
            inode: None,
            scope: None,
            create_time: None,
            module: None,
        }
    }
}

impl SocketEntry {
    /// An entry with addresses only; owners are added with [`SocketEntry::add_owner`].
    pub fn new(proto: Proto, local_addr: Option<IpAddr>, local_port: u16) -> Self {
        SocketEntry {
            proto,
            local_addr,
            local_port,
            ..SocketEntry::default()
        }
    }

    /// Every owner, first one first. Empty when the source could not say (not root, ...).
    pub fn owners(&self) -> Vec<SocketOwner> {
        let mut all = Vec::with_capacity(1 + self.other_owners.len());
        if self.has_primary_owner() {
            all.push(SocketOwner {
                pid: self.pid,
                process: self.process.clone(),
                exe: self.exe.clone(),
                cmdline: self.cmdline.clone(),
                user: self.user.clone(),
            });
        }
        all.extend(self.other_owners.iter().cloned());
        all
    }

    /// Distinct PIDs owning this socket: more than one means the socket is shared and an
    /// attribution to one of them would be a guess.
    pub fn owner_pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.pid.into_iter().collect();
        for owner in &self.other_owners {
            if let Some(pid) = owner.pid {
                if !pids.contains(&pid) {
                    pids.push(pid);
                }
            }
        }
        pids
    }

    /// Add an owner: the first fills the flat fields, later ones go to `other_owners`. The
    /// same PID twice (threads, duplicated descriptors) is merged, keeping known details.
    pub fn add_owner(&mut self, owner: SocketOwner) {
        if !self.has_primary_owner() {
            self.pid = owner.pid;
            self.process = owner.process;
            self.exe = owner.exe;
            self.cmdline = owner.cmdline;
            self.user = owner.user;
            return;
        }
        if owner.pid.is_some() && owner.pid == self.pid {
            fill(&mut self.process, owner.process);
            fill(&mut self.exe, owner.exe);
            fill(&mut self.cmdline, owner.cmdline);
            fill(&mut self.user, owner.user);
            return;
        }
        if let Some(existing) = self
            .other_owners
            .iter_mut()
            .find(|o| o.pid.is_some() && o.pid == owner.pid)
        {
            fill(&mut existing.process, owner.process);
            fill(&mut existing.exe, owner.exe);
            fill(&mut existing.cmdline, owner.cmdline);
            fill(&mut existing.user, owner.user);
            return;
        }
        self.other_owners.push(owner);
    }

    fn has_primary_owner(&self) -> bool {
        self.pid.is_some() || self.process.is_some() || self.exe.is_some()
    }

    /// Set the remote endpoint, folding "no peer" spellings (`*`, unspecified address with
    /// port 0 or `*`) into `None`.
    pub fn set_remote(&mut self, addr: Option<IpAddr>, port: Option<u16>) {
        let no_peer = match (addr, port) {
            (None, _) => true,
            (Some(a), p) => a.is_unspecified() && matches!(p, None | Some(0)),
        };
        if no_peer {
            self.remote_addr = None;
            self.remote_port = None;
        } else {
            self.remote_addr = addr;
            self.remote_port = port;
        }
    }
}

fn fill(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Which tool produced a snapshot (for `evidence`: `snapshot:<source>`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotSource {
    #[default]
    Netforensic,
    Ss,
    NetstatLinux,
    NetstatWindows,
    Lsof,
    Tcpview,
    Sysmon,
    /// `tasklist /fo csv`: a process table (no sockets) that names netstat's PIDs.
    Tasklist,
}

impl SnapshotSource {
    /// Stable lowercase token, as used in `evidence` (`snapshot:<token>`).
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotSource::Netforensic => "netforensic",
            SnapshotSource::Ss => "ss",
            SnapshotSource::NetstatLinux => "netstat_linux",
            SnapshotSource::NetstatWindows => "netstat_windows",
            SnapshotSource::Lsof => "lsof",
            SnapshotSource::Tcpview => "tcpview",
            SnapshotSource::Sysmon => "sysmon",
            SnapshotSource::Tasklist => "tasklist",
        }
    }
}

/// Where a snapshot's `taken_at` came from: the report should say how sure the time is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeOrigin {
    /// The format carries it (our JSON, Sysmon `UtcTime`, `# taken_at:` lines).
    Format,
    /// Given by the user as `FILE@RFC3339`.
    User,
    /// The file's modification time: a guess (copying a file may change it).
    FileMtime,
}

/// A process as a process table (tasklist) lists it, without sockets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: u32,
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Services hosted in the process (`tasklist /svc`) or the window title (`/v`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A DNS lookup attributed to a process by the host itself (Sysmon event 22). Lookup
/// sockets are too short-lived for any snapshot; this is how a name reaches a process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsQueryEvent {
    pub time: Option<Timestamp>,
    pub pid: Option<u32>,
    pub process: Option<String>,
    pub exe: Option<String>,
    pub user: Option<String>,
    pub query: String,
    /// Windows DNS status (0 = success, 9003 = name does not exist, ...).
    pub status: Option<u32>,
    /// Answer addresses, canonical (`::ffff:` mapped answers become IPv4).
    #[serde(default)]
    pub addrs: Vec<IpAddr>,
    /// CNAME targets in answer order (`type: 5 target`).
    #[serde(default)]
    pub cnames: Vec<String>,
}

/// A process-socket table at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub taken_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_origin: Option<TimeOrigin>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub source: SnapshotSource,
    #[serde(default)]
    pub sockets: Vec<SocketEntry>,
    /// Processes listed without sockets (tasklist), used to name PIDs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ProcessInfo>,
    /// DNS lookups by process (Sysmon event 22).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_queries: Vec<DnsQueryEvent>,
    /// The file this snapshot was read from (set by the loader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Snapshot {
    pub fn new(source: SnapshotSource) -> Self {
        Snapshot {
            source,
            ..Snapshot::default()
        }
    }
}
