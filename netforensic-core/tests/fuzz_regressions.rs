//! Inputs the fuzzers reported (timeouts and slow units from `fuzz/campaign.sh`), replayed the
//! way their target feeds them: each must be read to the end without a panic. Timing is not
//! asserted (the reports came from a loaded machine; each input takes milliseconds here), but
//! a regression to a hang would stop this test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the report

use netforensic_core::analysis::{
    analyze_capture, analyze_capture_streamed, AnalysisOptions, StreamOutput,
};
use netforensic_core::capture::{CaptureReader, CaptureSource, LinkType};
use netforensic_core::correlate::CorrelateOptions;
use netforensic_core::decode::Decoder;
use netforensic_core::sockets::{self, detect};
use netforensic_core::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/fuzz-regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}", dir.display());
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

fn bytes(data: &[u8]) -> CaptureSource {
    CaptureSource::Bytes {
        name: "fuzz".into(),
        bytes: Arc::from(data),
    }
}

/// Reader, whole analysis on 1 and 2 threads, and the streamed analysis.
fn through_everything(data: &[u8]) {
    if let Ok(mut reader) = CaptureReader::from_source(bytes(data)) {
        while reader.next_frame().is_some() {}
        for damage in &reader.summary().damage {
            assert!(
                damage.offset + damage.length <= data.len() as u64,
                "{damage:?}"
            );
        }
    }
    for threads in [1, 2] {
        let options = AnalysisOptions {
            threads: Some(threads),
            epoch_packets: 3,
            ..AnalysisOptions::default()
        };
        let _ = analyze_capture("fuzz", bytes(data), &options);
        let correlate = CorrelateOptions::default();
        let mut sink = |_: &[netforensic_core::report::FlowRecord]| Ok(());
        let output = StreamOutput {
            snapshots: &[],
            correlate: &correlate,
            sink: &mut sink,
        };
        let _ = analyze_capture_streamed("fuzz", bytes(data), &options, output);
    }
}

#[test]
fn capture_reader_and_analyze_reports_replay() {
    for data in inputs("capture_reader").iter().chain(&inputs("analyze")) {
        through_everything(data);
    }
}

#[test]
fn snapshot_reports_replay() {
    // As fuzz/fuzz_targets/snapshot.rs: detection and import of the text as it is.
    for data in inputs("snapshot") {
        let text = String::from_utf8_lossy(&data);
        let _ = detect::detect(&text);
        if let Ok(mut imported) = detect::import(&text) {
            sockets::name_processes(&mut imported.snapshots);
        }
    }
}

#[test]
fn decode_reports_replay() {
    // As fuzz/fuzz_targets/decode.rs: a link type selector, then frames split at 0xFE.
    const LINK_TYPES: [u32; 14] = [
        0, 1, 9, 12, 101, 105, 108, 113, 127, 149, 239, 258, 276, 228,
    ];
    for data in inputs("decode") {
        let Some((&selector, rest)) = data.split_first() else {
            continue;
        };
        let link = LINK_TYPES
            .get(usize::from(selector))
            .copied()
            .unwrap_or(u32::from(selector));
        let mut decoder = Decoder::new();
        for (i, frame) in rest.split(|&b| b == 0xFE).enumerate() {
            let _ = decoder.decode(LinkType(link), Timestamp(i as i64 * 1_000_000), frame);
        }
    }
}
