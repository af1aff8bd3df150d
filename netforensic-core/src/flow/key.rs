//! The flow table's key: a connection's 5-tuple in a direction-free form.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Direction-free 5-tuple. For two-way traffic the endpoints are ordered, so both
/// directions find the same entry; one-way ICMP messages keep their direction, as in Zeek.
/// The key holds the whole identity (both endpoints, each address's family, the protocol):
/// a live connection keeps only which endpoint is its originator ([`Side`]), not a second
/// copy of the addresses.
///
/// Addresses are kept as plain integers and hashed in three words: the key is looked up for
/// every packet, and hashing `IpAddr` field by field (discriminant, length, bytes, ports)
/// cost several hasher rounds per lookup. Addresses are `u64` halves and the ports sit
/// beside the protocol, so the key is 40 bytes with 8-byte alignment (a `u128` would align
/// it to 16, an address-and-port struct per endpoint would pad it to 56).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    lo_addr: [u64; 2],
    hi_addr: [u64; 2],
    lo_port: u16,
    hi_port: u16,
    /// IP protocol number (1 and 58 are distinct).
    proto: u8,
    /// [`ONE_WAY`], [`LO_V6`] and [`HI_V6`] bits.
    flags: u8,
}

/// The key of a one-way ICMP message.
const ONE_WAY: u8 = 1;
/// The first (`LO_V6`) or second (`HI_V6`) endpoint's address is IPv6: an IPv4 address and
/// an IPv6 address with the same low bits (`::a.b.c.d`) are different endpoints.
const LO_V6: u8 = 2;
const HI_V6: u8 = 4;

/// Which of a key's two endpoints sent a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The key's first endpoint.
    First,
    Second,
    /// Both endpoints are the same address and port: the packet is from either.
    Both,
}

/// An address (IPv4 in the low 32 bits) as two `u64` halves, high half first, so that
/// `(addr, port)` tuples order endpoints by address, then port.
fn addr_halves(addr: IpAddr) -> [u64; 2] {
    let bits = match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    [(bits >> 64) as u64, bits as u64]
}

/// The address back from its halves.
fn addr_of(halves: [u64; 2], v6: bool) -> IpAddr {
    let bits = u128::from(halves[0]) << 64 | u128::from(halves[1]);
    if v6 {
        IpAddr::V6(bits.into())
    } else {
        // Only IPv4 addresses are stored without the flag, so the high bits are zero.
        IpAddr::V4((bits as u32).into())
    }
}

impl FlowKey {
    #[cfg(test)]
    pub fn new(
        proto: u8,
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
        one_way: bool,
    ) -> Self {
        FlowKey::of_packet(proto, src, src_port, dst, dst_port, one_way).0
    }

    /// The key of a packet from `src` to `dst`, and which of its endpoints sent it.
    pub fn of_packet(
        proto: u8,
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
        one_way: bool,
    ) -> (Self, Side) {
        let a = (addr_halves(src), src_port, src.is_ipv6());
        let b = (addr_halves(dst), dst_port, dst.is_ipv6());
        let side = if a == b {
            Side::Both
        } else if one_way || a <= b {
            Side::First
        } else {
            Side::Second
        };
        let ((lo_addr, lo_port, lo_v6), (hi_addr, hi_port, hi_v6)) = match side {
            Side::Second => (b, a),
            Side::First | Side::Both => (a, b),
        };
        let mut flags = if one_way { ONE_WAY } else { 0 };
        if lo_v6 {
            flags |= LO_V6;
        }
        if hi_v6 {
            flags |= HI_V6;
        }
        let key = FlowKey {
            lo_addr,
            hi_addr,
            lo_port,
            hi_port,
            proto,
            flags,
        };
        (key, side)
    }

    /// IP protocol number.
    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// The key of a one-way ICMP message.
    pub fn one_way(&self) -> bool {
        self.flags & ONE_WAY != 0
    }

    /// The first endpoint's address and port.
    pub fn first(&self) -> (IpAddr, u16) {
        (addr_of(self.lo_addr, self.flags & LO_V6 != 0), self.lo_port)
    }

    pub fn second(&self) -> (IpAddr, u16) {
        (addr_of(self.hi_addr, self.flags & HI_V6 != 0), self.hi_port)
    }
}

impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Every field goes to the (keyed) hasher as it is: folding fields together before
        // it would let crafted tuples collide whatever the key.
        let [lo0, lo1] = self.lo_addr;
        let [hi0, hi1] = self.hi_addr;
        state.write_u128(u128::from(lo0) << 64 | u128::from(lo1));
        state.write_u128(u128::from(hi0) << 64 | u128::from(hi1));
        state.write_u64(
            u64::from(self.lo_port)
                | u64::from(self.hi_port) << 16
                | u64::from(self.proto) << 32
                | u64::from(self.flags) << 40,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_five_words() {
        assert_eq!(std::mem::size_of::<FlowKey>(), 40);
    }

    #[test]
    fn both_directions_share_a_key() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            FlowKey::new(6, a, 1, b, 2, false),
            FlowKey::new(6, b, 2, a, 1, false)
        );
        assert_ne!(
            FlowKey::new(1, a, 3, b, 3, true),
            FlowKey::new(1, b, 3, a, 3, true)
        );
        assert_ne!(
            FlowKey::new(6, a, 1, b, 2, false),
            FlowKey::new(17, a, 1, b, 2, false)
        );
    }

    #[test]
    fn an_ipv4_address_is_not_its_ipv6_lookalike() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v4b: IpAddr = "10.0.0.2".parse().unwrap();
        let v6: IpAddr = "::10.0.0.1".parse().unwrap();
        let v6b: IpAddr = "::10.0.0.2".parse().unwrap();
        assert_ne!(
            FlowKey::new(17, v4, 53, v4b, 53, false),
            FlowKey::new(17, v6, 53, v6b, 53, false)
        );
    }

    #[test]
    fn every_field_tells_keys_apart() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        let c: IpAddr = "2001:db9::1".parse().unwrap();
        let base = FlowKey::new(6, a, 1, b, 2, false);
        for other in [
            FlowKey::new(6, c, 1, b, 2, false),
            FlowKey::new(6, a, 3, b, 2, false),
            FlowKey::new(6, a, 1, c, 2, false),
            FlowKey::new(6, a, 1, b, 3, false),
            FlowKey::new(6, a, 1, b, 2, true),
        ] {
            assert_ne!(base, other);
        }
        let hash = |k: &FlowKey| ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(k);
        assert_eq!(
            hash(&base),
            hash(&FlowKey::new(6, b, 2, a, 1, false)),
            "both directions hash alike"
        );
    }
}
