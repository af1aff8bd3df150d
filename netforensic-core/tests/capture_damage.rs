//! Damaged real captures: regions zeroed or overwritten, absurd lengths, bad pcapng trailing
//! lengths, bytes deleted or inserted (alignment lost), truncation, concatenation. The reader
//! must not panic, must list the damage, and must recover at least 99% of the records that
//! the damage did not touch, with almost no phantom records.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use netforensic_core::capture::{CaptureReader, CaptureSource, CaptureSummary};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

fn corpus_file(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the shared corpus is missing ({}): {e}", path.display()))
}

/// One record as read: where it lies, and its identity (time and bytes).
struct Record {
    start: u64,
    end: u64,
    key: (i64, Vec<u8>),
}

fn read(bytes: &[u8]) -> (Vec<Record>, CaptureSummary) {
    let source = CaptureSource::Bytes {
        name: "damaged".into(),
        bytes: Arc::from(bytes),
    };
    let mut reader = CaptureReader::from_source(source).unwrap();
    let mut records = Vec::new();
    while let Some(frame) = reader.next_frame() {
        records.push(Record {
            start: frame.offset,
            end: frame.offset + 1,
            key: (frame.ts.nanos(), frame.data.to_vec()),
        });
    }
    let summary = reader.into_summary();
    // A record ends where the next begins (or at the end of input): good enough to decide
    // whether damage touched it.
    for i in 0..records.len() {
        records[i].end = records.get(i + 1).map_or(summary.bytes, |r| r.start);
    }
    (records, summary)
}

/// Apply `damage` to `name`, whose original bytes in `[a, b)` it touches, and check recovery.
fn check(name: &str, what: &str, damage: impl Fn(&mut Vec<u8>) -> (u64, u64)) {
    let original = corpus_file(name);
    let (records, clean) = read(&original);
    assert!(clean.complete(), "{name} should read cleanly");
    let mut bytes = original.clone();
    let (a, b) = damage(&mut bytes);
    let (after, summary) = read(&bytes);
    assert!(!summary.complete(), "{name} {what}: damage not reported");
    for d in &summary.damage {
        assert!(
            d.offset + d.length <= bytes.len() as u64,
            "{name} {what}: {d:?}"
        );
    }
    let mut found: HashMap<&(i64, Vec<u8>), usize> = HashMap::new();
    for r in &after {
        *found.entry(&r.key).or_default() += 1;
    }
    let intact: Vec<&Record> = records
        .iter()
        .filter(|r| r.end <= a || r.start >= b)
        .collect();
    let mut recovered = 0;
    for r in &intact {
        if let Some(n) = found.get_mut(&r.key).filter(|n| **n > 0) {
            *n -= 1;
            recovered += 1;
        }
    }
    let phantoms: usize = found.values().sum();
    let ratio = recovered as f64 / intact.len() as f64;
    assert!(
        ratio >= 0.99,
        "{name} {what}: recovered {recovered} of {} intact records; damage {:?}",
        intact.len(),
        summary.damage
    );
    assert!(
        phantoms <= 3,
        "{name} {what}: {phantoms} records not in the original"
    );
}

/// Deterministic bytes that look like nothing in particular.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

const PCAPS: &[&str] = &[
    "large/apple-tcpdump_radar-33413692.pcap",
    "large/nfstream_ps_vue.pcap",
    "large/zeek_echo-connections.pcap",
];
const PCAPNGS: &[&str] = &[
    "large/pcap-parser_wireshark_samples-test.pcapng",
    "large/nfstream_pps.pcap",
];

fn all() -> impl Iterator<Item = &'static str> {
    PCAPS.iter().chain(PCAPNGS).copied()
}

#[test]
fn zeroed_region() {
    for name in all() {
        check(name, "zeroed", |b| {
            let at = b.len() * 2 / 5;
            b[at..at + 3000].fill(0);
            (at as u64, at as u64 + 3000)
        });
    }
}

#[test]
fn overwritten_with_noise() {
    for name in all() {
        check(name, "noise", |b| {
            let at = b.len() * 3 / 5;
            b[at..at + 5000].copy_from_slice(&noise(5000, 7));
            (at as u64, at as u64 + 5000)
        });
    }
}

#[test]
fn bytes_deleted_mid_file() {
    for name in all() {
        check(name, "deleted", |b| {
            let at = b.len() / 2;
            b.drain(at..at + 1001);
            (at as u64, at as u64 + 1001)
        });
    }
}

#[test]
fn garbage_inserted_mid_file() {
    for name in all() {
        check(name, "inserted", |b| {
            let at = b.len() * 3 / 10;
            let garbage = noise(777, 99);
            b.splice(at..at, garbage);
            (at as u64, at as u64 + 1)
        });
    }
}

