//! Reader tests on byte arrays: every format variant, every damage kind, truncation at every
//! length, and the stream path agreeing with the in-memory path.

use super::pcap::tests::build as build_pcap;
use super::pcapng::tests::{block, epb, idb, option, shb};
use super::*;
use crate::{Error, ErrorKind};
use std::io::Read;
use std::sync::Arc;

/// Per frame: offset, ts, link type, captured length, interface.
type Frames = Vec<(u64, i64, u32, usize, u32)>;

/// Read everything; (frame summaries, summary).
fn read_all(bytes: &[u8]) -> Result<(Frames, CaptureSummary), Error> {
    let source = CaptureSource::Bytes {
        name: "test".into(),
        bytes: Arc::from(bytes),
    };
    drain(CaptureReader::from_source(source)?)
}

/// The same through the stream path, delivered a few bytes per read.
fn read_stream(bytes: &[u8]) -> Result<(Frames, CaptureSummary), Error> {
    struct Trickle(std::io::Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(7);
            self.0.read(&mut out[..n])
        }
    }
    let source = CaptureSource::Stream {
        name: "-".into(),
        reader: Box::new(Trickle(std::io::Cursor::new(bytes.to_vec()))),
    };
    drain(CaptureReader::from_source(source)?)
}

fn drain(mut reader: CaptureReader) -> Result<(Frames, CaptureSummary), Error> {
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame() {
        frames.push((
            f.offset,
            f.ts.nanos(),
            f.link_type.0,
            f.data.len(),
            f.interface,
        ));
    }
    Ok((frames, reader.into_summary()))
}

fn pcap_records(n: u32) -> Vec<u8> {
    let records: Vec<(u32, u32, u32)> = (0..n)
        .map(|i| (1_600_000_000 + i, 40 + i % 7, 60))
        .collect();
    build_pcap(&records)
}

#[test]
fn classic_pcap_reads_all_records() {
    let file = pcap_records(10);
    let (frames, summary) = read_all(&file).unwrap();
    assert_eq!(frames.len(), 10);
    assert_eq!(summary.packets, 10);
    assert_eq!(summary.format, Some(CaptureFormat::Pcap));
    assert_eq!(summary.link_types, vec![LinkType::ETHERNET]);
    assert!(summary.complete());
    assert_eq!(frames[0], (24, 1_600_000_000_000_500_000, 1, 40, 0));
    assert_eq!(summary.first_ts, Some(Timestamp(1_600_000_000_000_500_000)));
    assert_eq!(summary.bytes, file.len() as u64);
}

#[test]
fn a_released_input_reads_no_more_and_keeps_the_summary() {
    let file = pcap_records(10);
    let source = CaptureSource::Bytes {
        name: "test".into(),
        bytes: Arc::from(&file[..]),
    };
    let mut reader = CaptureReader::from_source(source).unwrap();
    for _ in 0..4 {
        assert!(reader.next_frame().is_some());
    }
    let input = reader.release_input().expect("bytes in memory are shared");
    assert_eq!(input.bytes(), &file[..]);
    assert!(reader.next_frame().is_none());
    assert_eq!(reader.summary().packets, 4);
    assert!(reader.release_input().is_none(), "released once");
}

#[test]
fn big_endian_nanosecond_and_modified_variants() {
    // Big-endian nsec header with one record, written by hand.
    let mut be = Vec::new();
    be.extend_from_slice(&0xa1b2_3c4du32.to_be_bytes());
    be.extend_from_slice(&2u16.to_be_bytes());
    be.extend_from_slice(&4u16.to_be_bytes());
    be.extend_from_slice(&[0; 8]);
    be.extend_from_slice(&65535u32.to_be_bytes());
    be.extend_from_slice(&101u32.to_be_bytes());
    be.extend_from_slice(&7u32.to_be_bytes());
    be.extend_from_slice(&123_456_789u32.to_be_bytes());
    be.extend_from_slice(&4u32.to_be_bytes());
    be.extend_from_slice(&20u32.to_be_bytes());
    be.extend_from_slice(&[0x45, 0, 0, 20]);
    let (frames, summary) = read_all(&be).unwrap();
    assert_eq!(frames, vec![(24, 7_123_456_789, 101, 4, 0)]);
    assert_eq!(summary.format, Some(CaptureFormat::Nsecpcap));

    // Modified pcap: 24-byte record headers.
    let mut modified = build_pcap(&[]);
    modified[..4].copy_from_slice(&0xa1b2_cd34u32.to_le_bytes());
    modified.extend_from_slice(&5u32.to_le_bytes());
    modified.extend_from_slice(&6u32.to_le_bytes());
    modified.extend_from_slice(&2u32.to_le_bytes());
    modified.extend_from_slice(&2u32.to_le_bytes());
    modified.extend_from_slice(&[0; 8]);
    modified.extend_from_slice(&[9, 9]);
    let (frames, summary) = read_all(&modified).unwrap();
    assert_eq!(frames, vec![(24, 5_000_006_000, 1, 2, 0)]);
    assert_eq!(summary.format, Some(CaptureFormat::Modpcap));
}

