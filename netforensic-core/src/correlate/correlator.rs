//! The attribution of each flow's local end(s) to a process: in-capture evidence first, then
//! the socket snapshots nearest in time (exact 5-tuple, then unconnected/wildcard socket,
//! then listener). Conflicts give no process and the reason `ambiguous`.

use super::in_capture::{CaptureEvidence, FlowEvidence, SideEvidence};
use super::local::{LocalAddrs, LocalNet};
use super::snapshot_index::{LocalEnd, MatchRule, SnapshotIndex};
use super::{Quality, UnattributedReason};
use crate::report::{FlowRecord, LocalSide, ProcessRef};
use crate::sockets::{Snapshot, SnapshotSource, SocketEntry, SocketOwner};
use crate::time::Timestamp;

/// A snapshot taken this long before the first or after the last packet of a flow still
/// speaks for it (polling tools see a socket a moment before or after its packets).
pub const DEFAULT_SNAPSHOT_SLACK_NANOS: i64 = 2 * Timestamp::NANOS_PER_SEC;

/// What the user told us and how lenient matching is.
#[derive(Clone, Debug)]
pub struct CorrelateOptions {
    /// `--local-net`: prefixes that are the examined machine.
    pub local_nets: Vec<LocalNet>,
    /// `--time-shift`: seconds (as nanoseconds) added to snapshot times to reach the
    /// capture's clock.
    pub time_shift_nanos: i64,
    pub snapshot_slack_nanos: i64,
    /// A DNS lookup is attributed to the process whose connection to an answered address
    /// starts within this time after the response.
    pub dns_followup_window_nanos: i64,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            local_nets: Vec::new(),
            time_shift_nanos: 0,
            snapshot_slack_nanos: DEFAULT_SNAPSHOT_SLACK_NANOS,
            dns_followup_window_nanos: super::dns_followup::DEFAULT_WINDOW_NANOS,
        }
    }
}

/// The outcome for one end of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndAttribution {
    Process(ProcessRef),
    Unattributed(UnattributedReason),
}

/// Snapshots and local-address knowledge, ready to attribute the flows of one capture.
pub struct Correlator<'a> {
    index: SnapshotIndex<'a>,
    local: LocalAddrs,
    options: &'a CorrelateOptions,
}

impl<'a> Correlator<'a> {
    pub fn new(
        snapshots: &'a [Snapshot],
        evidence: &CaptureEvidence,
        options: &'a CorrelateOptions,
    ) -> Self {
        let mut local = LocalAddrs::new(&options.local_nets);
        for snapshot in snapshots {
            for socket in &snapshot.sockets {
                if let Some(addr) = socket.local_addr {
                    local.insert(addr);
                }
            }
        }
        for addr in &evidence.local_addrs {
            local.insert(*addr);
        }
        Correlator {
            index: SnapshotIndex::new(snapshots, options.time_shift_nanos),
            local,
            options,
        }
    }

    /// Decide the local side of `flow` and attribute its local end(s).
    pub fn attribute(&self, flow: &mut FlowRecord, evidence: Option<&FlowEvidence>) {
        let conn = &flow.conn;
        let orig_local = self.local.contains(conn.orig_h);
        let resp_local = self.local.contains(conn.resp_h);
        flow.process = None;
        flow.resp_process = None;
        flow.unattributed_reason = None;
        let none = SideEvidence::None;
        let (orig_ev, resp_ev, unknown_ev) = match evidence {
            Some(e) => (&e.orig, &e.resp, &e.unknown),
            None => (&none, &none, &none),
        };
        // In-capture evidence also says which end is local when addresses do not.
        let orig_local = orig_local || !orig_ev.is_none();
        let resp_local = resp_local || !resp_ev.is_none();
        let only_one_local = orig_local != resp_local;
        let first = match (orig_local, resp_local) {
            (true, _) => {
                flow.local_side = Some(LocalSide::Orig);
                let undirected = if only_one_local { unknown_ev } else { &none };
                self.attribute_end(flow, LocalSide::Orig, orig_ev, undirected)
            }
            (false, true) => {
                flow.local_side = Some(LocalSide::Resp);
                self.attribute_end(flow, LocalSide::Resp, resp_ev, unknown_ev)
            }
            (false, false) => {
                flow.local_side = None;
                let reason = if !unknown_ev.is_none() {
                    UnattributedReason::LocalSideUnknown
                } else if !self.local.is_known() && self.index.is_empty() {
                    UnattributedReason::NoSnapshotCoversFlow
                } else {
                    UnattributedReason::NotLocal
                };
                EndAttribution::Unattributed(reason)
            }
        };
        match first {
            EndAttribution::Process(p) => flow.process = Some(Box::new(p)),
            EndAttribution::Unattributed(r) => flow.unattributed_reason = Some(r.as_str()),
        }
        if orig_local && resp_local {
            if let EndAttribution::Process(p) =
                self.attribute_end(flow, LocalSide::Resp, resp_ev, &none)
            {
                if flow.process.is_none() && !is_loopback_flow(flow) {
                    // Both ends in the local ranges (a LAN given as --local-net) but only the
                    // responder is on the examined machine: it is the local side.
                    flow.local_side = Some(LocalSide::Resp);
                    flow.process = Some(Box::new(p));
                    flow.unattributed_reason = None;
                } else {
                    flow.resp_process = Some(Box::new(p));
                }
            }
        }
    }

