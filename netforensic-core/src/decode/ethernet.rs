//! Ethernet II and what an ethertype can lead to before IP: 802.1Q / 802.1ad / legacy QinQ
//! tags (any stacking, bounded), PPPoE sessions and MPLS label stacks.

use super::bytes::{be16, be32, rest};
use super::link::Network;
use super::ppp;
use etherparse::{Ethernet2HeaderSlice, SingleVlanHeaderSlice};

pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Pre-standard QinQ tag some switches still emit.
const ETHERTYPE_QINQ_LEGACY: u16 = 0x9100;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;

/// Link-layer headers (tags, PPPoE, MPLS labels) walked before giving up: real traffic has
/// at most a handful, and the bound keeps hostile frames from costing more than a few steps.
const MAX_LINK_HEADERS: usize = 16;

/// PPPoE session header: version/type, code, session id, length.
const PPPOE_HEADER_LEN: usize = 6;
/// Type/length values up to this are 802.3 lengths, not ethertypes.
const MAX_802_3_LENGTH: u16 = 1500;
/// LLC (3 bytes) plus SNAP (OUI and ethertype, 5 bytes).
const LLC_SNAP_LEN: usize = 8;
/// Each MPLS label stack entry.
const MPLS_LABEL_LEN: usize = 4;

/// Ethernet II header length (two MACs and the ethertype).
const ETHERNET_HEADER_LEN: usize = 14;
/// An 802.1Q tag: TCI (priority, DEI, VLAN id) and the next ethertype.
const VLAN_TAG_LEN: usize = 4;
const VLAN_ID_MASK: u16 = 0x0fff;

/// The common frame without the general machinery: Ethernet II straight to IPv4 / IPv6, or
/// through one 802.1Q tag. Gives the IP bytes and the VLAN id exactly as [`decode`] does for
/// the same frame (a test compares the two); anything else is `None` and goes the general way.
#[inline]
pub(crate) fn plain(frame: &[u8]) -> Option<(&[u8], Option<u16>)> {
    let (header, payload) = frame.split_first_chunk::<ETHERNET_HEADER_LEN>()?;
    let [.., type_high, type_low] = *header;
    match u16::from_be_bytes([type_high, type_low]) {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Some((payload, None)),
        ETHERTYPE_VLAN => {
            let (tag, inner) = payload.split_first_chunk::<VLAN_TAG_LEN>()?;
            let [tci_high, tci_low, type_high, type_low] = *tag;
            match u16::from_be_bytes([type_high, type_low]) {
                ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Some((
                    inner,
                    Some(u16::from_be_bytes([tci_high, tci_low]) & VLAN_ID_MASK),
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Decode an Ethernet II frame (no FCS expected; a trailing FCS is cut by the IP length).
pub(crate) fn decode<'a>(frame: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    match Ethernet2HeaderSlice::from_slice(frame) {
        Ok(header) => {
            let payload = rest(frame, header.slice().len());
            let ether_type = header.ether_type().0;
            if ether_type <= MAX_802_3_LENGTH {
                return ieee802_3_snap(payload, vlan);
            }
            by_ether_type(ether_type, payload, vlan)
        }
        Err(_) => Network::Malformed,
    }
}

/// An IEEE 802.3 frame (length instead of ethertype): IP only behind an LLC/SNAP header
/// (DSAP/SSAP 0xAA, UI control, OUI 0) that names an ethertype.
fn ieee802_3_snap<'a>(payload: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    match payload {
        [0xAA, 0xAA, 0x03, 0, 0, 0, high, low, ..] => by_ether_type(
            u16::from_be_bytes([*high, *low]),
            rest(payload, LLC_SNAP_LEN),
            vlan,
        ),
        _ => Network::NotIp,
    }
}

/// Follow an ethertype (and the tags it may lead to) to the IP packet, recording the
/// outermost VLAN id.
pub(crate) fn by_ether_type<'a>(
    mut ether_type: u16,
    mut payload: &'a [u8],
    vlan: &mut Option<u16>,
) -> Network<'a> {
    for _ in 0..MAX_LINK_HEADERS {
        match ether_type {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => return Network::Ip(payload),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_LEGACY => {
                let Ok(tag) = SingleVlanHeaderSlice::from_slice(payload) else {
                    return Network::Malformed;
                };
                if vlan.is_none() {
                    *vlan = Some(tag.vlan_identifier().value());
                }
                ether_type = tag.ether_type().0;
                payload = rest(payload, tag.slice().len());
            }
            ETHERTYPE_PPPOE_SESSION => return pppoe_session(payload),
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => return mpls(payload),
            _ => return Network::NotIp,
        }
    }
    Network::Malformed
}

/// A PPPoE session frame: 6-byte header, then a PPP protocol field and the PPP payload.
pub(crate) fn pppoe_session(frame: &[u8]) -> Network<'_> {
    // Version 1, type 1, code 0 (session data).
    match (frame.first(), frame.get(1)) {
        (Some(0x11), Some(0x00)) => {}
        (Some(_), Some(_)) => return Network::NotIp,
        _ => return Network::Malformed,
    }
    // The PPPoE length bounds the PPP frame (Ethernet padding follows it).
    let Some(length) = be16(frame, 4) else {
        return Network::Malformed;
    };
    let body = rest(frame, PPPOE_HEADER_LEN);
    let body = body.get(..usize::from(length)).unwrap_or(body);
    ppp::by_protocol_field(body)
}

