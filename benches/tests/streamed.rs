//! The streamed analysis (connections written as they end) on a generated capture long
//! enough for many epochs: the same bytes for any number of threads, the same connections as
//! the whole-capture analysis, and written out progressively (memory follows live flows).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the report

use netforensic_benches::generator::{generate, Format, GeneratorConfig};
use netforensic_core::analysis::{
    analyze_capture, analyze_capture_streamed, AnalysisOptions, StreamOutput,
};
use netforensic_core::capture::CaptureSource;
use netforensic_core::correlate::{self, CorrelateOptions};
use netforensic_core::report::{FlowRecord, RecordFormat, RecordWriter};
use std::path::{Path, PathBuf};

/// Small epochs (the default is 65536 packets) so that a small capture has many, and
/// connections end in many different ones.
const EPOCH: u64 = 2048;

fn capture(format: Format, name: &str) -> (PathBuf, u64) {
    let path = std::env::temp_dir().join(format!(
        "netforensic-streamed-{}-{name}",
        std::process::id()
    ));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    // ~30 MB: about 45k packets, some 20 epochs of EPOCH, over about 6 minutes of capture
    // time (so that connections time out, and end, in many different epochs).
    let config = GeneratorConfig {
        gap_scale: 100,
        ..GeneratorConfig::new(30_000_000, format)
    };
    let counts = generate(&config, &mut file).unwrap();
    drop(file);
    assert!(counts.packets > 10 * EPOCH, "{counts:?}");
    (path, counts.tcp_flows + counts.udp_flows)
}

fn jsonl(flows: &[FlowRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = RecordWriter::<FlowRecord>::new(RecordFormat::Jsonl, &mut out);
    writer.write_all(flows).unwrap();
    writer.finish().unwrap();
    out
}

/// (bytes written, number of sink calls, rows per call)
fn streamed(path: &Path, threads: usize) -> (Vec<u8>, Vec<usize>) {
    let options = AnalysisOptions {
        threads: Some(threads),
        epoch_packets: EPOCH,
        ..AnalysisOptions::default()
    };
    let correlate = CorrelateOptions::default();
    let mut out = Vec::new();
    let mut calls = Vec::new();
    let mut sink = |flows: &[FlowRecord]| {
        calls.push(flows.len());
        out.extend(jsonl(flows));
        Ok(())
    };
    let result = analyze_capture_streamed(
        "gen",
        CaptureSource::File(path.to_path_buf()),
        &options,
        StreamOutput {
            snapshots: &[],
            correlate: &correlate,
            sink: &mut sink,
        },
    )
    .unwrap();
    assert!(result.write_error.is_none());
    assert_eq!(result.flows as usize, calls.iter().sum::<usize>());
    (out, calls)
}

fn sorted_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort_unstable();
    lines
}

#[test]
fn streamed_output_is_thread_independent_progressive_and_complete() {
    for format in [Format::Pcap, Format::Pcapng] {
        let (path, generated_flows) = capture(format, &format!("{format:?}"));
        let (one, calls) = streamed(&path, 1);
        let (two, _) = streamed(&path, 2);
        let (three, _) = streamed(&path, 3);
        assert!(one == two, "{format:?}: 1 and 2 threads differ");
        assert!(one == three, "{format:?}: 1 and 3 threads differ");

        // Written as the capture goes: several epochs carried connections, and no single
        // one carried most of them.
        let total: usize = calls.iter().sum();
        assert!(
            total as u64 >= generated_flows,
            "{total} < {generated_flows}"
        );
        let with_rows = calls.iter().filter(|&&n| n > 0).count();
        assert!(with_rows >= 3, "{calls:?}");
        assert!(calls.iter().all(|&n| n < total / 2), "{calls:?}");

        // The same connections, named the same way, as the whole-capture analysis (no
        // snapshots: the DNS follow-up, the only difference, has nothing to work with).
        let options = AnalysisOptions {
            threads: Some(2),
            ..AnalysisOptions::default()
        };
        let mut whole =
            analyze_capture("gen", CaptureSource::File(path.clone()), &options).unwrap();
        correlate::attribute(
            &mut whole.flows,
            &[],
            &whole.process_evidence,
            &whole.dns,
            &CorrelateOptions::default(),
        );
        let batch = jsonl(&whole.flows);
        assert_eq!(sorted_lines(&one), sorted_lines(&batch), "{format:?}");
        std::fs::remove_file(&path).unwrap();
    }
}
