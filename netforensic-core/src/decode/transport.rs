//! TCP, UDP and ICMP/ICMPv6 headers as small checked views. Payload slices hold what was
//! captured; payload lengths come from the IP and UDP length fields, so snaplen-cut packets
//! still count what was sent. ICMP errors are ICMP: the packet they quote is not decoded.

use super::bytes::{be16, be32, rest, u8_at};
use super::{TcpFlags, Transport};

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const PROTO_ICMPV6: u8 = 58;

const TCP_MIN_HEADER_LEN: usize = 20;
const UDP_HEADER_LEN: usize = 8;
/// ICMP type, code and checksum: enough to classify the message (as tshark and Zeek do for
/// headers cut short).
const ICMP_MIN_HEADER_LEN: usize = 4;
/// ICMP header including the 4-byte rest-of-header; the payload follows.
const ICMP_HEADER_LEN: usize = 8;

/// Why a transport header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransportError {
    /// Fewer bytes captured than the fixed part of the header.
    Truncated,
    /// A header field contradicts itself (TCP data offset below 5).
    Invalid,
}

/// Decode the transport header of an IP payload. `payload_len` is the IP payload length per
/// the IP header(s). Protocols without a flow model become [`Transport::Other`].
#[inline]
pub(crate) fn parse(
    protocol: u8,
    payload: &[u8],
    payload_len: u32,
) -> Result<Transport<'_>, TransportError> {
    match protocol {
        PROTO_TCP => tcp(payload, payload_len),
        PROTO_UDP => udp(payload, payload_len),
        PROTO_ICMP | PROTO_ICMPV6 => icmp(protocol == PROTO_ICMPV6, payload, payload_len),
        _ => Ok(Transport::Other { protocol }),
    }
}

fn tcp(segment: &[u8], segment_len: u32) -> Result<Transport<'_>, TransportError> {
    if segment.len() < TCP_MIN_HEADER_LEN {
        return Err(TransportError::Truncated);
    }
    let field = |at| be16(segment, at).ok_or(TransportError::Truncated);
    let word = |at| be32(segment, at).ok_or(TransportError::Truncated);
    let byte = |at| u8_at(segment, at).ok_or(TransportError::Truncated);
    let header_len = usize::from(byte(12)? >> 4) * 4;
    if header_len < TCP_MIN_HEADER_LEN {
        return Err(TransportError::Invalid);
    }
    // Options may be cut by snaplen: the fixed header is enough for flow tracking.
    let data_len = segment_len.saturating_sub(header_len as u32);
    let data = rest(segment, header_len);
    Ok(Transport::Tcp {
        src_port: field(0)?,
        dst_port: field(2)?,
        seq: word(4)?,
        ack: word(8)?,
        flags: TcpFlags(byte(13)?),
        window: field(14)?,
        payload: data.get(..data_len as usize).unwrap_or(data),
        payload_len: data_len,
    })
}

fn udp(datagram: &[u8], datagram_len: u32) -> Result<Transport<'_>, TransportError> {
    if datagram.len() < UDP_HEADER_LEN {
        return Err(TransportError::Truncated);
    }
    let (Some(src_port), Some(dst_port), Some(length)) =
        (be16(datagram, 0), be16(datagram, 2), be16(datagram, 4))
    else {
        return Err(TransportError::Truncated);
    };
    // The UDP length bounds the datagram when it is consistent; otherwise the IP length does.
    let length = u32::from(length);
    let total = if (UDP_HEADER_LEN as u32..=datagram_len).contains(&length) {
        length
    } else {
        datagram_len
    };
    let data_len = total.saturating_sub(UDP_HEADER_LEN as u32);
    let data = rest(datagram, UDP_HEADER_LEN);
    Ok(Transport::Udp {
        src_port,
        dst_port,
        payload: data.get(..data_len as usize).unwrap_or(data),
        payload_len: data_len,
    })
}

