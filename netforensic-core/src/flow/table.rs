//! The connection table of one capture: finds or creates the connection of each packet the
//! way Zeek's session manager does (orientation, reuse, timers in capture time), updates
//! its counters and protocol state, and turns finished connections into [`Connection`]s.

use super::history::History;
use super::key::{FlowKey, Side};
use super::tcp::{Segment, TcpConn};
use super::{community_id, icmp, ports, uid};
use super::{ConnState, Connection, FlowConfig, FlowId, FlowTouch, Proto};
use crate::decode::{Packet, Transport};
use crate::time::Timestamp;
use std::collections::hash_map::{self, Entry, HashMap};
use std::net::IpAddr;

/// Default for [`FlowConfig::max_live_flows`]: most connections kept live at once. Beyond
/// it the least recently active eighth is finished early (counted in [`FlowStats::evicted`]) so memory stays bounded on a flood of
/// spoofed 5-tuples.
pub const MAX_LIVE_FLOWS: usize = 1 << 21;

/// Live connections the table has room for from the start. Growing the map copies every
/// entry into fresh memory at each doubling (a few percent of a large capture's time); but
/// the room is memory once entries land all over it: room for 32,768 raised the peak of the
/// 1 GB pcap on standard input from 104 to 122 MiB for no fewer instructions than 16,384.
const INITIAL_LIVE_CAPACITY: usize = 1 << 14;

/// How often (capture time) [`FlowTable::expire`] scans the whole table; between scans an
/// expired connection is still found when its own next packet arrives.
const EXPIRY_SCAN_INTERVAL: i64 = 10 * Timestamp::NANOS_PER_SEC;

/// Length of a DNS message header: Zeek's DNS analyzer ignores shorter payloads (they do not
/// count as its first message).
const DNS_HEADER_LEN: usize = 12;

/// IP protocol numbers.
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;

/// Flow keys are attacker-controlled (anyone can send packets with chosen addresses and
/// ports), so the map uses a keyed hash with per-process random keys: nobody can precompute
/// colliding 5-tuples to degrade the table. Output order never depends on it: finished
/// connections are sorted by first packet time and id.
type FlowMap<S> = HashMap<FlowKey, LiveConn<S>, ahash::RandomState>;

/// State that the owner of a [`FlowTable`] keeps with each live connection (its payload
/// inspectors'), so that a packet costs one lookup for all of them: [`FlowTable::ingest_at`]
/// hands it out with each packet of the connection, and [`FlowTable::ended_slots`] and
/// [`FlowTable::finish_unordered`] hand it back once the connection has ended.
pub trait ConnSlot: Default {
    /// Whether the owner needs the slot back when its connection ends (else it is dropped).
    fn wanted_at_end(&self) -> bool;
}

/// No state: [`FlowTable::new`]'s table.
impl ConnSlot for () {
    fn wanted_at_end(&self) -> bool {
        false
    }
}

/// The live connections. Each leaves through [`LiveMap::remove`], [`FlowTable::expire`]'s
/// scan or [`FlowTable::finish_unordered`], which set its slot aside for the owner if it
/// wants it ([`set_aside`]).
struct LiveMap<S> {
    map: FlowMap<S>,
    /// Slots of ended connections, with their connection's id, until the owner takes them.
    ended: Vec<(FlowId, S)>,
}

impl<S: ConnSlot> LiveMap<S> {
    fn len(&self) -> usize {
        self.map.len()
    }

    fn contains_key(&self, key: &FlowKey) -> bool {
        self.map.contains_key(key)
    }

    fn iter(&self) -> hash_map::Iter<'_, FlowKey, LiveConn<S>> {
        self.map.iter()
    }

    fn remove(&mut self, key: &FlowKey) -> Option<(FlowKey, LiveConn<S>)> {
        let (key, mut conn) = self.map.remove_entry(key)?;
        set_aside(&mut self.ended, &mut conn);
        Some((key, conn))
    }
}

/// A connection's last packet time (`last`) is now `ts`. Timers run from `last`, so one that
/// goes back may bring them earlier: its `wake` bound is then recomputed. (Fields, not the
/// connection: the protocol state is borrowed where this is called.)
#[inline]
fn set_last(last: &mut Timestamp, wake: &mut i64, ts: Timestamp) {
    if ts < *last {
        *wake = i64::MIN;
    }
    *last = ts;
}

