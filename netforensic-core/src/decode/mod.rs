//! Packet decoding: link layer -> IP -> transport, on `etherparse` lax slicing (keep what
//! decoded when a packet is cut short), with tunnels decapsulated so that the inner connection
//! becomes the flow (as Zeek does) and IP fragments reassembled (bounded, capture-time timeouts).
//!
//! One file per layer: [`link`] routes a link type to its decoder (`ethernet`, `sll`,
//! `loopback`, `ppp`, `ieee80211`, `pktap`, `nflog`); [`ip`] reads IP headers; [`tunnel`]
//! recognises encapsulations; [`fragment`] reassembles; [`transport`] reads TCP/UDP/ICMP.

mod bytes;
mod ethernet;
mod fragment;
mod ieee80211;
mod ip;
mod link;
mod loopback;
mod nflog;
mod pktap;
#[cfg(test)]
pub(crate) use pktap::TestHeader;
mod ppp;
mod sll;
mod teredo;
mod transport;
mod tunnel;

pub use fragment::{FRAGMENT_TIMEOUT, MAX_DATAGRAMS_IN_FLIGHT, MAX_DATAGRAM_LEN};

use crate::capture::LinkType;
use crate::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

/// TCP flag bits as on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    pub fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }
    pub fn urg(self) -> bool {
        self.0 & Self::URG != 0
    }
}

/// The transport layer of a decoded packet. Payload slices hold what was captured;
/// `payload_len` is what the headers say was sent (they differ when snaplen cut the packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        payload: &'a [u8],
        payload_len: u32,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        payload: &'a [u8],
        payload_len: u32,
    },
    Icmp {
        v6: bool,
        icmp_type: u8,
        code: u8,
        payload: &'a [u8],
        payload_len: u32,
    },
    /// An IP protocol we do not track as a flow (ESP, SCTP, ...): counted, not a crash.
    Other { protocol: u8 },
}

impl<'a> Transport<'a> {
    /// The captured payload (empty for protocols we do not track).
    pub fn payload(&self) -> &'a [u8] {
        match *self {
            Transport::Tcp { payload, .. }
            | Transport::Udp { payload, .. }
            | Transport::Icmp { payload, .. } => payload,
            Transport::Other { .. } => &[],
        }
    }

    /// The same headers over another payload slice (for moving a packet's bytes elsewhere,
    /// e.g. into a batch that crosses threads).
    pub fn with_payload<'b>(self, payload: &'b [u8]) -> Transport<'b> {
        match self {
            Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                payload_len,
                ..
            } => Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                payload,
                payload_len,
            },
            Transport::Udp {
                src_port,
                dst_port,
                payload_len,
                ..
            } => Transport::Udp {
                src_port,
                dst_port,
                payload,
                payload_len,
            },
            Transport::Icmp {
                v6,
                icmp_type,
                code,
                payload_len,
                ..
            } => Transport::Icmp {
                v6,
                icmp_type,
                code,
                payload,
                payload_len,
            },
            Transport::Other { protocol } => Transport::Other { protocol },
        }
    }
}

/// Which encapsulation carried the packet, outermost first is not kept: the innermost
/// tunnel that was removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tunnel {
    IpInIp,
    Gre,
    Vxlan,
    Teredo,
}

/// Apple PKTAP header (LINKTYPE_PKTAP 149/258): the process that owned the packet. A view of
/// the header's bytes, its fields read when asked for: every packet carries this through the
/// pipeline, and a slice is 16 bytes where the fields took 72 (copied per packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PktapInfo<'a> {
    /// At least the 108 bytes that hold every field below.
    header: &'a [u8],
}

impl<'a> PktapInfo<'a> {
    /// The header's fields over `header`; `None` if it is too short to hold them all.
    pub fn new(header: &'a [u8]) -> Option<Self> {
        (header.len() >= pktap::MIN_HEADER_LEN).then_some(PktapInfo { header })
    }