/// An MPLS label stack: skip labels to the bottom of the stack, then the payload is IP if its
/// first nibble says so (MPLS carries no payload type).
fn mpls(mut payload: &[u8]) -> Network<'_> {
    for _ in 0..MAX_LINK_HEADERS {
        let Some(entry) = be32(payload, 0) else {
            return Network::Malformed;
        };
        payload = rest(payload, MPLS_LABEL_LEN);
        let bottom_of_stack = entry & 0x100 != 0;
        if bottom_of_stack {
            return match payload.first().map(|b| b >> 4) {
                Some(4 | 6) => Network::Ip(payload),
                Some(_) => Network::NotIp,
                None => Network::Malformed,
            };
        }
    }
    Network::Malformed
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACS: [u8; 12] = [0; 12];

    fn frame(parts: &[&[u8]]) -> Vec<u8> {
        let mut v = MACS.to_vec();
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    }

    #[test]
    fn plain_ipv4() {
        let f = frame(&[&[0x08, 0x00], &[0x45, 0x00]]);
        let mut vlan = None;
        assert_eq!(decode(&f, &mut vlan), Network::Ip(&[0x45, 0x00]));
        assert_eq!(vlan, None);
    }

    #[test]
    fn triple_tags_keep_outermost_vlan() {
        let f = frame(&[
            &[0x88, 0xa8, 0x00, 0x05],
            &[0x81, 0x00, 0x00, 0x07],
            &[0x81, 0x00, 0x00, 0x09],
            &[0x86, 0xdd, 0x60],
        ]);
        let mut vlan = None;
        assert_eq!(decode(&f, &mut vlan), Network::Ip(&[0x60]));
        assert_eq!(vlan, Some(5));
    }

    #[test]
    fn endless_tags_stop() {
        let mut parts: Vec<&[u8]> = Vec::new();
        for _ in 0..40 {
            parts.push(&[0x81, 0x00, 0x00, 0x01]);
        }
        let f = frame(&parts);
        assert_eq!(decode(&f, &mut None), Network::Malformed);
    }

    #[test]
    fn pppoe_session_to_ipv4() {
        let f = frame(&[&[
            0x88, 0x64, 0x11, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x21, 0x45, 0x00, 0xff,
        ]]);
        // Length 4 covers the PPP protocol and two bytes; the trailing 0xff is padding.
        assert_eq!(decode(&f, &mut None), Network::Ip(&[0x45, 0x00]));
    }

    #[test]
    fn pppoe_discovery_is_not_ip() {
        let f = frame(&[&[0x88, 0x63, 0x11, 0x09, 0x00, 0x00]]);
        assert_eq!(decode(&f, &mut None), Network::NotIp);
    }

    #[test]
    fn ieee802_3_with_snap() {
        let f = frame(&[&[0x00, 0x30, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45]]);
        assert_eq!(decode(&f, &mut None), Network::Ip(&[0x45]));
        let stp = frame(&[&[0x00, 0x26, 0x42, 0x42, 0x03, 0, 0]]);
        assert_eq!(decode(&stp, &mut None), Network::NotIp);
    }

    #[test]
    fn mpls_bottom_of_stack() {
        let f = frame(&[&[0x88, 0x47, 0, 0, 0x10, 0x40, 0, 0, 0x21, 0x40, 0x45]]);
        assert_eq!(decode(&f, &mut None), Network::Ip(&[0x45]));
    }

    mod plain_equals_general {
        use super::super::{decode, plain};
        use crate::decode::link::Network;
        use proptest::prelude::*;

        /// Frames around the fast path's edges: the ethertypes it takes and their neighbours,
        /// tags of every kind, lengths that cut the header or the tag.
        fn frame() -> impl Strategy<Value = Vec<u8>> {
            let ether_type = prop_oneof![
                Just(0x0800u16),
                Just(0x86DD),
                Just(0x8100),
                Just(0x88A8),
                Just(0x9100),
                Just(0x0806),
                Just(0x8864),
                Just(0x8847),
                Just(0x0030),
                any::<u16>()
            ];
            (
                ether_type.clone(),
                ether_type,
                any::<u16>(),
                proptest::collection::vec(any::<u8>(), 0..40),
                0usize..40,
            )
                .prop_map(|(outer, inner, tci, rest, cut)| {
                    let mut f = vec![0xAB; 12];
                    f.extend_from_slice(&outer.to_be_bytes());
                    f.extend_from_slice(&tci.to_be_bytes());
                    f.extend_from_slice(&inner.to_be_bytes());
                    f.extend_from_slice(&rest);
                    f.truncate(f.len().saturating_sub(cut % 24));
                    f
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]
            /// The fast path answers only where it agrees with the general one.
            #[test]
            fn on_any_frame(f in frame()) {
                if let Some((ip, vlan)) = plain(&f) {
                    let mut general_vlan = None;
                    prop_assert_eq!(decode(&f, &mut general_vlan), Network::Ip(ip));
                    prop_assert_eq!(general_vlan, vlan);
                }
            }
        }

        #[test]
        fn takes_the_common_cases() {
            let mut f = vec![0; 12];
            f.extend_from_slice(&[0x08, 0x00, 0x45]);
            assert_eq!(plain(&f), Some((&[0x45][..], None)));
            let mut f = vec![0; 12];
            f.extend_from_slice(&[0x81, 0x00, 0xe0, 0x07, 0x86, 0xdd, 0x60]);
            assert_eq!(plain(&f), Some((&[0x60][..], Some(7))));
        }
    }

    #[test]
    fn arp_is_not_ip_and_short_is_malformed() {
        assert_eq!(decode(&frame(&[&[0x08, 0x06]]), &mut None), Network::NotIp);
        assert_eq!(decode(&MACS, &mut None), Network::Malformed);
        let f = frame(&[&[0x81, 0x00, 0x00]]);
        assert_eq!(decode(&f, &mut None), Network::Malformed);
    }
}
