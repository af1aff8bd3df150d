//! One partition of a capture's connections: a flow table and the inspectors that follow its
//! connections (DNS, in-flow names, in-capture process evidence). Every packet of a connection
//! goes to the same shard, in capture order, so a shard's results do not depend on how many
//! shards there are.

use super::AnalysisOptions;
use crate::capture::FrameMeta;
use crate::correlate::InCaptureEvidence;
use crate::decode::{Packet, Transport};
use crate::dns::{DnsRecord, DnsSlot, DnsStats, DnsTracker, Resolution};
use crate::flow::{ConnSlot, Connection, FlowId, FlowTable, FlowTouch};
use crate::naming::{InFlowName, NameSniffer, SniffSlot};
use crate::time::Timestamp;
use ahash::AHashSet;
use std::net::IpAddr;

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

/// A connection's state in the payload inspectors, kept with its flow table entry so that a
/// packet costs one hash lookup for the table and the inspectors together.
#[derive(Default)]
struct Inspect {
    dns: DnsSlot,
    names: SniffSlot,
}

/// A live connection's inspector state, as kept in its flow table entry (8 bytes): most
/// connections end up with nothing to remember (names done, not DNS) and need no storage;
/// the others keep theirs in the shard's [`Inspects`], freed when the connection ends.
#[derive(Default)]
pub(crate) enum InspectSlot {
    /// No payload looked at yet.
    #[default]
    Unseen,
    /// Nothing left to look for: not DNS (or not looked at by DNS), and names done.
    Done,
    /// Index of the state in the shard's [`Inspects`].
    At(u32),
}

impl ConnSlot for InspectSlot {
    fn wanted_at_end(&self) -> bool {
        // The owner frees the state (and DNS logs its unanswered queries).
        matches!(self, InspectSlot::At(_))
    }
}

/// The inspector state of the connections that still have some, reused as they end (no
/// allocation per connection).
#[derive(Default)]
struct Inspects {
    states: Vec<Inspect>,
    free: Vec<u32>,
}

impl Inspects {
    /// Keep `inspect`; `None` if there are already `u32::MAX` states (never in practice: the
    /// flow table bounds live connections far below).
    fn keep(&mut self, inspect: Inspect) -> Option<u32> {
        if let Some(at) = self.free.pop() {
            self.states[at as usize] = inspect;
            return Some(at);
        }
        let at = u32::try_from(self.states.len()).ok()?;
        self.states.push(inspect);
        Some(at)
    }

    /// Take the state at `at` out (a connection ended), freeing its place.
    fn take(&mut self, at: u32) -> Inspect {
        match self.states.get_mut(at as usize) {
            Some(state) => {
                self.free.push(at);
                std::mem::take(state)
            }
            None => Inspect::default(),
        }
    }
}

pub(crate) struct Shard {
    pub flows: FlowTable<InspectSlot>,
    pub dns: DnsTracker,
    pub names: NameSniffer,
    pub evidence: InCaptureEvidence,
    pub finished: Vec<Connection>,
    inspects: Inspects,
    track_dns: bool,
    track_names: bool,
    next_expiry_check: i64,
    /// Epochs handed over so far (every shard sees every mark, so all agree).
    epochs_drained: u64,
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
            inspects: Inspects::default(),
            track_dns: options.dns,
            track_names: options.naming,
            next_expiry_check: i64::MIN,
            epochs_drained: 0,
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
                let mut inspectors = Inspectors {
                    dns: &mut self.dns,
                    names: &mut self.names,
                    states: &mut self.inspects,
                    track_names: self.track_names,
                };
                let payload = Payload {
                    ts,
                    tcp_seq,
                    bytes: payload,
                };
                inspectors.offer(slot, &touch, payload, Wanted { dns, names });
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
        end_inspection(&mut self.dns, &mut self.inspects, ended);
    }
}

/// A shard's payload inspectors and their per-connection states, borrowed together beside
/// the flow table entry that holds the connection's slot.
struct Inspectors<'s> {
    dns: &'s mut DnsTracker,
    names: &'s mut NameSniffer,
    states: &'s mut Inspects,
    /// Names are sniffed in this run (a connection is done only once its names are).
    track_names: bool,
}

/// A payload of a connection, as the inspectors see it.
struct Payload<'p> {
    ts: Timestamp,
    /// The segment's sequence number (TCP only).
    tcp_seq: Option<u32>,
    bytes: &'p [u8],
}

/// Which inspectors look at a payload.
struct Wanted {
    dns: bool,
    names: bool,
}

