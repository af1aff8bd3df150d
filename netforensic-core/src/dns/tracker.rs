//! Per-connection DNS state: which flows carry DNS, TCP framing, and Zeek's pairing of queries
//! and responses by transaction id (oldest outstanding query first).
//!
//! A tracker either logs every transaction as a [`DnsRecord`] ([`DnsTracker::new`]) or keeps
//! only what naming connections needs ([`DnsTracker::resolutions_only`]): resolutions, the
//! connections that carried DNS and the counters. Pairing runs the same way in both (it
//! decides which responses are counted, and confirms DNS on other ports), on transaction ids
//! alone in the second.

use super::reassembly::{Push, Reassembler};
use super::wire::{self, Header, Message, NameAt};
use super::{DnsRecord, DnsStats, Resolution};
use crate::flow::{FlowId, FlowTouch, Proto};
use crate::time::Timestamp;
use ahash::AHashMap;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Well-known DNS-like ports: DNS, NetBIOS-NS, mDNS, LLMNR.
const PORT_DNS: u16 = 53;
const PORT_NETBIOS_NS: u16 = 137;
const PORT_MDNS: u16 = 5353;
const PORT_LLMNR: u16 = 5355;
/// Outstanding queries kept per connection (Zeek's `max_pending_msgs` is 50); beyond, the
/// oldest is logged unanswered.
const MAX_PENDING_PER_FLOW: usize = 50;
/// Records held for a connection on a non-DNS port until a query/response pair confirms it is
/// DNS; beyond, further unconfirmed records are dropped.
const MAX_HELD_RECORDS: usize = 64;
/// One DNS-over-TCP message is at most 65535 bytes plus its 2-byte length; buffer a little more.
const TCP_BUFFER_LIMIT: usize = 65_537 + 1024;
/// CNAME links followed from the question name to an address.
const MAX_CHAIN: usize = 16;

/// How a DNS-looking connection's payload is treated (other connections are ignored).
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// A DNS port: every message is logged.
    Dns,
    /// Another port whose first payload looked like DNS: logged once a pair confirms it.
    Candidate,
}

struct FlowDns {
    kind: Kind,
    /// A DNS message was read on this connection.
    parsed: bool,
    /// Listed in `dns_flows`.
    counted: bool,
    netbios: bool,
    confirmed: bool,
    pending: Pending,
    /// Finished records of an unconfirmed candidate flow.
    held: Vec<DnsRecord>,
    /// TCP streams: [from originator, from responder].
    streams: Option<Box<[Reassembler; 2]>>,
}

/// A connection's outstanding queries, oldest first: their records, or only their transaction
/// ids when no records are kept (pairing needs nothing more).
enum Pending {
    Records(VecDeque<DnsRecord>),
    Ids(VecDeque<u16>),
}

impl Pending {
    fn new(records: bool) -> Self {
        if records {
            Pending::Records(VecDeque::new())
        } else {
            Pending::Ids(VecDeque::new())
        }
    }

    fn keeps_records(&self) -> bool {
        matches!(self, Pending::Records(_))
    }

    fn len(&self) -> usize {
        match self {
            Pending::Records(queue) => queue.len(),
            Pending::Ids(queue) => queue.len(),
        }
    }

    /// Queue a query; its record is only built when records are kept.
    fn push(&mut self, id: u16, record: impl FnOnce() -> DnsRecord) {
        match self {
            Pending::Records(queue) => queue.push_back(record()),
            Pending::Ids(queue) => queue.push_back(id),
        }
    }

    /// Remove the oldest query (the bound was reached); its record if kept.
    fn pop_oldest(&mut self) -> Option<DnsRecord> {
        match self {
            Pending::Records(queue) => queue.pop_front(),
            Pending::Ids(queue) => {
                queue.pop_front();
                None
            }
        }
    }

    /// Remove the oldest outstanding query with transaction id `id`: `None` when there is
    /// none, else its record if records are kept.
    fn take(&mut self, id: u16) -> Option<Option<DnsRecord>> {
        match self {
            Pending::Records(queue) => {
                let at = queue.iter().position(|r| r.trans_id == id)?;
                queue.remove(at).map(Some)
            }
            Pending::Ids(queue) => {
                let at = queue.iter().position(|&t| t == id)?;
                queue.remove(at).map(|_| None)
            }
        }
    }

    /// Outstanding queries whose records are kept.
    fn has_records(&self) -> bool {
        matches!(self, Pending::Records(queue) if !queue.is_empty())
    }

    fn into_records(self) -> VecDeque<DnsRecord> {
        match self {
            Pending::Records(queue) => queue,
            Pending::Ids(_) => VecDeque::new(),
        }
    }
}

/// One connection's DNS state, for callers that keep it with the connection
/// ([`DnsTracker::observe_in`]; the analysis keeps it in the flow table's entry).
#[derive(Default)]
pub struct DnsSlot(SlotState);