/// Move an ending connection's slot to `ended` if its owner wants it back.
fn set_aside<S: ConnSlot>(ended: &mut Vec<(FlowId, S)>, conn: &mut LiveConn<S>) {
    if conn.slot.wanted_at_end() {
        ended.push((conn.id, std::mem::take(&mut conn.slot)));
    }
}

/// Counters about the table itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowStats {
    pub connections: u64,
    /// Connections finished early because [`MAX_LIVE_FLOWS`] was reached.
    pub evicted: u64,
}

/// A pending Zeek timer that ends the connection at a fixed capture time
/// ([`LiveConn::deadline_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deadline {
    None,
    /// `AttemptTimer`: ends the connection if it is still an unanswered SYN.
    Attempt,
    /// The delete timer after a complete close or reset.
    Close,
}

/// Which of the configured inactivity timeouts is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inactivity {
    Udp,
    Icmp,
    Tcp,
}

impl Inactivity {
    fn nanos(self, config: &FlowConfig) -> i64 {
        match self {
            Inactivity::Udp => config.udp_inactivity,
            Inactivity::Icmp => config.icmp_inactivity,
            Inactivity::Tcp => config.tcp_inactivity,
        }
    }
}

/// Per-protocol state. UDP and ICMP count payload bytes per direction; a side that has not
/// sent yet (Zeek's `request_len < 0`) is marked in [`LiveConn::sent`], not with an
/// `Option` here (which would take 16 bytes more in every entry).
#[derive(Clone, Debug)]
enum ProtoState {
    Tcp(Box<TcpConn>),
    Udp { orig: u64, resp: u64 },
    Icmp { orig: u64, resp: u64 },
}

/// [`LiveConn::sent`] bits: the originator, the responder has sent (UDP and ICMP).
const ORIG_SENT: u8 = 1;
const RESP_SENT: u8 = 2;

/// A connection still in the table.
///
/// Every packet reads most of the entry, and entries are looked up all over the table: the
/// fewer bytes (and cache lines) an entry spans, the fewer misses per packet and the less
/// memory. So the entry keeps nothing its key or the configuration already says: the
/// endpoints are the key's ([`LiveConn::orig_first`] tells which is the originator), the
/// timeouts the configuration's ([`Inactivity`], [`LiveConn::dns_timer`]), and flags are
/// bytes rather than `Option`s of words.
struct LiveConn<S> {
    id: FlowId,
    start: Timestamp,
    last: Timestamp,
    orig_pkts: u64,
    orig_ip_bytes: u64,
    resp_pkts: u64,
    resp_ip_bytes: u64,
    history: History,
    /// Capture time (nanoseconds) before which no timer can end the connection nor fire:
    /// a lower bound of its earliest timer, so checking a connection that is not due is
    /// one compare. A packet only raises the timers' times, except in the cases that
    /// lower this bound where they happen (a timestamp going back, a new timeout or
    /// deadline); `i64::MIN` until first computed.
    wake: i64,
    /// When [`LiveConn::deadline`] ends the connection (meaningless without a deadline).
    deadline_at: Timestamp,
    state: ProtoState,
    /// The owner's state for this connection.
    slot: S,
    /// The originator is the key's first endpoint (else its second).
    orig_first: bool,
    inactivity: Inactivity,
    /// Zeek's DNS analyzer's expiry timer runs (UDP DNS connections), every
    /// [`FlowConfig::dns_session_timeout`].
    dns_timer: bool,
    /// Zeek's DNS analyzer runs on this UDP connection and has not yet seen a message: if
    /// the first one comes from the originator and is a response, it flips the roles.
    dns_first_message_pending: bool,
    deadline: Deadline,
    /// [`ORIG_SENT`] and [`RESP_SENT`] bits.
    sent: u8,
}

/// The transport fields that identify a packet's connection.
struct Tuple {
    proto: Proto,
    ip_proto: u8,
    src_port: u16,
    dst_port: u16,
    one_way: bool,
}

