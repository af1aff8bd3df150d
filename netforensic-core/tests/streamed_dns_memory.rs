//! A long streamed capture full of DNS answers: a day of a client resolving four servers
//! every two seconds (43,200 answers) and talking to them, plus one connection that lasts the
//! whole capture to an address resolved at its start and every minute after under other names. A streamed analysis forgets the
//! answers no later connection can use, so it must hold far fewer than it read, and still
//! name every connection exactly as the analysis of the whole capture does (the long one by
//! its early answer), with 1 and 2 threads and epochs of many sizes. Generated in memory.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

mod pcap_support;

use netforensic_core::analysis::{
    analyze_capture, analyze_capture_streamed, AnalysisOptions, StreamOutput,
};
use netforensic_core::capture::CaptureSource;
use netforensic_core::correlate::CorrelateOptions;
use netforensic_core::report::FlowRecord;
use std::net::Ipv4Addr;
use std::sync::Arc;

const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const RESOLVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);
const LONG_LIVED: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
const SPAN_SECS: u64 = 24 * 3600;
const EVERY_SECS: u64 = 2;
const START_SECS: u64 = 1_700_000_000;

fn server(k: u64) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, 1 + k as u8)
}

/// A classic pcap of Ethernet frames, built packet by packet.
struct Pcap(Vec<u8>);

impl Pcap {
    fn new() -> Self {
        let mut out = Vec::new();
        pcap_support::push_pcap_header(&mut out);
        Pcap(out)
    }

    /// A UDP datagram at `millis` after the start.
    fn udp(&mut self, millis: u64, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) {
        let micros = START_SECS * 1_000_000 + millis * 1000;
        pcap_support::push_udp_record(&mut self.0, micros, src, dst, payload);
    }

    /// A lookup of `name` (type A) answered with `addr`, TTL `ttl`: query, then response.
    fn lookup(&mut self, millis: u64, id: u16, name: &str, addr: Ipv4Addr, ttl: u32) {
        let mut question = Vec::new();
        for label in name.split('.') {
            question.push(label.len() as u8);
            question.extend_from_slice(label.as_bytes());
        }
        question.extend_from_slice(&[0, 0, 1, 0, 1]);
        let message = |flags: u16, answers: u16| {
            let mut m = Vec::new();
            m.extend_from_slice(&id.to_be_bytes());
            m.extend_from_slice(&flags.to_be_bytes());
            m.extend_from_slice(&[0, 1]);
            m.extend_from_slice(&answers.to_be_bytes());
            m.extend_from_slice(&[0, 0, 0, 0]);
            m.extend_from_slice(&question);
            m
        };
        let port = 20_000 + id % 30_000;
        self.udp(millis, (CLIENT, port), (RESOLVER, 53), &message(0x0100, 0));
        let mut response = message(0x8180, 1);
        response.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        response.extend_from_slice(&ttl.to_be_bytes());
        response.extend_from_slice(&[0, 4]);
        response.extend_from_slice(&addr.octets());
        self.udp(millis + 3, (RESOLVER, 53), (CLIENT, port), &response);
    }
}

fn capture() -> Vec<u8> {
    let mut pcap = Pcap::new();
    pcap.lookup(50_000, 1, "long.example", LONG_LIVED, 300);
    let mut next_long = 60_000;
    for i in 0..SPAN_SECS / EVERY_SECS {
        let at = i * EVERY_SECS * 1000;
        // The long-lived connection: a datagram every 30 s keeps it under UDP's timeout.
        while next_long <= at {
            pcap.udp(next_long, (CLIENT, 40_000), (LONG_LIVED, 443), b"keepalive");
            next_long += 30_000;
        }
        let k = i % 4;
        let name = format!("s{k}-{}.example", i % 3);
        pcap.lookup(at, (i % 60_000) as u16 + 2, &name, server(k), 30);
        if i % 30 == 0 {
            // Its address is resolved again and again under other names: only the horizon's
            // exception for live connections keeps the first answer.
            let name = format!("again-{}.example", i % 7);
            pcap.lookup(at + 1000, (i % 60_000) as u16 + 1, &name, LONG_LIVED, 30);
        }
        let port = 1024 + (i % 60_000) as u16;
        pcap.udp(at + 500, (CLIENT, port), (server(k), 443), b"hello");
    }
    pcap.0
}

fn source(bytes: &Arc<[u8]>) -> CaptureSource {
    CaptureSource::Bytes {
        name: "dns-heavy".into(),
        bytes: Arc::clone(bytes),
    }
}

/// The naming of every connection, by uid, sorted.
fn naming(flows: &[FlowRecord]) -> Vec<String> {
    let mut out: Vec<String> = flows
        .iter()
        .map(|f| {
            format!(
                "{} {:?} {:?} {:?} {}",
                f.conn.uid, f.server_name, f.name_source, f.names, f.name_ambiguous
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_long_dns_heavy_stream_forgets_unusable_answers_and_names_alike() {
    let bytes: Arc<[u8]> = Arc::from(capture());
    let whole = analyze_capture("dns-heavy", source(&bytes), &AnalysisOptions::default()).unwrap();
    let expected = naming(&whole.flows);
    let answers = whole.resolutions.len();
    assert!(answers > 43_000, "{answers} answers");
    let long = whole
        .flows
        .iter()
        .find(|f| f.conn.resp_h == std::net::IpAddr::V4(LONG_LIVED))
        .expect("the long-lived connection");
    assert_eq!(long.server_name.as_deref(), Some("long.example"));
    assert!(long.conn.duration_nanos() > 23 * 3600 * 1_000_000_000);
    for (threads, epoch_packets) in [(1, 64), (2, 64), (2, 1000), (1, 4096)] {
        let mut streamed: Vec<FlowRecord> = Vec::new();
        let mut sink = |flows: &[FlowRecord]| {
            streamed.extend_from_slice(flows);
            Ok(())
        };
        let options = AnalysisOptions {
            threads: Some(threads),
            epoch_packets,
            ..AnalysisOptions::default()
        };
        let correlate = CorrelateOptions::default();
        let output = StreamOutput {
            snapshots: &[],
            correlate: &correlate,
            sink: &mut sink,
        };
        let done = analyze_capture_streamed("dns-heavy", source(&bytes), &options, output).unwrap();
        let got = naming(&streamed);
        let differ = got.iter().zip(&expected).find(|(a, b)| a != b);
        assert!(
            got.len() == expected.len() && differ.is_none(),
            "{threads} threads, epochs of {epoch_packets} packets: {} flows, {} expected; \
             first difference (streamed, whole): {differ:?}",
            got.len(),
            expected.len()
        );
        // Per server, the answers of the last minutes and at most 64 before them (a few
        // hundred) are needed; the index forgets once it holds twice what it kept and at
        // least 4096, checked every 16 epochs.
        assert!(
            done.answers_held < answers / 5,
            "{threads} threads, epochs of {epoch_packets}: held {} of {answers} answers",
            done.answers_held
        );
    }
}
