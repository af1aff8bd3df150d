//! Streamed analysis: connections are written out as they end, so memory follows the live
//! connections, not the capture's size (Zeek writes conn.log the same way).
//!
//! Every [`super::EPOCH_PACKETS`] packets the reader marks an epoch; each shard then ends
//! the connections whose timers ran out by the network time of the mark and hands them over
//! ([`super::shard::EpochOutput`]). When every shard has handed an epoch over, the
//! [`EpochMerger`] names and attributes its connections and passes them to the sink. Marks
//! fall at fixed packet counts and a connection ends in the first epoch whose network time
//! its timers ran out by, so the output (epoch by epoch, inside one by first packet time) is
//! the same for any number of shards.
//!
//! What a streamed run knows when it writes a connection: every DNS answer of the packets
//! before the epoch's mark that can name it (the ladder only uses answers from before the
//! connection's first packet, and of those a bounded number; every 16th epoch the shards
//! report how early the connections they still hold began, and the name index forgets what
//! none of them nor any later one can use, so it follows the resolved addresses and the last
//! minutes, not the capture's length; exact unless packet times go back by more than five
//! minutes), the NRB entries and Darwin process tables read before that
//! mark ([`SummaryMark`]), and the in-capture process metadata of its own packets. Not applied: the DNS follow-up attribution, which needs the connections that follow a
//! lookup (the `analyze` report and `flows --sockets` keep the whole capture for it).

use super::shard::{EpochOutput, NamingHorizon};
use super::{add_evidence_stats, flow_records, merge_evidence, name_flows, resolution_order};
use crate::capture::{CaptureSummary, DarwinProcess, NameRecord};
use crate::correlate::{self, CaptureEvidence, CorrelateOptions, InCaptureStats};
use crate::naming::NameIndex;
use crate::report::FlowRecord;
use crate::sockets::Snapshot;
use crate::time::Timestamp;
use ahash::AHashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{mpsc, Arc};

/// How far the capture summary's growing tables (NRB entries, Darwin processes) had got when
/// an epoch was marked. The epoch's merge sees exactly that much, whenever it runs: with shard
/// workers an epoch is merged beside the reading, and what the reader read in between must
/// not change its output (that would depend on thread timing). The reader hands the merging
/// side what the tables gained since the previous mark ([`MarkSender`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SummaryMark {
    name_records: usize,
    darwin_processes: usize,
}

impl SummaryMark {
    pub fn of(summary: &CaptureSummary) -> Self {
        SummaryMark {
            name_records: summary.name_records.len(),
            darwin_processes: summary.darwin_processes.len(),
        }
    }
}

/// What the reader hands the merging thread when it marks an epoch: what the capture
/// summary's growing tables gained since the previous mark.
pub(crate) struct MarkedEpoch {
    epoch: u64,
    name_records: Vec<NameRecord>,
    darwin_processes: Vec<DarwinProcess>,
}

/// Epochs marked but not merged yet before the reader waits: the calling thread merges while
/// another reads, and this bounds the connections waiting for their merge.
const MERGES_BEHIND: usize = 4;

/// The reader's side of the marks: sends each epoch's mark, with the summary's growth.
pub(crate) struct MarkSender {
    marks: mpsc::SyncSender<MarkedEpoch>,
    /// How much of the summary was handed over.
    sent: SummaryMark,
    /// The merging side is gone (its sink failed): nobody wants the rest.
    stopped: bool,
}

/// The merging side of the marks: the summary as the reader had it at each mark.
pub(crate) struct MarkReceiver {
    marks: mpsc::Receiver<MarkedEpoch>,
    seen: CaptureSummary,
}

pub(crate) fn mark_channel() -> (MarkSender, MarkReceiver) {
    let (marks, received) = mpsc::sync_channel(MERGES_BEHIND);
    let sender = MarkSender {
        marks,
        sent: SummaryMark::of(&CaptureSummary::default()),
        stopped: false,
    };
    let receiver = MarkReceiver {
        marks: received,
        seen: CaptureSummary::default(),
    };
    (sender, receiver)
}