    /// The header's bytes (as far as the fields go), for moving it elsewhere.
    pub fn header(&self) -> &'a [u8] {
        self.header
    }

    /// `pth_pid`: the process that owned the socket (negative: unknown).
    pub fn pid(&self) -> i32 {
        pktap::field_i32(self.header, pktap::field::PID)
    }

    /// `pth_comm`, NUL-trimmed raw bytes (attacker-controlled: escape before display).
    pub fn comm(&self) -> &'a [u8] {
        pktap::field_text(self.header, pktap::field::COMM)
    }

    /// `pth_epid`: the process the owner acted for (negative: none).
    pub fn effective_pid(&self) -> i32 {
        pktap::field_i32(self.header, pktap::field::EPID)
    }

    /// `pth_ecomm`, NUL-trimmed raw bytes.
    pub fn effective_comm(&self) -> &'a [u8] {
        pktap::field_text(self.header, pktap::field::ECOMM)
    }

    /// `pth_flags`: PTH_FLAG_DIR_IN / OUT bits.
    pub fn flags(&self) -> u32 {
        pktap::field_i32(self.header, pktap::field::FLAGS) as u32
    }

    /// `pth_ifname`, NUL-trimmed raw bytes.
    pub fn interface(&self) -> &'a [u8] {
        pktap::field_text(self.header, pktap::field::IFNAME)
    }

    /// `pth_svc`: the socket's service class (background, video, voice, ...).
    pub fn service_class(&self) -> u32 {
        pktap::field_i32(self.header, pktap::field::SVC) as u32
    }

    /// `pth_dlt`: link type of the wrapped frame.
    pub fn dlt(&self) -> u32 {
        pktap::field_i32(self.header, pktap::field::DLT) as u32
    }
}

/// A decoded IP packet, ready for the flow table.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP length as Zeek counts `*_ip_bytes`: IPv4 total length, IPv6 payload length + 40
    /// (of the innermost IP header after decapsulation; of the reassembled datagram).
    pub ip_len: u32,
    pub ttl: u8,
    pub transport: Transport<'a>,
    pub tunnel: Option<Tunnel>,
    /// Outermost 802.1Q VLAN id, if any.
    pub vlan: Option<u16>,
    pub pktap: Option<PktapInfo<'a>>,
    /// True when the packet was reassembled from IP fragments.
    pub reassembled: bool,
}

/// The outcome of decoding one frame.
#[derive(Clone, Copy, Debug)]
pub enum Decoded<'a> {
    Packet(Packet<'a>),
    /// An IP fragment held for reassembly; it will count when the datagram completes.
    FragmentHeld,
    /// Not IP (ARP, LLDP, 802.11 management, ...): counted by ethertype/reason.
    NotIp,
    /// A link type or protocol we cannot decode.
    Unsupported,
    /// The headers were broken before an IP packet could be found.
    Malformed,
}

/// Counts of everything that did not become a packet, for the report's stats.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DecodeStats {
    pub packets: u64,
    pub not_ip: u64,
    pub unsupported_link_types: std::collections::BTreeMap<u32, u64>,
    pub unsupported_ip_protocols: std::collections::BTreeMap<u8, u64>,
    pub malformed: u64,
    pub fragments_held: u64,
    pub fragments_reassembled: u64,
    pub fragments_dropped: u64,
    pub tunnels: u64,
}

/// Tunnels decapsulated inside one another before the decoder stops and keeps the packet it
/// has (Zeek's `Tunnel::max_depth` is 2; a little more room costs nothing and still bounds
/// hostile nesting).
pub const MAX_TUNNEL_DEPTH: usize = 4;

/// The outer UDP connection of a UDP tunnel (VXLAN, Teredo). Zeek logs it as a connection of
/// its own beside the inner one; [`Decoder::tunnel_carrier`] hands it to the flow table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelCarrier {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub ttl: u8,
    /// The outer IP length (what Zeek sums into the carrier connection's `*_ip_bytes`).
    pub ip_len: u32,
    /// The outer UDP payload length (the carrier connection's `*_bytes`).
    pub payload_len: u32,
}

/// Stateful decoder (it owns the fragment reassembly buffers and the Teredo connections seen).
/// One per capture being read.
#[derive(Default)]
pub struct Decoder {
    stats: DecodeStats,
    fragments: fragment::Reassembler,
    teredo: teredo::TeredoSessions,
    carrier: Option<TunnelCarrier>,
}