fn tuple_of(transport: &Transport<'_>) -> Option<Tuple> {
    Some(match *transport {
        Transport::Tcp {
            src_port, dst_port, ..
        } => Tuple {
            proto: Proto::Tcp,
            ip_proto: IPPROTO_TCP,
            src_port,
            dst_port,
            one_way: false,
        },
        Transport::Udp {
            src_port, dst_port, ..
        } => Tuple {
            proto: Proto::Udp,
            ip_proto: IPPROTO_UDP,
            src_port,
            dst_port,
            one_way: false,
        },
        Transport::Icmp {
            v6,
            icmp_type,
            code,
            ..
        } => {
            let (resp_port, one_way) = icmp::counterpart(v6, icmp_type, code);
            Tuple {
                proto: Proto::Icmp,
                ip_proto: if v6 { IPPROTO_ICMPV6 } else { IPPROTO_ICMP },
                src_port: u16::from(icmp_type),
                dst_port: resp_port,
                one_way,
            }
        }
        Transport::Other { .. } => return None,
    })
}

/// Zeek flips a new connection when its first packet probably came from the server.
fn wants_flip(transport: &Transport<'_>, src_port: u16, dst_port: u16) -> bool {
    match *transport {
        Transport::Tcp { flags, .. } => {
            // Only a partial start (no SYN, or a SYN-ACK) is a candidate.
            let partial = !flags.syn() || flags.ack();
            if !partial || !ports::is_likely_server_port(true, src_port) {
                return false;
            }
            if ports::is_likely_server_port(true, dst_port) {
                // Both plausible: flip only a non-SYN towards the higher port.
                !flags.syn() && src_port < dst_port
            } else {
                true
            }
        }
        Transport::Udp { .. } => {
            ports::is_likely_server_port(false, src_port)
                && !ports::is_likely_server_port(false, dst_port)
        }
        _ => false,
    }
}

/// The QR bit of a DNS header (the caller checked the length): set in responses.
fn is_dns_response(message: &[u8]) -> bool {
    message.get(2).is_some_and(|flags| flags & 0x80 != 0)
}

/// Zeek never flips a connection towards the IPv4 limited broadcast address.
fn is_broadcast(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V4(a) if a.is_broadcast())
}

/// The connection table of one capture. `S` is what its owner keeps per live connection
/// ([`ConnSlot`]; nothing for [`FlowTable::new`]'s table).
pub struct FlowTable<S = ()> {
    config: FlowConfig,
    live: LiveMap<S>,
    finished: Vec<Connection>,
    next_id: FlowId,
    /// Capture time: the latest packet time seen (Zeek's network time never goes back).
    now: Timestamp,
    next_scan: i64,
    /// Connections the last scan ended: room for as many is reserved in `out` before the next
    /// (scans end similar numbers; growing by doubling copied the list several times).
    last_scan_ended: usize,
    stats: FlowStats,
}

impl Default for FlowTable {
    fn default() -> Self {
        FlowTable::new(FlowConfig::default())
    }
}

impl FlowTable {
    pub fn new(config: FlowConfig) -> Self {
        FlowTable::with_slots(config)
    }
}

impl<S: ConnSlot> FlowTable<S> {
    /// A table that keeps an `S` with each live connection.
    pub fn with_slots(config: FlowConfig) -> Self {
        FlowTable {
            config,
            live: LiveMap {
                map: FlowMap::with_capacity_and_hasher(
                    INITIAL_LIVE_CAPACITY.min(config.max_live_flows),
                    ahash::RandomState::default(),
                ),
                ended: Vec::new(),
            },
            finished: Vec::new(),
            next_id: 0,
            now: Timestamp(i64::MIN),
            next_scan: i64::MIN,
            last_scan_ended: 0,
            stats: FlowStats::default(),
        }
    }

    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    /// Number of connections currently live.
    pub fn live_connections(&self) -> usize {
        self.live.len()
    }

