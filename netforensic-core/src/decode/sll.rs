//! Linux "cooked" captures: SLL (link type 113, 16-byte header, read with etherparse) and SLL2
//! (link type 276, 20-byte header, which etherparse lacks). Both carry an ethertype.

use super::bytes::{be16, rest};
use super::ethernet;
use super::link::Network;
use etherparse::{LinuxSllHeaderSlice, LinuxSllProtocolType};

const SLL1_HEADER_LEN: usize = 16;
/// Offset of SLL's protocol field.
const SLL1_PROTOCOL_AT: usize = 14;
const SLL2_HEADER_LEN: usize = 20;
/// Offset of SLL2's protocol (ethertype) field.
const SLL2_PROTOCOL_AT: usize = 0;

pub(crate) fn decode_v1<'a>(frame: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    match LinuxSllHeaderSlice::from_slice(frame) {
        Ok(header) => match header.protocol_type() {
            LinuxSllProtocolType::EtherType(ether_type) => {
                ethernet::by_ether_type(ether_type.0, rest(frame, header.slice().len()), vlan)
            }
            // GRE tunnel devices label their packets with the GRE protocol type: an ethertype.
            LinuxSllProtocolType::GenericRoutingEncapsulationProtocolType(ether_type) => {
                ethernet::by_ether_type(ether_type, rest(frame, header.slice().len()), vlan)
            }
            _ => Network::NotIp,
        },
        // etherparse rejects ARPHRD types it does not know; fall back to the raw field, which
        // for every ARPHRD carrying IP is an ethertype.
        Err(etherparse::err::linux_sll::HeaderSliceError::Content(_)) => {
            match be16(frame, SLL1_PROTOCOL_AT) {
                Some(ether_type) => {
                    ethernet::by_ether_type(ether_type, rest(frame, SLL1_HEADER_LEN), vlan)
                }
                None => Network::Malformed,
            }
        }
        Err(_) => Network::Malformed,
    }
}

pub(crate) fn decode_v2<'a>(frame: &'a [u8], vlan: &mut Option<u16>) -> Network<'a> {
    if frame.len() < SLL2_HEADER_LEN {
        return Network::Malformed;
    }
    match be16(frame, SLL2_PROTOCOL_AT) {
        Some(ether_type) => ethernet::by_ether_type(ether_type, rest(frame, SLL2_HEADER_LEN), vlan),
        None => Network::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll_v1_ipv4() {
        // Packet type 0 (to us), ARPHRD_ETHER, address length 6, address, ethertype 0x0800.
        let f = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00, 0x45];
        assert_eq!(decode_v1(&f, &mut None), Network::Ip(&[0x45]));
        assert_eq!(decode_v1(&f[..10], &mut None), Network::Malformed);
    }

    #[test]
    fn sll_v2_ipv6() {
        let mut f = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6];
        f.extend_from_slice(&[0; 8]);
        f.push(0x60);
        assert_eq!(decode_v2(&f, &mut None), Network::Ip(&[0x60]));
        assert_eq!(decode_v2(&f[..19], &mut None), Network::Malformed);
    }
}