#[test]
fn invalid_subsecond_is_kept_as_given() {
    let mut file = build_pcap(&[(10, 1, 1)]);
    file[28..32].copy_from_slice(&1_000_000u32.to_le_bytes());
    let (frames, _) = read_all(&file).unwrap();
    assert_eq!(frames[0].1, 11_000_000_000);
}

#[test]
fn snaplen_truncated_records_keep_orig_len() {
    let file = build_pcap(&[(10, 20, 1500)]);
    let source = CaptureSource::Bytes {
        name: "t".into(),
        bytes: Arc::from(&file[..]),
    };
    let mut reader = CaptureReader::from_source(source).unwrap();
    let frame = reader.next_frame().unwrap();
    assert_eq!((frame.data.len(), frame.orig_len), (20, 1500));
}

#[test]
fn truncated_last_record_keeps_the_rest() {
    let file = pcap_records(5);
    let cut = file.len() - 10;
    let (frames, summary) = read_all(&file[..cut]).unwrap();
    assert_eq!(frames.len(), 4);
    assert_eq!(summary.damage.len(), 1);
    let last_record = frames[3].0 as usize + 16 + frames[3].3;
    assert_eq!(summary.damage[0].offset, last_record as u64);
    assert_eq!(summary.damage[0].length, (cut - last_record) as u64);
}

#[test]
fn absurd_length_mid_file_resyncs() {
    let mut file = pcap_records(50);
    let (frames, _) = read_all(&file).unwrap();
    let victim = frames[20].0 as usize;
    file[victim + 8..victim + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let (after, summary) = read_all(&file).unwrap();
    assert_eq!(after.len(), 49);
    assert_eq!(summary.damage.len(), 1);
    assert_eq!(summary.damage[0].offset, victim as u64);
    assert_eq!(summary.damage[0].length, (frames[21].0 - frames[20].0));
    assert_eq!(&after[20..], &frames[21..]);
}

#[test]
fn zeroed_region_mid_file_resyncs() {
    let mut file = pcap_records(100);
    let (frames, _) = read_all(&file).unwrap();
    let start = frames[40].0 as usize + 5;
    let end = frames[45].0 as usize + 3;
    file[start..end].fill(0);
    let (after, summary) = read_all(&file).unwrap();
    assert!(!summary.complete());
    // Records 41..=45 lose their headers or bodies; everything from 46 on is back.
    let recovered: Vec<_> = after.iter().filter(|f| f.0 >= frames[46].0).collect();
    assert_eq!(recovered.len(), 54);
}

#[test]
fn concatenated_pcaps_continue_with_the_new_header() {
    let mut file = pcap_records(3);
    let mut second = build_pcap(&[(5, 4, 4)]);
    second[20..24].copy_from_slice(&113u32.to_le_bytes());
    file.extend_from_slice(&second);
    let (frames, summary) = read_all(&file).unwrap();
    assert_eq!(frames.len(), 4);
    assert!(summary.complete());
    assert_eq!(frames[3].2, 113);
    assert_eq!(frames[3].4, 1);
    assert_eq!(summary.link_types, vec![LinkType(1), LinkType(113)]);
}

#[test]
fn not_a_capture_is_an_error_with_offset() {
    let err = read_all(b"hello, this is not a capture").unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnknownFormat);
    assert_eq!(err.offset, Some(0));
    assert_eq!(read_all(b"").unwrap_err().offset, Some(0));
    // Header plus a first record cut short: nothing readable.
    let file = pcap_records(1);
    let err = read_all(&file[..30]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Corrupt);
    assert_eq!(err.offset, Some(24));
}

