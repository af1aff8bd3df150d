//! The IP layer on etherparse's lax slicing: addresses, the lengths Zeek counts, the payload
//! after IPv4 options / AH and the IPv6 extension-header chain, and fragment identity.

use etherparse::{Ipv6ExtensionSlice, LaxIpSlice, LenSource};
use std::net::IpAddr;

/// Fixed IPv6 header length.
pub(crate) const IPV6_HEADER_LEN: u32 = 40;
/// IPv6 fragment extension header length.
const IPV6_FRAGMENT_HEADER_LEN: usize = 8;

/// Where a fragment belongs and where its data goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FragmentInfo {
    pub id: u32,
    /// Byte offset of this fragment's data in the reassembled payload.
    pub offset: u32,
    pub more: bool,
    /// Bytes of header that precede the fragmentable part (IPv4 header; IPv6 header plus the
    /// extension headers before the fragment header): the reassembled packet keeps them.
    pub unfragmentable_len: u32,
}

/// One decoded IP header and what follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// The upper-layer protocol after extension headers (for a fragment: of its data).
    pub protocol: u8,
    /// IPv4 total length, or IPv6 payload length + 40: what Zeek sums into `*_ip_bytes`.
    pub ip_len: u32,
    /// Captured bytes after the headers.
    pub payload: &'a [u8],
    /// Payload length as the headers state it (larger than `payload` when snaplen cut it).
    pub payload_len: u32,
    pub fragment: Option<FragmentInfo>,
}

/// Decode an IP packet. `None` when there is no usable IP header (wrong version, header cut
/// short, IHL below 5, an IPv6 extension header chain that breaks off).
#[inline]
pub(crate) fn parse(bytes: &[u8]) -> Option<IpPacket<'_>> {
    plain(bytes).or_else(|| parse_any(bytes))
}

/// The IPv4 protocol number of an Authentication Header (etherparse reads it as part of the
/// IP layer).
const PROTO_AH: u8 = 51;
/// IPv4 flags/fragment-offset bits that make a packet a fragment (MF and the offset).
const IPV4_FRAGMENTING: u16 = 0x3fff;

/// The common case without etherparse's general machinery (most packets, so most of the
/// decoding time): an IPv4 header without options that is not a fragment and carries no AH,
/// or an IPv6 header followed directly by TCP, UDP or ICMPv6. The result is exactly what
/// [`parse_any`] gives for the same bytes (a test compares the two); anything else is `None`
/// and goes the general way.
#[inline(always)]
pub(crate) fn plain(bytes: &[u8]) -> Option<IpPacket<'_>> {
    use super::bytes::{array, be16};
    match bytes.first()? {
        0x45 => {
            let header: [u8; 20] = array(bytes, 0)?;
            let [_, _, _, _, _, _, _, _, ttl, protocol, ..] = header;
            if be16(&header, 6)? & IPV4_FRAGMENTING != 0 || protocol == PROTO_AH {
                return None;
            }
            let total_len = usize::from(be16(&header, 2)?);
            // As in `parse_any`: a total length below the header (0 with segmentation
            // offload) is not a length, the frame is.
            let ip_len = if total_len >= 20 {
                total_len
            } else {
                bytes.len()
            };
            let end = if total_len >= 20 {
                total_len.min(bytes.len())
            } else {
                bytes.len()
            };
            let [s0, s1, s2, s3, d0, d1, d2, d3] = array(bytes, 12)?;
            Some(IpPacket {
                src: IpAddr::from([s0, s1, s2, s3]),
                dst: IpAddr::from([d0, d1, d2, d3]),
                ttl,
                protocol,
                ip_len: ip_len as u32,
                payload: bytes.get(20..end)?,
                payload_len: ip_len.saturating_sub(20) as u32,
                fragment: None,
            })
        }
        first if first >> 4 == 6 => {
            let next = *bytes.get(6)?;
            if !matches!(next, 6 | 17 | 58) || bytes.len() < IPV6_HEADER_LEN as usize {
                return None;
            }
            let payload_length = u32::from(be16(bytes, 4)?);
            // Payload length 0 (jumbogram or not filled in): the frame tells.
            let ip_len = if payload_length == 0 {
                bytes.len() as u32
            } else {
                payload_length + IPV6_HEADER_LEN
            };
            let end = (ip_len as usize).min(bytes.len());
            let src: [u8; 16] = array(bytes, 8)?;
            let dst: [u8; 16] = array(bytes, 24)?;
            Some(IpPacket {
                src: IpAddr::from(src),
                dst: IpAddr::from(dst),
                ttl: *bytes.get(7)?,
                protocol: next,
                ip_len,
                payload: bytes.get(IPV6_HEADER_LEN as usize..end)?,
                payload_len: ip_len.saturating_sub(IPV6_HEADER_LEN),
                fragment: None,
            })
        }
        _ => None,
    }
}