    /// The live connections that began before `before`: their first packet's time and both
    /// endpoints' addresses (in no particular order).
    pub fn live_started_before(
        &self,
        before: Timestamp,
    ) -> impl Iterator<Item = (Timestamp, [IpAddr; 2])> + '_ {
        self.live
            .iter()
            .filter(move |(_, conn)| conn.start < before)
            .map(|(key, conn)| (conn.start, [key.first().0, key.second().0]))
    }

    /// Account one decoded packet; `None` when it belongs to no tracked protocol. A new
    /// connection gets the next id in creation order.
    pub fn ingest(&mut self, ts: Timestamp, packet: &Packet<'_>) -> Option<FlowTouch> {
        let id = self.next_id;
        let touch = self.ingest_at(ts, ts, id, packet).map(|(touch, _)| touch);
        if touch.is_some_and(|t| t.created) {
            self.next_id = self.next_id.wrapping_add(1);
        }
        touch
    }

    /// Account one decoded packet when the caller owns time and ids: `now` is the capture's
    /// network time (the latest packet time of the whole input, which a shard that sees only
    /// part of the packets cannot know) and `new_id` the id a connection created by this
    /// packet gets (the driver passes the packet's index, so ids do not depend on sharding).
    /// Returns the connection's slot with what the packet did (a new connection's is fresh).
    pub fn ingest_at(
        &mut self,
        now: Timestamp,
        ts: Timestamp,
        new_id: FlowId,
        packet: &Packet<'_>,
    ) -> Option<(FlowTouch, &mut S)> {
        let tuple = tuple_of(&packet.transport)?;
        if now > self.now {
            self.now = now;
        }
        if ts > self.now {
            self.now = ts;
        }
        let now = self.now;
        let (key, side) = FlowKey::of_packet(
            tuple.ip_proto,
            packet.src,
            tuple.src_port,
            packet.dst,
            tuple.dst_port,
            tuple.one_way,
        );

        // A full table makes room for a new connection (a replaced one frees its own place).
        if self.live.len() >= self.config.max_live_flows.max(1) && !self.live.contains_key(&key) {
            self.evict_oldest();
        }

        // Timers first (Zeek advances them before the packet), then TCP reuse. One hash
        // lookup per packet, also when the packet starts a connection.
        // A reference (disjoint from `live` and `stats`): copying the 64-byte config cost
        // instructions on every packet.
        let config = &self.config;
        let (conn, created) = match self.live.map.entry(key) {
            Entry::Occupied(entry) => {
                let conn = entry.into_mut();
                let mut replace = conn.timed_out(now, config);
                if !replace {
                    if let (Transport::Tcp { flags, seq, .. }, ProtoState::Tcp(tcp)) =
                        (&packet.transport, &conn.state)
                    {
                        replace = tcp.is_reuse(*flags, *seq);
                    }
                }
                if replace {
                    // The new connection takes the old one's place in the map.
                    let fresh = Self::new_conn(&mut self.stats, new_id, ts, packet, &tuple, side);
                    let mut old = std::mem::replace(conn, fresh);
                    set_aside(&mut self.live.ended, &mut old);
                    self.finished.push(old.take_connection(&key));
                }
                (conn, replace)
            }
            Entry::Vacant(entry) => {
                let fresh = Self::new_conn(&mut self.stats, new_id, ts, packet, &tuple, side);
                (entry.insert(fresh), true)
            }
        };
        let is_orig = conn.is_orig(side);
        conn.update(&key, is_orig, ts, packet, config);
        let touch = conn.touch(&key, side, created);
        Some((touch, &mut conn.slot))
    }

    fn new_conn(
        stats: &mut FlowStats,
        id: FlowId,
        ts: Timestamp,
        packet: &Packet<'_>,
        tuple: &Tuple,
        side: Side,
    ) -> LiveConn<S> {
        stats.connections = stats.connections.saturating_add(1);
        let state = match tuple.proto {
            Proto::Tcp => ProtoState::Tcp(Box::default()),
            Proto::Icmp => ProtoState::Icmp { orig: 0, resp: 0 },
            Proto::Udp => ProtoState::Udp { orig: 0, resp: 0 },
        };
        let inactivity = match tuple.proto {
            // Zeek gives TCP the UDP timeout until the handshake phase is over.
            Proto::Tcp | Proto::Udp => Inactivity::Udp,
            Proto::Icmp => Inactivity::Icmp,
        };
        let mut conn = LiveConn {
            id,
            start: ts,
            last: ts,
            orig_pkts: 0,
            orig_ip_bytes: 0,
            resp_pkts: 0,
            resp_ip_bytes: 0,
            history: History::default(),
            wake: i64::MIN,
            deadline_at: Timestamp(i64::MIN),
            state,
            slot: S::default(),
            // The first packet's sender is the originator: the key's first endpoint unless
            // the key ordered it second.
            orig_first: side != Side::Second,
            inactivity,
            dns_timer: false,
            dns_first_message_pending: false,
            deadline: Deadline::None,
            sent: 0,
        };
        let mut resp_port = tuple.dst_port;
        if wants_flip(&packet.transport, tuple.src_port, tuple.dst_port)
            && !is_broadcast(packet.dst)
        {
            conn.flip_roles();
            resp_port = tuple.src_port;
        }
        // The DNS analyzer is chosen by the responder port, after orientation.
        if tuple.proto == Proto::Udp && ports::is_dns_udp_port(resp_port) {
            conn.dns_first_message_pending = true;
            conn.dns_timer = true;
        }
        conn
    }

    /// Finish the least recently active eighth of the table (the table is full).
    fn evict_oldest(&mut self) {
        let mut by_age: Vec<(Timestamp, FlowId, FlowKey)> =
            self.live.iter().map(|(k, c)| (c.last, c.id, *k)).collect();
        by_age.sort_unstable_by_key(|(last, id, _)| (*last, *id));
        let count = (self.config.max_live_flows / 8).max(1);
        for (_, _, key) in by_age.into_iter().take(count) {
            if let Some((key, mut conn)) = self.live.remove(&key) {
                self.stats.evicted = self.stats.evicted.saturating_add(1);
                self.finished.push(conn.take_connection(&key));
            }
        }
    }

    /// Finish connections whose timers ran out by capture time `now`, moving them to `out`
    /// (memory grows with live connections, not with capture size). They are appended in the
    /// table's hash order, which differs from run to run (the hash is keyed per process): sort
    /// them (the analysis and [`FlowTable::finish`] order connections by first packet time
    /// and id) before anything depends on their order.
    pub fn expire(&mut self, now: Timestamp, out: &mut Vec<Connection>) {
        if now > self.now {
            self.now = now;
        }
        let now = self.now;
        out.append(&mut self.finished);
        if now.nanos() >= self.next_scan {
            self.next_scan = now.nanos().saturating_add(EXPIRY_SCAN_INTERVAL);
            let ended = &mut self.live.ended;
            let first_ended = ended.len();
            out.reserve(self.last_scan_ended);
            let first_out = out.len();
            // One pass: an expired connection becomes a `Connection` where it lies, while the
            // scan has its entry in cache, instead of being listed, looked up again and moved
            // out of the map.
            let config = &self.config;
            self.live.map.retain(|key, conn| {
                if !conn.timed_out(now, config) {
                    return true;
                }
                set_aside(ended, conn);
                out.push(conn.take_connection(key));
                false
            });
            self.last_scan_ended = out.len() - first_out;
            // Hash order must not leak: the owner gets the slots in id order.
            if let Some(tail) = ended.get_mut(first_ended..) {
                tail.sort_unstable_by_key(|(id, _)| *id);
            }
        }
    }

    /// Like [`FlowTable::expire`], but scan now whatever the scan interval says: a streamed
    /// analysis collects at fixed packet counts, and which connections end in which collection
    /// must not depend on when this shard last scanned.
    pub fn expire_due(&mut self, now: Timestamp, out: &mut Vec<Connection>) {
        self.next_scan = i64::MIN;
        self.expire(now, out);
    }

    /// The slots of connections that ended (moved to the finished list or to `out` by
    /// [`FlowTable::expire`]) whose owner wants them back ([`ConnSlot::wanted_at_end`]).
    pub fn ended_slots(&mut self) -> std::vec::Drain<'_, (FlowId, S)> {
        self.live.ended.drain(..)
    }

    /// Finish every connection (end of input), sorted by first packet time then id.
    pub fn finish(self) -> Vec<Connection> {
        let mut out = Vec::new();
        self.finish_unordered(&mut out);
        // Unstable is deterministic here: ids are unique, so no two keys are equal.
        out.sort_unstable_by_key(|c| (c.ts, c.id));
        out
    }

    /// Finish every connection (end of input), appending them to `out` in no particular
    /// order: for callers that order connections from several tables anyway, which spares
    /// sorting (moving) the connections twice. Returns the slots the owner wants back, of
    /// these connections and of those that ended before and are not yet taken.
    pub fn finish_unordered(mut self, out: &mut Vec<Connection>) -> Vec<(FlowId, S)> {
        let LiveMap { map, mut ended } = self.live;
        out.reserve(self.finished.len() + map.len());
        out.append(&mut self.finished);
        out.extend(map.into_iter().map(|(key, mut conn)| {
            set_aside(&mut ended, &mut conn);
            conn.take_connection(&key)
        }));
        ended
    }
}

