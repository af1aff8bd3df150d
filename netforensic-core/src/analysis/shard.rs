//! One partition of a capture's connections: a flow table and the inspectors that follow its
//! connections (DNS, in-flow names, in-capture process evidence). Every packet of a connection
//! goes to the same shard, in capture order, so a shard's results do not depend on how many
//! shards there are.

use super::AnalysisOptions;
use crate::capture::FrameMeta;
use crate::correlate::InCaptureEvidence;
use crate::decode::{Packet, Transport};
use crate::dns::{DnsRecord, DnsSlot, DnsStats, DnsTracker, Resolution};
use crate::flow::{ConnSlot, Connection, FlowId, FlowTable};
use crate::naming::{InFlowName, NameSniffer, SniffSlot};
use crate::time::Timestamp;
use ahash::AHashSet;

/// How often (capture time) finished connections are collected and their inspector state freed.
const EXPIRY_CHECK_INTERVAL: i64 = Timestamp::NANOS_PER_SEC;

/// How a run uses its shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Run {
    /// Everything is kept to the end of the input, DNS transactions included.
    Whole,
    /// Connections are handed over epoch by epoch ([`Shard::drain_epoch`]); DNS transactions
    /// are not logged, so the DNS tracker keeps only resolutions and counters.
    Streamed,
}

/// A connection's state in the payload inspectors, kept in its flow table entry so that a
/// packet costs one hash lookup for the table and the inspectors together.
#[derive(Default)]
struct Inspect {
    dns: DnsSlot,
    names: SniffSlot,
}

/// Allocated at the first payload an inspector looks at: an entry of the flow table grows by
/// one pointer only (many connections carry no payload).
#[derive(Default)]
pub(crate) struct InspectSlot(Option<Box<Inspect>>);

impl ConnSlot for InspectSlot {
    fn wanted_at_end(&self) -> bool {
        // Only DNS logs something when a connection ends: its unanswered queries.
        self.0
            .as_ref()
            .is_some_and(|inspect| inspect.dns.has_unlogged())
    }
}

pub(crate) struct Shard {
    pub flows: FlowTable<InspectSlot>,
    pub dns: DnsTracker,
    pub names: NameSniffer,
    pub evidence: InCaptureEvidence,
    pub finished: Vec<Connection>,
    track_dns: bool,
    track_names: bool,
    next_expiry_check: i64,
}

impl Shard {
    pub fn new(options: &AnalysisOptions, run: Run) -> Self {
        Shard {
            flows: FlowTable::with_slots(options.flow_config),
            dns: match run {
                Run::Whole => DnsTracker::new(),
                Run::Streamed => DnsTracker::resolutions_only(),
            },
            names: NameSniffer::new(),
            evidence: InCaptureEvidence::new(),
            finished: Vec::new(),
            track_dns: options.dns,
            track_names: options.naming,
            next_expiry_check: i64::MIN,
        }
    }

    /// Account one packet. `now` is the capture's network time; `index` the packet's index in
    /// the input (the id of a connection it creates).
    pub fn ingest(
        &mut self,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<&FrameMeta>,
    ) {
        let Some((touch, slot)) = self.flows.ingest_at(now, ts, index, packet) else {
            return;
        };
        if meta.is_some() || packet.pktap.is_some() {
            self.evidence.observe(&touch, meta, packet.pktap.as_ref());
        }
        let (tcp_seq, payload) = match packet.transport {
            Transport::Tcp { seq, payload, .. } => (Some(seq), payload),
            Transport::Udp { payload, .. } => (None, payload),
            _ => (None, &[][..]),
        };
        if !payload.is_empty() {
            let dns = self.track_dns && DnsTracker::looks_at(&touch);
            let names = self.track_names && NameSniffer::looks_at(&touch);
            if dns || names {
                let inspect = slot.0.get_or_insert_with(Box::default);
                if dns {
                    self.dns
                        .observe_in(&mut inspect.dns, &touch, ts, tcp_seq, payload);
                }
                if names {
                    self.names
                        .observe_in(&mut inspect.names, &touch, ts, tcp_seq, payload);
                }
            }
        }
        if now.nanos() >= self.next_expiry_check {
            self.collect_expired(now);
            self.next_expiry_check = now.nanos().saturating_add(EXPIRY_CHECK_INTERVAL);
        }
    }

    /// Finish connections whose timers ran out, and free their inspector state.
    fn collect_expired(&mut self, now: Timestamp) {
        self.flows.expire(now, &mut self.finished);
        let ended = self.flows.ended_slots();
        end_inspection(&mut self.dns, ended);
    }
}