    fn attribute_end(
        &self,
        flow: &FlowRecord,
        side: LocalSide,
        sided: &SideEvidence,
        undirected: &SideEvidence,
    ) -> EndAttribution {
        let end = local_end(flow, side);
        let match_snapshots = self.match_snapshots(flow, &end);
        let in_capture = if sided.is_none() { undirected } else { sided };
        match in_capture {
            SideEvidence::Process { claim } => {
                let mut process = claim.to_process_ref();
                if let EndAttribution::Process(snap) = &match_snapshots {
                    if snap.pid == process.pid {
                        enrich(&mut process, snap);
                    }
                }
                EndAttribution::Process(process)
            }
            SideEvidence::Ambiguous { .. } => {
                EndAttribution::Unattributed(UnattributedReason::Ambiguous)
            }
            SideEvidence::None => match_snapshots,
        }
    }

    fn match_snapshots(&self, flow: &FlowRecord, end: &LocalEnd) -> EndAttribution {
        let groups = self.index.covering(
            flow.conn.ts,
            flow.conn.last_ts,
            self.options.snapshot_slack_nanos,
        );
        if groups.is_empty() {
            return EndAttribution::Unattributed(UnattributedReason::NoSnapshotCoversFlow);
        }
        let mut matched: Vec<&SocketEntry> = Vec::new();
        let mut ownerless = false;
        for rule in [
            MatchRule::Exact,
            MatchRule::WildcardLocal,
            MatchRule::Listener,
        ] {
            for (_, group) in &groups {
                let mut source = None;
                matched.clear();
                for snapshot in group {
                    let before = matched.len();
                    snapshot.matches(end, rule, &mut matched);
                    if matched.len() > before && source.is_none() {
                        source = Some(snapshot.source());
                    }
                }
                let owners = distinct_owners(&matched);
                let owner = match owners.as_slice() {
                    [] => {
                        ownerless |= !matched.is_empty();
                        continue;
                    }
                    [one] => one,
                    _ => return EndAttribution::Unattributed(UnattributedReason::Ambiguous),
                };
                let source = source.unwrap_or(SnapshotSource::Netforensic);
                return EndAttribution::Process(process_ref(owner, source, rule));
            }
        }
        EndAttribution::Unattributed(if ownerless {
            UnattributedReason::SocketOwnerUnknown
        } else {
            UnattributedReason::NoMatchingSocket
        })
    }
}

fn is_loopback_flow(flow: &FlowRecord) -> bool {
    flow.conn.orig_h.to_canonical().is_loopback() && flow.conn.resp_h.to_canonical().is_loopback()
}

/// The flow's end on `side`, seen from the machine (canonical addresses).
fn local_end(flow: &FlowRecord, side: LocalSide) -> LocalEnd {
    let c = &flow.conn;
    let (local_addr, local_port, remote_addr, remote_port) = match side {
        LocalSide::Orig => (c.orig_h, c.orig_p, c.resp_h, c.resp_p),
        LocalSide::Resp => (c.resp_h, c.resp_p, c.orig_h, c.orig_p),
    };
    LocalEnd {
        proto: c.proto,
        local_addr: local_addr.to_canonical(),
        local_port,
        remote_addr: remote_addr.to_canonical(),
        remote_port,
        local_is_responder: side == LocalSide::Resp,
    }
}

/// The processes owning the matched sockets, one per process (the same process listed in
/// several snapshots counts once; several processes sharing one socket count as several).
fn distinct_owners(matched: &[&SocketEntry]) -> Vec<SocketOwner> {
    let mut owners: Vec<SocketOwner> = Vec::new();
    for socket in matched {
        for owner in socket.owners() {
            if owner.pid.is_none() && owner.process.is_none() {
                continue;
            }
            match owners.iter_mut().find(|o| same_owner(o, &owner)) {
                // Keep the most informative listing of the same process.
                Some(kept) => {
                    if info_score(&owner) > info_score(kept) {
                        *kept = owner;
                    }
                }
                None => owners.push(owner),
            }
        }
    }
    owners
}

/// Same process: same pid; without pids (some Windows tools), the same name.
fn same_owner(a: &SocketOwner, b: &SocketOwner) -> bool {
    match (a.pid, b.pid) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.process == b.process,
        _ => false,
    }
}

fn info_score(o: &SocketOwner) -> usize {
    [&o.process, &o.exe, &o.cmdline, &o.user]
        .iter()
        .filter(|f| f.is_some())
        .count()
}

fn process_ref(owner: &SocketOwner, source: SnapshotSource, rule: MatchRule) -> ProcessRef {
    let quality = match rule {
        MatchRule::Exact => Quality::Exact,
        MatchRule::WildcardLocal => Quality::WildcardLocal,
        MatchRule::Listener => Quality::Listener,
    };
    ProcessRef {
        pid: owner.pid,
        name: owner.process.clone(),
        exe: owner.exe.clone(),
        cmdline: owner.cmdline.clone(),
        user: owner.user.clone(),
        evidence: format!("snapshot:{}", source.as_str()),
        quality: quality.as_str().to_string(),
    }
}

fn enrich(process: &mut ProcessRef, from: &ProcessRef) {
    for (slot, value) in [
        (&mut process.name, &from.name),
        (&mut process.exe, &from.exe),
        (&mut process.cmdline, &from.cmdline),
        (&mut process.user, &from.user),
    ] {
        if slot.is_none() {
            slot.clone_from(value);
        }
    }
}
