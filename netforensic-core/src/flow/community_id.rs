//! Community ID v1 (https://github.com/corelight/community-id-spec): a direction-free flow
//! hash that Zeek, Suricata, Arkime, Elastic and Wireshark compute the same way, so flows can
//! be joined across tools.

use super::id_text::CommunityId;
use std::net::IpAddr;

/// The seed the tools use unless configured otherwise.
pub const DEFAULT_SEED: u16 = 0;

/// Largest hash input: seed (2) + two IPv6 addresses (32) + proto and pad (2) + ports (4).
const MAX_INPUT: usize = 40;

/// Community ID of a flow. For ICMP, `src_port`/`dst_port` are the type and the counterpart
/// type or code (see [`super::icmp::counterpart`]); `one_way` ICMP messages keep their
/// direction, everything else is ordered so both directions hash alike.
pub fn community_id_v1(
    seed: u16,
    proto: u8,
    src: IpAddr,
    src_port: u16,
    dst: IpAddr,
    dst_port: u16,
    one_way: bool,
) -> CommunityId {
    let src_bytes = AddrBytes::of(src);
    let dst_bytes = AddrBytes::of(dst);
    let (a, b) = (src_bytes.as_slice(), dst_bytes.as_slice());
    let ordered = one_way || a < b || (a == b && src_port <= dst_port);
    let (first, first_port, second, second_port) = if ordered {
        (a, src_port, b, dst_port)
    } else {
        (b, dst_port, a, src_port)
    };
    let mut input = [0u8; MAX_INPUT];
    let mut len = 0;
    for part in [
        &seed.to_be_bytes()[..],
        first,
        second,
        &[proto, 0][..],
        &first_port.to_be_bytes()[..],
        &second_port.to_be_bytes()[..],
    ] {
        if let Some(slot) = input.get_mut(len..len + part.len()) {
            slot.copy_from_slice(part);
            len += part.len();
        }
    }
    let digest = sha1_one_block(input.get(..len).unwrap_or_default());
    let mut text = [0u8; 30];
    let (prefix, encoded) = text.split_at_mut(2);
    prefix.copy_from_slice(b"1:");
    base64_into(&digest, encoded);
    CommunityId::from_digits(text, text.len())
}

/// SHA-1's initial state (FIPS 180-4, 5.3.1).
const SHA1_INIT: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

