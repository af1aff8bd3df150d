//! Process evidence carried inside the capture, gathered per flow while packets stream by:
//! PKTAP headers, Darwin process blocks, ptcpdump comments, `epb_processid_threadid`.
//!
//! Which end of the flow a packet's process owns follows from the packet's direction: an
//! outbound packet's process owns the sending socket, an inbound packet's process the
//! receiving one. On loopback both copies of a packet are captured (out by the sender, in by
//! the receiver), which is how both client and server of a local connection get named.

use super::claim::{InCaptureSource, ProcessClaim};
use super::ptcpdump;
use crate::capture::{DarwinProcess, FrameMeta};
use crate::decode::PktapInfo;
use crate::flow::{FlowId, FlowTouch};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// Distinct claims kept per flow end; more than this on one flow is already hopeless
/// (ambiguous) and must not grow memory.
pub const MAX_CLAIMS_PER_SIDE: usize = 8;

/// Flows with in-capture evidence tracked at once; beyond it new flows are counted, not kept.
/// (The flow table bounds live flows too; this guards the evidence map on its own.)
pub const MAX_FLOWS_WITH_EVIDENCE: usize = 4_000_000;

/// PKTAP `pth_flags` direction bits (xnu `bsd/net/pktap.h`).
const PTH_FLAG_DIR_IN: u32 = 0x1;
const PTH_FLAG_DIR_OUT: u32 = 0x2;

/// pcapng `epb_flags` direction, bits 0-1 (1 inbound, 2 outbound).
const EPB_DIRECTION_MASK: u32 = 0x3;
const EPB_INBOUND: u32 = 1;
const EPB_OUTBOUND: u32 = 2;

/// Which end of a flow a claim is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Orig,
    Resp,
    /// The packet had no direction: the process owns whichever end is local.
    Unknown,
}

/// Direction of a packet relative to the capturing host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Inbound,
    Outbound,
}

/// A claim before the capture's Darwin process table is known.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PendingClaim {
    Resolved(ProcessClaim),
    Darwin {
        section: u32,
        index: Option<u32>,
        effective: Option<u32>,
    },
}

#[derive(Clone, Debug, Default)]
struct PendingSide {
    claims: Vec<PendingClaim>,
    /// More distinct claims than [`MAX_CLAIMS_PER_SIDE`] were seen.
    overflow: bool,
}

impl PendingSide {
    fn push_unique(&mut self, claim: PendingClaim) {
        if self.claims.contains(&claim) {
            return;
        }
        if self.claims.len() >= MAX_CLAIMS_PER_SIDE {
            self.overflow = true;
            return;
        }
        self.claims.push(claim);
    }

    /// True when an equivalent resolved claim is already held (checked before allocating).
    fn has_resolved(&self, source: InCaptureSource, pid: u32) -> bool {
        self.claims.iter().any(|c| match c {
            PendingClaim::Resolved(r) => r.source == source && r.pid == pid,
            PendingClaim::Darwin { .. } => false,
        })
    }
}

#[derive(Clone, Debug)]
struct PendingFlow {
    orig_h: IpAddr,
    resp_h: IpAddr,
    orig: PendingSide,
    resp: PendingSide,
    unknown: PendingSide,
}

impl PendingFlow {
    fn side_mut(&mut self, side: Side) -> &mut PendingSide {
        match side {
            Side::Orig => &mut self.orig,
            Side::Resp => &mut self.resp,
            Side::Unknown => &mut self.unknown,
        }
    }
}

/// What the capture says about one end of a flow, after conflicts were weighed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SideEvidence {
    None,
    Process {
        claim: ProcessClaim,
    },
    /// Several unrelated processes claim this end: attribute nothing.
    Ambiguous {
        pids: Vec<u32>,
    },
}

impl SideEvidence {
    pub fn is_none(&self) -> bool {
        matches!(self, SideEvidence::None)
    }
}

/// The in-capture evidence of one flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowEvidence {
    pub orig: SideEvidence,
    pub resp: SideEvidence,
    /// Claims from packets without a direction: they belong to the flow's local end.
    pub unknown: SideEvidence,
}