impl MarkSender {
    /// Mark `epoch`, seeing `summary` as it is now. Must come before the marked batches
    /// reach the shards, so that the mark is there when the epoch completes. Waits while
    /// [`MERGES_BEHIND`] marks are not merged yet.
    pub fn mark(&mut self, epoch: u64, summary: &CaptureSummary) {
        // The summary's tables only grow: what is new lies past what was sent.
        let marked = MarkedEpoch {
            epoch,
            name_records: summary
                .name_records
                .get(self.sent.name_records..)
                .unwrap_or_default()
                .to_vec(),
            darwin_processes: summary
                .darwin_processes
                .get(self.sent.darwin_processes..)
                .unwrap_or_default()
                .to_vec(),
        };
        self.sent = SummaryMark::of(summary);
        if self.marks.send(marked).is_err() {
            self.stopped = true;
        }
    }

    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

impl MarkReceiver {
    /// The summary as at `epoch`'s mark (marks arrive in order, and an epoch's mark was sent
    /// before the shards could complete it).
    fn at(&mut self, epoch: u64) -> &CaptureSummary {
        while let Ok(marked) = self.marks.recv() {
            self.seen.name_records.extend(marked.name_records);
            self.seen.darwin_processes.extend(marked.darwin_processes);
            if marked.epoch >= epoch {
                break;
            }
        }
        &self.seen
    }
}

/// Merge each epoch as soon as every shard has completed it, with the summary as at its
/// mark, until the workers end or the sink fails (dropping the marks then stops the reader).
pub(crate) fn merge_as_completed(
    merger: &mut EpochMerger<'_>,
    completed: impl Iterator<Item = (u64, Vec<EpochOutput>)>,
    mut marks: MarkReceiver,
) {
    for (epoch, parts) in completed {
        let summary = marks.at(epoch);
        merger.merge(parts, summary);
        if merger.stopped() {
            break;
        }
    }
}

/// Where a streamed analysis sends its connections, and what it attributes them with.
pub struct StreamOutput<'s> {
    /// Socket snapshots (usually none: a streamed run cannot apply DNS follow-ups).
    pub snapshots: &'s [Snapshot],
    pub correlate: &'s CorrelateOptions,
    /// Receives each epoch's connections, in order. An error stops the analysis.
    pub sink: &'s mut dyn FnMut(&[FlowRecord]) -> io::Result<()>,
}

/// What an [`EpochMerger`] did, at its end.
pub(crate) struct MergerEnd {
    /// Connections written.
    pub flows: u64,
    pub evidence_stats: InCaptureStats,
    /// DNS answers the name index still held.
    pub answers_held: usize,
    /// The sink's error, if it failed.
    pub error: Option<io::Error>,
}

/// Names, attributes and writes out the connections of each completed epoch.
pub(crate) struct EpochMerger<'s> {
    path: Arc<str>,
    name_flows: bool,
    names: NameIndex,
    /// NRB entries of the capture summary already in `names`.
    nrb_seen: usize,
    /// In-capture evidence seen so far: its local addresses (attribution needs them for every
    /// later connection) and counters.
    evidence: CaptureEvidence,
    output: StreamOutput<'s>,
    /// The records of the epoch being written, kept between epochs: its memory is reused
    /// rather than freshly mapped (and page-faulted in) every epoch.
    records: Vec<FlowRecord>,
    /// Answers the name index holds before it next forgets the unreachable ones.
    forget_at: usize,
    flows: u64,
    error: Option<io::Error>,
}

/// The fewest answers the name index forgets among (each time is a pass over all of them).
const FORGET_AT_LEAST: usize = 4096;

impl<'s> EpochMerger<'s> {
    pub fn new(path: &str, name_flows: bool, output: StreamOutput<'s>) -> Self {
        EpochMerger {
            path: Arc::from(path),
            name_flows,
            names: NameIndex::default(),
            nrb_seen: 0,
            evidence: CaptureEvidence::default(),
            output,
            records: Vec::new(),
            forget_at: FORGET_AT_LEAST,
            flows: 0,
            error: None,
        }
    }

    /// The sink failed (the reader stops early: nobody reads the rest).
    pub fn stopped(&self) -> bool {
        self.error.is_some()
    }

