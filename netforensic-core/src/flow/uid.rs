//! Zeek-style connection identifiers (`C` + base62). Zeek draws them at random; ours are
//! derived from the input (5-tuple, first packet time, flow id), so the same capture always
//! gives the same uids whatever the thread count.

use crate::time::Timestamp;
use std::net::IpAddr;

/// Bits of the digest kept, as Zeek's default `bits_per_uid`.
const UID_BITS: u32 = 96;

/// `C` + base62 of 96 bits of SHA-256 over the flow's identity.
pub fn connection_uid(
    proto: u8,
    orig: IpAddr,
    orig_port: u16,
    resp: IpAddr,
    resp_port: u16,
    first_ts: Timestamp,
    id: u64,
) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"netforensic-uid-v1");
    ctx.update(&[proto]);
    for (addr, port) in [(orig, orig_port), (resp, resp_port)] {
        match addr {
            IpAddr::V4(a) => ctx.update(&a.octets()),
            IpAddr::V6(a) => ctx.update(&a.octets()),
        }
        ctx.update(&port.to_be_bytes());
    }
    ctx.update(&first_ts.nanos().to_be_bytes());
    ctx.update(&id.to_be_bytes());
    let digest = ctx.finish();
    let mut value: u128 = 0;
    for &b in digest.as_ref().iter().take((UID_BITS / 8) as usize) {
        value = (value << 8) | u128::from(b);
    }
    let mut out = String::with_capacity(20);
    out.push('C');
    push_base62(value, &mut out);
    out
}

fn push_base62(mut value: u128, out: &mut String) {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut buf = [0u8; 24];
    let mut n = 0;
    loop {
        let digit = (value % 62) as usize;
        if let (Some(slot), Some(&d)) = (buf.get_mut(n), DIGITS.get(digit)) {
            *slot = d;
        }
        n += 1;
        value /= 62;
        if value == 0 || n >= buf.len() {
            break;
        }
    }
    for &b in buf.iter().take(n).rev() {
        out.push(char::from(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_deterministic_and_distinct() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t = Timestamp::from_secs_nanos(100, 0);
        let u1 = connection_uid(6, a, 1000, b, 80, t, 0);
        let u2 = connection_uid(6, a, 1000, b, 80, t, 0);
        let u3 = connection_uid(6, a, 1000, b, 80, t, 1);
        assert_eq!(u1, u2);
        assert_ne!(u1, u3);
        assert!(u1.starts_with('C'));
        assert!(u1.len() > 10 && u1.len() <= 18);
        assert!(u1[1..].chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn base62_digits() {
        let mut s = String::new();
        push_base62(61, &mut s);
        assert_eq!(s, "z");
        s.clear();
        push_base62(62, &mut s);
        assert_eq!(s, "10");
    }
}
