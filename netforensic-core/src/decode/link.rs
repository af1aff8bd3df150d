//! Link-layer dispatch: from a capture's link type to the start of the network-layer packet.
//! Each link type lives in its own file; this one only routes and states the shared result.

use super::{ethernet, ieee80211, loopback, nflog, pktap, ppp, sll, PktapInfo};
use crate::capture::LinkType;

/// What the link layer carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Network<'a> {
    /// An IP packet (version taken from its first nibble), starting at the slice's start.
    Ip(&'a [u8]),
    /// Something that is not IP (ARP, LLDP, 802.11 management, PPP control, ...).
    NotIp,
    /// The link headers were cut short or inconsistent.
    Malformed,
    /// A link type we do not decode.
    Unsupported,
}

/// The network-layer packet plus link metadata worth keeping.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link<'a> {
    pub network: Network<'a>,
    /// Outermost 802.1Q/802.1ad VLAN id.
    pub vlan: Option<u16>,
    pub pktap: Option<PktapInfo<'a>>,
}

impl<'a> Link<'a> {
    fn plain(network: Network<'a>) -> Self {
        Link {
            network,
            vlan: None,
            pktap: None,
        }
    }
}

/// Decode the link layer of one frame.
pub(crate) fn decode(link_type: LinkType, data: &[u8]) -> Link<'_> {
    match link_type.0 {
        // PKTAP wraps another link type; the wrapped one may not be PKTAP again.
        149 | 258 => match pktap::decode(data) {
            Some((info, inner_type, inner)) => {
                let mut link = decode_plain(inner_type, inner);
                link.pktap = Some(info);
                link
            }
            None => Link::plain(Network::Malformed),
        },
        _ => decode_plain(link_type, data),
    }
}

/// Every link type except PKTAP.
fn decode_plain(link_type: LinkType, data: &[u8]) -> Link<'_> {
    let mut vlan = None;
    let network = match link_type.0 {
        1 => ethernet::decode(data, &mut vlan),
        101 | 228 | 229 => raw_ip(data),
        // 12 and 14 are raw IP in files, but some writers put OpenBSD's DLT_LOOP (12) there
        // unmapped: a loopback header starts with a zero byte, which no IP packet does.
        12 | 14 => match raw_ip(data) {
            Network::NotIp => loopback::decode(data),
            network => network,
        },
        0 | 108 => loopback::decode(data),
        9 | 50 => ppp::decode_frame(data, &mut vlan),
        51 => ppp::decode_pppoe(data, &mut vlan),
        105 => ieee80211::decode(data, &mut vlan),
        127 => ieee80211::decode_radiotap(data, &mut vlan),
        119 => ieee80211::decode_prism(data, &mut vlan),
        163 => ieee80211::decode_avs(data, &mut vlan),
        113 => sll::decode_v1(data, &mut vlan),
        276 => sll::decode_v2(data, &mut vlan),
        239 => nflog::decode(data),
        _ => Network::Unsupported,
    };
    Link {
        network,
        vlan,
        pktap: None,
    }
}

/// A link type whose frames are bare IP packets.
fn raw_ip(data: &[u8]) -> Network<'_> {
    match data.first().map(|b| b >> 4) {
        Some(4 | 6) => Network::Ip(data),
        Some(_) => Network::NotIp,
        None => Network::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ip_checks_the_version() {
        assert_eq!(raw_ip(&[0x45, 0]), Network::Ip(&[0x45, 0]));
        assert_eq!(raw_ip(&[0x60]), Network::Ip(&[0x60]));
        assert_eq!(raw_ip(&[0x00]), Network::NotIp);
        assert_eq!(raw_ip(&[]), Network::Malformed);
    }

    #[test]
    fn link_type_12_may_be_openbsd_loopback() {
        let link = decode(LinkType(12), &[0, 0, 0, 2, 0x45]);
        assert_eq!(link.network, Network::Ip(&[0x45]));
        let link = decode(LinkType(12), &[0x45, 0]);
        assert_eq!(link.network, Network::Ip(&[0x45, 0]));
    }

    #[test]
    fn unknown_link_type_is_unsupported() {
        let link = decode(LinkType(1240), &[1, 2, 3]);
        assert_eq!(link.network, Network::Unsupported);
    }
}