fn pcapng_file() -> Vec<u8> {
    let mut file = shb();
    file.extend(idb(1, None));
    file.extend(idb(101, Some(9)));
    file.extend(epb(0, 1_500_000, &[1; 10], &[]));
    let mut opts = option(1, b"PID: 7");
    opts.extend(option(0, &[]));
    file.extend(epb(1, 2_000_000_123, &[2; 5], &opts));
    // SPB: orig_len 8, data 8 bytes.
    let mut spb = 8u32.to_le_bytes().to_vec();
    spb.extend_from_slice(&[3; 8]);
    file.extend(block(pcapng::SPB, &spb));
    // Custom and ISB blocks are skipped.
    file.extend(block(0x0BAD, &[0; 8]));
    file.extend(block(pcapng::ISB, &[0; 12]));
    file
}

#[test]
fn pcapng_interfaces_resolutions_and_block_kinds() {
    let file = pcapng_file();
    let (frames, summary) = read_all(&file).unwrap();
    assert_eq!(summary.format, Some(CaptureFormat::Pcapng));
    assert_eq!(summary.link_types, vec![LinkType(1), LinkType(101)]);
    assert!(summary.complete(), "{:?}", summary.damage);
    let ts: Vec<i64> = frames.iter().map(|f| f.1).collect();
    // usec default, then if_tsresol 9 (ns); the SPB has no time and keeps the previous one.
    assert_eq!(ts, vec![1_500_000_000, 2_000_000_123, 2_000_000_123]);
    let lens: Vec<usize> = frames.iter().map(|f| f.3).collect();
    assert_eq!(lens, vec![10, 5, 8]);
    assert_eq!(frames[1].4, 1);
}

#[test]
fn pcapng_comment_reaches_the_frame() {
    let file = pcapng_file();
    let source = CaptureSource::Bytes {
        name: "t".into(),
        bytes: Arc::from(&file[..]),
    };
    let mut reader = CaptureReader::from_source(source).unwrap();
    assert!(reader.next_frame().unwrap().meta.is_none());
    let meta = reader.next_frame().unwrap().meta.unwrap();
    assert_eq!(meta.comments, vec!["PID: 7".to_string()]);
}

#[test]
fn pcapng_second_big_endian_section_has_its_own_interfaces() {
    let mut file = pcapng_file();
    // A big-endian section: SHB, IDB (link 0), EPB on interface 0.
    let be_block = |t: u32, body: &[u8]| {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let mut out = t.to_be_bytes().to_vec();
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(body);
        out.resize(8 + padded, 0);
        out.extend_from_slice(&len.to_be_bytes());
        out
    };
    let mut shb_body = 0x1A2B_3C4Du32.to_be_bytes().to_vec();
    shb_body.extend_from_slice(&[0, 1, 0, 0]);
    shb_body.extend_from_slice(&(-1i64).to_be_bytes());
    file.extend(be_block(pcapng::SHB, &shb_body));
    let mut idb_body = 0u16.to_be_bytes().to_vec();
    idb_body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    file.extend(be_block(pcapng::IDB, &idb_body));
    let mut epb_body = 0u32.to_be_bytes().to_vec();
    epb_body.extend_from_slice(&0u32.to_be_bytes());
    epb_body.extend_from_slice(&3_000_000u32.to_be_bytes());
    epb_body.extend_from_slice(&4u32.to_be_bytes());
    epb_body.extend_from_slice(&4u32.to_be_bytes());
    epb_body.extend_from_slice(&[9; 4]);
    file.extend(be_block(pcapng::EPB, &epb_body));
    let (frames, summary) = read_all(&file).unwrap();
    assert!(summary.complete(), "{:?}", summary.damage);
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[3].1, 3_000_000_000);
    assert_eq!(frames[3].2, 0);
    // Interface ids are global across sections.
    assert_eq!(frames[3].4, 2);
}