#[derive(Default)]
enum SlotState {
    /// No payload offered yet.
    #[default]
    Unseen,
    /// The first payload offered said the connection is not DNS (most are not).
    NotDns,
    Dns(Box<FlowDns>),
}

impl DnsSlot {
    /// Whether the connection was taken as (possible) DNS: its state is kept.
    pub fn is_dns(&self) -> bool {
        matches!(self.0, SlotState::Dns(_))
    }

    /// Whether ending the connection logs something ([`DnsTracker::flow_ended`]): its
    /// unanswered queries or held records, if it carries DNS.
    pub fn has_unlogged(&self) -> bool {
        match &self.0 {
            SlotState::Dns(state) => {
                (state.kind == Kind::Dns || state.confirmed)
                    && (!state.held.is_empty() || state.pending.has_records())
            }
            SlotState::Unseen | SlotState::NotDns => false,
        }
    }
}

/// Watches flow payloads for DNS and pairs queries with responses.
pub struct DnsTracker {
    /// The state of the connections offered to [`DnsTracker::observe`] (callers of
    /// [`DnsTracker::observe_in`] keep it with their connections).
    flows: AHashMap<FlowId, DnsSlot>,
    learned: Learned,
}

/// What the tracker learned from all connections.
struct Learned {
    /// Whether transactions are logged as [`DnsRecord`]s.
    records: bool,
    stats: DnsStats,
    /// Finished records with their flow id (the uid is filled in at the end).
    done: Vec<(FlowId, DnsRecord)>,
    resolutions: Vec<Resolution>,
    /// Connections that carried DNS (for conn.log's `service`), in order of discovery.
    dns_flows: Vec<FlowId>,
}

fn is_dns_port(port: u16) -> bool {
    matches!(port, PORT_DNS | PORT_NETBIOS_NS | PORT_MDNS | PORT_LLMNR)
}

impl Default for DnsTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl DnsTracker {
    /// A tracker that logs every transaction (dns.log) besides learning resolutions.
    pub fn new() -> Self {
        DnsTracker {
            flows: AHashMap::default(),
            learned: Learned {
                records: true,
                stats: DnsStats::default(),
                done: Vec::new(),
                resolutions: Vec::new(),
                dns_flows: Vec::new(),
            },
        }
    }

    /// A tracker that builds no records and renders no answers: only resolutions, the
    /// connections that carried DNS and the counters, each the same as [`DnsTracker::new`]'s
    /// (a streamed `flows` run needs nothing more). [`DnsTracker::finish`] returns no records.
    pub fn resolutions_only() -> Self {
        let mut tracker = Self::new();
        tracker.learned.records = false;
        tracker
    }

    /// Whether the tracker looks at this connection's payloads: UDP, and TCP on port 53
    /// only (DNS over TCP only on port 53: other TCP flows never cost a lookup).
    pub fn looks_at(touch: &FlowTouch) -> bool {
        match touch.proto {
            Proto::Tcp => touch.resp_p == PORT_DNS || touch.orig_p == PORT_DNS,
            Proto::Udp => true,
            Proto::Icmp => false,
        }
    }

    /// Offer one packet's payload of a connection. Cheap when the flow is not DNS.
    pub fn observe(
        &mut self,
        touch: &FlowTouch,
        ts: Timestamp,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        if !Self::looks_at(touch) {
            return;
        }
        let slot = self.flows.entry(touch.id).or_default();
        self.learned.observe(slot, touch, ts, tcp_seq, payload);
    }

    /// [`DnsTracker::observe`] for a caller that keeps the connection's state: `slot` (the
    /// same for every packet of the connection; given back by [`DnsTracker::flow_ended`]).
    pub fn observe_in(
        &mut self,
        slot: &mut DnsSlot,
        touch: &FlowTouch,
        ts: Timestamp,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        if Self::looks_at(touch) {
            self.learned.observe(slot, touch, ts, tcp_seq, payload);
        }
    }

    /// Connections on which DNS was seen so far (sorted), to set their `service` to `dns`.
    pub fn dns_flows(&self) -> Vec<FlowId> {
        let mut ids = self.learned.dns_flows.clone();
        ids.sort_unstable();
        ids
    }

    /// The connection `id` ended; flush its unanswered queries.
    pub fn flow_finished(&mut self, id: FlowId) {
        if let Some(slot) = self.flows.remove(&id) {
            self.flow_ended(id, slot);
        }
    }

    /// The connection `id`, whose state the caller kept ([`DnsTracker::observe_in`]),
    /// ended; flush its unanswered queries.
    pub fn flow_ended(&mut self, id: FlowId, slot: DnsSlot) {
        if let SlotState::Dns(state) = slot.0 {
            flush(id, *state, &mut self.learned.done);
        }
    }

