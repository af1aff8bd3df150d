//! Zeek-style connection identifiers (`C` + base62). Zeek draws them at random; ours are
//! derived from the input (5-tuple, first packet time, flow id), so the same capture always
//! gives the same uids whatever the thread count.

use super::id_text::Uid;
use crate::time::Timestamp;
use std::net::IpAddr;

/// Bits of the digest kept, as Zeek's default `bits_per_uid`.
const UID_BITS: u32 = 96;
/// The kept bits as 32-bit limbs, for [`base62_digits`].
const UID_LIMBS: usize = (UID_BITS / 32) as usize;
/// Domain separation for the hash input, so the uid cannot collide with other digests.
const UID_TAG: &[u8] = b"netforensic-uid-v1";
/// Longest hash input: tag, protocol, two IPv6 addresses with ports, time and id.
const UID_INPUT_MAX: usize = 18 + 1 + 2 * (16 + 2) + 8 + 8;
// `sha256_short` pads at most two blocks.
const _: () = assert!(UID_INPUT_MAX <= 119);

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
    uid_text(sha256_first_words(input.get(..len).unwrap_or_default()))
}

/// The first [`UID_BITS`] of SHA-256 over `input`, as big-endian words. With the SHA
/// extensions, through [`sha256_short`]: ring's one-shot digest spent about as much again as
/// the compression on its context and buffering (~88 -> ~53 ns per IPv4 flow). Without them,
/// ring's vectorised code, faster than RustCrypto's portable one.
fn sha256_first_words(input: &[u8]) -> [u32; UID_LIMBS] {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if std::arch::is_x86_feature_detected!("sha") && std::arch::is_x86_feature_detected!("sse4.1") {
        let state = sha256_short(input);
        return [state[0], state[1], state[2]];
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, input);
    let mut limbs = [0u32; UID_LIMBS];
    for (limb, bytes) in limbs.iter_mut().zip(digest.as_ref().chunks_exact(4)) {
        *limb = <[u8; 4]>::try_from(bytes).map_or(0, u32::from_be_bytes);
    }
    limbs
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_INIT: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 of `input` (at most 119 bytes: the uid input is at most [`UID_INPUT_MAX`]) as its
/// final state, the digest's big-endian words: one or two blocks with their padding (FIPS
/// 180-4, 5.1.1) built here and compressed by RustCrypto's compression function.
fn sha256_short(input: &[u8]) -> [u32; 8] {
    let mut blocks = [[0u8; 64]; 2];
    let len = input.len().min(119);
    let count = if len <= 55 { 1 } else { 2 };
    let padded = blocks.as_flattened_mut();
    if let Some(slot) = padded.get_mut(..len) {
        slot.copy_from_slice(input.get(..len).unwrap_or_default());
    }
    if let Some(marker) = padded.get_mut(len) {
        *marker = 0x80;
    }
    if let Some(bits) = padded.get_mut(count * 64 - 8..count * 64) {
        bits.copy_from_slice(&(len as u64 * 8).to_be_bytes());
    }
    let mut state = SHA256_INIT;
    sha2::block_api::compress256(&mut state, blocks.get(..count).unwrap_or_default());
    state
}

const BASE62_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 62^5: five digits fit a `u32`, and the 96-bit value divides by it limb by limb in `u64`
/// arithmetic, where a division by a constant is a multiplication (a `u128` division is a
/// library call).
const BASE62_POW5: u64 = 916_132_832;
/// Digits computed: four groups of five, enough for 96 bits (62^17 > 2^96).
const UID_DIGITS: usize = 20;

/// `C` and the base62 digits of the [`UID_BITS`]-bit value `limbs` (32 bits each, most significant
/// first), without leading zeros ("0" for zero).
fn uid_text(limbs: [u32; UID_LIMBS]) -> Uid {
    let digits = base62_digits(limbs);
    // The last digit stays even when zero.
    let start = digits
        .iter()
        .take(UID_DIGITS - 1)
        .take_while(|&&d| d == b'0')
        .count();
    let mut text = [0u8; 18];
    text[0] = b'C';
    for (slot, &digit) in text.iter_mut().skip(1).zip(digits.iter().skip(start)) {
        *slot = digit;
    }
    Uid::from_digits(text, 1 + UID_DIGITS - start)
}

/// The base62 digits of `limbs`, most significant first, zero-padded to `UID_DIGITS`.
fn base62_digits(mut limbs: [u32; UID_LIMBS]) -> [u8; UID_DIGITS] {
    let mut digits = [b'0'; UID_DIGITS];
    for group in digits.rchunks_exact_mut(5) {
        let mut rest: u64 = 0;
        for limb in limbs.iter_mut() {
            let current = (rest << 32) | u64::from(*limb);
            *limb = (current / BASE62_POW5) as u32;
            rest = current % BASE62_POW5;
        }
        let mut rest = rest as u32;
        for slot in group.iter_mut().rev() {
            *slot = BASE62_DIGITS
                .get((rest % 62) as usize)
                .copied()
                .unwrap_or(b'0');
            rest /= 62;
        }
    }
    digits
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

    /// The textbook digit-by-digit conversion, as the reference for the grouped one.
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

    fn uid_of(value: u128) -> Uid {
        uid_text([(value >> 64) as u32, (value >> 32) as u32, value as u32])
    }

    #[test]
    fn grouped_base62_matches_the_reference() {
        let pow = u128::from(BASE62_POW5);
        let max = (1u128 << 96) - 1;
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
        values.extend([
            pow * pow * pow,
            pow * pow * pow * 62 - 1,
            1 << 64,
            1 << 32,
            max,
        ]);
        values.extend((1..=16).map(|n| 62u128.pow(n)));
        values.extend((1..=16).map(|n| 62u128.pow(n) - 1));
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15)
                .wrapping_add(1);
            values.push((x >> (x % 128) as u32) & max);
        }
        for v in values {
            assert_eq!(
                uid_of(v).as_str(),
                format!("C{}", base62_reference(v)),
                "{v}"
            );
        }
    }

    /// The short-input SHA-256 is the streaming hashers' (RustCrypto's and ring's), at every
    /// length it takes, and both ways to the uid bits agree.
    #[test]
    fn short_sha256_is_sha256() {
        use sha2::{Digest, Sha256};
        let bytes: Vec<u8> = (0..119u8).map(|b| b.wrapping_mul(151) ^ 0x5a).collect();
        for len in 0..=119 {
            let input = &bytes[..len];
            let words = sha256_short(input);
            let digest: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
            assert_eq!(digest[..], Sha256::digest(input)[..], "{len}");
            let ring = ring::digest::digest(&ring::digest::SHA256, input);
            assert_eq!(digest[..], *ring.as_ref(), "{len}");
            assert_eq!(sha256_first_words(input)[..], words[..UID_LIMBS], "{len}");
        }
    }

    #[test]
    fn base62_digits() {
        assert_eq!(uid_of(61), "Cz");
        assert_eq!(uid_of(62), "C10");
        assert_eq!(uid_of(0), "C0");
        assert_eq!(uid_of((1 << 96) - 1).len(), 18);
    }
}
