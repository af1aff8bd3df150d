//! PPP framing (link types 9, 50, 51; PPPoE sessions; PPTP's GRE payload): an optional HDLC
//! address/control pair, a 1- or 2-byte protocol field, then the packet.

use super::bytes::rest;
use super::ethernet;
use super::link::Network;

/// HDLC all-stations address and unnumbered-information control byte.
const HDLC_ADDRESS: u8 = 0xFF;
const HDLC_CONTROL: u8 = 0x03;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// A PPP frame that may start with the HDLC address/control bytes (link types 9 and 50, PPTP).
pub(crate) fn decode_frame<'a>(frame: &'a [u8], _vlan: &mut Option<u16>) -> Network<'a> {
    by_hdlc_frame(frame)
}

/// Link type 51 (PPP over Ethernet without the Ethernet header): a PPPoE header first.
pub(crate) fn decode_pppoe<'a>(frame: &'a [u8], _vlan: &mut Option<u16>) -> Network<'a> {
    ethernet::pppoe_session(frame)
}

/// Skip HDLC address/control when present, then read the protocol field.
pub(crate) fn by_hdlc_frame(frame: &[u8]) -> Network<'_> {
    match frame {
        [HDLC_ADDRESS, HDLC_CONTROL, body @ ..] => by_protocol_field(body),
        _ => by_protocol_field(frame),
    }
}

/// Read a PPP protocol field (compressed to one byte when its value is odd, RFC 1661 6.5)
/// and return the payload if it is IP.
pub(crate) fn by_protocol_field(body: &[u8]) -> Network<'_> {
    let (protocol, payload) = match body {
        [first, ..] if first & 1 == 1 => (u16::from(*first), rest(body, 1)),
        [high, low, ..] => (u16::from_be_bytes([*high, *low]), rest(body, 2)),
        _ => return Network::Malformed,
    };
    match protocol {
        PPP_IPV4 | PPP_IPV6 => Network::Ip(payload),
        _ => Network::NotIp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdlc_framed_ipv4() {
        assert_eq!(
            by_hdlc_frame(&[0xff, 0x03, 0x00, 0x21, 0x45]),
            Network::Ip(&[0x45])
        );
    }

    #[test]
    fn compressed_protocol_field() {
        assert_eq!(by_hdlc_frame(&[0x21, 0x45]), Network::Ip(&[0x45]));
        assert_eq!(by_hdlc_frame(&[0x57, 0x60]), Network::Ip(&[0x60]));
    }

    #[test]
    fn lcp_is_not_ip_and_empty_is_malformed() {
        assert_eq!(by_hdlc_frame(&[0xc0, 0x21, 0x01]), Network::NotIp);
        assert_eq!(by_hdlc_frame(&[]), Network::Malformed);
        assert_eq!(by_hdlc_frame(&[0xff, 0x03]), Network::Malformed);
    }
}