impl<S> LiveConn<S> {
    fn proto(&self) -> Proto {
        match self.state {
            ProtoState::Tcp(_) => Proto::Tcp,
            ProtoState::Udp { .. } => Proto::Udp,
            ProtoState::Icmp { .. } => Proto::Icmp,
        }
    }

    /// The originator's and the responder's address and port.
    fn endpoints(&self, key: &FlowKey) -> ((IpAddr, u16), (IpAddr, u16)) {
        if self.orig_first {
            (key.first(), key.second())
        } else {
            (key.second(), key.first())
        }
    }

    /// Did the originator send a packet from `side` of the key (as Zeek compares the
    /// packet's source address and port with the originator's)?
    #[inline]
    fn is_orig(&self, side: Side) -> bool {
        match side {
            Side::First => self.orig_first,
            Side::Second => !self.orig_first,
            Side::Both => true,
        }
    }

    /// What the packet just accounted did (sent from `side` of the key), for payload
    /// inspectors. After the packet: if it flipped the roles, it is from the side it now is.
    fn touch(&self, key: &FlowKey, side: Side, created: bool) -> FlowTouch {
        let ((orig_h, orig_p), (resp_h, resp_p)) = self.endpoints(key);
        FlowTouch {
            id: self.id,
            from_orig: self.is_orig(side),
            created,
            proto: self.proto(),
            orig_h,
            orig_p,
            resp_h,
            resp_p,
        }
    }