/// Offsets of the records of `name` (from a clean read).
fn record_offsets(name: &str) -> Vec<u64> {
    read(&corpus_file(name)).0.iter().map(|r| r.start).collect()
}

#[test]
fn absurd_record_length() {
    for name in PCAPS {
        let offsets = record_offsets(name);
        let victim = offsets[offsets.len() / 2] as usize;
        let next = offsets[offsets.len() / 2 + 1];
        let big_endian = name.contains("ps_vue");
        check(name, "absurd caplen", |b| {
            let value: u32 = 0xFFFF_FF00;
            let bytes = if big_endian {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            };
            b[victim + 8..victim + 12].copy_from_slice(&bytes);
            (victim as u64, next)
        });
    }
    for name in PCAPNGS {
        let offsets = record_offsets(name);
        let victim = offsets[offsets.len() / 2] as usize;
        let next = offsets[offsets.len() / 2 + 1];
        check(name, "absurd block length", |b| {
            b[victim + 4..victim + 8].copy_from_slice(&0x7FFF_FFF0u32.to_le_bytes());
            (victim as u64, next)
        });
    }
}

#[test]
fn pcapng_trailing_length_mismatch() {
    for name in PCAPNGS {
        let offsets = record_offsets(name);
        let victim = offsets[offsets.len() / 3] as usize;
        let next = offsets[offsets.len() / 3 + 1];
        check(name, "trailing length", |b| {
            let len = u32::from_le_bytes(b[victim + 4..victim + 8].try_into().unwrap()) as usize;
            b[victim + len - 4] ^= 0x10;
            (victim as u64, next)
        });
    }
}

#[test]
fn truncated_tail() {
    for name in all() {
        check(name, "truncated", |b| {
            let at = b.len() * 9 / 10;
            let len = b.len();
            b.truncate(at);
            (at as u64, len as u64)
        });
    }
}

#[test]
fn concatenated_copies_read_completely() {
    for name in all() {
        let once = corpus_file(name);
        let mut twice = once.clone();
        twice.extend_from_slice(&once);
        let (single, _) = read(&once);
        let (double, summary) = read(&twice);
        assert!(summary.complete(), "{name}: {:?}", summary.damage);
        assert_eq!(double.len(), 2 * single.len(), "{name}");
    }
}

#[test]
fn streamed_damage_matches_mapped_damage() {
    let name = PCAPS[0];
    let mut bytes = corpus_file(name);
    let at = bytes.len() / 2;
    bytes[at..at + 4000].copy_from_slice(&noise(4000, 3));
    let (mapped, mapped_summary) = read(&bytes);
    let source = CaptureSource::Stream {
        name: "-".into(),
        reader: Box::new(std::io::Cursor::new(bytes)),
    };
    let mut reader = CaptureReader::from_source(source).unwrap();
    let mut streamed = 0;
    while reader.next_frame().is_some() {
        streamed += 1;
    }
    assert_eq!(streamed, mapped.len());
    assert_eq!(reader.summary().damage, mapped_summary.damage);
}

#[test]
fn byte_ranges_over_damaged_captures_agree_with_the_sequential_read() {
    for name in all() {
        let mut bytes = corpus_file(name);
        let at = bytes.len() / 3;
        bytes[at..at + 2000].copy_from_slice(&noise(2000, 5));
        let at = bytes.len() * 2 / 3;
        bytes[at..at + 1500].fill(0);
        let bytes: Arc<[u8]> = bytes.into();
        let keys = |mut reader: CaptureReader| {
            let mut out = Vec::new();
            while let Some(f) = reader.next_frame() {
                out.push((f.offset, f.ts.nanos(), f.data.len()));
            }
            (out, reader.into_summary())
        };
        let source = || CaptureSource::Bytes {
            name: name.into(),
            bytes: bytes.clone(),
        };
        let (sequential, summary) = keys(CaptureReader::from_source(source()).unwrap());
        let len = bytes.len() as u64;
        for parts in [2u64, 4] {
            let mut joined = Vec::new();
            let mut damage = Vec::new();
            for i in 0..parts {
                let range = len * i / parts..len * (i + 1) / parts;
                let (frames, s) = keys(CaptureReader::from_range(source(), range).unwrap());
                joined.extend(frames);
                damage.extend(s.damage);
            }
            assert_eq!(joined, sequential, "{name}: {parts} ranges");
            assert_eq!(damage, summary.damage, "{name}: {parts} ranges");
        }
    }
}