/// Link-layer facts carried along to the packet, whatever tunnels or fragments follow.
#[derive(Clone, Copy)]
struct LinkFacts<'a> {
    vlan: Option<u16>,
    pktap: Option<PktapInfo<'a>>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decode one frame of the given link type, captured at `ts`.
    pub fn decode<'a>(
        &'a mut self,
        link_type: LinkType,
        ts: Timestamp,
        data: &'a [u8],
    ) -> Decoded<'a> {
        self.carrier = None;
        // The common frame (Ethernet II to IP, at most one 802.1Q tag) skips the link-type
        // dispatch: `ethernet::plain` gives what `link::decode` would for it.
        if link_type == LinkType::ETHERNET {
            if let Some((bytes, vlan)) = ethernet::plain(data) {
                return self.decode_ip(ts, bytes, LinkFacts { vlan, pktap: None });
            }
        }
        let link = link::decode(link_type, data);
        let stats = &mut self.stats;
        let bytes = match link.network {
            link::Network::Ip(bytes) => bytes,
            link::Network::NotIp => {
                stats.not_ip += 1;
                return Decoded::NotIp;
            }
            link::Network::Malformed => {
                stats.malformed += 1;
                return Decoded::Malformed;
            }
            link::Network::Unsupported => {
                *stats.unsupported_link_types.entry(link_type.0).or_insert(0) += 1;
                return Decoded::Unsupported;
            }
        };
        let facts = LinkFacts {
            vlan: link.vlan,
            pktap: link.pktap,
        };
        self.decode_ip(ts, bytes, facts)
    }

    /// Decode from the IP header on (inlined in both link paths, so that the common one
    /// carries no PKTAP facts around).
    #[inline(always)]
    fn decode_ip<'a>(
        &'a mut self,
        ts: Timestamp,
        bytes: &'a [u8],
        facts: LinkFacts<'a>,
    ) -> Decoded<'a> {
        let Decoder {
            stats,
            fragments,
            teredo,
            carrier,
        } = self;
        // The common packet (plain IP header, TCP or ICMP) is built straight from the header's
        // fields: merged with the general path into one `IpPacket` in memory, it was written
        // field by field and read back 16 bytes at a time, a load that waits for the stores
        // (a quarter of the decoder's samples sat on it).
        let plain = ip::plain(bytes);
        if let Some(packet) = &plain {
            if !tunnel::may_carry(packet.protocol) {
                return finish(stats, packet, None, facts, false);
            }
        }
        let Some(mut packet) = plain.or_else(|| ip::parse_any(bytes)) else {
            stats.malformed += 1;
            return Decoded::Malformed;
        };
        let mut tunnel = None;
        // Most packets (TCP, ICMP, ...) cannot carry a tunnel: `tunnel::detect` would say no.
        if tunnel::may_carry(packet.protocol) {
            decapsulate(&mut packet, &mut tunnel, teredo, carrier);
        }
        let Some(info) = packet.fragment else {
            // The common case: built in place, straight into the returned value.
            return finish(stats, &packet, tunnel, facts, false);
        };
        if packet.payload.len() < packet.payload_len as usize {
            // A fragment cut by snaplen can never be reassembled. As Zeek does
            // ("incompletely_captured_fragment"), the first one counts as it stands (its
            // transport header is all there is to know; Wireshark agrees) and the others
            // are dropped.
            if info.offset == 0 {
                return finish_outlined(stats, &packet, tunnel, facts, false);
            }
            stats.fragments_dropped += 1;
            stats.malformed += 1;
            return Decoded::Malformed;
        }
        let (outcome, dropped) = fragments.add(ts, &packet, info);
        stats.fragments_dropped += dropped;
        match outcome {
            fragment::Outcome::Held => {
                stats.fragments_held += 1;
                Decoded::FragmentHeld
            }
            fragment::Outcome::Rejected => {
                stats.malformed += 1;
                Decoded::Malformed
            }
            fragment::Outcome::Complete(datagram) => {
                stats.fragments_reassembled += 1;
                let mut inner = ip::IpPacket {
                    ttl: datagram.ttl,
                    protocol: datagram.protocol,
                    ip_len: datagram.ip_len,
                    payload: datagram.payload,
                    payload_len: datagram.payload.len() as u32,
                    fragment: None,
                    ..packet
                };
                let mut tunnel = tunnel;
                decapsulate(&mut inner, &mut tunnel, teredo, carrier);
                if inner.fragment.is_some() {
                    // A fragment inside a reassembled tunnel would need a second reassembly
                    // of borrowed data: rare enough to count as dropped.
                    stats.fragments_dropped += 1;
                    stats.malformed += 1;
                    return Decoded::Malformed;
                }
                finish_outlined(stats, &inner, tunnel, facts, true)
            }
        }
    }

    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// The outer UDP connection of the packet decoded last, when it came out of a VXLAN or
    /// Teredo tunnel (`None` otherwise). Call it after using the packet: Zeek counts such
    /// packets in the carrier connection too.
    pub fn tunnel_carrier(&self) -> Option<TunnelCarrier> {
        self.carrier
    }
}