    /// One epoch, with the output of every shard (in any order), seeing `summary` as it was
    /// at the epoch's mark (see [`MarkReceiver`]).
    pub fn merge(&mut self, mut parts: Vec<EpochOutput>, summary: &CaptureSummary) {
        if self.error.is_some() {
            return;
        }
        if let Some(new) = summary.name_records.get(self.nrb_seen..) {
            self.names.add_name_records(new);
            self.nrb_seen = summary.name_records.len();
        }
        let darwin_processes = &summary.darwin_processes[..];
        let horizons: Option<Vec<NamingHorizon>> =
            parts.iter_mut().map(|part| part.horizon.take()).collect();
        let mut connections = Vec::with_capacity(parts.len());
        let mut resolutions = Vec::new();
        let mut in_flow_names = Vec::new();
        let mut services = Vec::new();
        let mut evidence = CaptureEvidence::default();
        for mut part in parts {
            connections.push(std::mem::take(&mut part.connections));
            resolutions.append(&mut part.resolutions);
            in_flow_names.append(&mut part.in_flow_names);
            services.append(&mut part.services);
            merge_evidence(&mut evidence, part.evidence.finish(darwin_processes));
        }
        resolutions.sort_by(resolution_order);
        self.names.add_resolutions(resolutions);
        let mut flows = std::mem::take(&mut self.records);
        flow_records(&self.path, connections, services, &mut flows);
        if self.name_flows {
            name_flows(&mut flows, &self.names, in_flow_names);
        }
        // Attribution sees every local address learned so far, not only this epoch's.
        let epoch_stats = std::mem::take(&mut evidence.stats);
        add_evidence_stats(&mut self.evidence.stats, &epoch_stats);
        self.evidence
            .local_addrs
            .extend(evidence.local_addrs.drain());
        evidence.local_addrs = std::mem::take(&mut self.evidence.local_addrs);
        correlate::attribute(
            &mut flows,
            self.output.snapshots,
            &evidence,
            &[],
            self.output.correlate,
        );
        self.evidence.local_addrs = evidence.local_addrs;
        self.flows += flows.len() as u64;
        if let Err(err) = (self.output.sink)(&flows) {
            self.error = Some(err);
        }
        flows.clear();
        self.records = flows;
        if let Some(horizons) = horizons {
            self.forget_unreachable(horizons);
        }
    }

    /// Let the name index forget the answers that no connection still to be named can use
    /// (every shard's horizon at this mark), once it holds twice what it kept last time: what
    /// a long capture holds then follows its addresses, not its length.
    fn forget_unreachable(&mut self, horizons: Vec<NamingHorizon>) {
        if self.names.resolution_count() < self.forget_at {
            return;
        }
        let Some(before) = horizons.iter().map(|h| h.before).min() else {
            return;
        };
        let mut earlier: AHashMap<IpAddr, Timestamp> = AHashMap::new();
        for (addr, start) in horizons.into_iter().flat_map(|h| h.earlier) {
            earlier
                .entry(addr)
                .and_modify(|t| *t = (*t).min(start))
                .or_insert(start);
        }
        let kept = self
            .names
            .forget_unreachable(|addr| earlier.get(&addr).map_or(before, |t| (*t).min(before)));
        self.forget_at = kept.saturating_mul(2).max(FORGET_AT_LEAST);
    }

    /// What was written and counted, and the sink's error if it failed.
    pub fn finish(self) -> MergerEnd {
        MergerEnd {
            flows: self.flows,
            evidence_stats: self.evidence.stats,
            answers_held: self.names.resolution_count(),
            error: self.error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::NameRecord;
    use crate::correlate::InCaptureEvidence;
    use crate::flow::{Connection, Proto};
    use crate::time::Timestamp;

    fn epoch_with_one_connection(id: u64, server: &str) -> EpochOutput {
        let conn = Connection::for_test(
            id,
            Proto::Tcp,
            ("10.0.0.1", 50000),
            (server, 443),
            Timestamp::from_secs_nanos(100 + id as i64, 0),
            Timestamp::from_secs_nanos(100 + id as i64, 0),
        );
        EpochOutput {
            connections: vec![conn],
            resolutions: Vec::new(),
            in_flow_names: Vec::new(),
            services: Vec::new(),
            evidence: InCaptureEvidence::new(),
            horizon: None,
        }
    }

    /// An epoch merged late (beside the reading) must not see the NRB entries the reader
    /// read after its mark: the inline path merges at the mark and would not have them.
    #[test]
    fn an_epoch_sees_the_summary_as_at_its_mark() {
        let (mut marks, received) = mark_channel();
        let mut summary = CaptureSummary::default();
        marks.mark(0, &summary);
        summary.name_records.push(NameRecord {
            addr: "192.0.2.7".parse().unwrap(),
            names: vec!["nrb.example".into()],
        });
        marks.mark(1, &summary);
        let mut names: Vec<Option<String>> = Vec::new();
        let mut sink = |flows: &[FlowRecord]| {
            names.extend(flows.iter().map(|f| f.server_name.clone()));
            Ok(())
        };
        let correlate = CorrelateOptions::default();
        let output = StreamOutput {
            snapshots: &[],
            correlate: &correlate,
            sink: &mut sink,
        };
        let mut merger = EpochMerger::new("x.pcapng", true, output);
        let completed = [
            (0, vec![epoch_with_one_connection(1, "192.0.2.7")]),
            (1, vec![epoch_with_one_connection(2, "192.0.2.7")]),
        ];
        merge_as_completed(&mut merger, completed.into_iter(), received);
        drop(merger);
        assert_eq!(names, vec![None, Some("nrb.example".to_string())]);
    }
}
