//! QUIC Initial packets from the client (RFC 9001 section 5, RFC 9369 for v2): derive the
//! Initial keys from the Destination Connection ID, remove header protection, decrypt with
//! AES-128-GCM, and collect CRYPTO frame data, which carries the TLS ClientHello.

use ring::aead::quic::{HeaderProtectionKey, AES_128};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::hkdf::{KeyType, Prk, Salt, HKDF_SHA256};

const VERSION_1: u32 = 0x0000_0001;
const VERSION_2: u32 = 0x6b33_43cf;
const VERSION_DRAFT_29: u32 = 0xff00_001d;
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];
/// Connection IDs are at most 20 bytes in QUIC v1/v2.
const MAX_CID_LEN: usize = 20;
/// Header protection samples 16 bytes starting 4 bytes after the packet number offset.
const SAMPLE_LEN: usize = 16;
const SAMPLE_OFFSET: usize = 4;
/// AEAD tag length of AES-128-GCM.
const TAG_LEN: usize = 16;
/// Coalesced packets read per datagram.
const MAX_PACKETS_PER_DATAGRAM: usize = 8;
/// Frames read per packet (padding runs are skipped in one step).
const MAX_FRAMES_PER_PACKET: usize = 256;

/// Per-version constants.
struct Version {
    salt: &'static [u8; 20],
    key_label: &'static [u8],
    iv_label: &'static [u8],
    hp_label: &'static [u8],
    /// Long-header packet type bits that mean Initial.
    initial_type: u8,
}

fn version(v: u32) -> Option<Version> {
    match v {
        VERSION_1 | VERSION_DRAFT_29 => Some(Version {
            salt: if v == VERSION_1 {
                &SALT_V1
            } else {
                &SALT_DRAFT_29
            },
            key_label: b"quic key",
            iv_label: b"quic iv",
            hp_label: b"quic hp",
            initial_type: 0,
        }),
        VERSION_2 => Some(Version {
            salt: &SALT_V2,
            key_label: b"quicv2 key",
            iv_label: b"quicv2 iv",
            hp_label: b"quicv2 hp",
            initial_type: 1,
        }),
        _ => None,
    }
}

/// Does this datagram start with a long-header packet of a version we can decrypt?
pub fn is_client_initial(datagram: &[u8]) -> bool {
    let Some(&first) = datagram.first() else {
        return false;
    };
    let Some(v) = datagram
        .get(1..5)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return false;
    };
    first & 0x80 != 0 && version(v).is_some_and(|ver| (first >> 4) & 0x03 == ver.initial_type)
}

/// Decrypt every client Initial packet of `datagram` and hand each CRYPTO frame
/// (`offset`, `data`) to `on_crypto`.
pub fn crypto_frames(datagram: &[u8], on_crypto: &mut dyn FnMut(u64, &[u8])) {
    let mut rest = datagram;
    for _ in 0..MAX_PACKETS_PER_DATAGRAM {
        if !is_client_initial(rest) {
            return;
        }
        let Some((plaintext, packet_len)) = decrypt_initial(rest) else {
            return;
        };
        read_frames(&plaintext, on_crypto);
        let Some(next) = rest.get(packet_len..) else {
            return;
        };
        rest = next;
    }
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 7.1).
fn expand_label(prk: &Prk, label: &[u8], out: &mut [u8]) -> Option<()> {
    let length = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(6 + label.len()).ok()?];
    let info: [&[u8]; 5] = [&length, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len())).ok()?.fill(out).ok()
}

/// Read a QUIC variable-length integer (RFC 9000 16) at `*pos`.
fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *data.get(*pos)?;
    let len = 1usize << (first >> 6);
    let bytes = data.get(*pos..*pos + len)?;
    let mut value = u64::from(first & 0x3f);
    for &b in bytes.get(1..)? {
        value = (value << 8) | u64::from(b);
    }
    *pos += len;
    Some(value)
}

