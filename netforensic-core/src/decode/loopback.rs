//! BSD loopback encapsulation (link types NULL = 0 and LOOP = 108): a 4-byte address family,
//! in the capturing host's byte order for NULL and network order for LOOP. Both orders are
//! accepted for both, since files move between machines and some writers get it wrong.

use super::bytes::{be32, le32, rest};
use super::link::Network;

const HEADER_LEN: usize = 4;
const AF_INET: u32 = 2;
/// AF_INET6 differs per BSD: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (Darwin).
const AF_INET6_VALUES: [u32; 3] = [24, 28, 30];

pub(crate) fn decode(frame: &[u8]) -> Network<'_> {
    let (Some(little), Some(big)) = (le32(frame, 0), be32(frame, 0)) else {
        return Network::Malformed;
    };
    // Address families are small numbers: the byte order that yields one is the right one.
    let family = if little <= 0xFFFF { little } else { big };
    if family == AF_INET || AF_INET6_VALUES.contains(&family) {
        Network::Ip(rest(frame, HEADER_LEN))
    } else {
        Network::NotIp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_byte_orders() {
        assert_eq!(decode(&[2, 0, 0, 0, 0x45]), Network::Ip(&[0x45]));
        assert_eq!(decode(&[0, 0, 0, 2, 0x45]), Network::Ip(&[0x45]));
        assert_eq!(decode(&[30, 0, 0, 0, 0x60]), Network::Ip(&[0x60]));
        assert_eq!(decode(&[0, 0, 0, 24, 0x60]), Network::Ip(&[0x60]));
        assert_eq!(decode(&[0, 0, 0, 28, 0x60]), Network::Ip(&[0x60]));
    }

    #[test]
    fn other_families_and_short_frames() {
        assert_eq!(decode(&[7, 0, 0, 0, 1]), Network::NotIp);
        assert_eq!(decode(&[2, 0, 0]), Network::Malformed);
    }
}