#[test]
fn pcapng_mismatched_trailing_length_resyncs() {
    let mut file = pcapng_file();
    let good = read_all(&file).unwrap().0;
    // Corrupt the first EPB's trailing length.
    let first = good[0].0 as usize;
    let len = u32::from_le_bytes(file[first + 4..first + 8].try_into().unwrap()) as usize;
    file[first + len - 4] ^= 0x55;
    let (frames, summary) = read_all(&file).unwrap();
    assert_eq!(summary.damage.len(), 1);
    assert_eq!(summary.damage[0].offset, first as u64);
    assert_eq!(summary.damage[0].length, len as u64);
    assert_eq!(&frames[..], &good[1..]);
}

#[test]
fn pcapng_packet_for_unknown_interface_is_damage() {
    let mut file = shb();
    file.extend(idb(1, None));
    file.extend(epb(3, 1, &[0; 4], &[]));
    file.extend(epb(0, 1, &[0; 4], &[]));
    let (frames, summary) = read_all(&file).unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(summary.damage.len(), 1);
}

#[test]
fn pcapng_obsolete_packet_block_nrb_and_darwin_process() {
    let mut file = shb();
    file.extend(idb(1, None));
    let mut pb = 0u16.to_le_bytes().to_vec();
    pb.extend_from_slice(&0u16.to_le_bytes());
    pb.extend_from_slice(&0u32.to_le_bytes());
    pb.extend_from_slice(&2_000_000u32.to_le_bytes());
    pb.extend_from_slice(&3u32.to_le_bytes());
    pb.extend_from_slice(&3u32.to_le_bytes());
    pb.extend_from_slice(&[1, 2, 3, 0]);
    file.extend(block(pcapng::PB, &pb));
    let mut nrb = option(1, b"\x0a\x00\x00\x01host.example\0");
    nrb.extend(option(0, &[]));
    file.extend(block(pcapng::NRB, &nrb));
    let mut dpib = 42u32.to_le_bytes().to_vec();
    dpib.extend(option(2, b"curl"));
    file.extend(block(pcapng::DARWIN_PROCESS, &dpib));
    let (frames, summary) = read_all(&file).unwrap();
    assert_eq!(frames, vec![(frames[0].0, 2_000_000_000, 1, 3, 0)]);
    assert_eq!(summary.name_records.len(), 1);
    assert_eq!(
        summary.name_records[0].names,
        vec!["host.example".to_string()]
    );
    assert_eq!(summary.darwin_processes.len(), 1);
    assert_eq!(summary.darwin_processes[0].pid, 42);
    assert_eq!(summary.darwin_processes[0].name, "curl");
}

#[test]
fn pcap_followed_by_pcapng_and_back() {
    let mut file = pcap_records(2);
    file.extend(pcapng_file());
    file.extend(pcap_records(2));
    let (frames, summary) = read_all(&file).unwrap();
    assert!(summary.complete(), "{:?}", summary.damage);
    assert_eq!(frames.len(), 2 + 3 + 2);
}

#[test]
fn stream_path_agrees_with_memory_path() {
    let mut damaged = pcap_records(60);
    damaged[24 * 16..24 * 16 + 40].fill(0xEE);
    for file in [pcap_records(30), pcapng_file(), damaged] {
        let memory = read_all(&file).unwrap();
        let stream = read_stream(&file).unwrap();
        assert_eq!(memory.0, stream.0);
        assert_eq!(memory.1.damage, stream.1.damage);
        assert_eq!(memory.1.packets, stream.1.packets);
    }
}

#[test]
fn gzip_input_is_detected_by_content() {
    use std::io::Write;
    let file = pcap_records(5);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&file).unwrap();
    let gz = gz.finish().unwrap();
    let (frames, summary) = read_all(&gz).unwrap();
    assert_eq!(frames.len(), 5);
    assert!(summary.complete());
    let stream = read_stream(&gz).unwrap();
    assert_eq!(stream.0, frames);
}