/// Any IP packet, through etherparse's lax slicing (options, extension headers, fragments,
/// lengths that contradict the capture). Kept out of line: inlined, its frame would weigh on
/// the common path.
#[inline(never)]
pub(crate) fn parse_any(bytes: &[u8]) -> Option<IpPacket<'_>> {
    match LaxIpSlice::from_slice(bytes) {
        Ok((LaxIpSlice::Ipv4(ipv4), _)) => {
            let header = ipv4.header();
            let header_len = header.slice().len();
            let total_len = usize::from(header.total_len());
            // A total length below the header itself (0 with TCP segmentation offload) is
            // not a length: the captured frame is the best we know.
            let ip_len = if total_len >= header_len {
                total_len
            } else {
                bytes.len()
            };
            let fragment = header.is_fragmenting_payload().then(|| FragmentInfo {
                id: u32::from(header.identification()),
                offset: u32::from(header.fragments_offset().value()) * 8,
                more: header.more_fragments(),
                unfragmentable_len: header_len as u32,
            });
            let (protocol, payload, headers_len) = if fragment.is_some() {
                // Fragment data is opaque (an AH, if any, is inside the fragmentable part).
                let end = ip_len.min(bytes.len());
                let data = bytes.get(header_len..end).unwrap_or(&[]);
                (header.protocol().0, data, header_len)
            } else {
                let after = ipv4.payload();
                let auth_len = ipv4.extensions().auth.map_or(0, |a| a.slice().len());
                (after.ip_number.0, after.payload, header_len + auth_len)
            };
            Some(IpPacket {
                src: IpAddr::V4(header.source_addr()),
                dst: IpAddr::V4(header.destination_addr()),
                ttl: header.ttl(),
                protocol,
                ip_len: ip_len as u32,
                payload,
                payload_len: ip_len.saturating_sub(headers_len) as u32,
                fragment,
            })
        }
        Ok((LaxIpSlice::Ipv6(ipv6), None)) => {
            let header = ipv6.header();
            let after = ipv6.payload();
            let ip_len = match after.len_source {
                // Payload length 0 (jumbogram or not yet filled in): the frame tells.
                LenSource::Slice if header.payload_length() == 0 => bytes.len() as u32,
                _ => u32::from(header.payload_length()) + IPV6_HEADER_LEN,
            };
            let exts = ipv6.extensions();
            let mut packet = IpPacket {
                src: IpAddr::V6(header.source_addr()),
                dst: IpAddr::V6(header.destination_addr()),
                ttl: header.hop_limit(),
                protocol: after.ip_number.0,
                ip_len,
                payload: after.payload,
                payload_len: ip_len
                    .saturating_sub(IPV6_HEADER_LEN)
                    .saturating_sub(exts.slice().len() as u32),
                fragment: None,
            };
            if exts.is_fragmenting_payload() {
                ipv6_fragment(&mut packet, bytes, exts.clone().into_iter())?;
            }
            Some(packet)
        }
        // An extension header that breaks off leaves no transport to find.
        Ok((LaxIpSlice::Ipv6(_), Some(_))) | Err(_) => None,
    }
}