/// Counters for the report's stats.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InCaptureStats {
    /// Packets that carried some process metadata.
    pub packets_with_process: u64,
    pub flows_with_process: u64,
    /// Flows whose evidence could not be kept ([`MAX_FLOWS_WITH_EVIDENCE`]).
    pub flows_dropped: u64,
    /// Darwin process indexes that named no block of their section.
    pub unresolved_darwin_indexes: u64,
    /// Flow ends whose claims conflicted.
    pub ambiguous_sides: u64,
}

/// The finished in-capture evidence of one capture.
#[derive(Clone, Debug, Default)]
pub struct CaptureEvidence {
    pub flows: HashMap<FlowId, FlowEvidence>,
    /// Addresses the evidence shows as belonging to the capturing host (the end a process
    /// owned).
    pub local_addrs: HashSet<IpAddr>,
    pub stats: InCaptureStats,
}

/// Collects per-packet process metadata per flow. Call [`InCaptureEvidence::observe`] for
/// every packet that touched a flow, then [`InCaptureEvidence::finish`] once.
#[derive(Default)]
pub struct InCaptureEvidence {
    flows: HashMap<FlowId, PendingFlow>,
    stats: InCaptureStats,
}

impl InCaptureEvidence {
    pub fn new() -> Self {
        Self::default()
    }

    /// Note the process metadata of one packet. Returns at once when there is none (the
    /// common case), and allocates only for a claim this flow has not seen yet.
    pub fn observe(
        &mut self,
        touch: &FlowTouch,
        meta: Option<&FrameMeta>,
        pktap: Option<&PktapInfo<'_>>,
    ) {
        if meta.is_none() && pktap.is_none() {
            return;
        }
        let mut seen = false;
        if let Some(info) = pktap {
            seen |= self.observe_pktap(touch, info);
        }
        if let Some(meta) = meta {
            seen |= self.observe_meta(touch, meta);
        }
        if seen {
            self.stats.packets_with_process += 1;
        }
    }

    fn observe_pktap(&mut self, touch: &FlowTouch, info: &PktapInfo<'_>) -> bool {
        // pid -1 (or any negative value) means the kernel did not know the process.
        let Ok(pid) = u32::try_from(info.pid()) else {
            return false;
        };
        let flags = info.flags();
        let direction = if flags & PTH_FLAG_DIR_OUT != 0 {
            Some(Direction::Outbound)
        } else if flags & PTH_FLAG_DIR_IN != 0 {
            Some(Direction::Inbound)
        } else {
            None
        };
        let side = side_of(touch, direction);
        let Some(flow) = self.flow_mut(touch) else {
            return true;
        };
        let target = flow.side_mut(side);
        if target.has_resolved(InCaptureSource::Pktap, pid) {
            return true;
        }
        let mut claim = ProcessClaim::new(InCaptureSource::Pktap, pid);
        claim.name = text(info.comm());
        if let Ok(epid) = u32::try_from(info.effective_pid()) {
            if epid != pid {
                claim.effective_pid = Some(epid);
                claim.effective_name = text(info.effective_comm());
            }
        }
        target.push_unique(PendingClaim::Resolved(claim));
        true
    }