impl Inspectors<'_> {
    /// Offer `payload` to the inspectors `wanted`, with the connection's state in `slot`.
    fn offer(
        &mut self,
        slot: &mut InspectSlot,
        touch: &FlowTouch,
        payload: Payload,
        wanted: Wanted,
    ) {
        let Payload { ts, tcp_seq, bytes } = payload;
        let (dns, names, track_names) = (&mut *self.dns, &mut *self.names, self.track_names);
        let mut look = |inspect: &mut Inspect| {
            if wanted.dns {
                dns.observe_in(&mut inspect.dns, touch, ts, tcp_seq, bytes);
            }
            if wanted.names {
                names.observe_in(&mut inspect.names, touch, ts, tcp_seq, bytes);
            }
            // Names done (or not sniffed) and no DNS state: nothing left to look for. DNS looks
            // at every payload of a connection or at none, so a connection it has not taken as
            // DNS by now never will be.
            !inspect.dns.is_dns() && (!track_names || inspect.names.is_done())
        };
        match *slot {
            InspectSlot::Done => {}
            InspectSlot::At(at) => {
                let Some(inspect) = self.states.states.get_mut(at as usize) else {
                    return;
                };
                if look(inspect) {
                    self.states.take(at);
                    *slot = InspectSlot::Done;
                }
            }
            InspectSlot::Unseen => {
                let mut fresh = Inspect::default();
                *slot = if look(&mut fresh) {
                    InspectSlot::Done
                } else {
                    match self.states.keep(fresh) {
                        Some(at) => InspectSlot::At(at),
                        None => InspectSlot::Unseen,
                    }
                };
            }
        }
    }
}

/// Connections ended: free their inspector state, logging what DNS still held of them.
fn end_inspection(
    dns: &mut DnsTracker,
    inspects: &mut Inspects,
    ended: impl Iterator<Item = (FlowId, InspectSlot)>,
) {
    for (id, slot) in ended {
        if let InspectSlot::At(at) = slot {
            let inspect = inspects.take(at);
            if inspect.dns.has_unlogged() {
                dns.flow_ended(id, inspect.dns);
            }
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
    /// Every [`HORIZON_EPOCHS`]th epoch: how early the connections still to be named may
    /// have begun (the name index forgets what none of them can use).
    pub horizon: Option<NamingHorizon>,
}

/// Epochs between two reports of a [`NamingHorizon`]: each costs a pass over the live
/// connections.
const HORIZON_EPOCHS: u64 = 16;

/// How much packet times may go back (behind the network time) and still be named as in a
/// run that keeps every DNS answer: answers are only forgotten by that much later.
const REORDERING_ALLOWANCE: i64 = 300 * Timestamp::NANOS_PER_SEC;

/// How early the connections a shard has not handed over yet (live at a mark, or beginning
/// after it) may have begun: at `before`, except the live ones listed by address (both
/// endpoints, with their first packet's time), which began earlier.
pub(crate) struct NamingHorizon {
    pub before: Timestamp,
    pub earlier: Vec<(IpAddr, Timestamp)>,
}

impl Shard {
    /// At an epoch mark (a fixed packet count, the same for any number of shards): end every
    /// connection whose timers ran out by `now`, and hand them over with their names,
    /// services and evidence. A [`Run::Streamed`] shard: its DNS tracker keeps no transactions.
    pub fn drain_epoch(&mut self, now: Timestamp) -> EpochOutput {
        self.epochs_drained += 1;
        self.flows.expire_due(now, &mut self.finished);
        end_inspection(&mut self.dns, &mut self.inspects, self.flows.ended_slots());
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
            horizon: (self.epochs_drained % HORIZON_EPOCHS == 0).then(|| self.horizon(now)),
        }
    }

    /// The horizon of the connections still to hand over, at network time `now`.
    fn horizon(&self, now: Timestamp) -> NamingHorizon {
        let before = Timestamp(now.nanos().saturating_sub(REORDERING_ALLOWANCE));
        let earlier = self
            .flows
            .live_started_before(before)
            .flat_map(|(start, addrs)| addrs.map(|addr| (addr, start)))
            .collect();
        NamingHorizon { before, earlier }
    }

    pub fn finish(self) -> ShardOutput {
        let Shard {
            flows,
            mut dns,
            names,
            evidence,
            mut finished,
            mut inspects,
            ..
        } = self;
        // In hash order: the records are sorted when the shards' outputs are merged.
        let ended = flows.finish_unordered(&mut finished);
        end_inspection(&mut dns, &mut inspects, ended.into_iter());
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
            horizon: None,
        };
        (epoch, dns_stats)
    }
}