#[test]
fn truncation_at_every_length_never_panics() {
    let mut ng_with_everything = pcapng_file();
    ng_with_everything.extend(pcap_records(2));
    for file in [pcap_records(4), ng_with_everything] {
        for len in 0..=file.len() {
            if let Ok((frames, summary)) = read_all(&file[..len]) {
                assert_eq!(frames.len() as u64, summary.packets);
            }
            let _ = read_stream(&file[..len]);
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let base = pcapng_file();
    for at in 0..base.len() {
        for value in [0x00, 0xFF, 0x80, 0x01] {
            let mut file = base.clone();
            file[at] = value;
            let _ = read_all(&file);
        }
    }
    let base = pcap_records(6);
    for at in 0..base.len() {
        let mut file = base.clone();
        file[at] ^= 0xA5;
        let _ = read_all(&file);
    }
}

#[test]
fn length_pointing_past_the_end_mid_file_resyncs() {
    // A plausible-sized caplen (within the maximum) that runs past the end of input.
    let mut file = pcap_records(40);
    let (frames, _) = read_all(&file).unwrap();
    let victim = frames[10].0 as usize;
    file[victim + 8..victim + 12].copy_from_slice(&200_000u32.to_le_bytes());
    file[victim + 12..victim + 16].copy_from_slice(&200_000u32.to_le_bytes());
    let (after, summary) = read_all(&file).unwrap();
    assert_eq!(after.len(), 39);
    assert_eq!(summary.damage.len(), 1);
    assert!(summary.damage[0].reason.contains("more than remain"));
    // The same for a pcapng block length.
    let mut ng = pcapng_file();
    let (frames, _) = read_all(&ng).unwrap();
    let victim = frames[0].0 as usize;
    ng[victim + 4..victim + 8].copy_from_slice(&100_000u32.to_le_bytes());
    let (after, summary) = read_all(&ng).unwrap();
    assert_eq!(after.len(), frames.len() - 1);
    assert_eq!(summary.damage.len(), 1);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A valid header of either format, then arbitrary bytes, or a valid file with arbitrary
    /// bytes spliced in: the reader never panics, counts what it yields, keeps damage inside
    /// the input, and the stream path sees exactly what the memory path sees.
    fn check(bytes: &[u8]) {
        match (read_all(bytes), read_stream(bytes)) {
            (Ok((frames, summary)), Ok((stream_frames, stream_summary))) => {
                assert_eq!(frames.len() as u64, summary.packets);
                for d in &summary.damage {
                    assert!(d.offset + d.length <= bytes.len() as u64);
                }
                assert_eq!(frames, stream_frames);
                assert_eq!(summary.damage, stream_summary.damage);
                // The memory path reads good pcap records by a shorter way
                // (`whole_pcap_record`): its accounting must be the stream path's.
                let totals = |s: &CaptureSummary| (s.packets, s.bytes, s.first_ts, s.last_ts);
                assert_eq!(totals(&summary), totals(&stream_summary));
            }
            (Err(a), Err(b)) => assert_eq!(a.offset, b.offset),
            (a, b) => panic!("memory {:?} vs stream {:?}", a.is_ok(), b.is_ok()),
        }
    }

    proptest! {
        // Each case reads twice (memory and a 7-bytes-per-read stream): keep debug runs short.
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn pcap_header_then_noise(noise in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut file = pcap_records(0);
            file.extend(noise);
            check(&file);
        }

        #[test]
        fn pcapng_header_then_noise(noise in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut file = shb();
            file.extend(idb(1, None));
            file.extend(noise);
            check(&file);
        }

        #[test]
        fn valid_files_with_spliced_noise(
            ng in any::<bool>(),
            at in 0usize..2000,
            noise in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut file = if ng { pcapng_file() } else { pcap_records(12) };
            let at = at.min(file.len());
            file.splice(at..at, noise);
            check(&file);
        }
    }
}

#[test]
fn doubtful_records_are_kept_when_their_neighbours_agree() {
    // A writer that stores more captured bytes than the original length, on every record.
    let records: Vec<(u32, u32, u32)> = (0..20).map(|i| (1_600_000_000 + i, 60, 50)).collect();
    let (frames, summary) = read_all(&build_pcap(&records)).unwrap();
    assert_eq!(frames.len(), 20);
    assert!(summary.complete());
    // ... and one with original length 0 between good records.
    let mut records: Vec<(u32, u32, u32)> = (0..10).map(|i| (1_600_000_000 + i, 40, 40)).collect();
    records[4].2 = 0;
    records[4].1 = 0;
    let (frames, summary) = read_all(&build_pcap(&records)).unwrap();
    assert_eq!(frames.len(), 10);
    assert!(summary.complete());
}