    /// Zeek's `FlipRoles` on a connection.
    fn flip_roles(&mut self) {
        self.flip_addresses_only();
        match &mut self.state {
            ProtoState::Tcp(tcp) => tcp.flip(),
            ProtoState::Udp { orig, resp } | ProtoState::Icmp { orig, resp } => {
                std::mem::swap(orig, resp);
                let sent = self.sent;
                self.sent = (sent & ORIG_SENT) << 1 | (sent & RESP_SENT) >> 1;
            }
        }
        self.history.add(b'^');
    }

    /// Have the connection's timers removed it by capture time `now`? Checked for every
    /// packet and on every table scan, so a connection that is not due costs one compare.
    #[inline]
    fn timed_out(&mut self, now: Timestamp, config: &FlowConfig) -> bool {
        now.nanos() >= self.wake && self.timers_due(now, config)
    }

    /// [`LiveConn::timed_out`] past the `wake` bound: runs the timers, and when none ends
    /// the connection, sets `wake` to the earliest time one can.
    fn timers_due(&mut self, now: Timestamp, config: &FlowConfig) -> bool {
        let inactivity = self.inactivity.nanos(config);
        if now.nanos_since(self.last) >= inactivity {
            return true;
        }
        // `now - last < inactivity` above, so `now` is before this (saturating) sum.
        let mut wake = self.last.nanos().saturating_add(inactivity);
        if self.dns_timer {
            let period = config.dns_session_timeout;
            // The DNS analyzer's timer ticks every `period` from the connection's start and
            // ends it at the first tick that finds it idle for `period` minus one second.
            let idle = period.saturating_sub(Timestamp::NANOS_PER_SEC);
            let earliest = self.last.nanos().saturating_add(idle);
            let since_start = earliest.saturating_sub(self.start.nanos());
            let ticks = since_start
                .saturating_add(period - 1)
                .checked_div(period)
                .unwrap_or(1)
                .max(1);
            let tick = self
                .start
                .nanos()
                .saturating_add(ticks.saturating_mul(period));
            if period > 0 {
                if now.nanos() >= tick {
                    return true;
                }
                // The tick only moves later as `last` does.
                wake = wake.min(tick);
            }
        }
        let at = self.deadline_at;
        match self.deadline {
            Deadline::Close => {
                if now >= at {
                    return true;
                }
                wake = wake.min(at.nanos());
            }
            Deadline::Attempt if now >= at => {
                let unanswered =
                    matches!(&self.state, ProtoState::Tcp(t) if t.is_unanswered_attempt());
                if unanswered {
                    return true;
                }
                self.deadline = Deadline::None; // the timer fired and found an answer
            }
            Deadline::Attempt => wake = wake.min(at.nanos()),
            Deadline::None => {}
        }
        self.wake = wake;
        false
    }

