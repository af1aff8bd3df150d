//! The committed damaged-capture suite (testdata/damaged/, made by
//! testdata/scripts/make-damaged.py from real captures): every file reads without a panic,
//! damage is listed inside the file, at least 99% of the records the damage did not touch
//! are recovered (same time and bytes as in the undamaged original), and we recover at
//! least as many genuine records as tshark does (expected.tsv, counted by the script).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use netforensic_core::capture::{CaptureReader, CaptureSummary};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

struct Case {
    file: String,
    source: String,
    kind: String,
    touched: (u64, u64),
    original: usize,
    tshark_genuine: usize,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(testdata().join("damaged/expected.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let (a, b) = f[3].split_once(',').unwrap();
            Case {
                file: f[0].to_string(),
                source: f[1].to_string(),
                kind: f[2].to_string(),
                touched: (a.parse().unwrap(), b.parse().unwrap()),
                original: f[4].parse().unwrap(),
                tshark_genuine: f[6].parse().unwrap(),
            }
        })
        .collect()
}

/// Each record's byte range and identity (time, bytes).
type Records = Vec<((u64, u64), (i64, Vec<u8>))>;

fn read(path: &Path) -> Option<(Records, CaptureSummary)> {
    let mut reader = CaptureReader::open(path).ok()?;
    let mut records: Records = Vec::new();
    while let Some(frame) = reader.next_frame() {
        records.push((
            (frame.offset, frame.offset),
            (frame.ts.nanos(), frame.data.to_vec()),
        ));
    }
    let summary = reader.into_summary();
    // A record ends where the next begins (or at the end of input).
    for i in 0..records.len() {
        records[i].0 .1 = records.get(i + 1).map_or(summary.bytes, |r| r.0 .0);
    }
    Some((records, summary))
}

#[test]
fn damaged_suite_recovers_intact_records() {
    let cases = cases();
    assert!(cases.len() >= 12, "suite incomplete: {}", cases.len());
    for case in cases.iter().filter(|c| c.source != "-") {
        let what = format!("{} ({})", case.file, case.kind);
        let (original, clean) = read(&testdata().join("captures").join(&case.source)).unwrap();
        assert!(clean.complete());
        assert_eq!(original.len(), case.original, "{what}: capinfos count");
        let damaged_path = testdata().join("damaged").join(&case.file);
        let size = std::fs::metadata(&damaged_path).unwrap().len();
        let (after, summary) = read(&damaged_path).unwrap_or_else(|| panic!("{what}: unreadable"));

        let concatenated = case.touched.0 == case.touched.1;
        if concatenated {
            // Nothing lost: both copies, in full.
            assert_eq!(after.len(), 2 * original.len(), "{what}");
        } else {
            assert!(!summary.complete(), "{what}: damage not reported");
        }
        for d in &summary.damage {
            assert!(d.offset + d.length <= size, "{what}: {d:?} past {size}");
            assert!(!d.reason.is_empty(), "{what}");
        }

        let mut found: HashMap<&(i64, Vec<u8>), usize> = HashMap::new();
        for (_, key) in &after {
            *found.entry(key).or_default() += 1;
        }
        let (a, b) = case.touched;
        let intact: Vec<_> = original
            .iter()
            .filter(|((start, end), _)| *end <= a || (*start >= b && !concatenated))
            .collect();
        // Records after a truncation point are gone from the file, not damaged: only those
        // still in the file count as intact.
        let intact: Vec<_> = intact
            .into_iter()
            .filter(|((_, end), _)| *end <= size)
            .collect();
        let mut recovered = 0usize;
        for (_, key) in &intact {
            if let Some(n) = found.get_mut(key).filter(|n| **n > 0) {
                *n -= 1;
                recovered += 1;
            }
        }
        assert!(
            recovered * 100 >= intact.len() * 99,
            "{what}: recovered {recovered} of {} intact records",
            intact.len()
        );
        assert!(
            after.len() >= case.tshark_genuine
                && recovered >= case.tshark_genuine.min(intact.len()),
            "{what}: we read {} ({recovered} intact), tshark {} genuine",
            after.len(),
            case.tshark_genuine
        );
    }
}

#[test]
fn empty_and_garbage_are_errors_not_panics() {
    for name in ["empty.pcap", "garbage.pcap"] {
        let err = CaptureReader::open(&testdata().join("damaged").join(name));
        assert!(err.is_err(), "{name} opened");
    }
}

#[test]
fn pcap_and_pcapng_concatenated_either_way_read_in_full() {
    use netforensic_core::capture::CaptureSource;
    use std::sync::Arc;
    let pcap = std::fs::read(testdata().join("captures/zeek_wikipedia.pcap")).unwrap();
    let pcapng =
        std::fs::read(testdata().join("captures/apple-tcpdump_radar-74957353.pcapng")).unwrap();
    // capinfos: 136 and 197 records.
    for (first, second) in [(&pcap, &pcapng), (&pcapng, &pcap)] {
        let bytes: Vec<u8> = first.iter().chain(second.iter()).copied().collect();
        let source = CaptureSource::Bytes {
            name: "concatenated".into(),
            bytes: Arc::from(bytes),
        };
        let mut reader = CaptureReader::from_source(source).unwrap();
        let mut frames = 0;
        while reader.next_frame().is_some() {
            frames += 1;
        }
        let summary = reader.into_summary();
        assert_eq!(frames, 136 + 197);
        assert!(summary.complete(), "{:?}", summary.damage);
    }
}
