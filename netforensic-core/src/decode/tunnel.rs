//! Tunnel recognition, as Zeek decapsulates: IP-in-IP and 6in4 (protocols 4 and 41), GRE
//! (version 0 incl. transparent Ethernet bridging; version 1 = PPTP's enhanced GRE carrying
//! PPP), VXLAN (UDP 4789) and Teredo (UDP 3544, only when the payload really is IPv6). This file
//! says what is inside; the decoder then decodes the inner packet like a fresh frame.

use super::bytes::{be16, rest, u8_at};
use super::ethernet::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::ip::{IpPacket, IPV6_HEADER_LEN};
use super::transport::{udp_ports, PROTO_UDP};
use super::Tunnel;

const PROTO_IPIP: u8 = 4;
const PROTO_IPV6_IN_IP: u8 = 41;
const PROTO_GRE: u8 = 47;
pub(crate) const VXLAN_PORT: u16 = 4789;
pub(crate) const TEREDO_PORT: u16 = 3544;

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

/// Teredo header tags and the IPv6 "no next header" value that marks a bubble.
const TEREDO_ORIGIN_INDICATION: u16 = 0x0000;
const TEREDO_AUTHENTICATION: u16 = 0x0001;
const TEREDO_ORIGIN_LEN: usize = 8;
/// Authentication header: 4 fixed bytes, client id, authenticator, 8-byte nonce, confirmation.
const TEREDO_AUTH_FIXED_LEN: usize = 4 + 8 + 1;
const IPV6_NO_NEXT_HEADER: u8 = 59;

/// The encapsulated packet and how to read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inner<'a> {
    Ip(&'a [u8]),
    Ethernet(&'a [u8]),
    Ppp(&'a [u8]),
}

/// Does this IP packet carry a tunnel? Fragments must be reassembled first.
pub(crate) fn detect<'a>(ip: &IpPacket<'a>) -> Option<(Tunnel, Inner<'a>)> {
    match ip.protocol {
        PROTO_IPIP | PROTO_IPV6_IN_IP => Some((Tunnel::IpInIp, Inner::Ip(ip.payload))),
        PROTO_GRE => gre(ip.payload).map(|inner| (Tunnel::Gre, inner)),
        PROTO_UDP => {
            let (src, dst) = udp_ports(ip.payload)?;
            let data = udp_data(ip.payload);
            if src == VXLAN_PORT || dst == VXLAN_PORT {
                vxlan(data).map(|inner| (Tunnel::Vxlan, inner))
            } else if src == TEREDO_PORT || dst == TEREDO_PORT {
                teredo(data).map(|inner| (Tunnel::Teredo, Inner::Ip(inner)))
            } else {
                None
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

/// Teredo (RFC 4380) as Zeek validates it: at most one authentication header, then at most
/// one origin indication, then an IPv6 header whose payload length matches the rest exactly
/// (a bubble, with no next header and length 0, may have trailing bytes).
fn teredo(mut data: &[u8]) -> Option<&[u8]> {
    let mut seen_auth = false;
    let mut seen_origin = false;
    // Two headers at most, then the IPv6 packet.
    for _ in 0..3 {
        let tag = be16(data, 0)?;
        if tag == TEREDO_AUTHENTICATION && !seen_auth && !seen_origin {
            let id_len = usize::from(u8_at(data, 2)?);
            let auth_len = usize::from(u8_at(data, 3)?);
            let total = TEREDO_AUTH_FIXED_LEN + id_len + auth_len;
            if data.len() < total {
                return None;
            }
            data = rest(data, total);
            seen_auth = true;
        } else if tag == TEREDO_ORIGIN_INDICATION && !seen_origin {
            if data.len() < TEREDO_ORIGIN_LEN {
                return None;
            }
            data = rest(data, TEREDO_ORIGIN_LEN);
            seen_origin = true;
        } else if tag >> 12 == 6 {
            return valid_teredo_ipv6(data).then_some(data);
        } else {
            return None;
        }
    }
    None
}

fn valid_teredo_ipv6(packet: &[u8]) -> bool {
    let header_len = IPV6_HEADER_LEN as usize;
    let (Some(payload_len), Some(next_header)) = (be16(packet, 4), u8_at(packet, 6)) else {
        return false;
    };
    if packet.len() < header_len {
        return false;
    }
    let expected = header_len + usize::from(payload_len);
    match expected.cmp(&packet.len()) {
        std::cmp::Ordering::Equal => true,
        std::cmp::Ordering::Less => next_header == IPV6_NO_NEXT_HEADER && payload_len == 0,
        std::cmp::Ordering::Greater => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv6_packet(payload_len: u16, next: u8, body: usize) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&payload_len.to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&[0; 32]);
        p.extend(std::iter::repeat_n(0u8, body));
        p
    }

    #[test]
    fn teredo_plain_origin_and_auth() {
        let ip = ipv6_packet(8, 17, 8);
        assert_eq!(teredo(&ip), Some(&ip[..]));
        let mut with_origin = vec![0, 0, 1, 2, 3, 4, 5, 6];
        with_origin.extend_from_slice(&ip);
        assert_eq!(teredo(&with_origin), Some(&ip[..]));
        // Auth (id 1 byte, auth 0 bytes) then origin then IPv6.
        let mut with_auth = vec![0, 1, 1, 0, 0xaa];
        with_auth.extend_from_slice(&[0; 9]);
        with_auth.extend_from_slice(&with_origin);
        assert_eq!(teredo(&with_auth), Some(&ip[..]));
    }

    #[test]
    fn teredo_rejects_length_mismatch_and_repeats() {
        assert_eq!(teredo(&ipv6_packet(9, 17, 8)), None);
        assert_eq!(teredo(&ipv6_packet(0, 17, 8)), None);
        // Bubble with trailing bytes is fine.
        assert!(teredo(&ipv6_packet(0, IPV6_NO_NEXT_HEADER, 4)).is_some());
        let mut twice = vec![0u8; 16];
        twice.extend_from_slice(&ipv6_packet(0, IPV6_NO_NEXT_HEADER, 0));
        assert_eq!(teredo(&twice), None);
        assert_eq!(teredo(&[0x45, 0, 0, 20]), None);
    }

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
