//! IEEE 802.11 data frames (link type 105) and the radiotap header in front of them (127).
//! Only unprotected data frames carrying LLC/SNAP with an IP ethertype lead to IP;
//! management, control, null-data and encrypted frames are not IP.

use super::bytes::{be32, le16, le32, rest, u8_at};
use super::ethernet;
use super::link::Network;

const BASE_HEADER_LEN: usize = 24;
/// Fourth address, present when both To-DS and From-DS are set (WDS).
const ADDR4_LEN: usize = 6;
const QOS_CONTROL_LEN: usize = 2;
const HT_CONTROL_LEN: usize = 4;
const LLC_SNAP_LEN: usize = 8;
/// Prism and AVS headers hold at least their code/version and length fields.
const MONITOR_HEADER_MIN_LEN: usize = 8;

const TYPE_DATA: u8 = 2;
/// Subtype bits of data frames.
const SUBTYPE_NULL_BIT: u8 = 0x4;
const SUBTYPE_QOS_BIT: u8 = 0x8;
/// Frame-control flag bits (second byte).
const FLAG_TO_DS: u8 = 0x01;
const FLAG_FROM_DS: u8 = 0x02;
const FLAG_PROTECTED: u8 = 0x40;
const FLAG_ORDER: u8 = 0x80;
/// QoS control bit saying the body is an A-MSDU (several subframes), not one LLC packet.
const QOS_AMSDU_BIT: u8 = 0x80;

/// LLC SNAP header: DSAP, SSAP, control, then an OUI of RFC 1042 or bridge-tunnel encapsulation.
const LLC_SNAP_PREFIX: [u8; 3] = [0xAA, 0xAA, 0x03];
const OUI_RFC1042: [u8; 3] = [0x00, 0x00, 0x00];
const OUI_BRIDGE_TUNNEL: [u8; 3] = [0x00, 0x00, 0xF8];

/// Radiotap: presence-bitmap words that may follow each other (bit 31 = another word); the
/// bound stops a hostile header from chaining words forever.
const MAX_RADIOTAP_PRESENT_WORDS: usize = 16;
const RADIOTAP_EXT_BIT: u32 = 1 << 31;
const RADIOTAP_TSFT_BIT: u32 = 1 << 0;
const RADIOTAP_FLAGS_BIT: u32 = 1 << 1;
/// Radiotap flags: padding between the 802.11 header and the body to a 4-byte boundary.
const RADIOTAP_FLAG_DATA_PAD: u8 = 0x20;

pub(crate) fn decode<'a>(frame: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    decode_with_padding(frame, false, vlan)
}

/// Prism monitor header (link type 119): message code, then its own length (host order,
/// little-endian in practice), then an 802.11 frame.
pub(crate) fn decode_prism<'a>(frame: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    skip_length_prefixed(frame, le32(frame, 4), vlan)
}

/// AVS monitor header (link type 163): version, then its length (big-endian), then 802.11.
pub(crate) fn decode_avs<'a>(frame: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    skip_length_prefixed(frame, be32(frame, 4), vlan)
}

/// Skip a monitor header whose length field says where the 802.11 frame starts.
fn skip_length_prefixed<'a>(
    frame: &'a [u8],
    length: Option<u32>,
    vlan: &mut Option<u16>,
) -> Network<'a> {
    match length.and_then(|l| usize::try_from(l).ok()) {
        Some(length) if length >= MONITOR_HEADER_MIN_LEN && length <= frame.len() => {
            decode_with_padding(rest(frame, length), false, vlan)
        }
        _ => Network::Malformed,
    }
}

/// Radiotap header, then an 802.11 frame.
pub(crate) fn decode_radiotap<'a>(frame: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    let (Some(0), Some(length)) = (u8_at(frame, 0), le16(frame, 2)) else {
        return Network::Malformed;
    };
    let length = usize::from(length);
    if length < 8 || length > frame.len() {
        return Network::Malformed;
    }
    let padded = radiotap_flags(frame.get(..length).unwrap_or(&[]))
        .is_some_and(|flags| flags & RADIOTAP_FLAG_DATA_PAD != 0);
    decode_with_padding(rest(frame, length), padded, vlan)
}

/// The radiotap Flags field, if present: it sits after the presence words and the optional
/// 8-byte-aligned TSFT field.
fn radiotap_flags(header: &[u8]) -> Option<u8> {
    let first = le32(header, 4)?;
    let mut at = 8;
    let mut word = first;
    for _ in 0..MAX_RADIOTAP_PRESENT_WORDS {
        if word & RADIOTAP_EXT_BIT == 0 {
            break;
        }
        word = le32(header, at)?;
        at += 4;
    }
    if first & RADIOTAP_FLAGS_BIT == 0 {
        return None;
    }
    if first & RADIOTAP_TSFT_BIT != 0 {
        at = at.checked_add(7)? & !7;
        at = at.checked_add(8)?;
    }
    u8_at(header, at)
}

