//! Teredo (RFC 4380, IPv6 in UDP), recognised as Zeek does: on UDP port 3544; on a UDP
//! connection that already carried valid Teredo (relays use other ports); and by Zeek's
//! protocol-detection shape on any port (a bubble to or from a 2001:0::/32 address, or an
//! authentication / origin-indication header followed by IPv6). A payload only counts as
//! Teredo when it also passes Zeek's validity checks ([`parse`]).

use super::bytes::{be16, rest, u8_at};
use super::ip::IPV6_HEADER_LEN;
use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;

pub(crate) const TEREDO_PORT: u16 = 3544;

/// Teredo header tags and the IPv6 "no next header" value that marks a bubble.
const TEREDO_ORIGIN_INDICATION: u16 = 0x0000;
const TEREDO_AUTHENTICATION: u16 = 0x0001;
const TEREDO_ORIGIN_LEN: usize = 8;
/// Authentication header: 4 fixed bytes, client id, authenticator, 8-byte nonce, confirmation.
const TEREDO_AUTH_FIXED_LEN: usize = 4 + 8 + 1;
const IPV6_NO_NEXT_HEADER: u8 = 59;
/// The Teredo service prefix 2001:0::/32 that Teredo addresses start with.
const TEREDO_PREFIX: [u8; 4] = [0x20, 0x01, 0x00, 0x00];
/// Offsets of the source and destination addresses in an IPv6 header.
const IPV6_SRC_AT: usize = 8;
const IPV6_DST_AT: usize = 24;

/// UDP connections remembered as Teredo. Bounded (oldest forgotten first) because every
/// entry is created by attacker-controlled packets; real captures have a handful.
pub(crate) const MAX_TEREDO_SESSIONS: usize = 4096;

/// A UDP connection, the same in both directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SessionKey {
    low: (IpAddr, u16),
    high: (IpAddr, u16),
}

impl SessionKey {
    pub(crate) fn new(src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) -> Self {
        let (a, b) = ((src, src_port), (dst, dst_port));
        if a <= b {
            SessionKey { low: a, high: b }
        } else {
            SessionKey { low: b, high: a }
        }
    }
}

/// The UDP connections seen carrying valid Teredo.
#[derive(Default)]
pub(crate) struct TeredoSessions {
    known: HashSet<SessionKey>,
    order: VecDeque<SessionKey>,
}

impl TeredoSessions {
    pub(crate) fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// (Callers that would build the key only for this ask [`TeredoSessions::is_empty`]
    /// first.)
    pub(crate) fn contains(&self, key: &SessionKey) -> bool {
        self.known.contains(key)
    }

    pub(crate) fn remember(&mut self, key: SessionKey) {
        if self.known.contains(&key) {
            return;
        }
        if self.order.len() >= MAX_TEREDO_SESSIONS {
            if let Some(oldest) = self.order.pop_front() {
                self.known.remove(&oldest);
            }
        }
        self.known.insert(key);
        self.order.push_back(key);
    }
}

/// Zeek's Teredo protocol detection: a 40-byte bubble with a Teredo address, or an
/// authentication and/or origin-indication header followed by an IPv6 header.
pub(crate) fn looks_like_teredo(data: &[u8]) -> bool {
    let ipv6_version = |at: usize| u8_at(data, at).is_some_and(|b| b >> 4 == 6);
    if data.len() == IPV6_HEADER_LEN as usize && ipv6_version(0) {
        let prefixed = |at: usize| data.get(at..at + 4) == Some(&TEREDO_PREFIX[..]);
        return prefixed(IPV6_SRC_AT) || prefixed(IPV6_DST_AT);
    }
    // Both headers start with a zero byte (authentication 0x0001, origin indication 0x0000).
    if u8_at(data, 0) != Some(0) {
        return false;
    }
    let mut at = 0;
    if u8_at(data, 1) == Some(1) {
        let (Some(id_len), Some(auth_len)) = (u8_at(data, 2), u8_at(data, 3)) else {
            return false;
        };
        at = TEREDO_AUTH_FIXED_LEN + usize::from(id_len) + usize::from(auth_len);
    }
    if be16(data, at) == Some(TEREDO_ORIGIN_INDICATION) {
        let ip_at = at + TEREDO_ORIGIN_LEN;
        return data.len() >= ip_at + IPV6_HEADER_LEN as usize && ipv6_version(ip_at);
    }
    false
}

