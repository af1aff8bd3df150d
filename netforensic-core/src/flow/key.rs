//! The flow table's key: a connection's 5-tuple in a direction-free form.

use std::net::IpAddr;

/// Direction-free 5-tuple. For two-way traffic the endpoints are ordered, so both
/// directions find the same entry; one-way ICMP messages keep their direction, as in Zeek.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
    /// IP protocol number (1 and 58 are distinct).
    proto: u8,
    one_way: bool,
}

impl FlowKey {
    pub fn new(
        proto: u8,
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
        one_way: bool,
    ) -> Self {
        let a = (src, src_port);
        let b = (dst, dst_port);
        let (lo, hi) = if one_way || a <= b { (a, b) } else { (b, a) };
        FlowKey {
            lo,
            hi,
            proto,
            one_way,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