fn decode_with_padding<'a>(frame: &'a [u8], padded: bool, vlan: &mut Option<u16>) -> Network<'a> {
    let (Some(control), Some(flags)) = (u8_at(frame, 0), u8_at(frame, 1)) else {
        return Network::Malformed;
    };
    let frame_type = (control >> 2) & 0x3;
    let subtype = control >> 4;
    if frame_type != TYPE_DATA || subtype & SUBTYPE_NULL_BIT != 0 {
        return Network::NotIp;
    }
    if flags & FLAG_PROTECTED != 0 {
        return Network::NotIp;
    }
    let mut header_len = BASE_HEADER_LEN;
    if flags & FLAG_TO_DS != 0 && flags & FLAG_FROM_DS != 0 {
        header_len += ADDR4_LEN;
    }
    if subtype & SUBTYPE_QOS_BIT != 0 {
        let Some(qos) = u8_at(frame, header_len) else {
            return Network::Malformed;
        };
        if qos & QOS_AMSDU_BIT != 0 {
            return Network::NotIp;
        }
        header_len += QOS_CONTROL_LEN;
        if flags & FLAG_ORDER != 0 {
            header_len += HT_CONTROL_LEN;
        }
    }
    if padded {
        header_len = (header_len + 3) & !3;
    }
    let body = rest(frame, header_len);
    if frame.len() < header_len || body.len() < LLC_SNAP_LEN {
        return Network::Malformed;
    }
    let (Some(prefix), Some(oui)) = (body.get(..3), body.get(3..6)) else {
        return Network::Malformed;
    };
    if prefix != LLC_SNAP_PREFIX || (oui != OUI_RFC1042 && oui != OUI_BRIDGE_TUNNEL) {
        return Network::NotIp;
    }
    match (body.get(6), body.get(7)) {
        (Some(&high), Some(&low)) => {
            let ether_type = u16::from_be_bytes([high, low]);
            ethernet::by_ether_type(ether_type, rest(body, LLC_SNAP_LEN), vlan)
        }
        _ => Network::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_frame(control: u8, flags: u8, extra: &[u8]) -> Vec<u8> {
        let mut f = vec![control, flags];
        f.extend_from_slice(&[0; 22]);
        f.extend_from_slice(extra);
        f
    }

    const SNAP_IPV4: [u8; 9] = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45];

    #[test]
    fn plain_data_frame() {
        let f = data_frame(0x08, FLAG_FROM_DS, &SNAP_IPV4);
        assert_eq!(decode(&f, &mut None), Network::Ip(&[0x45]));
    }

    #[test]
    fn qos_data_frame() {
        let mut extra = vec![0x00, 0x00];
        extra.extend_from_slice(&SNAP_IPV4);
        let f = data_frame(0x88, FLAG_TO_DS, &extra);
        assert_eq!(decode(&f, &mut None), Network::Ip(&[0x45]));
    }

    #[test]
    fn protected_management_and_null_are_not_ip() {
        assert_eq!(
            decode(&data_frame(0x08, FLAG_PROTECTED, &SNAP_IPV4), &mut None),
            Network::NotIp
        );
        assert_eq!(
            decode(&data_frame(0x80, 0, &SNAP_IPV4), &mut None),
            Network::NotIp
        );
        assert_eq!(decode(&data_frame(0x48, 0, &[]), &mut None), Network::NotIp);
        assert_eq!(decode(&[0x08], &mut None), Network::Malformed);
    }

    #[test]
    fn radiotap_wrapped() {
        // Version 0, length 8, no fields present.
        let mut f = vec![0, 0, 8, 0, 0, 0, 0, 0];
        f.extend(data_frame(0x08, 0, &SNAP_IPV4));
        assert_eq!(decode_radiotap(&f, &mut None), Network::Ip(&[0x45]));
        assert_eq!(decode_radiotap(&f[..6], &mut None), Network::Malformed);
    }

    #[test]
    fn prism_and_avs_headers() {
        let mut prism = vec![0x41, 0, 0, 0, 16, 0, 0, 0];
        prism.extend_from_slice(&[0; 8]);
        prism.extend(data_frame(0x08, 0, &SNAP_IPV4));
        assert_eq!(decode_prism(&prism, &mut None), Network::Ip(&[0x45]));
        let mut avs = vec![0x80, 0x21, 0x10, 0x01, 0, 0, 0, 8];
        avs.extend(data_frame(0x08, 0, &SNAP_IPV4));
        assert_eq!(decode_avs(&avs, &mut None), Network::Ip(&[0x45]));
        assert_eq!(decode_avs(&avs[..6], &mut None), Network::Malformed);
        assert_eq!(
            decode_prism(&[0, 0, 0, 0, 0xff, 0, 0, 0], &mut None),
            Network::Malformed
        );
    }

    #[test]
    fn radiotap_flags_after_tsft() {
        // Present: TSFT + Flags; TSFT at 8 (aligned), flags at 16.
        let mut h = vec![0, 0, 17, 0, 0x03, 0, 0, 0];
        h.extend_from_slice(&[0; 8]);
        h.push(RADIOTAP_FLAG_DATA_PAD);
        assert_eq!(radiotap_flags(&h), Some(RADIOTAP_FLAG_DATA_PAD));
    }
}