    /// Account one packet of this connection (of key `key`), sent by the originator if
    /// `is_orig`. Zeek decides the direction before processing; a flip inside TCP processing
    /// does not change how this packet is counted (ConnSize gets the stale `is_orig`).
    fn update(
        &mut self,
        key: &FlowKey,
        is_orig: bool,
        ts: Timestamp,
        packet: &Packet<'_>,
        config: &FlowConfig,
    ) {
        let mut dns_flip = false;
        // By reference: copying the whole `Transport` for the match cost as much as the
        // fields it reads.
        match (&mut self.state, &packet.transport) {
            (
                ProtoState::Tcp(tcp),
                &Transport::Tcp {
                    flags,
                    seq,
                    ack,
                    window,
                    payload_len,
                    ..
                },
            ) => {
                let slot = if is_orig {
                    tcp.orig_slot()
                } else {
                    tcp.orig_slot() ^ 1
                };
                let seg = Segment {
                    flags,
                    seq,
                    ack,
                    window,
                    len: payload_len,
                };
                // Most segments of an established connection only move sequence numbers:
                // no role, state, timer or deadline change.
                if let Some(touches_last_time) =
                    tcp.process_established(slot, seg, &mut self.history)
                {
                    if touches_last_time {
                        set_last(&mut self.last, &mut self.wake, ts);
                    }
                    return self.count(is_orig, packet);
                }
                let fx = tcp.process(slot, seg, &mut self.history);
                if fx.touches_last_time {
                    set_last(&mut self.last, &mut self.wake, ts);
                }
                if fx.flipped {
                    self.flip_addresses_only();
                }
                if fx.handshake_done {
                    self.inactivity = Inactivity::Tcp;
                    self.wake = i64::MIN; // the new timeout may be shorter
                }
                if fx.attempt_started {
                    let at = ts.saturating_add_nanos(config.tcp_attempt_delay);
                    self.deadline = Deadline::Attempt;
                    self.deadline_at = at;
                    self.wake = self.wake.min(at.nanos());
                }
                if fx.close_complete {
                    let at = self.last.saturating_add_nanos(config.tcp_close_delay);
                    self.deadline = Deadline::Close;
                    self.deadline_at = at;
                    self.wake = self.wake.min(at.nanos());
                }
            }
            (
                ProtoState::Udp { orig, resp },
                &Transport::Udp {
                    payload,
                    payload_len,
                    ..
                },
            ) => {
                set_last(&mut self.last, &mut self.wake, ts);
                let (side, bit) = if is_orig {
                    (orig, ORIG_SENT)
                } else {
                    (resp, RESP_SENT)
                };
                *side = side.saturating_add(u64::from(payload_len));
                self.sent |= bit;
                if is_orig {
                    self.history.check(0x1, b'D');
                } else {
                    self.history.check(0x2, b'd');
                }
                if self.dns_first_message_pending && payload.len() >= DNS_HEADER_LEN {
                    self.dns_first_message_pending = false;
                    dns_flip = is_orig
                        && is_dns_response(payload)
                        && !self.endpoints(key).1 .0.is_multicast();
                }
            }
            (ProtoState::Icmp { orig, resp }, &Transport::Icmp { payload_len, .. }) => {
                set_last(&mut self.last, &mut self.wake, ts);
                let (side, bit) = if is_orig {
                    (orig, ORIG_SENT)
                } else {
                    (resp, RESP_SENT)
                };
                *side = side.saturating_add(u64::from(payload_len));
                self.sent |= bit;
            }
            // A key is unique per protocol, so the state always matches the transport.
            _ => return,
        }
        self.count(is_orig, packet);
        if dns_flip {
            // Zeek's DNS analyzer (`DNS_Interpreter::ParseMessage`) runs after the packet was
            // counted and calls `Connection::FlipRoles`: endpoints and packet counters swap
            // (ConnSize flips), the UDP payload counters and history bits do not (the UDP
            // session adapter has no FlipRoles), and `^` is written.
            self.flip_addresses_only();
            self.history.add(b'^');
        }
    }