/// Decrypt the Initial packet at the start of `data`: (plaintext, length of the packet).
fn decrypt_initial(data: &[u8]) -> Option<(Vec<u8>, usize)> {
    let ver = version(u32::from_be_bytes(data.get(1..5)?.try_into().ok()?))?;
    let mut pos = 5usize;
    let dcid_len = usize::from(*data.get(pos)?);
    if dcid_len > MAX_CID_LEN {
        return None;
    }
    let dcid = data.get(pos + 1..pos + 1 + dcid_len)?;
    pos += 1 + dcid_len;
    let scid_len = usize::from(*data.get(pos)?);
    pos += 1 + scid_len;
    let token_len = usize::try_from(varint(data, &mut pos)?).ok()?;
    pos = pos.checked_add(token_len)?;
    let length = usize::try_from(varint(data, &mut pos)?).ok()?;
    let pn_offset = pos;
    let packet_end = pn_offset.checked_add(length)?;
    let packet = data.get(..packet_end)?;

    let initial = Salt::new(HKDF_SHA256, ver.salt).extract(dcid);
    let mut client_secret = [0u8; 32];
    expand_label(&initial, b"client in", &mut client_secret)?;
    let client = Prk::new_less_safe(HKDF_SHA256, &client_secret);
    let (mut key, mut iv, mut hp) = ([0u8; 16], [0u8; 12], [0u8; 16]);
    expand_label(&client, ver.key_label, &mut key)?;
    expand_label(&client, ver.iv_label, &mut iv)?;
    expand_label(&client, ver.hp_label, &mut hp)?;

    let sample_at = pn_offset + SAMPLE_OFFSET;
    let sample = packet.get(sample_at..sample_at + SAMPLE_LEN)?;
    let mask = HeaderProtectionKey::new(&AES_128, &hp)
        .ok()?
        .new_mask(sample)
        .ok()?;
    let mut header = packet.get(..pn_offset + 4)?.to_vec();
    header[0] ^= mask[0] & 0x0f;
    let pn_len = usize::from(header[0] & 0x03) + 1;
    header.truncate(pn_offset + pn_len);
    let mut packet_number: u64 = 0;
    for i in 0..pn_len {
        let byte = header.get_mut(pn_offset + i)?;
        *byte ^= *mask.get(1 + i)?;
        packet_number = (packet_number << 8) | u64::from(*byte);
    }
    let mut nonce = iv;
    for (i, b) in packet_number.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let mut payload = packet.get(pn_offset + pn_len..)?.to_vec();
    if payload.len() < TAG_LEN {
        return None;
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).ok()?);
    let plaintext = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&header),
            &mut payload,
        )
        .ok()?;
    Some((plaintext.to_vec(), packet_end))
}

/// Walk the frames of a decrypted Initial packet: PADDING, PING, ACK and CRYPTO are what a
/// client Initial holds; anything else ends the walk.
fn read_frames(plaintext: &[u8], on_crypto: &mut dyn FnMut(u64, &[u8])) {
    let mut pos = 0usize;
    for _ in 0..MAX_FRAMES_PER_PACKET {
        let Some(frame_type) = varint(plaintext, &mut pos) else {
            return;
        };
        match frame_type {
            0x00 => {
                // A run of padding.
                while plaintext.get(pos) == Some(&0) {
                    pos += 1;
                }
            }
            0x01 => {}
            0x02 | 0x03 => {
                let skipped = (|| {
                    varint(plaintext, &mut pos)?; // largest acknowledged
                    varint(plaintext, &mut pos)?; // delay
                    let ranges = varint(plaintext, &mut pos)?;
                    varint(plaintext, &mut pos)?; // first range
                    for _ in 0..ranges.min(plaintext.len() as u64) {
                        varint(plaintext, &mut pos)?;
                        varint(plaintext, &mut pos)?;
                    }
                    if frame_type == 0x03 {
                        for _ in 0..3 {
                            varint(plaintext, &mut pos)?;
                        }
                    }
                    Some(())
                })()
                .is_some();
                if !skipped {
                    return;
                }
            }
            0x06 => {
                let Some(offset) = varint(plaintext, &mut pos) else {
                    return;
                };
                let Some(len) = varint(plaintext, &mut pos).and_then(|l| usize::try_from(l).ok())
                else {
                    return;
                };
                let Some(data) = plaintext.get(pos..pos.saturating_add(len)) else {
                    return;
                };
                on_crypto(offset, data);
                pos += len;
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 9001 appendix A.1: the client Initial secrets for DCID 8394c8f03e515708.
    #[test]
    fn rfc9001_initial_keys() {
        let dcid = hex("8394c8f03e515708");
        let initial = Salt::new(HKDF_SHA256, &SALT_V1).extract(&dcid);
        let mut secret = [0u8; 32];
        expand_label(&initial, b"client in", &mut secret).unwrap();
        assert_eq!(
            secret.to_vec(),
            hex("c00cf151ca5be075ed0ebfb5c80323c4 2d6b7db67881289af4008f1f6c357aea")
        );
        let client = Prk::new_less_safe(HKDF_SHA256, &secret);
        let mut key = [0u8; 16];
        expand_label(&client, b"quic key", &mut key).unwrap();
        assert_eq!(key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        let mut hp = [0u8; 16];
        expand_label(&client, b"quic hp", &mut hp).unwrap();
        assert_eq!(hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    }

    #[test]
    fn garbage_never_panics() {
        let mut data = vec![0xc0, 0, 0, 0, 1, 8];
        data.extend_from_slice(&[1; 40]);
        for cut in 0..data.len() {
            crypto_frames(&data[..cut], &mut |_, _| panic!("no frame expected"));
        }
        assert!(!is_client_initial(b"\x40abc"));
    }
}