    fn observe_meta(&mut self, touch: &FlowTouch, meta: &FrameMeta) -> bool {
        let direction = match meta.epb_flags.map(|f| f & EPB_DIRECTION_MASK) {
            Some(EPB_INBOUND) => Some(Direction::Inbound),
            Some(EPB_OUTBOUND) => Some(Direction::Outbound),
            _ => None,
        };
        let side = side_of(touch, direction);
        let comment = if meta.comments.is_empty() {
            ptcpdump::CommentProcess::default()
        } else {
            ptcpdump::parse_comments(&meta.comments)
        };
        let darwin = meta.darwin_process_index.is_some();
        if !darwin && meta.process_id.is_none() && comment.pid.is_none() {
            return false;
        }
        let Some(flow) = self.flow_mut(touch) else {
            return true;
        };
        let target = flow.side_mut(side);
        if darwin {
            target.push_unique(PendingClaim::Darwin {
                section: meta.section,
                index: meta.darwin_process_index,
                effective: meta.darwin_effective_process_index,
            });
        }
        if let Some(pid) = meta.process_id {
            if !target.has_resolved(InCaptureSource::EpbPid, pid) {
                let claim = ProcessClaim::new(InCaptureSource::EpbPid, pid);
                target.push_unique(PendingClaim::Resolved(claim));
            }
        }
        if let Some(pid) = comment.pid {
            if !target.has_resolved(InCaptureSource::PtcpdumpComment, pid) {
                let mut claim = ProcessClaim::new(InCaptureSource::PtcpdumpComment, pid);
                claim.exe = comment.cmd.map(str::to_string);
                claim.name = comment
                    .cmd
                    .map(|cmd| ptcpdump::program_name(cmd).to_string());
                claim.cmdline = comment.args.map(str::to_string);
                claim.user = comment.user_id.map(|uid| format!("uid {uid}"));
                target.push_unique(PendingClaim::Resolved(claim));
            }
        }
        true
    }

    fn flow_mut(&mut self, touch: &FlowTouch) -> Option<&mut PendingFlow> {
        if !self.flows.contains_key(&touch.id) && self.flows.len() >= MAX_FLOWS_WITH_EVIDENCE {
            self.stats.flows_dropped += 1;
            return None;
        }
        Some(self.flows.entry(touch.id).or_insert_with(|| PendingFlow {
            orig_h: touch.orig_h,
            resp_h: touch.resp_h,
            orig: PendingSide::default(),
            resp: PendingSide::default(),
            unknown: PendingSide::default(),
        }))
    }

    /// Move the evidence of the connections `ended` says have ended into a collector of its
    /// own (to be finished now, by a streamed analysis); the counters stay here.
    pub fn take_ended(&mut self, ended: impl Fn(FlowId) -> bool) -> InCaptureEvidence {
        let mut taken = InCaptureEvidence::new();
        if self.flows.is_empty() {
            return taken;
        }
        let ids: Vec<FlowId> = self.flows.keys().copied().filter(|&id| ended(id)).collect();
        for id in ids {
            if let Some(flow) = self.flows.remove(&id) {
                taken.flows.insert(id, flow);
            }
        }
        taken
    }

    /// Resolve Darwin process indexes against the capture's process table, weigh conflicts,
    /// and hand out the evidence per flow.
    pub fn finish(self, darwin_processes: &[DarwinProcess]) -> CaptureEvidence {
        let table: HashMap<(u32, u32), &DarwinProcess> = darwin_processes
            .iter()
            .map(|p| ((p.section, p.index), p))
            .collect();
        let mut stats = self.stats;
        let mut out = CaptureEvidence::default();
        for (id, pending) in self.flows {
            let mut orig = resolve_side(&pending.orig, &table, &mut stats);
            let mut resp = resolve_side(&pending.resp, &table, &mut stats);
            let unknown = resolve_side(&pending.unknown, &table, &mut stats);
            split_same_process_both_ends(&mut orig, &mut resp);
            if !orig.is_none() {
                out.local_addrs.insert(pending.orig_h.to_canonical());
            }
            if !resp.is_none() {
                out.local_addrs.insert(pending.resp_h.to_canonical());
            }
            for side in [&orig, &resp, &unknown] {
                if matches!(side, SideEvidence::Ambiguous { .. }) {
                    stats.ambiguous_sides += 1;
                }
            }
            if orig.is_none() && resp.is_none() && unknown.is_none() {
                continue;
            }
            stats.flows_with_process += 1;
            out.flows.insert(
                id,
                FlowEvidence {
                    orig,
                    resp,
                    unknown,
                },
            );
        }
        out.stats = stats;
        out
    }
}

/// Which end's process a packet names, from its direction and flow orientation.
fn side_of(touch: &FlowTouch, direction: Option<Direction>) -> Side {
    match (direction, touch.from_orig) {
        (Some(Direction::Outbound), true) | (Some(Direction::Inbound), false) => Side::Orig,
        (Some(Direction::Outbound), false) | (Some(Direction::Inbound), true) => Side::Resp,
        (None, _) => Side::Unknown,
    }
}