    /// The resolutions learned since the last call (a streamed analysis names connections as
    /// they end, so it needs them as they come).
    pub fn take_resolutions(&mut self) -> Vec<Resolution> {
        std::mem::take(&mut self.learned.resolutions)
    }

    /// Remove and return the DNS-carrying connections `ended` says have ended (sorted).
    pub fn take_dns_flows(&mut self, ended: impl Fn(FlowId) -> bool) -> Vec<FlowId> {
        let mut taken = Vec::new();
        self.learned.dns_flows.retain(|&id| {
            let end = ended(id);
            if end {
                taken.push(id);
            }
            !end
        });
        taken.sort_unstable();
        taken
    }

    /// All transactions (sorted by ts, then uid, then trans_id) and every resolution learned.
    /// `uid_of` maps a flow id to its uid.
    pub fn finish(
        mut self,
        uid_of: &dyn Fn(FlowId) -> String,
    ) -> (Vec<DnsRecord>, Vec<Resolution>, DnsStats) {
        let mut ids: Vec<FlowId> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(slot) = self.flows.remove(&id) {
                self.flow_ended(id, slot);
            }
        }
        let Learned {
            done,
            mut resolutions,
            stats,
            ..
        } = self.learned;
        let mut records: Vec<DnsRecord> = done
            .into_iter()
            .map(|(id, mut record)| {
                record.uid = uid_of(id);
                record
            })
            .collect();
        records.sort_by(|a, b| (a.ts, &a.uid, a.trans_id).cmp(&(b.ts, &b.uid, b.trans_id)));
        resolutions.sort_by_key(|r| (r.ts, r.client, r.addr));
        (records, resolutions, stats)
    }
}

impl Learned {
    /// A payload of a connection the tracker looks at.
    fn observe(
        &mut self,
        slot: &mut DnsSlot,
        touch: &FlowTouch,
        ts: Timestamp,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        if let SlotState::Unseen = slot.0 {
            slot.0 = first_look(touch, payload, self.records);
        }
        let SlotState::Dns(state) = &mut slot.0 else {
            return;
        };
        match tcp_seq {
            None => {
                self.stats.messages += 1;
                handle_message(
                    state,
                    touch,
                    ts,
                    payload,
                    &mut self.stats,
                    &mut self.done,
                    &mut self.resolutions,
                );
            }
            Some(seq) => {
                let streams = state.streams.get_or_insert_with(|| {
                    Box::new([
                        Reassembler::new(TCP_BUFFER_LIMIT),
                        Reassembler::new(TCP_BUFFER_LIMIT),
                    ])
                });
                let stream = &mut streams[usize::from(!touch.from_orig)];
                if stream.push(seq, payload) == Push::Overflow {
                    self.stats.tcp_buffer_overflows += 1;
                }
                // Take complete length-prefixed messages out of the stream.
                let mut messages: Vec<Vec<u8>> = Vec::new();
                loop {
                    let data = stream.data();
                    let Some(len) = data
                        .get(..2)
                        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    else {
                        break;
                    };
                    let Some(message) = data.get(2..2 + len) else {
                        break;
                    };
                    messages.push(message.to_vec());
                    stream.consume(2 + len);
                }
                for message in messages {
                    self.stats.messages += 1;
                    handle_message(
                        state,
                        touch,
                        ts,
                        &message,
                        &mut self.stats,
                        &mut self.done,
                        &mut self.resolutions,
                    );
                }
            }
        }
        if !state.counted && state.parsed && (state.kind == Kind::Dns || state.confirmed) {
            state.counted = true;
            self.dns_flows.push(touch.id);
        }
    }
}

/// A connection's first payload: is it DNS?
fn first_look(touch: &FlowTouch, payload: &[u8], records: bool) -> SlotState {
    let kind = if is_dns_port(touch.resp_p) || is_dns_port(touch.orig_p) {
        Kind::Dns
    } else if looks_like_dns(payload) {
        Kind::Candidate
    } else {
        return SlotState::NotDns;
    };
    SlotState::Dns(Box::new(FlowDns {
        kind,
        parsed: false,
        counted: false,
        netbios: touch.resp_p == PORT_NETBIOS_NS || touch.orig_p == PORT_NETBIOS_NS,
        confirmed: false,
        pending: Pending::new(records),
        held: Vec::new(),
        streams: None,
    }))
}

/// Log what is left of a finished connection: unanswered queries, and for confirmed candidate
/// flows the held records.
fn flush(id: FlowId, state: FlowDns, done: &mut Vec<(FlowId, DnsRecord)>) {
    if state.kind == Kind::Candidate && !state.confirmed {
        return;
    }
    done.extend(state.held.into_iter().map(|r| (id, r)));
    done.extend(state.pending.into_records().into_iter().map(|r| (id, r)));
}

