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
//! before the epoch's mark (all that can name it: the ladder only uses answers from before
//! the connection's first packet), the NRB entries and in-capture process metadata read so
//! far. Not applied: the DNS follow-up attribution, which needs the connections that follow a
//! lookup (the `analyze` report and `flows --sockets` keep the whole capture for it).

use super::shard::EpochOutput;
use super::{add_evidence_stats, flow_records, merge_evidence, name_flows, resolution_order};
use crate::capture::CaptureSummary;
use crate::correlate::{self, CaptureEvidence, CorrelateOptions, InCaptureStats};
use crate::naming::NameIndex;
use crate::report::FlowRecord;
use crate::sockets::Snapshot;
use std::io;

/// Where a streamed analysis sends its connections, and what it attributes them with.
pub struct StreamOutput<'s> {
    /// Socket snapshots (usually none: a streamed run cannot apply DNS follow-ups).
    pub snapshots: &'s [Snapshot],
    pub correlate: &'s CorrelateOptions,
    /// Receives each epoch's connections, in order. An error stops the analysis.
    pub sink: &'s mut dyn FnMut(&[FlowRecord]) -> io::Result<()>,
}

/// Names, attributes and writes out the connections of each completed epoch.
pub(crate) struct EpochMerger<'s> {
    path: String,
    name_flows: bool,
    names: NameIndex,
    /// NRB entries of the capture summary already in `names`.
    nrb_seen: usize,
    /// In-capture evidence seen so far: its local addresses (attribution needs them for every
    /// later connection) and counters.
    evidence: CaptureEvidence,
    output: StreamOutput<'s>,
    flows: u64,
    error: Option<io::Error>,
}

impl<'s> EpochMerger<'s> {
    pub fn new(path: &str, name_flows: bool, output: StreamOutput<'s>) -> Self {
        EpochMerger {
            path: path.to_string(),
            name_flows,
            names: NameIndex::default(),
            nrb_seen: 0,
            evidence: CaptureEvidence::default(),
            output,
            flows: 0,
            error: None,
        }
    }

    /// The sink failed (the reader stops early: nobody reads the rest).
    pub fn stopped(&self) -> bool {
        self.error.is_some()
    }

    /// One epoch, with the output of every shard (in any order).
    pub fn merge(&mut self, parts: Vec<EpochOutput>, summary: &CaptureSummary) {
        if self.error.is_some() {
            return;
        }
        if let Some(new) = summary.name_records.get(self.nrb_seen..) {
            self.names.add_name_records(new);
            self.nrb_seen = summary.name_records.len();
        }
        let mut connections = Vec::new();
        let mut resolutions = Vec::new();
        let mut in_flow_names = Vec::new();
        let mut services = Vec::new();
        let mut evidence = CaptureEvidence::default();
        for mut part in parts {
            connections.append(&mut part.connections);
            resolutions.append(&mut part.resolutions);
            in_flow_names.append(&mut part.in_flow_names);
            services.append(&mut part.services);
            merge_evidence(
                &mut evidence,
                part.evidence.finish(&summary.darwin_processes),
            );
        }
        resolutions.sort_by(resolution_order);
        self.names.add_resolutions(resolutions);
        let mut flows = flow_records(&self.path, connections, services);
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
    }

    /// Connections written, in-capture evidence counters, and the sink's error if it failed.
    pub fn finish(self) -> (u64, InCaptureStats, Option<io::Error>) {
        (self.flows, self.evidence.stats, self.error)
    }
}
