//! The streamed analysis (connections written as they end, epoch by epoch) against the
//! whole-capture analysis on every capture in testdata: the same connections with the same
//! names and in-capture attribution, with tiny epochs so that connections end in many of
//! them, for 1 and 2 threads, and the same DNS counters (a streamed run keeps no DNS
//! transactions, but reads the same messages). The DNS follow-up attribution is left out of
//! both: a streamed run does not apply it (see `analysis/stream.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the report

use netforensic_core::analysis::{
    analyze_capture, analyze_capture_streamed, AnalysisOptions, StreamOutput, StreamedCapture,
};
use netforensic_core::capture::CaptureSource;
use netforensic_core::correlate::{self, CorrelateOptions};
use netforensic_core::dns::DnsStats;
use netforensic_core::report::{FlowRecord, RecordFormat, RecordWriter};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn jsonl_lines(flows: &[FlowRecord]) -> Vec<String> {
    let mut out = Vec::new();
    let mut writer = RecordWriter::<FlowRecord>::new(RecordFormat::Jsonl, &mut out);
    writer.write_all(flows).unwrap();
    writer.finish().unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// A streamed analysis of `path` with `threads` and `epoch_packets`, its epochs handed to
/// `sink`.
fn run_streamed(
    path: &Path,
    threads: usize,
    epoch_packets: u64,
    sink: &mut dyn FnMut(&[FlowRecord]) -> std::io::Result<()>,
) -> Result<StreamedCapture, netforensic_core::Error> {
    let options = AnalysisOptions {
        threads: Some(threads),
        epoch_packets,
        ..AnalysisOptions::default()
    };
    let correlate = CorrelateOptions::default();
    analyze_capture_streamed(
        &path.to_string_lossy(),
        CaptureSource::File(path.to_path_buf()),
        &options,
        StreamOutput {
            snapshots: &[],
            correlate: &correlate,
            sink,
        },
    )
}

/// The flows (sorted lines), the bytes written and the DNS counters of a streamed analysis.
fn streamed(
    path: &Path,
    threads: usize,
    epoch_packets: u64,
) -> (Vec<String>, Vec<u8>, Option<DnsStats>) {
    let mut flows: Vec<FlowRecord> = Vec::new();
    let mut ordered: Vec<u8> = Vec::new();
    let mut sink = |epoch: &[FlowRecord]| {
        let mut writer = RecordWriter::<FlowRecord>::new(RecordFormat::Jsonl, &mut ordered);
        writer.write_all(epoch)?;
        writer.finish()?;
        flows.extend_from_slice(epoch);
        Ok(())
    };
    let result = run_streamed(path, threads, epoch_packets, &mut sink);
    let dns_stats = match result {
        Ok(done) => {
            assert_eq!(done.flows as usize, flows.len());
            Some(done.dns_stats)
        }
        Err(_) => {
            assert!(flows.is_empty());
            None
        }
    };
    (jsonl_lines(&flows), ordered, dns_stats)
}

#[test]
fn streamed_flows_equal_the_whole_capture_analysis() {
    let dir = root().join("testdata/captures");
    let mut captures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/captures")
        .map(|e| e.expect("entry").path())
        .collect();
    captures.sort();
    assert!(captures.len() > 50, "{}", dir.display());
    let mut compared = 0;
    let mut failures = Vec::new();
    for path in &captures {
        let name = path.to_string_lossy().to_string();
        let options = AnalysisOptions {
            threads: Some(1),
            ..AnalysisOptions::default()
        };
        let (whole, whole_dns) =
            match analyze_capture(&name, CaptureSource::File(path.clone()), &options) {
                Ok(mut whole) => {
                    correlate::attribute(
                        &mut whole.flows,
                        &[],
                        &whole.process_evidence,
                        &[],
                        &CorrelateOptions::default(),
                    );
                    (jsonl_lines(&whole.flows), Some(whole.dns_stats))
                }
                Err(_) => (Vec::new(), None),
            };
        let (one, one_bytes, one_dns) = streamed(path, 1, 7);
        let (two, two_bytes, two_dns) = streamed(path, 2, 7);
        if one_dns != whole_dns || two_dns != whole_dns {
            failures.push(format!(
                "{name}: DNS counters differ: whole {whole_dns:?}, streamed {one_dns:?} {two_dns:?}"
            ));
        }
        if one_bytes != two_bytes {
            failures.push(format!("{name}: 1 and 2 threads wrote different bytes"));
        }
        if one != two {
            failures.push(format!("{name}: 1 and 2 threads differ"));
        }
        if one != whole {
            let missing: Vec<_> = whole.iter().filter(|l| !one.contains(l)).take(2).collect();
            let extra: Vec<_> = one.iter().filter(|l| !whole.contains(l)).take(2).collect();
            failures.push(format!(
                "{name}: streamed differs from whole\n  whole only: {missing:?}\n  streamed only: {extra:?}"
            ));
        }
        compared += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(compared, captures.len());
}

/// When the output fails (a closed pipe), the analysis stops early and reports it, inline and
/// on shard workers: no hang, no panic, nothing written after the failure.
#[test]
fn a_failing_output_stops_the_streamed_analysis() {
    let path = root().join("testdata/captures/nfstream_iphone.pcap");
    for threads in [1, 2, 3] {
        let mut calls = 0;
        let mut sink = |flows: &[FlowRecord]| {
            if flows.is_empty() {
                return Ok(());
            }
            calls += 1;
            Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "closed",
            ))
        };
        let done = run_streamed(&path, threads, 5, &mut sink).unwrap();
        let error = done.write_error.expect("the sink's error is reported");
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
        assert_eq!(
            calls, 1,
            "{threads} threads: nothing is written after the failure"
        );
    }
}