/// Remove tunnel layers while the packet carries one whose inner packet decodes as IP.
/// Stops at a fragment (it must be reassembled first) and after [`MAX_TUNNEL_DEPTH`] layers.
/// The UDP carrier of a VXLAN or Teredo tunnel is recorded in `carrier`.
fn decapsulate<'a>(
    packet: &mut ip::IpPacket<'a>,
    tunnel: &mut Option<Tunnel>,
    teredo: &mut teredo::TeredoSessions,
    carrier: &mut Option<TunnelCarrier>,
) {
    for _ in 0..MAX_TUNNEL_DEPTH {
        if packet.fragment.is_some() {
            break;
        }
        let Some((kind, inner)) = tunnel::detect(packet, teredo) else {
            break;
        };
        let network = match inner {
            tunnel::Inner::Ip(bytes) => link::Network::Ip(bytes),
            tunnel::Inner::Ethernet(frame) => ethernet::decode(frame, &mut None),
            tunnel::Inner::Ppp(frame) => ppp::by_hdlc_frame(frame),
        };
        let link::Network::Ip(bytes) = network else {
            break;
        };
        let Some(inner_packet) = ip::parse(bytes) else {
            break;
        };
        if let Ok(Transport::Udp {
            src_port,
            dst_port,
            payload_len,
            ..
        }) = transport::parse(packet.protocol, packet.payload, packet.payload_len)
        {
            *carrier = Some(TunnelCarrier {
                src: packet.src,
                dst: packet.dst,
                src_port,
                dst_port,
                ttl: packet.ttl,
                ip_len: packet.ip_len,
                payload_len,
            });
        }
        *packet = inner_packet;
        *tunnel = Some(kind);
    }
}

/// [`finish`] for the rare paths (fragments), kept out of the common one.
#[inline(never)]
fn finish_outlined<'a>(
    stats: &mut DecodeStats,
    ip: &ip::IpPacket<'a>,
    tunnel: Option<Tunnel>,
    facts: LinkFacts<'a>,
    reassembled: bool,
) -> Decoded<'a> {
    finish(stats, ip, tunnel, facts, reassembled)
}

/// Read the transport header and build the packet, counting what it was.
#[inline(always)]
fn finish<'a>(
    stats: &mut DecodeStats,
    ip: &ip::IpPacket<'a>,
    tunnel: Option<Tunnel>,
    facts: LinkFacts<'a>,
    reassembled: bool,
) -> Decoded<'a> {
    let Ok(transport) = transport::parse(ip.protocol, ip.payload, ip.payload_len) else {
        stats.malformed += 1;
        return Decoded::Malformed;
    };
    if let Transport::Other { protocol } = transport {
        *stats.unsupported_ip_protocols.entry(protocol).or_insert(0) += 1;
    }
    stats.packets += 1;
    if tunnel.is_some() {
        stats.tunnels += 1;
    }
    Decoded::Packet(Packet {
        src: ip.src,
        dst: ip.dst,
        ip_len: ip.ip_len,
        ttl: ip.ttl,
        transport,
        tunnel,
        vlan: facts.vlan,
        pktap: facts.pktap,
        reassembled,
    })
}

#[cfg(test)]
mod tests;