/// Process names from the wire: raw bytes kept as text (invalid UTF-8 replaced), NULs cut.
fn text(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = bytes.get(..end).unwrap_or(bytes);
    if bytes.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(bytes).into_owned())
}

fn resolve_claim(
    pending: &PendingClaim,
    table: &HashMap<(u32, u32), &DarwinProcess>,
    stats: &mut InCaptureStats,
) -> Option<ProcessClaim> {
    match pending {
        PendingClaim::Resolved(claim) => Some(claim.clone()),
        PendingClaim::Darwin {
            section,
            index,
            effective,
        } => {
            let lookup = |i: &Option<u32>| i.and_then(|i| table.get(&(*section, i)).copied());
            let process = lookup(index);
            let effective = lookup(effective);
            if process.is_none() && index.is_some() {
                stats.unresolved_darwin_indexes += 1;
            }
            let process = process.or(effective)?;
            let mut claim = ProcessClaim::new(InCaptureSource::DarwinPib, process.pid);
            claim.name = (!process.name.is_empty()).then(|| process.name.clone());
            if let Some(e) = effective.filter(|e| e.pid != process.pid) {
                claim.effective_pid = Some(e.pid);
                claim.effective_name = (!e.name.is_empty()).then(|| e.name.clone());
            }
            Some(claim)
        }
    }
}

/// The kernel (pid 0, `kernel_task`) answers for sockets it handles itself (RSTs, ACKs of
/// closing connections) and some capture layers report it wrongly (ptcpdump #266,
/// etl2pcapng #75): it only counts when no real process claims the same end.
fn is_kernel(claim: &ProcessClaim) -> bool {
    claim.pid == 0
}

fn resolve_side(
    side: &PendingSide,
    table: &HashMap<(u32, u32), &DarwinProcess>,
    stats: &mut InCaptureStats,
) -> SideEvidence {
    let claims: Vec<ProcessClaim> = side
        .claims
        .iter()
        .filter_map(|c| resolve_claim(c, table, stats))
        .collect();
    let real: Vec<&ProcessClaim> = claims.iter().filter(|c| !is_kernel(c)).collect();
    let candidates: Vec<&ProcessClaim> = if real.is_empty() {
        claims.iter().collect()
    } else {
        real
    };
    let Some(first) = candidates.first() else {
        return SideEvidence::None;
    };
    let all_agree = candidates
        .iter()
        .all(|a| candidates.iter().all(|b| a.agrees_with(b)));
    if side.overflow || !all_agree {
        let mut pids: Vec<u32> = candidates.iter().map(|c| c.pid).collect();
        pids.sort_unstable();
        pids.dedup();
        return SideEvidence::Ambiguous { pids };
    }
    // When a delegate relation is involved, the socket owner is the claim that names an
    // effective process (the daemon), with the app as its effective process.
    let mut best = candidates
        .iter()
        .find(|c| c.effective_pid.is_some())
        .copied()
        .unwrap_or(first)
        .clone();
    for other in &candidates {
        best.enrich_from(other);
    }
    SideEvidence::Process { claim: best }
}

