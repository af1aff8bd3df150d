//! A flood of distinct flows: `flows` UDP packets, each its own connection (distinct source
//! address and port), spread evenly over `span_secs` of capture time. With a span longer than
//! UDP's inactivity timeout, flows end while the capture goes on: the scaling check that
//! finished connections are released (memory follows the live ones).

use std::io::{self, Write};

const PAYLOAD: &[u8] = b"flood";

/// Write the flood as a classic pcap (microseconds, Ethernet). Returns the packets written.
pub fn generate_flood<W: Write>(flows: u64, span_secs: u64, out: &mut W) -> io::Result<u64> {
    let frame_len = 14 + 20 + 8 + PAYLOAD.len();
    out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    out.write_all(&2u16.to_le_bytes())?;
    out.write_all(&4u16.to_le_bytes())?;
    out.write_all(&[0; 8])?;
    out.write_all(&65535u32.to_le_bytes())?;
    out.write_all(&1u32.to_le_bytes())?;
    let start_micros: u64 = 1_700_000_000_000_000;
    let span_micros = span_secs.saturating_mul(1_000_000);
    let mut record = Vec::with_capacity(16 + frame_len);
    for i in 0..flows {
        let micros = start_micros + (i as u128 * span_micros as u128 / flows.max(1) as u128) as u64;
        // 10.x.y.z sources (2^24 hosts) times 50 000 ports: distinct for any count used here.
        let host = 1 + (i / 50_000) as u32;
        let src = 0x0a00_0000u32 | (host & 0x00ff_ffff);
        let sport = 1024 + (i % 50_000) as u16;
        record.clear();
        record.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        record.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        record.extend_from_slice(&(frame_len as u32).to_le_bytes());
        record.extend_from_slice(&(frame_len as u32).to_le_bytes());
        record.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
        let ip_len = (20 + 8 + PAYLOAD.len()) as u16;
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&src.to_be_bytes());
        ip[16..20].copy_from_slice(&[198, 51, 100, 1]);
        record.extend_from_slice(&ip);
        record.extend_from_slice(&sport.to_be_bytes());
        record.extend_from_slice(&9999u16.to_be_bytes());
        record.extend_from_slice(&((8 + PAYLOAD.len()) as u16).to_be_bytes());
        record.extend_from_slice(&[0, 0]);
        record.extend_from_slice(PAYLOAD);
        out.write_all(&record)?;
    }
    Ok(flows)
}
