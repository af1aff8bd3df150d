//! A flood: one million distinct UDP flows inside four seconds of capture time, generated in
//! memory (deterministic), through the whole analysis. Every flow must come out, each with
//! exactly its one packet; nothing may be dropped, merged or invented.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

mod pcap_support;

use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::capture::CaptureSource;
use netforensic_core::flow::Proto;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

const FLOWS: u32 = 1_000_000;
/// Capture time the flood spans (nanoseconds): well inside UDP's inactivity timeout, so
/// every flow is alive at once.
const SPAN_NANOS: u64 = 4_000_000_000;
const PAYLOAD: &[u8] = b"flood";

/// Flow `i`: 10.a.b.c:(1024 + i % 50000) -> 198.51.100.1:9999 with a distinct source.
fn flow_source(i: u32) -> (Ipv4Addr, u16) {
    let host = 1 + i / 50_000; // 20 hosts for 1M flows, 50 000 ports each
    (
        Ipv4Addr::from(0x0a00_0000 | host),
        1024 + (i % 50_000) as u16,
    )
}

fn flood_pcap() -> Vec<u8> {
    let frame_len = 14 + 20 + 8 + PAYLOAD.len();
    let mut out = Vec::with_capacity(24 + FLOWS as usize * (16 + frame_len));
    pcap_support::push_pcap_header(&mut out);
    let dst = Ipv4Addr::new(198, 51, 100, 1);
    for i in 0..FLOWS {
        let micros = 1_700_000_000_000_000 + u64::from(i) * SPAN_NANOS / u64::from(FLOWS) / 1000;
        pcap_support::push_udp_record(&mut out, micros, flow_source(i), (dst, 9999), PAYLOAD);
    }
    out
}

#[test]
fn million_distinct_udp_flows_all_come_out() {
    let bytes = flood_pcap();
    let source = CaptureSource::Bytes {
        name: "flood".into(),
        bytes: Arc::from(bytes),
    };
    let analysis = analyze_capture("flood", source, &AnalysisOptions::default()).unwrap();
    assert!(analysis.summary.complete());
    assert_eq!(analysis.flows.len(), FLOWS as usize);
    let mut seen: HashSet<(IpAddr, u16)> = HashSet::with_capacity(FLOWS as usize);
    for flow in &analysis.flows {
        let c = &flow.conn;
        assert_eq!(c.proto, Proto::Udp);
        assert_eq!(c.orig_pkts + c.resp_pkts, 1);
        assert_eq!(c.orig_bytes + c.resp_bytes, PAYLOAD.len() as u64);
        // Zeek orients a lone packet from a likely server port (1900, 5353, ...) towards
        // the other end, so the flooder may be either side.
        let server = (IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 9999);
        let client = if (c.resp_h, c.resp_p) == server {
            (c.orig_h, c.orig_p)
        } else {
            assert_eq!((c.orig_h, c.orig_p), server, "{c:?}");
            (c.resp_h, c.resp_p)
        };
        assert!(seen.insert(client), "flow twice: {c:?}");
    }
    for i in [0, 1, 49_999, 50_000, FLOWS - 1] {
        let (ip, port) = flow_source(i);
        assert!(seen.contains(&(IpAddr::V4(ip), port)), "flow {i} missing");
    }
}