    /// Count a packet for its side.
    #[inline]
    fn count(&mut self, is_orig: bool, packet: &Packet<'_>) {
        let ip_len = u64::from(packet.ip_len);
        if is_orig {
            self.orig_pkts = self.orig_pkts.saturating_add(1);
            self.orig_ip_bytes = self.orig_ip_bytes.saturating_add(ip_len);
        } else {
            self.resp_pkts = self.resp_pkts.saturating_add(1);
            self.resp_ip_bytes = self.resp_ip_bytes.saturating_add(ip_len);
        }
    }

    /// The connection-level half of a flip decided inside the TCP state machine (which has
    /// already swapped its endpoints and written the `^`).
    fn flip_addresses_only(&mut self) {
        self.orig_first = !self.orig_first;
        std::mem::swap(&mut self.orig_pkts, &mut self.resp_pkts);
        std::mem::swap(&mut self.orig_ip_bytes, &mut self.resp_ip_bytes);
    }

    /// The finished connection (its history is moved out, not copied; the rest of the entry
    /// is dropped by the caller).
    fn take_connection(&mut self, key: &FlowKey) -> Connection {
        let ip_proto = key.proto();
        let sent = (self.sent & ORIG_SENT != 0, self.sent & RESP_SENT != 0);
        let (orig_bytes, resp_bytes, conn_state) = match &self.state {
            ProtoState::Tcp(tcp) => {
                let (o, r) = tcp.sizes();
                (o, r, tcp.conn_state(self.history.as_str()))
            }
            ProtoState::Udp { orig, resp } => {
                let state = match sent {
                    (true, true) => ConnState::SF,
                    (true, false) => ConnState::S0,
                    (false, true) => ConnState::SHR,
                    (false, false) => ConnState::OTH,
                };
                (*orig, *resp, state)
            }
            ProtoState::Icmp { orig, resp } => (*orig, *resp, ConnState::OTH),
        };
        let ((orig_h, orig_p), (resp_h, resp_p)) = self.endpoints(key);
        let community_id = community_id::community_id_v1(
            community_id::DEFAULT_SEED,
            ip_proto,
            orig_h,
            orig_p,
            resp_h,
            resp_p,
            key.one_way(),
        );
        let uid = uid::connection_uid(
            ip_proto, orig_h, orig_p, resp_h, resp_p, self.start, self.id,
        );
        Connection {
            id: self.id,
            uid,
            ts: self.start,
            last_ts: self.last,
            orig_h,
            orig_p,
            resp_h,
            resp_p,
            proto: self.proto(),
            service: None,
            orig_bytes,
            resp_bytes,
            conn_state,
            history: std::mem::take(&mut self.history).into_string(),
            orig_pkts: self.orig_pkts,
            orig_ip_bytes: self.orig_ip_bytes,
            resp_pkts: self.resp_pkts,
            resp_ip_bytes: self.resp_ip_bytes,
            community_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every packet reads its connection's entry (key and live state) somewhere in a large
    /// table: it must stay within three 64-byte cache lines (with an owner's 8-byte slot).
    #[test]
    fn a_live_entry_spans_at_most_three_cache_lines() {
        let entry = std::mem::size_of::<(FlowKey, LiveConn<u64>)>();
        assert!(entry <= 192, "{entry} bytes");
    }
}
