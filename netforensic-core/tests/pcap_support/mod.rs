//! Building blocks of the captures some tests generate in memory: classic pcap (little-endian,
//! microseconds, Ethernet) of IPv4 UDP datagrams.

use std::net::Ipv4Addr;

/// A classic pcap file header: little-endian, microseconds, snap length 65535, Ethernet.
pub fn push_pcap_header(out: &mut Vec<u8>) {
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
}

/// One record: an Ethernet frame with an IPv4 UDP datagram from `src` to `dst` (no UDP
/// checksum, allowed over IPv4) at `micros` microseconds since the epoch.
pub fn push_udp_record(
    out: &mut Vec<u8>,
    micros: u64,
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    payload: &[u8],
) {
    let frame_len = 14 + 20 + 8 + payload.len();
    out.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&(frame_len as u32).to_le_bytes());
    out.extend_from_slice(&(frame_len as u32).to_le_bytes());
    out.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((20 + 8 + payload.len()) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&src.0.octets());
    ip[16..20].copy_from_slice(&dst.0.octets());
    let sum = ipv4_checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&ip);
    out.extend_from_slice(&src.1.to_be_bytes());
    out.extend_from_slice(&dst.1.to_be_bytes());
    out.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
}

/// The IPv4 header checksum of `header` (its checksum field zero).
fn ipv4_checksum(header: &[u8]) -> u16 {
    let sum = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    !((sum & 0xffff) + (sum >> 16)) as u16
}
