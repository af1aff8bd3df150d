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

/// Whether a packet of this IP protocol may carry a tunnel: [`detect`] finds none in the
/// others.
#[inline]
pub(crate) fn may_carry(protocol: u8) -> bool {
    matches!(
        protocol,
        PROTO_IPIP | PROTO_IPV6_IN_IP | PROTO_GRE | PROTO_UDP
    )
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
                // The tests are pure: cheapest first, the connection key only built when
                // connections are known to carry Teredo.
                let session = || teredo::SessionKey::new(ip.src, src, ip.dst, dst);
                let candidate = src == TEREDO_PORT
                    || dst == TEREDO_PORT
                    || teredo::looks_like_teredo(data)
                    || (!sessions.is_empty() && sessions.contains(&session()));
                if !candidate {
                    return None;
                }
                let inner = teredo::parse(data)?;
                sessions.remember(session());
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

    mod fast_rejection_equals_general {
        use super::super::{detect, may_carry, udp_data, vxlan, IpPacket, Tunnel};
        use super::super::{Inner, TEREDO_PORT, VXLAN_PORT};
        use crate::decode::bytes::{be16, u8_at};
        use crate::decode::teredo::{self, SessionKey, TeredoSessions};
        use proptest::prelude::*;
        use std::net::IpAddr;

        /// Zeek's detection shape as first written (every test in order, no early exit).
        fn looks_like_teredo_general(data: &[u8]) -> bool {
            let ipv6_version = |at: usize| u8_at(data, at).is_some_and(|b| b >> 4 == 6);
            if data.len() == 40 && ipv6_version(0) {
                let prefixed = |at: usize| data.get(at..at + 4) == Some(&[0x20, 1, 0, 0][..]);
                return prefixed(8) || prefixed(24);
            }
            let mut at = 0;
            if u8_at(data, 0) == Some(0) && u8_at(data, 1) == Some(1) {
                let (Some(id_len), Some(auth_len)) = (u8_at(data, 2), u8_at(data, 3)) else {
                    return false;
                };
                at = 13 + usize::from(id_len) + usize::from(auth_len);
            }
            if be16(data, at) == Some(0) {
                let ip_at = at + 8;
                return data.len() >= ip_at + 40 && ipv6_version(ip_at);
            }
            false
        }

        /// The UDP branch of `detect` as first written: the connection key always built and
        /// looked up before the payload's shape.
        fn detect_general<'a>(
            ip: &IpPacket<'a>,
            sessions: &mut TeredoSessions,
        ) -> Option<(Tunnel, Inner<'a>)> {
            if ip.protocol != 17 {
                return detect(ip, sessions);
            }
            let src = be16(ip.payload, 0)?;
            let dst = be16(ip.payload, 2)?;
            let data = udp_data(ip.payload);
            if src == VXLAN_PORT || dst == VXLAN_PORT {
                return vxlan(data).map(|inner| (Tunnel::Vxlan, inner));
            }
            let session = SessionKey::new(ip.src, src, ip.dst, dst);
            let candidate = src == TEREDO_PORT
                || dst == TEREDO_PORT
                || sessions.contains(&session)
                || looks_like_teredo_general(data);
            if !candidate {
                return None;
            }
            let inner = teredo::parse(data)?;
            sessions.remember(session);
            Some((Tunnel::Teredo, Inner::Ip(inner)))
        }

        fn port() -> impl Strategy<Value = u16> {
            // 0 and the IP ethertypes make GRE headers (flags, protocol) of the ports.
            prop_oneof![
                Just(3544u16),
                Just(4789),
                Just(53),
                Just(0),
                Just(0x0800),
                Just(0x86DD),
                any::<u16>()
            ]
        }

        /// A UDP payload: Teredo shapes (bubble, authentication, origin indication, bare
        /// IPv6) and their near misses.
        fn data() -> impl Strategy<Value = Vec<u8>> {
            let start = prop_oneof![
                Just(vec![0x60u8]),
                Just(vec![0, 0]),
                Just(vec![0, 1, 0, 0]),
                Just(vec![0, 1, 1, 2]),
                Just(vec![0]),
                Just(vec![]),
            ];
            (
                start,
                proptest::collection::vec(
                    prop_oneof![Just(0u8), Just(0x60), Just(0x20), Just(1), any::<u8>()],
                    0..90,
                ),
                any::<bool>(),
            )
                .prop_map(|(mut d, rest, bubble)| {
                    d.extend_from_slice(&rest);
                    if bubble {
                        d.resize(40, 0);
                        d[0] = 0x60;
                        d[24..28].copy_from_slice(&[0x20, 1, 0, 0]);
                    }
                    d
                })
        }

        fn packet() -> impl Strategy<Value = (u8, u16, u16, u16, Vec<u8>, bool, bool)> {
            let protocol = prop_oneof![
                Just(17u8),
                Just(6),
                Just(4),
                Just(41),
                Just(47),
                any::<u8>()
            ];
            let length = prop_oneof![Just(0u16), 0..100u16, any::<u16>()];
            (
                protocol,
                port(),
                port(),
                length,
                data(),
                any::<bool>(),
                any::<bool>(),
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]
            /// The reordered Teredo tests and the protocol filter decide as the general path
            /// does, and leave the same connections remembered.
            #[test]
            fn on_any_packet((protocol, src, dst, length, data, known, v6) in packet()) {
                let mut payload = Vec::new();
                payload.extend_from_slice(&src.to_be_bytes());
                payload.extend_from_slice(&dst.to_be_bytes());
                payload.extend_from_slice(&length.to_be_bytes());
                payload.extend_from_slice(&[0, 0]);
                payload.extend_from_slice(&data);
                let (a, b): (IpAddr, IpAddr) = if v6 {
                    ("2001::1".parse().unwrap(), "2001::2".parse().unwrap())
                } else {
                    ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap())
                };
                let ip = IpPacket {
                    src: a,
                    dst: b,
                    ttl: 64,
                    protocol,
                    ip_len: 20 + payload.len() as u32,
                    payload: &payload,
                    payload_len: payload.len() as u32,
                    fragment: None,
                };
                let (mut fast, mut general) = (TeredoSessions::default(), TeredoSessions::default());
                let key = SessionKey::new(a, src, b, dst);
                let other = SessionKey::new(a, 1, b, 2);
                for sessions in [&mut fast, &mut general] {
                    sessions.remember(other);
                    if known {
                        sessions.remember(key);
                    }
                }
                let found = detect(&ip, &mut fast);
                prop_assert_eq!(found, detect_general(&ip, &mut general));
                prop_assert_eq!(fast.contains(&key), general.contains(&key));
                if !may_carry(protocol) {
                    prop_assert_eq!(found, None);
                }
                prop_assert_eq!(
                    teredo::looks_like_teredo(&data),
                    looks_like_teredo_general(&data)
                );
            }
        }
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
