//! Attribution: flows x socket snapshots x process metadata inside the capture.
//!
//! 1. While packets stream by, [`InCaptureEvidence::observe`] notes the process metadata
//!    the capture carries (PKTAP, Darwin process blocks, ptcpdump comments, EPB pid);
//!    [`InCaptureEvidence::finish`] weighs it per flow end.
//! 2. [`attribute`] decides each flow's local side and owning process: in-capture evidence
//!    first, then the socket snapshots nearest in time ([`Correlator`]), then DNS lookups
//!    by the host's own query log ([`dns_events`], Sysmon 22) or by the connection that
//!    followed them ([`dns_followup`]).
//!
//! A wrong process is worse than none: conflicting evidence gives no process and the reason
//! `ambiguous`; every attribution says where it came from (`evidence`) and how it matched
//! (`quality`).

mod claim;
mod correlator;
pub mod dns_events;
pub mod dns_followup;
mod in_capture;
mod local;
pub mod ptcpdump;
mod snapshot_index;

pub use claim::{InCaptureSource, ProcessClaim};
pub use correlator::{CorrelateOptions, Correlator, EndAttribution, DEFAULT_SNAPSHOT_SLACK_NANOS};
pub use in_capture::{
    CaptureEvidence, FlowEvidence, InCaptureEvidence, InCaptureStats, Side, SideEvidence,
};
pub use local::{LocalAddrs, LocalNet};
pub use snapshot_index::{LocalEnd, MatchRule, Nearness, SnapshotIndex};

use crate::dns::DnsRecord;
use crate::report::FlowRecord;
use crate::sockets::Snapshot;
use serde::Serialize;

/// How an attribution matched: the `quality` token of DESIGN.md 4.2, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// The capture itself names the process (PKTAP, Darwin block, ptcpdump, EPB pid).
    InCapture,
    /// A snapshot socket with the flow's full 5-tuple.
    Exact,
    /// An unconnected socket bound to the flow's local port (UDP `0.0.0.0`/`::`).
    WildcardLocal,
    /// A listening socket on the local responder's port.
    Listener,
    /// The host logged this process's query for the name (Sysmon event 22).
    DnsQueryEvent,
    /// A DNS lookup followed by this process's connection to an answered address.
    DnsFollowup,
}

impl Quality {
    pub const ALL: [Quality; 6] = [
        Quality::InCapture,
        Quality::Exact,
        Quality::WildcardLocal,
        Quality::Listener,
        Quality::DnsQueryEvent,
        Quality::DnsFollowup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Quality::InCapture => "in_capture",
            Quality::Exact => "exact",
            Quality::WildcardLocal => "wildcard_local",
            Quality::Listener => "listener",
            Quality::DnsQueryEvent => "dns_query_event",
            Quality::DnsFollowup => "dns_followup",
        }
    }

    /// Parse a token; unknown tokens (from other producers) rank after every known one.
    pub fn parse(token: &str) -> Option<Quality> {
        Self::ALL.into_iter().find(|q| q.as_str() == token)
    }
}

/// Why a flow has no process: the `unattributed_reason` token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnattributedReason {
    /// No snapshot was taken near the flow's lifetime (and the capture names no process).
    NoSnapshotCoversFlow,
    /// Snapshots covered the flow, but none listed its socket.
    NoMatchingSocket,
    /// A matching socket was listed without its owner (tool run without privileges).
    SocketOwnerUnknown,
    /// Two or more processes could own it.
    Ambiguous,
    /// Neither end is the examined machine.
    NotLocal,
    /// The capture names a process, but not which end of the flow is local.
    LocalSideUnknown,
}

impl UnattributedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnattributedReason::NoSnapshotCoversFlow => "no_snapshot_covers_flow",
            UnattributedReason::NoMatchingSocket => "no_matching_socket",
            UnattributedReason::SocketOwnerUnknown => "socket_owner_unknown",
            UnattributedReason::Ambiguous => "ambiguous",
            UnattributedReason::NotLocal => "not_local",
            UnattributedReason::LocalSideUnknown => "local_side_unknown",
        }
    }
}

/// Counts of what attribution decided, for the report's stats.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AttributionStats {
    pub flows: u64,
    pub attributed: u64,
    pub resp_attributed: u64,
    pub dns_query_event: u64,
    pub dns_followup: u64,
}

/// Attribute the flows of one capture: set `local_side`, `process`, `resp_process` and
/// `unattributed_reason` on each. `dns` are that capture's DNS transactions (for
/// `dns_followup`); `evidence` its finished in-capture evidence.
pub fn attribute(
    flows: &mut [FlowRecord],
    snapshots: &[Snapshot],
    evidence: &CaptureEvidence,
    dns: &[DnsRecord],
    options: &CorrelateOptions,
) -> AttributionStats {
    let correlator = Correlator::new(snapshots, evidence, options);
    for flow in flows.iter_mut() {
        let flow_evidence = evidence.flows.get(&flow.conn.id);
        correlator.attribute(flow, flow_evidence);
    }
    let dns_query_event = dns_events::attribute_from_events(
        flows,
        dns,
        snapshots,
        options.snapshot_slack_nanos,
        options.time_shift_nanos,
    );
    let dns_followup =
        dns_followup::attribute_lookups(flows, dns, options.dns_followup_window_nanos);
    AttributionStats {
        flows: flows.len() as u64,
        attributed: flows.iter().filter(|f| f.process.is_some()).count() as u64,
        resp_attributed: flows.iter().filter(|f| f.resp_process.is_some()).count() as u64,
        dns_query_event,
        dns_followup,
    }
}

#[cfg(test)]
mod tests;
