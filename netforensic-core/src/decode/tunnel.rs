//! Tunnel recognition, as Zeek decapsulates: IP-in-IP and 6in4 (protocols 4 and 41), GRE
//! (version 0 incl. transparent Ethernet bridging; version 1 = PPTP's enhanced GRE carrying
//! PPP), VXLAN (UDP 4789) and Teredo (UDP 3544, only when the payload really is IPv6). This file
//! says what is inside; the decoder then decodes the inner packet like a fresh frame.

use super::bytes::{be16, rest};
use super::ethernet::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::ip::IpPacket;
use super::teredo::{self, TeredoSessions, TEREDO_PORT};
use super::transport::{udp_ports, PROTO_UDP};
use super::Tunnel;

const PROTO_IPIP: u8 = 4;
const PROTO_IPV6_IN_IP: u8 = 41;
const PROTO_GRE: u8 = 47;
pub(crate) const VXLAN_PORT: u16 = 4789;

const UDP_HEADER_LEN: usize = 8;
const VXLAN_HEADER_LEN: usize = 8;

/// GRE flag bits (first 16-bit word) and the version field.
const GRE_CHECKSUM: u16 = 0x8000;
const GRE_ROUTING: u16 = 0x4000;
const GRE_KEY: u16 = 0x2000;
const GRE_SEQUENCE: u16 = 0x1000;
const GRE_ACK: u16 = 0x0080;
const GRE_VERSION_MASK: u16 = 0x0007;
const GRE_BASE_LEN: usize = 4;
/// Enhanced GRE (RFC 2637): base, payload length and call id.
const GRE_V1_BASE_LEN: usize = 8;
const GRE_OPTION_LEN: usize = 4;
const GRE_PROTO_TRANSPARENT_ETHERNET: u16 = 0x6558;
const GRE_PROTO_PPP: u16 = 0x880B;

/// The encapsulated packet and how to read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inner<'a> {
    Ip(&'a [u8]),
    Ethernet(&'a [u8]),
    Ppp(&'a [u8]),
}

/// Does this IP packet carry a tunnel? Fragments must be reassembled first. Teredo is
/// recognised on port 3544, on UDP connections already seen carrying Teredo, and, as Zeek's
/// protocol detection does, on any port when the payload has Teredo's unmistakable shape.
pub(crate) fn detect<'a>(
    ip: &IpPacket<'a>,
    sessions: &mut TeredoSessions,
) -> Option<(Tunnel, Inner<'a>)> {
    match ip.protocol {
        PROTO_IPIP | PROTO_IPV6_IN_IP => Some((Tunnel::IpInIp, Inner::Ip(ip.payload))),
        PROTO_GRE => gre(ip.payload).map(|inner| (Tunnel::Gre, inner)),
        PROTO_UDP => {
            let (src, dst) = udp_ports(ip.payload)?;
            let data = udp_data(ip.payload);
            if src == VXLAN_PORT || dst == VXLAN_PORT {
                vxlan(data).map(|inner| (Tunnel::Vxlan, inner))
            } else {
                let session = teredo::SessionKey::new(ip.src, src, ip.dst, dst);
                let candidate = src == TEREDO_PORT
                    || dst == TEREDO_PORT
                    || sessions.contains(&session)
                    || teredo::looks_like_teredo(data);
                if !candidate {
                    return None;
                }
                let inner = teredo::parse(data)?;
                sessions.remember(session);
                Some((Tunnel::Teredo, Inner::Ip(inner)))
            }
        }
        _ => None,
    }
}

/// The UDP payload, bounded by the UDP length when it is consistent.
fn udp_data(datagram: &[u8]) -> &[u8] {
    let data = rest(datagram, UDP_HEADER_LEN);
    match be16(datagram, 4).map(usize::from) {
        Some(length) if length >= UDP_HEADER_LEN => {
            data.get(..length - UDP_HEADER_LEN).unwrap_or(data)
        }
        _ => data,
    }
}

fn gre(packet: &[u8]) -> Option<Inner<'_>> {
    let flags = be16(packet, 0)?;
    let protocol = be16(packet, 2)?;
    let set = |bit: u16| flags & bit != 0;
    let payload = match flags & GRE_VERSION_MASK {
        0 => {
            // Source routing is deprecated and Zeek does not decapsulate it either.
            if set(GRE_ROUTING) {
                return None;
            }
            let options = [GRE_CHECKSUM, GRE_KEY, GRE_SEQUENCE]
                .iter()
                .filter(|&&bit| set(bit))
                .count();
            rest(packet, GRE_BASE_LEN + options * GRE_OPTION_LEN)
        }
        1 => {
            if protocol != GRE_PROTO_PPP || !set(GRE_KEY) {
                return None;
            }
            let payload_len = usize::from(be16(packet, 4)?);
            let options = [GRE_SEQUENCE, GRE_ACK]
                .iter()
                .filter(|&&bit| set(bit))
                .count();
            let data = rest(packet, GRE_V1_BASE_LEN + options * GRE_OPTION_LEN);
            // Acknowledgement-only packets carry nothing.
            if payload_len == 0 {
                return None;
            }
            data.get(..payload_len).unwrap_or(data)
        }
        _ => return None,
    };
    if payload.is_empty() {
        return None;
    }
    match protocol {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Some(Inner::Ip(payload)),
        GRE_PROTO_TRANSPARENT_ETHERNET => Some(Inner::Ethernet(payload)),
        GRE_PROTO_PPP => Some(Inner::Ppp(payload)),
        _ => None,
    }
}

fn vxlan(data: &[u8]) -> Option<Inner<'_>> {
    if data.len() < VXLAN_HEADER_LEN {
        return None;
    }
    Some(Inner::Ethernet(rest(data, VXLAN_HEADER_LEN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gre_versions() {
        assert_eq!(gre(&[0, 0, 0x08, 0x00, 0x45]), Some(Inner::Ip(&[0x45])));
        // Key + sequence.
        assert_eq!(
            gre(&[0x30, 0, 0x65, 0x58, 0, 0, 0, 1, 0, 0, 0, 2, 0xAA]),
            Some(Inner::Ethernet(&[0xAA]))
        );
        // PPTP: version 1, key, sequence; payload length 3.
        let pptp = [
            0x30, 0x01, 0x88, 0x0b, 0, 3, 0, 7, 0, 0, 0, 1, 0xff, 0x03, 0x21, 0x99,
        ];
        assert_eq!(gre(&pptp), Some(Inner::Ppp(&[0xff, 0x03, 0x21])));
        // Ack-only PPTP, routing, unknown version.
        assert_eq!(gre(&[0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 7, 0, 0, 0, 1]), None);
        assert_eq!(gre(&[0x40, 0, 0x08, 0x00, 0x45]), None);
        assert_eq!(gre(&[0, 2, 0x08, 0x00, 0x45]), None);
        assert_eq!(gre(&[0, 0, 0x08]), None);
    }

    #[test]
    fn vxlan_needs_its_header() {
        assert_eq!(
            vxlan(&[8, 0, 0, 0, 0, 0, 1, 0, 0xEE]),
            Some(Inner::Ethernet(&[0xEE]))
        );
        assert_eq!(vxlan(&[8, 0, 0]), None);
    }
}