/// ptcpdump labels every packet of a flow with the process it saw open the flow, also the
/// packets that the other (local) end sent: on loopback it names the client for both ends.
/// The same process on both ends is therefore only evidence for the originating end.
fn split_same_process_both_ends(orig: &mut SideEvidence, resp: &mut SideEvidence) {
    if let (SideEvidence::Process { claim: o }, SideEvidence::Process { claim: r }) =
        (&*orig, &*resp)
    {
        if o.pid == r.pid {
            *resp = SideEvidence::None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TestHeader;
    use crate::flow::Proto;
    use std::net::Ipv4Addr;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15));
    const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 185, 159, 144));

    fn touch(from_orig: bool) -> FlowTouch {
        FlowTouch {
            id: 1,
            from_orig,
            created: false,
            proto: Proto::Tcp,
            orig_h: CLIENT,
            orig_p: 53258,
            resp_h: SERVER,
            resp_p: 80,
        }
    }

    fn ptcpdump_meta(pid: u32, epb_flags: Option<u32>) -> FrameMeta {
        FrameMeta {
            comments: vec![format!("PID: {pid}\nCmd: /usr/bin/curl\nArgs: curl x")],
            epb_flags,
            ..FrameMeta::default()
        }
    }

    fn process_of(side: &SideEvidence) -> Option<u32> {
        match side {
            SideEvidence::Process { claim } => Some(claim.pid),
            _ => None,
        }
    }

    #[test]
    fn nothing_observed_without_metadata() {
        let mut ev = InCaptureEvidence::new();
        ev.observe(&touch(true), None, None);
        ev.observe(&touch(true), Some(&FrameMeta::default()), None);
        let out = ev.finish(&[]);
        assert!(out.flows.is_empty());
        assert_eq!(out.stats.packets_with_process, 0);
    }

    #[test]
    fn outbound_and_inbound_packets_name_the_local_end() {
        let mut ev = InCaptureEvidence::new();
        ev.observe(&touch(true), Some(&ptcpdump_meta(122868, Some(2))), None);
        ev.observe(&touch(false), Some(&ptcpdump_meta(122868, Some(1))), None);
        let out = ev.finish(&[]);
        let flow = &out.flows[&1];
        assert_eq!(process_of(&flow.orig), Some(122868));
        assert!(flow.resp.is_none());
        assert!(out.local_addrs.contains(&CLIENT));
        assert!(!out.local_addrs.contains(&SERVER));
        match &flow.orig {
            SideEvidence::Process { claim } => {
                assert_eq!(claim.name.as_deref(), Some("curl"));
                assert_eq!(claim.exe.as_deref(), Some("/usr/bin/curl"));
                assert_eq!(claim.cmdline.as_deref(), Some("curl x"));
                assert_eq!(claim.source, InCaptureSource::PtcpdumpComment);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_pids_on_one_end_are_ambiguous() {
        let mut ev = InCaptureEvidence::new();
        ev.observe(&touch(true), Some(&ptcpdump_meta(1, Some(2))), None);
        ev.observe(&touch(true), Some(&ptcpdump_meta(2, Some(2))), None);
        let out = ev.finish(&[]);
        assert_eq!(
            out.flows[&1].orig,
            SideEvidence::Ambiguous { pids: vec![1, 2] }
        );
        assert_eq!(out.stats.ambiguous_sides, 1);
    }

    #[test]
    fn kernel_pid_yields_to_a_real_process() {
        let mut ev = InCaptureEvidence::new();
        let mut meta = FrameMeta {
            process_id: Some(0),
            epb_flags: Some(2),
            ..FrameMeta::default()
        };
        ev.observe(&touch(true), Some(&meta), None);
        meta.process_id = Some(42);
        ev.observe(&touch(true), Some(&meta), None);
        let out = ev.finish(&[]);
        assert_eq!(process_of(&out.flows[&1].orig), Some(42));
    }

    #[test]
    fn pktap_effective_process_is_not_a_conflict() {
        let mut ev = InCaptureEvidence::new();
        let daemon = TestHeader {
            pid: 100,
            comm: b"nsurlsessiond\0\0",
            effective_pid: 200,
            effective_comm: b"Safari",
            flags: PTH_FLAG_DIR_OUT,
            interface: b"en0",
            service_class: 0,
            dlt: 1,
        };
        let app = TestHeader {
            pid: 200,
            comm: b"Safari",
            effective_pid: -1,
            effective_comm: b"",
            flags: PTH_FLAG_DIR_OUT,
            interface: b"en0",
            service_class: 0,
            dlt: 1,
        };
        let (daemon, app) = (daemon.bytes(), app.bytes());
        let daemon = PktapInfo::new(&daemon).unwrap();
        let app = PktapInfo::new(&app).unwrap();
        ev.observe(&touch(true), None, Some(&daemon));
        ev.observe(&touch(true), None, Some(&app));
        let out = ev.finish(&[]);
        match &out.flows[&1].orig {
            SideEvidence::Process { claim } => {
                assert_eq!(claim.pid, 100);
                assert_eq!(claim.name.as_deref(), Some("nsurlsessiond"));
                assert_eq!(claim.effective_pid, Some(200));
                assert_eq!(claim.effective_name.as_deref(), Some("Safari"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pktap_unknown_pid_is_ignored() {
        let mut ev = InCaptureEvidence::new();
        let info = TestHeader {
            pid: -1,
            comm: b"",
            effective_pid: -1,
            effective_comm: b"",
            flags: PTH_FLAG_DIR_OUT,
            interface: b"en0",
            service_class: 0,
            dlt: 1,
        };
        let info = info.bytes();
        let info = PktapInfo::new(&info).unwrap();
        ev.observe(&touch(true), None, Some(&info));
        assert!(ev.finish(&[]).flows.is_empty());
    }

    fn darwin(section: u32, index: u32, pid: u32, name: &str) -> DarwinProcess {
        DarwinProcess {
            section,
            index,
            pid,
            name: name.to_string(),
            uuid: None,
        }
    }

    fn darwin_meta(index: u32, flags: u32) -> FrameMeta {
        FrameMeta {
            darwin_process_index: Some(index),
            epb_flags: Some(flags),
            ..FrameMeta::default()
        }
    }

    #[test]
    fn loopback_copies_name_client_and_server() {
        // As corpus process/apple-tcpdump_radar-101007576-iperf.pcapng: each UDP datagram
        // 50160 -> 5001 is captured twice, out by the client (PIB 0, pid 53245) and in by the
        // server (PIB 1, pid 53147); a later PIB 2 repeats the client's pid.
        let table = [
            darwin(0, 0, 53245, "iperf"),
            darwin(0, 1, 53147, "iperf"),
            darwin(0, 2, 53245, "iperf"),
        ];
        let mut ev = InCaptureEvidence::new();
        ev.observe(&touch(true), Some(&darwin_meta(0, 2)), None);
        ev.observe(&touch(true), Some(&darwin_meta(1, 1)), None);
        ev.observe(&touch(true), Some(&darwin_meta(2, 2)), None);
        ev.observe(&touch(false), Some(&darwin_meta(1, 2)), None);
        ev.observe(&touch(false), Some(&darwin_meta(0, 1)), None);
        let out = ev.finish(&table);
        let flow = &out.flows[&1];
        assert_eq!(process_of(&flow.orig), Some(53245));
        assert_eq!(process_of(&flow.resp), Some(53147));
    }

    #[test]
    fn unresolved_darwin_index_is_counted_not_invented() {
        let mut ev = InCaptureEvidence::new();
        ev.observe(&touch(true), Some(&darwin_meta(9, 2)), None);
        let out = ev.finish(&[darwin(0, 0, 1, "x")]);
        assert!(out.flows.is_empty());
        assert_eq!(out.stats.unresolved_darwin_indexes, 1);
    }

    #[test]
    fn ptcpdump_loopback_names_only_the_client() {
        // corpus process/ptcpdump_tcp.pcapng labels the server's packets with curl's pid too.
        let mut ev = InCaptureEvidence::new();
        ev.observe(&touch(true), Some(&ptcpdump_meta(345650, Some(2))), None);
        ev.observe(&touch(true), Some(&ptcpdump_meta(345650, Some(1))), None);
        ev.observe(&touch(false), Some(&ptcpdump_meta(345650, Some(2))), None);
        let out = ev.finish(&[]);
        assert_eq!(process_of(&out.flows[&1].orig), Some(345650));
        assert!(out.flows[&1].resp.is_none());
    }

    #[test]
    fn claims_per_side_are_bounded() {
        let mut ev = InCaptureEvidence::new();
        for pid in 1..1000 {
            ev.observe(&touch(true), Some(&ptcpdump_meta(pid, Some(2))), None);
        }
        let out = ev.finish(&[]);
        match &out.flows[&1].orig {
            SideEvidence::Ambiguous { pids } => assert!(pids.len() <= MAX_CLAIMS_PER_SIDE),
            other => panic!("{other:?}"),
        }
    }
}