/// SHA-1 of `input`, at most 55 bytes (the hash input is at most [`MAX_INPUT`]): one block
/// with its padding (FIPS 180-4, 5.1.1), built here and compressed by RustCrypto's
/// compression function, which uses the SHA extensions where the CPU has them (ring's SHA-1 is
/// portable code only). The streaming hasher's buffering around it cost about as much as the
/// compression itself, once per flow.
fn sha1_one_block(input: &[u8]) -> [u8; 20] {
    let mut block = [0u8; 64];
    let len = input.len().min(55);
    if let Some(slot) = block.get_mut(..len) {
        slot.copy_from_slice(input.get(..len).unwrap_or_default());
    }
    if let Some(marker) = block.get_mut(len) {
        *marker = 0x80;
    }
    block[56..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
    let mut state = SHA1_INIT;
    sha1::block_api::compress(&mut state, &[block]);
    let mut digest = [0u8; 20];
    for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// Address bytes in network order (4 or 16), on the stack: this runs once per flow.
struct AddrBytes {
    bytes: [u8; 16],
    len: usize,
}

impl AddrBytes {
    fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => {
                let mut bytes = [0u8; 16];
                bytes[..4].copy_from_slice(&a.octets());
                AddrBytes { bytes, len: 4 }
            }
            IpAddr::V6(a) => AddrBytes {
                bytes: a.octets(),
                len: 16,
            },
        }
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// Standard base64 with padding (RFC 4648), as the spec renders the digest, into `out` (which
/// holds 4 bytes per 3 of `bytes`, rounded up; what does not fit is left out).
fn base64_into(bytes: &[u8], out: &mut [u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbol = |v: u32| ALPHABET[(v & 63) as usize];
    for (chunk, quad) in bytes.chunks(3).zip(out.chunks_exact_mut(4)) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let v = (b0 << 16) | (b1 << 8) | b2;
        quad.copy_from_slice(&[
            symbol(v >> 18),
            symbol(v >> 12),
            if chunk.len() > 1 {
                symbol(v >> 6)
            } else {
                b'='
            },
            if chunk.len() > 2 { symbol(v) } else { b'=' },
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(proto: u8, s: &str, sp: u16, d: &str, dp: u16, one_way: bool) -> CommunityId {
        community_id_v1(
            DEFAULT_SEED,
            proto,
            s.parse().unwrap(),
            sp,
            d.parse().unwrap(),
            dp,
            one_way,
        )
    }

    /// Vectors from the spec's `baseline/baseline_deflt.json`.
    #[test]
    fn spec_baseline_vectors() {
        let tcp = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
        assert_eq!(
            id(6, "128.232.110.120", 34855, "66.35.250.204", 80, false),
            tcp
        );
        assert_eq!(
            id(6, "66.35.250.204", 80, "128.232.110.120", 34855, false),
            tcp
        );
        let udp = "1:d/FP5EW3wiY1vCndhwleRRKHowQ=";
        assert_eq!(id(17, "192.168.1.52", 54585, "8.8.8.8", 53, false), udp);
        assert_eq!(id(17, "8.8.8.8", 53, "192.168.1.52", 54585, false), udp);
        assert_eq!(
            id(
                6,
                "2001:470:e5bf:dead:4957:2174:e82c:4887",
                63943,
                "2607:f8b0:400c:c03::1a",
                25,
                false
            ),
            "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="
        );
    }

    #[test]
    fn spec_icmp_vectors_through_zeek_port_mapping() {
        use crate::flow::icmp::counterpart;
        let (p, one_way) = counterpart(false, 8, 0);
        assert_eq!(
            id(1, "192.168.0.89", 8, "192.168.0.1", p, one_way),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="
        );
        let (p, one_way) = counterpart(false, 0, 0);
        assert_eq!(
            id(1, "192.168.0.1", 0, "192.168.0.89", p, one_way),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="
        );
        let (p, one_way) = counterpart(false, 11, 0);
        assert_eq!(
            id(1, "10.0.0.1", 11, "10.0.0.2", p, one_way),
            "1:YHxtAirCG//0OzkcVAukqKQN9xM="
        );
        let (p, one_way) = counterpart(true, 135, 0);
        assert_eq!(
            id(
                58,
                "fe80::200:86ff:fe05:80da",
                135,
                "fe80::260:97ff:fe07:69ea",
                p,
                one_way
            ),
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="
        );
        let (p, one_way) = counterpart(true, 1, 4);
        assert_eq!(
            id(
                58,
                "3ffe:501:410:0:2c0:dfff:fe47:33e",
                1,
                "3ffe:507:0:1:200:86ff:fe05:80da",
                p,
                one_way
            ),
            "1:hLZd0XGWojozrvxqE0dWB1iM6R0="
        );
        let (p, one_way) = counterpart(true, 134, 0);
        assert_eq!(
            id(58, "fe80::260:97ff:fe07:69ea", 134, "ff02::1", p, one_way),
            "1:pkvHqCL88/tg1k4cPigmZXUtL00="
        );
    }

    /// The one-block SHA-1 is the streaming hasher's, at every length it takes.
    #[test]
    fn one_block_sha1_is_sha1() {
        use sha1::{Digest, Sha1};
        let bytes: Vec<u8> = (0..55u8).map(|b| b.wrapping_mul(151) ^ 0x5a).collect();
        for len in 0..=55 {
            let input = &bytes[..len];
            assert_eq!(sha1_one_block(input)[..], Sha1::digest(input)[..], "{len}");
        }
    }

    #[test]
    fn base64_padding() {
        let mut out = [0u8; 4];
        base64_into(b"ab", &mut out);
        assert_eq!(&out, b"YWI=");
        base64_into(b"abc", &mut out);
        assert_eq!(&out, b"YWJj");
        let mut out = [0u8; 8];
        base64_into(b"abcd", &mut out);
        assert_eq!(&out, b"YWJjZA==");
    }
}
