//! Socket snapshots: which process owned which socket at a point in time. The model, the
//! importers of every format examiners already have (recognised by content), and collectors
//! for the machine netforensic runs on.

use crate::flow::Proto;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One socket as a snapshot saw it.
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
}

/// Which tool produced a snapshot (for `evidence`: `snapshot:<source>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotSource {
    Netforensic,
    Ss,
    NetstatLinux,
    NetstatWindows,
    Lsof,
    Tcpview,
    Sysmon,
}

/// A process-socket table at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub source: SnapshotSource,
    pub taken_at: Option<Timestamp>,
    pub host: Option<String>,
    pub os: Option<String>,
    pub sockets: Vec<SocketEntry>,
}
