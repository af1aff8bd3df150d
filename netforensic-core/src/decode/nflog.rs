//! Linux NFLOG (link type 239): a 4-byte header (address family, version, resource id), then
//! type-length-value attributes; the payload attribute holds the raw IP packet. Attribute
//! lengths and types are in the capturing host's byte order, so both orders are tried.

use super::bytes::{be16, le16, rest, u8_at};
use super::link::Network;

const HEADER_LEN: usize = 4;
const TLV_HEADER_LEN: usize = 4;
/// NFULA_PAYLOAD.
const TLV_PAYLOAD: u16 = 9;
/// The high bits of the type are netlink flags (nested, byte order).
const TLV_TYPE_MASK: u16 = 0x7FFF;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// Attributes walked before giving up: a real NFLOG record has about a dozen.
const MAX_ATTRIBUTES: usize = 64;

pub(crate) fn decode(frame: &[u8]) -> Network<'_> {
    let Some(family) = u8_at(frame, 0) else {
        return Network::Malformed;
    };
    if frame.len() < HEADER_LEN {
        return Network::Malformed;
    }
    if family != AF_INET && family != AF_INET6 {
        return Network::NotIp;
    }
    let mut at = HEADER_LEN;
    for _ in 0..MAX_ATTRIBUTES {
        let remaining = frame.len().saturating_sub(at);
        if remaining < TLV_HEADER_LEN {
            return Network::NotIp;
        }
        let Some((length, tlv_type)) = attribute_header(frame, at, remaining) else {
            return Network::Malformed;
        };
        if tlv_type & TLV_TYPE_MASK == TLV_PAYLOAD {
            let value = rest(frame, at + TLV_HEADER_LEN);
            let value = value.get(..length - TLV_HEADER_LEN).unwrap_or(value);
            return match value.first().map(|b| b >> 4) {
                Some(4 | 6) => Network::Ip(value),
                Some(_) => Network::NotIp,
                None => Network::Malformed,
            };
        }
        // Attributes are padded to 4 bytes.
        at = match at.checked_add((length + 3) & !3) {
            Some(next) => next,
            None => return Network::Malformed,
        };
    }
    Network::Malformed
}

/// Length and type of the attribute at `at`, in whichever byte order gives a length that fits.
fn attribute_header(frame: &[u8], at: usize, remaining: usize) -> Option<(usize, u16)> {
    let fits = |length: u16| {
        let length = usize::from(length);
        (TLV_HEADER_LEN..=remaining).contains(&length)
    };
    let little = le16(frame, at)?;
    if fits(little) {
        return Some((usize::from(little), le16(frame, at + 2)?));
    }
    let big = be16(frame, at)?;
    if fits(big) {
        return Some((usize::from(big), be16(frame, at + 2)?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_payload_after_other_attributes() {
        let mut f = vec![2, 0, 0, 0];
        // A prefix attribute (type 10) of 5 value bytes, padded to 12.
        f.extend_from_slice(&[9, 0, 10, 0, b'a', b'b', b'c', b'd', b'e', 0, 0, 0]);
        // Payload attribute with 2 bytes of IP.
        f.extend_from_slice(&[6, 0, 9, 0, 0x45, 0x00, 0, 0]);
        assert_eq!(decode(&f), Network::Ip(&[0x45, 0x00]));
    }

    #[test]
    fn big_endian_attributes() {
        let f = [10, 0, 0, 0, 0, 5, 0, 9, 0x60];
        assert_eq!(decode(&f), Network::Ip(&[0x60]));
    }

    #[test]
    fn broken_attributes() {
        assert_eq!(decode(&[2, 0, 0, 0, 0, 0, 0, 0]), Network::Malformed);
        assert_eq!(decode(&[2, 0]), Network::Malformed);
        assert_eq!(decode(&[7, 0, 0, 0]), Network::NotIp);
    }
}
