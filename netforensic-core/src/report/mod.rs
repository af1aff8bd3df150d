//! Output records and writers: flow and DNS records in Zeek's vocabulary (JSON, JSON lines,
//! CSV, Zeek TSV, aligned table), and the per-process attribution report.

pub mod analyze;
pub mod dns;
pub mod flows;
pub mod tabular;

pub use tabular::{Cell, Column, RecordFormat, RecordWriter, TabularRecord, ZeekClock};

use crate::flow::Connection;
use crate::naming::NameSource;
use serde::Serialize;
use std::sync::Arc;

/// The process that owned one end of a connection, and how we know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessRef {
    pub pid: Option<u32>,
    pub name: Option<String>,
    pub exe: Option<String>,
    pub cmdline: Option<String>,
    pub user: Option<String>,
    /// Source of the evidence: `pktap`, `darwin_pib`, `ptcpdump_comment`, `epb_pid`,
    /// `snapshot:ss`, `snapshot:netstat`, `snapshot:lsof`, `snapshot:sysmon`, ...
    pub evidence: String,
    /// Stable lowercase token: `exact`, `wildcard_local`, `listener`, `port_only`,
    /// `dns_followup`, `in_capture`.
    pub quality: String,
}

/// Which end of a connection is on the examined machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalSide {
    Orig,
    Resp,
}

/// One output flow: a conn.log row plus naming and attribution (DESIGN.md 4.2).
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRecord {
    pub conn: Connection,
    /// Input path the flow was read from (shared by all the flows of that input).
    pub capture: Arc<str>,
    pub server_name: Option<String>,
    pub name_source: Option<NameSource>,
    /// Every name seen for the responder (deduplicated, best source first).
    pub names: Vec<String>,
    /// Several names are equally good and none was picked.
    pub name_ambiguous: bool,
    pub local_side: Option<LocalSide>,
    /// Boxed, as `resp_process`: most flows have none, and a record moves several times on
    /// its way out (two inline ones were half of its size).
    pub process: Option<Box<ProcessRef>>,
    pub resp_process: Option<Box<ProcessRef>>,
    /// Why no process was attributed (`no_snapshot`, `ambiguous`, `no_matching_socket`...):
    /// one of a fixed set of tokens, so no allocation per flow.
    pub unattributed_reason: Option<&'static str>,
}

impl FlowRecord {
    pub fn new(conn: Connection, capture: Arc<str>) -> Self {
        FlowRecord {
            conn,
            capture,
            server_name: None,
            name_source: None,
            names: Vec::new(),
            name_ambiguous: false,
            local_side: None,
            process: None,
            resp_process: None,
            unattributed_reason: None,
        }
    }
}