/// Teredo (RFC 4380) as Zeek validates it: at most one authentication header, then at most
/// one origin indication, then an IPv6 header whose payload length matches the rest exactly
/// (a bubble, with no next header and length 0, may have trailing bytes).
pub(crate) fn parse(mut data: &[u8]) -> Option<&[u8]> {
    let mut seen_auth = false;
    let mut seen_origin = false;
    // Two headers at most, then the IPv6 packet.
    for _ in 0..3 {
        let tag = be16(data, 0)?;
        if tag == TEREDO_AUTHENTICATION && !seen_auth && !seen_origin {
            let id_len = usize::from(u8_at(data, 2)?);
            let auth_len = usize::from(u8_at(data, 3)?);
            let total = TEREDO_AUTH_FIXED_LEN + id_len + auth_len;
            if data.len() < total {
                return None;
            }
            data = rest(data, total);
            seen_auth = true;
        } else if tag == TEREDO_ORIGIN_INDICATION && !seen_origin {
            if data.len() < TEREDO_ORIGIN_LEN {
                return None;
            }
            data = rest(data, TEREDO_ORIGIN_LEN);
            seen_origin = true;
        } else if tag >> 12 == 6 {
            return valid_teredo_ipv6(data).then_some(data);
        } else {
            return None;
        }
    }
    None
}

fn valid_teredo_ipv6(packet: &[u8]) -> bool {
    let header_len = IPV6_HEADER_LEN as usize;
    let (Some(payload_len), Some(next_header)) = (be16(packet, 4), u8_at(packet, 6)) else {
        return false;
    };
    if packet.len() < header_len {
        return false;
    }
    let expected = header_len + usize::from(payload_len);
    match expected.cmp(&packet.len()) {
        std::cmp::Ordering::Equal => true,
        std::cmp::Ordering::Less => next_header == IPV6_NO_NEXT_HEADER && payload_len == 0,
        std::cmp::Ordering::Greater => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv6_packet(payload_len: u16, next: u8, body: usize) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&payload_len.to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&[0; 32]);
        p.extend(std::iter::repeat_n(0u8, body));
        p
    }

    #[test]
    fn teredo_plain_origin_and_auth() {
        let ip = ipv6_packet(8, 17, 8);
        assert_eq!(parse(&ip), Some(&ip[..]));
        let mut with_origin = vec![0, 0, 1, 2, 3, 4, 5, 6];
        with_origin.extend_from_slice(&ip);
        assert_eq!(parse(&with_origin), Some(&ip[..]));
        // Auth (id 1 byte, auth 0 bytes) then origin then IPv6.
        let mut with_auth = vec![0, 1, 1, 0, 0xaa];
        with_auth.extend_from_slice(&[0; 9]);
        with_auth.extend_from_slice(&with_origin);
        assert_eq!(parse(&with_auth), Some(&ip[..]));
    }

    #[test]
    fn teredo_rejects_length_mismatch_and_repeats() {
        assert_eq!(parse(&ipv6_packet(9, 17, 8)), None);
        assert_eq!(parse(&ipv6_packet(0, 17, 8)), None);
        // Bubble with trailing bytes is fine.
        assert!(parse(&ipv6_packet(0, IPV6_NO_NEXT_HEADER, 4)).is_some());
        let mut twice = vec![0u8; 16];
        twice.extend_from_slice(&ipv6_packet(0, IPV6_NO_NEXT_HEADER, 0));
        assert_eq!(parse(&twice), None);
        assert_eq!(parse(&[0x45, 0, 0, 20]), None);
    }

    #[test]
    fn detection_shapes() {
        let mut bubble = ipv6_packet(0, IPV6_NO_NEXT_HEADER, 0);
        assert!(!looks_like_teredo(&bubble));
        bubble[IPV6_DST_AT..IPV6_DST_AT + 4].copy_from_slice(&TEREDO_PREFIX);
        assert!(looks_like_teredo(&bubble));
        let mut with_origin = vec![0, 0, 1, 2, 3, 4, 5, 6];
        with_origin.extend_from_slice(&ipv6_packet(8, 17, 8));
        assert!(looks_like_teredo(&with_origin));
        assert!(!looks_like_teredo(&ipv6_packet(8, 17, 8)));
        assert!(!looks_like_teredo(b"\x00\x00 a dns answer"));
    }

    #[test]
    fn sessions_are_bounded_and_symmetric() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let mut sessions = TeredoSessions::default();
        sessions.remember(SessionKey::new(a, 1, b, 2));
        assert!(sessions.contains(&SessionKey::new(b, 2, a, 1)));
        for port in 0..MAX_TEREDO_SESSIONS as u16 {
            sessions.remember(SessionKey::new(a, 10_000 + port, b, 2));
        }
        assert!(!sessions.contains(&SessionKey::new(a, 1, b, 2)));
        assert_eq!(sessions.order.len(), MAX_TEREDO_SESSIONS);
    }
}