/// First payload of a flow on a non-DNS port: a plausible standard query or response with
/// exactly one question that reads cleanly.
fn looks_like_dns(payload: &[u8]) -> bool {
    // Only the header and whether the rest reads cleanly matter (one question and no damage:
    // the question was read).
    let Some(message) = wire::check_message(payload) else {
        return false;
    };
    !message.damaged
        && message.header.opcode == 0
        && message.header.qdcount == 1
        && message.header.ancount <= 64
        && message.header.nscount <= 64
        && message.header.arcount <= 64
}

fn handle_message(
    state: &mut FlowDns,
    touch: &FlowTouch,
    ts: Timestamp,
    payload: &[u8],
    stats: &mut DnsStats,
    done: &mut Vec<(FlowId, DnsRecord)>,
    resolutions: &mut Vec<Resolution>,
) {
    let Some(header) = Header::parse(payload) else {
        stats.malformed += 1;
        return;
    };
    let records = state.pending.keeps_records();
    if !header.is_response {
        // Without records a query only takes part in pairing: its id is all that is used.
        let read_message = if records {
            wire::parse_message(payload, state.netbios)
        } else {
            wire::check_message(payload)
        };
        let Some(message) = read_message else {
            return;
        };
        read(state, stats, message.damaged);
        if state.pending.len() >= MAX_PENDING_PER_FLOW {
            stats.pending_overflows += 1;
            if let Some(oldest) = state.pending.pop_oldest() {
                emit(state, touch.id, oldest, done);
            }
        }
        state
            .pending
            .push(header.id, || query_record(touch, ts, message));
        return;
    }
    let client = if touch.from_orig {
        touch.resp_h
    } else {
        touch.orig_h
    };
    if records {
        let Some(message) = wire::parse_message(payload, state.netbios) else {
            return;
        };
        let paired = respond(state, &Rendered, &message, client, ts, stats, resolutions);
        let record = response_record(paired.flatten(), touch, ts, message);
        emit(state, touch.id, record, done);
    } else if state.netbios {
        // NetBIOS question names are decoded, which only the rendered names allow for.
        if let Some(message) = wire::parse_message_unrendered(payload, true) {
            respond(state, &Rendered, &message, client, ts, stats, resolutions);
        }
    } else if let Some(message) = wire::parse_message_located(payload) {
        // Names stay in the payload: compared there, and only those kept are rendered.
        let names = InMessage(payload);
        respond(state, &names, &message, client, ts, stats, resolutions);
    }
}

/// A message was read from the connection (`damaged` if not completely).
fn read(state: &mut FlowDns, stats: &mut DnsStats, damaged: bool) {
    state.parsed = true;
    if damaged {
        stats.malformed += 1;
    }
}

/// Pair a response with its query, and learn its resolutions if the connection carries DNS.
/// Returns what [`Pending::take`] returned.
fn respond<S: Names>(
    state: &mut FlowDns,
    names: &S,
    message: &Message<S::Name>,
    client: IpAddr,
    ts: Timestamp,
    stats: &mut DnsStats,
    resolutions: &mut Vec<Resolution>,
) -> Option<Option<DnsRecord>> {
    read(state, stats, message.damaged);
    let paired = state.pending.take(message.header.id);
    if paired.is_some() && state.kind == Kind::Candidate && !state.confirmed {
        state.confirmed = true;
    }
    if state.kind == Kind::Dns || state.confirmed {
        learn_resolutions(names, message, client, ts, resolutions);
    }
    paired
}

/// The record of a query, until its response completes it.
fn query_record(touch: &FlowTouch, ts: Timestamp, message: Message) -> DnsRecord {
    let header = message.header;
    let mut record = new_record(touch, ts, header.id, None);
    if let Some(q) = message.question {
        record.query = Some(q.name);
        record.qclass = Some(q.qclass);
        record.qclass_name = Some(wire::qclass_name(q.qclass));
        record.qtype = Some(q.qtype);
        record.qtype_name = Some(wire::qtype_name(q.qtype));
    }
    record.rd = header.rd;
    record.tc = header.tc;
    record.z = header.z;
    record
}

/// The record of a response: its query's record completed (`paired`), or a record of its own
/// (unsolicited).
fn response_record(
    paired: Option<DnsRecord>,
    touch: &FlowTouch,
    ts: Timestamp,
    message: Message,
) -> DnsRecord {
    let header = message.header;
    let was_paired = paired.is_some();
    let mut record = paired.unwrap_or_else(|| {
        let query = message.question.as_ref().map(|q| q.name.clone());
        new_record(touch, ts, header.id, query)
    });
    if record.query.is_none() {
        // Zeek: without a question, the first answer's owner name stands for the query.
        record.query = message
            .question
            .as_ref()
            .map(|q| q.name.clone())
            .or_else(|| message.answers.first().map(|a| a.name.clone()));
    }
    let rcode = u16::from(header.rcode);
    record.rcode = Some(rcode);
    record.rcode_name = Some(wire::rcode_name(rcode));
    // Zeek: a response without any record at all is a rejected query.
    record.rejected = header.ancount == 0 && header.nscount == 0 && header.arcount == 0;
    if !message.answers.is_empty() {
        // Zeek sets these (and the rtt) from the first answer record of the reply.
        record.aa = header.aa;
        record.ra = header.ra;
        if was_paired {
            record.rtt_nanos = Some(ts.nanos_since(record.ts));
        }
    }
    // The message is done with: its renderings move into the record instead of being copied.
    record.answers.reserve(message.answers.len());
    record.ttls.reserve(message.answers.len());
    for answer in message.answers {
        record.answers.push(answer.rendered);
        record.ttls.push(answer.ttl);
    }
    record
}

