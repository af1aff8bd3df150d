//! Zeek-style connection identifiers (`C` + base62). Zeek draws them at random; ours are
//! derived from the input (5-tuple, first packet time, flow id), so the same capture always
//! gives the same uids whatever the thread count.

use super::id_text::Uid;
use crate::time::Timestamp;
use std::net::IpAddr;

/// Bits of the digest kept, as Zeek's default `bits_per_uid`.
const UID_BITS: u32 = 96;
/// Domain separation for the hash input, so the uid cannot collide with other digests.
const UID_TAG: &[u8] = b"netforensic-uid-v1";
/// Longest hash input: tag, protocol, two IPv6 addresses with ports, time and id.
const UID_INPUT_MAX: usize = 18 + 1 + 2 * (16 + 2) + 8 + 8;

/// `C` + base62 of 96 bits of SHA-256 over the flow's identity.
pub fn connection_uid(
    proto: u8,
    orig: IpAddr,
    orig_port: u16,
    resp: IpAddr,
    resp_port: u16,
    first_ts: Timestamp,
    id: u64,
) -> Uid {
    // One contiguous input and one digest call: the same bytes as hashing the parts in turn,
    // without a streaming update per part.
    let mut input = [0u8; UID_INPUT_MAX];
    let mut len = 0;
    let mut put = |part: &[u8]| {
        if let Some(slot) = input.get_mut(len..len + part.len()) {
            slot.copy_from_slice(part);
            len += part.len();
        }
    };
    put(UID_TAG);
    put(&[proto]);
    for (addr, port) in [(orig, orig_port), (resp, resp_port)] {
        match addr {
            IpAddr::V4(a) => put(&a.octets()),
            IpAddr::V6(a) => put(&a.octets()),
        }
        put(&port.to_be_bytes());
    }
    put(&first_ts.nanos().to_be_bytes());
    put(&id.to_be_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, input.get(..len).unwrap_or_default());
    let mut value: u128 = 0;
    for &b in digest.as_ref().iter().take((UID_BITS / 8) as usize) {
        value = (value << 8) | u128::from(b);
    }
    let mut text = [0u8; 18];
    text[0] = b'C';
    let mut buf = [0u8; BASE62_MAX_DIGITS];
    let n = base62(value, &mut buf);
    for (slot, &digit) in text.iter_mut().skip(1).zip(buf.iter().take(n)) {
        *slot = digit;
    }
    Uid::from_digits(text, 1 + n)
}

const BASE62_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 62^10, the largest power of 62 below 2^64: the low 10 digits come from one `u128`
/// division, the rest with `u64` arithmetic (a `u128` division per digit costs more than the
/// SHA-256 before it).
const BASE62_POW10: u64 = 839_299_365_868_340_224;
/// Base62 digits of a `u128` (at most 22).
const BASE62_MAX_DIGITS: usize = 22;

/// `value` in base62 into `out`, most significant digit first, no leading zeros ("0" for
/// zero); returns the number of digits.
fn base62(value: u128, out: &mut [u8; BASE62_MAX_DIGITS]) -> usize {
    let mut buf = [0u8; BASE62_MAX_DIGITS];
    let mut n = 0;
    let mut emit = |mut chunk: u64, pad: bool| {
        let mut digits = 0;
        while (chunk > 0 || (pad && digits < 10)) && n < buf.len() {
            if let (Some(slot), Some(&d)) =
                (buf.get_mut(n), BASE62_DIGITS.get((chunk % 62) as usize))
            {
                *slot = d;
            }
            n += 1;
            digits += 1;
            chunk /= 62;
        }
    };
    let divisor = u128::from(BASE62_POW10);
    let low = (value % divisor) as u64;
    let mid = value / divisor;
    if mid == 0 {
        emit(low, false);
    } else {
        emit(low, true);
        let (mid_low, high) = ((mid % divisor) as u64, (mid / divisor) as u64);
        if high == 0 {
            emit(mid_low, false);
        } else {
            emit(mid_low, true);
            emit(high, false);
        }
    }
    if n == 0 {
        out[0] = b'0';
        return 1;
    }
    for (slot, &b) in out.iter_mut().zip(buf.iter().take(n).rev()) {
        *slot = b;
    }
    n
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

    /// The textbook digit-by-digit conversion, as the reference for the chunked one.
    fn base62_reference(mut value: u128) -> String {
        let mut digits = Vec::new();
        loop {
            digits.push(char::from(BASE62_DIGITS[(value % 62) as usize]));
            value /= 62;
            if value == 0 {
                break;
            }
        }
        digits.iter().rev().collect()
    }

    #[test]
    fn chunked_base62_matches_the_reference() {
        let pow = u128::from(BASE62_POW10);
        let mut values = vec![
            0,
            1,
            61,
            62,
            pow - 1,
            pow,
            pow + 1,
            pow * pow - 1,
            pow * pow,
        ];
        values.extend([pow * pow + 5, (1 << 96) - 1, u128::MAX, u128::MAX - pow]);
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15)
                .wrapping_add(1);
            values.push(x >> (x % 128) as u32);
        }
        for v in values {
            assert_eq!(base62_text(v), base62_reference(v), "{v}");
        }
    }

    fn base62_text(value: u128) -> String {
        let mut buf = [0u8; BASE62_MAX_DIGITS];
        let n = base62(value, &mut buf);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn base62_digits() {
        assert_eq!(base62_text(61), "z");
        assert_eq!(base62_text(62), "10");
        assert_eq!(base62_text(0), "0");
    }
}
