//! Each stage of the pipeline over one generated in-memory capture: framing, decoding, flow
//! tracking, DNS, and the whole analysis (1 and 2 threads) with JSON lines writing. Every
//! bench checks its result against what the generator says it wrote, so a fast wrong answer
//! fails instead of looking good.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a failure should panic

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use netforensic_benches::generator::{generate, Format, GeneratedCounts, GeneratorConfig};
use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::capture::{CaptureReader, CaptureSource};
use netforensic_core::decode::{Decoded, Decoder, Transport};
use netforensic_core::dns::DnsTracker;
use netforensic_core::flow::{FlowConfig, FlowTable};
use netforensic_core::report::{FlowRecord, RecordFormat, RecordWriter};
use std::sync::Arc;

/// Big enough for steady-state figures (thousands of flows), small enough for quick samples.
const CAPTURE_BYTES: u64 = 16 << 20;

fn capture(format: Format) -> (Arc<[u8]>, GeneratedCounts) {
    let mut bytes = Vec::new();
    let counts = generate(&GeneratorConfig::new(CAPTURE_BYTES, format), &mut bytes).unwrap();
    assert_eq!(counts.bytes, bytes.len() as u64);
    (bytes.into(), counts)
}

fn reader(bytes: &Arc<[u8]>) -> CaptureReader {
    CaptureReader::from_source(CaptureSource::Bytes {
        name: "bench".into(),
        bytes: Arc::clone(bytes),
    })
    .unwrap()
}

/// Frames only: how fast the container is walked.
fn framing(c: &mut Criterion) {
    let mut group = c.benchmark_group("framing");
    for (label, format) in [("pcap", Format::Pcap), ("pcapng", Format::Pcapng)] {
        let (bytes, counts) = capture(format);
        group.throughput(Throughput::Bytes(counts.bytes));
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut reader = reader(&bytes);
                let mut packets = 0u64;
                while reader.next_frame().is_some() {
                    packets += 1;
                }
                assert_eq!(packets, counts.packets);
                assert!(reader.summary().complete());
            });
        });
    }
    group.finish();
}

/// Frames and link/IP/transport decoding.
fn decoding(c: &mut Criterion) {
    let (bytes, counts) = capture(Format::Pcap);
    let mut group = c.benchmark_group("decoding");
    group.throughput(Throughput::Bytes(counts.bytes));
    group.bench_function("pcap", |b| {
        b.iter(|| {
            let mut reader = reader(&bytes);
            let mut decoder = Decoder::new();
            let mut transport = 0u64;
            while let Some(frame) = reader.next_frame() {
                if let Decoded::Packet(p) = decoder.decode(frame.link_type, frame.ts, frame.data) {
                    if !matches!(p.transport, Transport::Other { .. }) {
                        transport += 1;
                    }
                }
            }
            // Every generated packet is TCP or UDP.
            assert_eq!(transport, counts.packets);
        });
    });
    group.finish();
}

/// Decoded packets into the flow table, then finishing every connection.
fn flows(c: &mut Criterion) {
    let (bytes, counts) = capture(Format::Pcap);
    let mut group = c.benchmark_group("flows");
    group.throughput(Throughput::Bytes(counts.bytes));
    group.bench_function("ingest_and_finish", |b| {
        b.iter(|| {
            let mut reader = reader(&bytes);
            let mut decoder = Decoder::new();
            let mut table = FlowTable::new(FlowConfig::default());
            while let Some(frame) = reader.next_frame() {
                if let Decoded::Packet(p) = decoder.decode(frame.link_type, frame.ts, frame.data) {
                    table.ingest(frame.ts, &p);
                }
            }
            let connections = table.finish();
            assert_eq!(
                connections.len() as u64,
                counts.tcp_flows + counts.udp_flows
            );
        });
    });
    group.finish();
}

/// The DNS tracker on top of the flow table (the table's own cost is in `flows`).
fn dns(c: &mut Criterion) {
    let (bytes, counts) = capture(Format::Pcap);
    let mut group = c.benchmark_group("dns");
    group.throughput(Throughput::Bytes(counts.bytes));
    group.bench_function("transactions", |b| {
        b.iter(|| {
            let mut reader = reader(&bytes);
            let mut decoder = Decoder::new();
            let mut table = FlowTable::new(FlowConfig::default());
            let mut tracker = DnsTracker::new();
            while let Some(frame) = reader.next_frame() {
                if let Decoded::Packet(p) = decoder.decode(frame.link_type, frame.ts, frame.data) {
                    let Some(touch) = table.ingest(frame.ts, &p) else {
                        continue;
                    };
                    let (seq, payload) = match p.transport {
                        Transport::Tcp { seq, payload, .. } => (Some(seq), payload),
                        Transport::Udp { payload, .. } => (None, payload),
                        _ => continue,
                    };
                    tracker.observe(&touch, frame.ts, seq, payload);
                }
            }
            let (records, _, _) = tracker.finish(&|_| String::new());
            let answered = records.iter().filter(|r| r.rcode.is_some()).count();
            assert_eq!(answered as u64, counts.dns_responses);
        });
    });
    group.finish();
}

/// The whole analysis as `flows --format jsonl` runs it, including writing every row.
fn end_to_end(c: &mut Criterion) {
    let (bytes, counts) = capture(Format::Pcap);
    let mut group = c.benchmark_group("end_to_end");
    group.throughput(Throughput::Bytes(counts.bytes));
    group.sample_size(10);
    for threads in [1, 2] {
        let options = AnalysisOptions {
            threads: Some(threads),
            ..AnalysisOptions::default()
        };
        group.bench_function(format!("flows_jsonl_{threads}_threads"), |b| {
            b.iter_batched(
                || Vec::with_capacity(bytes.len()),
                |mut out: Vec<u8>| {
                    let source = CaptureSource::Bytes {
                        name: "bench".into(),
                        bytes: Arc::clone(&bytes),
                    };
                    let analysis = analyze_capture("bench", source, &options).unwrap();
                    let mut writer = RecordWriter::<FlowRecord>::new(RecordFormat::Jsonl, &mut out);
                    writer.write_all(&analysis.flows).unwrap();
                    writer.finish().unwrap();
                    let rows = out.iter().filter(|&&b| b == b'\n').count() as u64;
                    assert_eq!(rows, counts.tcp_flows + counts.udp_flows);
                    let named = analysis
                        .flows
                        .iter()
                        .filter(|f| f.server_name.is_some())
                        .count() as u64;
                    assert!(named >= counts.tls_sni + counts.http_hosts);
                    out
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, framing, decoding, flows, dns, end_to_end);
criterion_main!(benches);
