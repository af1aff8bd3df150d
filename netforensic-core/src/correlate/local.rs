//! Which addresses belong to the examined machine: the user's `--local-net` prefixes,
//! addresses that snapshots or in-capture metadata show as local, and loopback.

use crate::{Error, ErrorKind};
use std::collections::HashSet;
use std::net::IpAddr;
use std::str::FromStr;

/// An address prefix (`192.168.1.0/24`, `fd00::/8`, or a bare address = a single host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalNet {
    addr: IpAddr,
    prefix_len: u8,
}

impl LocalNet {
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Self, Error> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("prefix length /{prefix_len} is longer than the {max} bits of {addr}"),
            ));
        }
        Ok(LocalNet {
            addr: addr.to_canonical(),
            prefix_len: if addr.to_canonical().is_ipv4() && !addr.is_ipv4() {
                // `::ffff:10.0.0.0/104` is the IPv4 prefix /8.
                prefix_len.saturating_sub(96)
            } else {
                prefix_len
            },
        })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                prefix_eq(&net.octets(), &a.octets(), self.prefix_len)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                prefix_eq(&net.octets(), &a.octets(), self.prefix_len)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

impl FromStr for LocalNet {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "`{}` is not an address prefix; expected ADDRESS/BITS such as \
                     192.168.1.0/24 or fd00::/8",
                    crate::escape::terminal(s)
                ),
            )
        };
        let (addr, len) = match s.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(len) => len.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        LocalNet::new(addr, len)
    }
}

/// Everything known about which addresses are the examined machine's.
#[derive(Clone, Debug, Default)]
pub struct LocalAddrs {
    nets: Vec<LocalNet>,
    addrs: HashSet<IpAddr>,
}

impl LocalAddrs {
    pub fn new(nets: &[LocalNet]) -> Self {
        LocalAddrs {
            nets: nets.to_vec(),
            addrs: HashSet::new(),
        }
    }

    /// Record an address seen as local (bound by a socket, named by in-capture evidence).
    /// Unspecified and multicast addresses say nothing about the host and are skipped.
    pub fn insert(&mut self, addr: IpAddr) {
        let addr = addr.to_canonical();
        if addr.is_unspecified() || addr.is_multicast() || is_broadcast(addr) {
            return;
        }
        self.addrs.insert(addr);
    }

    /// Whether anything at all is known (else every flow would be "not local" for lack of
    /// knowledge, which is a different reason).
    pub fn is_known(&self) -> bool {
        !self.nets.is_empty() || !self.addrs.is_empty()
    }

    /// Asked twice per flow: inlined, and with nothing learned (no snapshot, no in-capture
    /// evidence, no `--local-net`) only loopback is local.
    #[inline]
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        addr.is_loopback()
            || (self.is_known()
                && (self.addrs.contains(&addr) || self.nets.iter().any(|n| n.contains(addr))))
    }
}

fn is_broadcast(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V4(v4) if v4.is_broadcast())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes() {
        let net: LocalNet = "192.168.1.0/24".parse().unwrap();
        assert!(net.contains(ip("192.168.1.77")));
        assert!(!net.contains(ip("192.168.2.1")));
        assert!(net.contains(ip("::ffff:192.168.1.5")));
        let odd: LocalNet = "10.64.0.0/10".parse().unwrap();
        assert!(odd.contains(ip("10.127.255.255")));
        assert!(!odd.contains(ip("10.128.0.0")));
        let v6: LocalNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        let host: LocalNet = "10.0.0.5".parse().unwrap();
        assert!(host.contains(ip("10.0.0.5")) && !host.contains(ip("10.0.0.6")));
        let all: LocalNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
        let mapped: LocalNet = "::ffff:10.0.0.0/104".parse().unwrap();
        assert!(mapped.contains(ip("10.1.2.3")));
    }

    #[test]
    fn bad_prefixes_are_errors() {
        for s in [
            "",
            "10.0.0.0/33",
            "::/129",
            "x/8",
            "10.0.0.0/-1",
            "10.0.0.0/",
        ] {
            assert!(s.parse::<LocalNet>().is_err(), "{s}");
        }
    }

    #[test]
    fn loopback_is_always_local_unspecified_never_recorded() {
        let mut local = LocalAddrs::new(&[]);
        assert!(!local.is_known());
        assert!(local.contains(ip("127.0.0.1")) && local.contains(ip("::1")));
        local.insert(ip("0.0.0.0"));
        local.insert(ip("224.0.0.251"));
        assert!(!local.is_known());
        local.insert(ip("::ffff:10.0.0.5"));
        assert!(local.contains(ip("10.0.0.5")));
    }
}