fn icmp(v6: bool, message: &[u8], message_len: u32) -> Result<Transport<'_>, TransportError> {
    if message.len() < ICMP_MIN_HEADER_LEN {
        return Err(TransportError::Truncated);
    }
    let (Some(icmp_type), Some(code)) = (u8_at(message, 0), u8_at(message, 1)) else {
        return Err(TransportError::Truncated);
    };
    Ok(Transport::Icmp {
        v6,
        icmp_type,
        code,
        payload: rest(message, ICMP_HEADER_LEN),
        payload_len: message_len.saturating_sub(ICMP_HEADER_LEN as u32),
    })
}

/// Ports of a UDP header, for tunnel detection before the full decode.
pub(crate) fn udp_ports(datagram: &[u8]) -> Option<(u16, u16)> {
    Some((be16(datagram, 0)?, be16(datagram, 2)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_fields_and_lengths() {
        let mut s = vec![
            0x01, 0xbb, 0xc0, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x60, 0x12, 0xff, 0xff, 0, 0, 0, 0,
        ];
        s.extend_from_slice(&[0; 4]); // options (data offset 6 = 24 bytes)
        s.extend_from_slice(b"hi");
        let t = parse(PROTO_TCP, &s, 100).unwrap();
        assert_eq!(
            t,
            Transport::Tcp {
                src_port: 443,
                dst_port: 0xc000,
                seq: 1,
                ack: 2,
                flags: TcpFlags(0x12),
                window: 0xffff,
                payload: b"hi",
                payload_len: 76,
            }
        );
    }

    #[test]
    fn tcp_options_cut_by_snaplen_still_decode() {
        let s = [
            0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0xa0, 0x02, 0, 0, 0, 0, 0, 0, 2, 4,
        ];
        let Transport::Tcp {
            payload,
            payload_len,
            ..
        } = parse(PROTO_TCP, &s, 40).unwrap()
        else {
            panic!("not tcp");
        };
        assert_eq!((payload, payload_len), (&[][..], 0));
    }

    #[test]
    fn tcp_broken() {
        assert_eq!(
            parse(PROTO_TCP, &[0; 19], 19),
            Err(TransportError::Truncated)
        );
        let mut s = [0u8; 20];
        s[12] = 0x40;
        assert_eq!(parse(PROTO_TCP, &s, 20), Err(TransportError::Invalid));
    }

    #[test]
    fn udp_length_rules() {
        let d = [0, 53, 0x30, 0x39, 0, 12, 0, 0, 1, 2, 3, 4, 9, 9];
        // UDP length 12 < IP payload 14 (padding): payload is 4 bytes.
        let Transport::Udp {
            payload,
            payload_len,
            src_port,
            ..
        } = parse(PROTO_UDP, &d, 14).unwrap()
        else {
            panic!("not udp");
        };
        assert_eq!((src_port, payload, payload_len), (53, &[1, 2, 3, 4][..], 4));
        // UDP length larger than the IP payload: the IP length wins.
        let d = [0, 53, 0, 53, 0xff, 0xff, 0, 0, 1];
        let Transport::Udp { payload_len, .. } = parse(PROTO_UDP, &d, 9).unwrap() else {
            panic!("not udp");
        };
        assert_eq!(payload_len, 1);
        assert_eq!(parse(PROTO_UDP, &d[..7], 9), Err(TransportError::Truncated));
    }

    #[test]
    fn icmp_headers() {
        let m = [3, 3, 0, 0, 0, 0, 0, 0, 0x45];
        let t = parse(PROTO_ICMP, &m, 36).unwrap();
        assert_eq!(
            t,
            Transport::Icmp {
                v6: false,
                icmp_type: 3,
                code: 3,
                payload: &[0x45],
                payload_len: 28
            }
        );
        // Cut after 6 bytes: still classified, no payload.
        let t = parse(PROTO_ICMPV6, &m[..6], 64).unwrap();
        assert!(matches!(
            t,
            Transport::Icmp {
                v6: true,
                icmp_type: 3,
                payload: &[],
                ..
            }
        ));
        assert_eq!(
            parse(PROTO_ICMP, &m[..3], 64),
            Err(TransportError::Truncated)
        );
    }

    #[test]
    fn other_protocols() {
        assert_eq!(parse(50, &[], 0), Ok(Transport::Other { protocol: 50 }));
    }
}