fn emit(state: &mut FlowDns, id: FlowId, record: DnsRecord, done: &mut Vec<(FlowId, DnsRecord)>) {
    if state.kind == Kind::Candidate && !state.confirmed {
        if state.held.len() < MAX_HELD_RECORDS {
            state.held.push(record);
        }
    } else {
        if !state.held.is_empty() {
            done.extend(state.held.drain(..).map(|r| (id, r)));
        }
        done.push((id, record));
    }
}

fn new_record(touch: &FlowTouch, ts: Timestamp, trans_id: u16, query: Option<String>) -> DnsRecord {
    DnsRecord {
        ts,
        uid: String::new(),
        orig_h: touch.orig_h,
        orig_p: touch.orig_p,
        resp_h: touch.resp_h,
        resp_p: touch.resp_p,
        proto: touch.proto,
        trans_id,
        rtt_nanos: None,
        query,
        qclass: None,
        qclass_name: None,
        qtype: None,
        qtype_name: None,
        rcode: None,
        rcode_name: None,
        aa: false,
        tc: false,
        rd: false,
        ra: false,
        z: 0,
        answers: Vec::new(),
        ttls: Vec::new(),
        rejected: false,
    }
}

/// How the names of a message are held: rendered ([`Rendered`]), or left in the message
/// ([`InMessage`]). Both compare and render names the same.
trait Names {
    type Name;
    /// Whether two names are the same, ignoring ASCII case.
    fn same(&self, a: &Self::Name, b: &Self::Name) -> bool;
    /// The name as dns.log renders it.
    fn text(&self, name: &Self::Name) -> String;
}

/// Names rendered while the message was read.
struct Rendered;

impl Names for Rendered {
    type Name = String;

    fn same(&self, a: &String, b: &String) -> bool {
        a.eq_ignore_ascii_case(b)
    }

    fn text(&self, name: &String) -> String {
        name.clone()
    }
}

/// Names left in the message (the payload), rendered only when kept.
struct InMessage<'a>(&'a [u8]);

impl Names for InMessage<'_> {
    type Name = NameAt;

    fn same(&self, a: &NameAt, b: &NameAt) -> bool {
        wire::same_name(self.0, *a, *b)
    }

    fn text(&self, name: &NameAt) -> String {
        wire::name_text(self.0, *name)
    }
}