/// Connections ended: log what DNS still held of them (the rest of their inspector state
/// was dropped with them).
fn end_inspection(dns: &mut DnsTracker, ended: impl Iterator<Item = (FlowId, InspectSlot)>) {
    for (id, slot) in ended {
        if let Some(inspect) = slot.0 {
            dns.flow_ended(id, inspect.dns);
        }
    }
}

/// What a shard learned, finished where the shard ran (so the per-connection finishing work,
/// uids and Community IDs included, is spread over the workers too).
pub(crate) struct ShardOutput {
    pub connections: Vec<Connection>,
    pub dns_records: Vec<DnsRecord>,
    pub resolutions: Vec<Resolution>,
    pub dns_stats: DnsStats,
    pub in_flow_names: Vec<(u64, InFlowName)>,
    /// Connections whose protocol DNS or the name sniffer recognised (conn.log `service`).
    pub services: Vec<(u64, &'static str)>,
    /// Resolved later: Darwin process indexes need the whole capture's process table.
    pub evidence: InCaptureEvidence,
}

/// What a shard of a streamed analysis hands over at an epoch mark: the connections that ended
/// since the previous mark, and what naming and attribution need to write them out now.
pub(crate) struct EpochOutput {
    pub connections: Vec<Connection>,
    /// Every resolution learned since the previous mark (also on connections still open).
    pub resolutions: Vec<Resolution>,
    pub in_flow_names: Vec<(u64, InFlowName)>,
    pub services: Vec<(u64, &'static str)>,
    /// Evidence of the ended connections only.
    pub evidence: InCaptureEvidence,
}

impl Shard {
    /// At an epoch mark (a fixed packet count, the same for any number of shards): end every
    /// connection whose timers ran out by `now`, and hand them over with their names,
    /// services and evidence. A [`Run::Streamed`] shard: its DNS tracker keeps no transactions.
    pub fn drain_epoch(&mut self, now: Timestamp) -> EpochOutput {
        self.flows.expire_due(now, &mut self.finished);
        end_inspection(&mut self.dns, self.flows.ended_slots());
        let connections = std::mem::take(&mut self.finished);
        let ended: AHashSet<u64> = connections.iter().map(|c| c.id).collect();
        let is_ended = |id: u64| ended.contains(&id);
        let mut services: Vec<(u64, &'static str)> = self
            .dns
            .take_dns_flows(is_ended)
            .into_iter()
            .map(|id| (id, "dns"))
            .collect();
        let (in_flow_names, recognised) = self.names.take_ended(is_ended);
        services.extend(recognised);
        EpochOutput {
            connections,
            resolutions: self.dns.take_resolutions(),
            in_flow_names,
            services,
            evidence: self.evidence.take_ended(is_ended),
        }
    }

    pub fn finish(self) -> ShardOutput {
        let Shard {
            flows,
            mut dns,
            names,
            evidence,
            mut finished,
            ..
        } = self;
        // In hash order: the records are sorted when the shards' outputs are merged.
        let ended = flows.finish_unordered(&mut finished);
        end_inspection(&mut dns, ended.into_iter());
        let mut services: Vec<(u64, &'static str)> =
            dns.dns_flows().into_iter().map(|id| (id, "dns")).collect();
        let uids: ahash::AHashMap<u64, &str> =
            finished.iter().map(|c| (c.id, c.uid.as_str())).collect();
        let (dns_records, resolutions, dns_stats) =
            dns.finish(&|id| uids.get(&id).map(|u| u.to_string()).unwrap_or_default());
        drop(uids);
        let (in_flow_names, recognised) = names.finish_with_services();
        services.extend(recognised);
        ShardOutput {
            connections: finished,
            dns_records,
            resolutions,
            dns_stats,
            in_flow_names,
            services,
            evidence,
        }
    }
}

impl ShardOutput {
    /// The last epoch of a streamed analysis: everything still held at the end of the input.
    /// Returns the remaining evidence collector's counters with it.
    pub fn into_last_epoch(self) -> (EpochOutput, DnsStats) {
        let ShardOutput {
            connections,
            resolutions,
            dns_stats,
            in_flow_names,
            services,
            evidence,
            ..
        } = self;
        let epoch = EpochOutput {
            connections,
            resolutions,
            in_flow_names,
            services,
            evidence,
        };
        (epoch, dns_stats)
    }
}