/// Point an IPv6 packet at the data behind its (first fragmenting) fragment header: everything
/// after it is fragment data, even if the chain parser read on.
fn ipv6_fragment<'a>(
    packet: &mut IpPacket<'a>,
    bytes: &'a [u8],
    extensions: impl Iterator<Item = Ipv6ExtensionSlice<'a>>,
) -> Option<()> {
    let mut offset = IPV6_HEADER_LEN as usize;
    for extension in extensions {
        let len = match &extension {
            Ipv6ExtensionSlice::HopByHop(s)
            | Ipv6ExtensionSlice::Routing(s)
            | Ipv6ExtensionSlice::DestinationOptions(s) => s.slice().len(),
            Ipv6ExtensionSlice::Authentication(s) => s.slice().len(),
            Ipv6ExtensionSlice::Fragment(fragment) => {
                if !fragment.is_fragmenting_payload() {
                    offset += IPV6_FRAGMENT_HEADER_LEN;
                    continue;
                }
                let data_start = offset + IPV6_FRAGMENT_HEADER_LEN;
                let end = (packet.ip_len as usize).min(bytes.len());
                packet.payload = bytes.get(data_start..end).unwrap_or(&[]);
                packet.payload_len = packet.ip_len.saturating_sub(data_start as u32);
                packet.protocol = fragment.next_header().0;
                packet.fragment = Some(FragmentInfo {
                    id: fragment.identification(),
                    offset: u32::from(fragment.fragment_offset().value()) * 8,
                    more: fragment.more_fragments(),
                    unfragmentable_len: offset as u32,
                });
                return Some(());
            }
        };
        offset += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv4 header, 20 bytes, total length `total`, protocol UDP, 10.0.0.1 -> 10.0.0.2.
    fn ipv4(total: u16, flags_offset: u16) -> Vec<u8> {
        let mut h = vec![
            0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        h
    }

    #[test]
    fn ipv4_lengths_follow_the_header() {
        let mut p = ipv4(100, 0);
        p.extend_from_slice(&[0; 30]); // captured: 30 of 80 payload bytes
        let ip = parse(&p).unwrap();
        assert_eq!(ip.ip_len, 100);
        assert_eq!(ip.payload_len, 80);
        assert_eq!(ip.payload.len(), 30);
        assert_eq!(ip.protocol, 17);
        assert_eq!(ip.ttl, 64);
        assert_eq!(ip.fragment, None);
    }

    #[test]
    fn ipv4_padding_is_cut_and_zero_length_uses_frame() {
        let mut p = ipv4(28, 0);
        p.extend_from_slice(&[0; 18]);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.ip_len, ip.payload.len()), (28, 8));
        let mut p = ipv4(0, 0);
        p.extend_from_slice(&[0; 8]);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.ip_len, ip.payload_len), (28, 8));
    }

    #[test]
    fn ipv4_fragment_identity() {
        let mut p = ipv4(28, 0x2000 | 3); // MF, offset 3*8
        p.extend_from_slice(&[0; 8]);
        let f = parse(&p).unwrap().fragment.unwrap();
        assert_eq!(
            (f.id, f.offset, f.more, f.unfragmentable_len),
            (0x1234, 24, true, 20)
        );
    }

    #[test]
    fn ipv6_fragment_behind_hop_by_hop() {
        let mut p = vec![0x60, 0, 0, 0, 0, 24, 0, 64];
        p.extend_from_slice(&[0; 32]);
        // Hop-by-hop (8 bytes) -> fragment (next UDP, offset 1, M=0, id 7) -> 8 data bytes.
        p.extend_from_slice(&[44, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[17, 0, 0, 8, 0, 0, 0, 7]);
        p.extend_from_slice(&[0xAB; 8]);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.ip_len, 64);
        assert_eq!(ip.protocol, 17);
        assert_eq!(ip.payload, &[0xAB; 8]);
        assert_eq!(ip.payload_len, 8);
        let f = ip.fragment.unwrap();
        assert_eq!(
            (f.id, f.offset, f.more, f.unfragmentable_len),
            (7, 8, false, 48)
        );
    }

    #[test]
    fn ipv6_atomic_fragment_is_a_whole_packet() {
        let mut p = vec![0x60, 0, 0, 0, 0, 16, 44, 64];
        p.extend_from_slice(&[0; 32]);
        p.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 9]);
        p.extend_from_slice(&[0; 8]);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.fragment, None);
        assert_eq!((ip.protocol, ip.payload_len, ip.ip_len), (17, 8, 56));
    }

    mod plain_equals_general {
        use super::super::{parse_any, plain};
        use proptest::prelude::*;

        fn header() -> impl Strategy<Value = Vec<u8>> {
            let first = prop_oneof![
                Just(0x45u8),
                Just(0x46),
                Just(0x60),
                Just(0x6a),
                any::<u8>()
            ];
            let protocol = prop_oneof![
                Just(6u8),
                Just(17),
                Just(58),
                Just(1),
                Just(51),
                Just(0),
                Just(43),
                Just(44),
                Just(60),
                any::<u8>()
            ];
            let length = prop_oneof![0u16..80, any::<u16>()];
            let flags = prop_oneof![Just(0u16), Just(0x4000), Just(0x2000), any::<u16>()];
            (
                first,
                protocol,
                length,
                flags,
                proptest::collection::vec(any::<u8>(), 0..120),
            )
                .prop_map(|(first, protocol, length, flags, mut rest)| {
                    rest.resize(rest.len().max(8), 0);
                    let mut bytes = vec![first];
                    bytes.extend_from_slice(&rest);
                    let len = length.to_be_bytes();
                    if first >> 4 == 6 {
                        // IPv6: payload length at 4, next header at 6.
                        bytes[4..6].copy_from_slice(&len);
                        bytes[6] = protocol;
                    } else if bytes.len() >= 10 {
                        // IPv4: total length at 2, flags/offset at 6, protocol at 9.
                        bytes[2..4].copy_from_slice(&len);
                        bytes[6..8].copy_from_slice(&flags.to_be_bytes());
                        bytes[9] = protocol;
                    }
                    bytes
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]
            /// The fast path answers only where it agrees with etherparse's general path.
            #[test]
            fn on_any_header(bytes in header()) {
                if let Some(fast) = plain(&bytes) {
                    prop_assert_eq!(Some(fast), parse_any(&bytes));
                }
            }
        }

        #[test]
        fn takes_the_common_cases() {
            let mut v4 = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0];
            v4.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
            v4.extend_from_slice(&[0; 8]);
            assert!(plain(&v4).is_some());
            let mut v6 = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
            v6.extend_from_slice(&[0; 40]);
            assert!(plain(&v6).is_some());
        }
    }

    #[test]
    fn broken_headers_are_none() {
        assert!(parse(&[]).is_none());
        assert!(parse(&[0x45, 0, 0]).is_none());
        assert!(parse(&[0x43; 20]).is_none());
        assert!(parse(&[0x75; 40]).is_none());
        // IPv6 with a hop-by-hop header cut off.
        let mut p = vec![0x60, 0, 0, 0, 0, 8, 0, 64];
        p.extend_from_slice(&[0; 32]);
        p.extend_from_slice(&[17, 4]);
        assert!(parse(&p).is_none());
    }
}