/// Every A/AAAA answer (and SVCB/HTTPS hint) reachable from the question name through CNAMEs
/// becomes a [`Resolution`] for `client`. Without a question (mDNS announcements) each address
/// record stands for its own owner name.
fn learn_resolutions<S: Names>(
    names: &S,
    message: &Message<S::Name>,
    client: IpAddr,
    ts: Timestamp,
    out: &mut Vec<Resolution>,
) {
    let Some(question) = &message.question else {
        for answer in &message.answers {
            if let Some(addr) = answer.addr {
                out.push(Resolution {
                    ts,
                    client,
                    query: names.text(&answer.name),
                    chain: Vec::new(),
                    addr,
                    ttl: answer.ttl,
                });
            }
        }
        return;
    };
    // Names on the chain, question first (on the stack: it is short and bounded).
    let mut chain = [&question.name; MAX_CHAIN + 1];
    let mut len = 1;
    while let Some(last) = chain.get(len - 1).copied() {
        let next = message.answers.iter().find_map(|a| {
            a.cname_target
                .as_ref()
                .filter(|_| names.same(&a.name, last))
        });
        let Some(target) = next else { break };
        let on_chain = chain.get(..len).unwrap_or_default();
        if on_chain.iter().any(|n| names.same(n, target)) {
            break;
        }
        let Some(slot) = chain.get_mut(len) else {
            break;
        };
        *slot = target;
        len += 1;
    }
    let chain = chain.get(..len).unwrap_or_default();
    let first = out.len();
    for answer in &message.answers {
        if answer.addr.is_none() && answer.hints.is_empty() {
            continue;
        }
        let Some(depth) = chain.iter().position(|n| names.same(n, &answer.name)) else {
            continue;
        };
        let addrs = answer.addr.into_iter().chain(answer.hints.iter().copied());
        for addr in addrs {
            // The names are filled in below: the chain's length says how deep.
            out.push(Resolution {
                ts,
                client,
                query: String::new(),
                chain: vec![String::new(); depth],
                addr,
                ttl: answer.ttl,
            });
        }
    }
    // Names are rendered once, into the resolution with the longest chain; others copy them.
    let Some(learned) = out.get_mut(first..) else {
        return;
    };
    let deepest = learned
        .iter()
        .enumerate()
        .max_by_key(|(_, r)| r.chain.len())
        .map_or(0, |(i, _)| i);
    let several = learned.len() > 1;
    let Some(model) = learned.get_mut(deepest) else {
        return;
    };
    model.query = names.text(&question.name);
    for (slot, name) in model.chain.iter_mut().zip(chain.iter().skip(1)) {
        *slot = names.text(name);
    }
    if several {
        let model = model.clone();
        for r in learned {
            r.query.clone_from(&model.query);
            for (slot, text) in r.chain.iter_mut().zip(&model.chain) {
                slot.clone_from(text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(proto: Proto, from_orig: bool, port: u16) -> FlowTouch {
        FlowTouch {
            id: 7,
            from_orig,
            created: from_orig,
            proto,
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: 40000,
            resp_h: "10.0.0.53".parse().unwrap(),
            resp_p: port,
        }
    }

    fn query(id: u16) -> Vec<u8> {
        let mut q = vec![
            (id >> 8) as u8,
            id as u8,
            0x01,
            0x00,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        q.extend_from_slice(&[3, b'w', b'w', b'w', 7]);
        q.extend_from_slice(b"example");
        q.extend_from_slice(&[3, b'c', b'o', b'm', 0, 0, 1, 0, 1]);
        q
    }

    fn response(id: u16) -> Vec<u8> {
        let mut r = crate::dns::wire::tests_support::sample_response();
        r[0] = (id >> 8) as u8;
        r[1] = id as u8;
        r
    }

    #[test]
    fn udp_pairing_rtt_and_resolution_with_chain() {
        let mut t = DnsTracker::new();
        t.observe(
            &touch(Proto::Udp, true, 53),
            Timestamp(1_000),
            None,
            &query(0x1234),
        );
        t.observe(
            &touch(Proto::Udp, false, 53),
            Timestamp(5_000),
            None,
            &response(0x1234),
        );
        let (records, resolutions, stats) = t.finish(&|_| "Cuid".to_string());
        assert_eq!(stats.messages, 2);
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.uid, "Cuid");
        assert_eq!(r.rtt_nanos, Some(4_000));
        assert_eq!(r.query.as_deref(), Some("www.example.com"));
        assert_eq!(r.qtype_name.as_deref(), Some("A"));
        assert_eq!(r.answers, vec!["web.example.net", "192.0.2.7"]);
        assert_eq!(r.ttls, vec![60, 256]);
        assert!(r.rd && r.ra && !r.rejected);
        assert_eq!(resolutions.len(), 1);
        assert_eq!(resolutions[0].query, "www.example.com");
        assert_eq!(resolutions[0].chain, vec!["web.example.net"]);
        assert_eq!(resolutions[0].client, "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn unanswered_and_unsolicited_are_both_logged() {
        let mut t = DnsTracker::new();
        t.observe(&touch(Proto::Udp, true, 53), Timestamp(1), None, &query(1));
        t.observe(
            &touch(Proto::Udp, false, 53),
            Timestamp(2),
            None,
            &response(2),
        );
        t.flow_finished(7);
        let (records, _, _) = t.finish(&|_| String::new());
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].trans_id, 1);
        assert_eq!(records[0].rcode, None);
        assert_eq!(records[1].trans_id, 2);
        assert_eq!(records[1].qtype, None);
        assert_eq!(records[1].rtt_nanos, None);
    }

    #[test]
    fn tcp_framing_split_and_coalesced() {
        let mut t = DnsTracker::new();
        let mut stream = Vec::new();
        for id in [10u16, 11] {
            let q = query(id);
            stream.extend_from_slice(&(q.len() as u16).to_be_bytes());
            stream.extend_from_slice(&q);
        }
        // Two queries in three segments, the last two swapped.
        let (a, rest) = stream.split_at(5);
        let (b, c) = rest.split_at(30);
        t.observe(&touch(Proto::Tcp, true, 53), Timestamp(1), Some(100), a);
        t.observe(&touch(Proto::Tcp, true, 53), Timestamp(2), Some(135), c);
        t.observe(&touch(Proto::Tcp, true, 53), Timestamp(3), Some(105), b);
        let mut resp = Vec::new();
        let r = response(11);
        resp.extend_from_slice(&(r.len() as u16).to_be_bytes());
        resp.extend_from_slice(&r);
        t.observe(
            &touch(Proto::Tcp, false, 53),
            Timestamp(4),
            Some(9000),
            &resp,
        );
        let (records, resolutions, _) = t.finish(&|_| String::new());
        assert_eq!(records.len(), 2);
        let answered = records.iter().find(|r| r.trans_id == 11).unwrap();
        assert_eq!(answered.answers.len(), 2);
        assert_eq!(resolutions.len(), 1);
    }

    #[test]
    fn outstanding_queries_are_bounded_and_still_logged() {
        let mut t = DnsTracker::new();
        for id in 0..(MAX_PENDING_PER_FLOW as u16 + 10) {
            t.observe(
                &touch(Proto::Udp, true, 53),
                Timestamp(i64::from(id)),
                None,
                &query(id),
            );
        }
        let (records, _, stats) = t.finish(&|_| String::new());
        assert_eq!(records.len(), MAX_PENDING_PER_FLOW + 10);
        assert_eq!(stats.pending_overflows, 10);
        assert!(records.iter().all(|r| r.rcode.is_none()));
    }

    #[test]
    fn tcp_buffer_bound_is_counted_not_fatal() {
        let mut t = DnsTracker::new();
        // A length prefix promising a whole message, then far more data than the bound.
        let chunk = vec![0xffu8; 60_000];
        let mut seq = 1u32;
        for _ in 0..3 {
            t.observe(
                &touch(Proto::Tcp, true, 53),
                Timestamp(1),
                Some(seq),
                &chunk,
            );
            seq = seq.wrapping_add(chunk.len() as u32);
        }
        let (records, _, stats) = t.finish(&|_| String::new());
        assert!(stats.tcp_buffer_overflows >= 1);
        // 0xffff-byte message read from the first 65537 bytes: one (damaged) message.
        assert!(records.len() <= 1);
    }

    fn touch_on(id: FlowId, proto: Proto, from_orig: bool, port: u16) -> FlowTouch {
        FlowTouch {
            id,
            ..touch(proto, from_orig, port)
        }
    }

    fn framed(messages: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            out.extend_from_slice(&(m.len() as u16).to_be_bytes());
            out.extend_from_slice(m);
        }
        out
    }

    /// A full and a resolutions-only tracker given the same packets learn the same
    /// resolutions, DNS flows and counters; only the full one logs transactions.
    #[test]
    fn resolutions_only_learns_what_the_full_tracker_learns() {
        let udp = |id, from_orig, port| touch_on(id, Proto::Udp, from_orig, port);
        let tcp = |id, from_orig| touch_on(id, Proto::Tcp, from_orig, 53);
        let mut packets: Vec<(FlowTouch, Option<u32>, Vec<u8>)> = vec![
            // A pair, an unanswered query, a message without a header, a damaged response.
            (udp(1, true, 53), None, query(1)),
            (udp(1, false, 53), None, response(1)),
            (udp(1, true, 53), None, query(2)),
            (udp(1, true, 53), None, vec![0, 1]),
            (udp(1, false, 53), None, response(1)[..40].to_vec()),
            // Unsolicited on a DNS port: still learned.
            (udp(2, false, 53), None, response(9)),
        ];
        // TCP: two queries split over segments, two responses coalesced in one.
        let queries = framed(&[query(10), query(11)]);
        let (a, b) = queries.split_at(20);
        packets.push((tcp(3, true), Some(1), a.to_vec()));
        packets.push((tcp(3, true), Some(21), b.to_vec()));
        packets.push((
            tcp(3, false),
            Some(500),
            framed(&[response(11), response(10)]),
        ));
        // Another port: a pair confirms it; a response to no query does not.
        packets.push((udp(4, true, 5300), None, query(3)));
        packets.push((udp(4, false, 5300), None, response(3)));
        packets.push((udp(5, true, 5300), None, query(4)));
        packets.push((udp(5, false, 5300), None, response(5)));
        // Past the outstanding bound on a DNS port and on another port: the oldest queries
        // are dropped, and a response to one of them pairs with nothing (and confirms
        // nothing), while a response to a kept one does.
        let many = MAX_PENDING_PER_FLOW as u16 + 10;
        for id in 0..many {
            packets.push((udp(6, true, 53), None, query(id)));
            packets.push((udp(7, true, 5301), None, query(id)));
        }
        for id in [2, 40] {
            packets.push((udp(6, false, 53), None, response(id)));
            packets.push((udp(7, false, 5301), None, response(id)));
        }
        // Not DNS at all.
        packets.push((udp(8, true, 443), None, b"\x16\x03\x01 not dns".to_vec()));
        packets.push((udp(8, false, 443), None, response(3)));

        let mut full = DnsTracker::new();
        let mut lean = DnsTracker::resolutions_only();
        for (i, (touch, seq, payload)) in packets.iter().enumerate() {
            let ts = Timestamp(i as i64 * 1_000);
            full.observe(touch, ts, *seq, payload);
            lean.observe(touch, ts, *seq, payload);
            if i == 5 {
                full.flow_finished(1);
                lean.flow_finished(1);
                assert_eq!(full.take_resolutions(), lean.take_resolutions());
            }
        }
        assert_eq!(full.dns_flows(), lean.dns_flows());
        assert_eq!(full.dns_flows(), vec![1, 2, 3, 4, 6, 7]);
        let ended = |id: FlowId| id <= 3;
        assert_eq!(full.take_dns_flows(ended), lean.take_dns_flows(ended));
        assert_eq!(full.take_resolutions(), lean.take_resolutions());

        let (full_records, full_resolutions, full_stats) = full.finish(&|_| String::new());
        let (lean_records, lean_resolutions, lean_stats) = lean.finish(&|_| String::new());
        assert_eq!(full_resolutions, lean_resolutions);
        assert_eq!(full_stats, lean_stats);
        assert_eq!(full_stats.pending_overflows, 20);
        assert_eq!(full_stats.malformed, 2);
        assert!(!full_records.is_empty());
        assert!(lean_records.is_empty());
    }

    /// A caller that keeps each connection's state ([`DnsTracker::observe_in`]) gets what
    /// the tracker's own map gives, and `has_unlogged` says when ending a connection logs.
    #[test]
    fn caller_kept_slots_match_the_trackers_map() {
        let udp = |id, from_orig, port| touch_on(id, Proto::Udp, from_orig, port);
        let packets: Vec<(FlowTouch, Option<u32>, Vec<u8>)> = vec![
            // Answered; unanswered; a confirmed candidate with an unanswered query; an
            // unconfirmed candidate; not DNS; TCP on port 53 with an unanswered query.
            (udp(1, true, 53), None, query(1)),
            (udp(1, false, 53), None, response(1)),
            (udp(2, true, 53), None, query(2)),
            (udp(3, true, 5300), None, query(3)),
            (udp(3, false, 5300), None, response(3)),
            (udp(3, true, 5300), None, query(4)),
            (udp(4, true, 5301), None, query(5)),
            (udp(5, true, 443), None, b"\x16\x03\x01 not dns".to_vec()),
            (udp(5, true, 443), None, query(6)),
            (
                touch_on(6, Proto::Tcp, true, 53),
                Some(1),
                framed(&[query(7)]),
            ),
        ];
        let unlogged = [
            (1, false),
            (2, true),
            (3, true),
            (4, false),
            (5, false),
            (6, true),
        ];
        for records in [true, false] {
            let new = || {
                if records {
                    DnsTracker::new()
                } else {
                    DnsTracker::resolutions_only()
                }
            };
            let (mut mapped, mut kept) = (new(), new());
            let mut slots: AHashMap<FlowId, DnsSlot> = AHashMap::default();
            for (i, (touch, seq, payload)) in packets.iter().enumerate() {
                let ts = Timestamp(i as i64 * 1_000);
                mapped.observe(touch, ts, *seq, payload);
                let slot = slots.entry(touch.id).or_default();
                kept.observe_in(slot, touch, ts, *seq, payload);
            }
            for (id, logs) in unlogged {
                let slot = slots.remove(&id).unwrap_or_default();
                assert_eq!(slot.has_unlogged(), logs && records, "flow {id}");
                // Half the connections end before the end of input, half at it.
                if id % 2 == 0 {
                    mapped.flow_finished(id);
                }
                kept.flow_ended(id, slot);
            }
            assert_eq!(mapped.dns_flows(), kept.dns_flows());
            let (a, b) = (
                mapped.finish(&|_| String::new()),
                kept.finish(&|_| String::new()),
            );
            assert_eq!(a, b);
            assert_eq!(a.0.len(), if records { 5 } else { 0 });
        }
    }

    #[test]
    fn non_dns_port_needs_a_pair() {
        let mut t = DnsTracker::new();
        t.observe(
            &touch(Proto::Udp, true, 5300),
            Timestamp(1),
            None,
            &query(3),
        );
        t.flow_finished(7);
        assert!(t.finish(&|_| String::new()).0.is_empty());

        let mut t = DnsTracker::new();
        t.observe(
            &touch(Proto::Udp, true, 5300),
            Timestamp(1),
            None,
            &query(3),
        );
        t.observe(
            &touch(Proto::Udp, false, 5300),
            Timestamp(2),
            None,
            &response(3),
        );
        let (records, resolutions, _) = t.finish(&|_| String::new());
        assert_eq!(records.len(), 1);
        assert_eq!(resolutions.len(), 1);

        let mut t = DnsTracker::new();
        t.observe(
            &touch(Proto::Udp, true, 443),
            Timestamp(1),
            None,
            b"\x16\x03\x01 not dns",
        );
        t.observe(
            &touch(Proto::Udp, false, 443),
            Timestamp(2),
            None,
            &response(3),
        );
        assert!(t.finish(&|_| String::new()).0.is_empty());
    }
}
