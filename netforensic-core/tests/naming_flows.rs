//! End to end: every name tshark shows (SNI, QUIC SNI, HTTP Host) becomes the `server_name` of
//! its flow with the matching `name_source`; and a DNS-then-connect capture names flows by DNS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod dns_support;

use netforensic_core::analysis::{analyze_capture, AnalysisOptions, CaptureAnalysis};
use netforensic_core::capture::CaptureSource;
use netforensic_core::naming::NameSource;
use std::net::IpAddr;

fn analyze(capture: &str) -> CaptureAnalysis {
    let path = dns_support::testdata().join("captures").join(capture);
    analyze_capture(
        capture,
        CaptureSource::File(path),
        &AnalysisOptions::default(),
    )
    .unwrap()
}

#[test]
fn tshark_names_are_flow_server_names() {
    let dir = dns_support::testdata().join("expected/naming");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".names.tsv"))
        .collect();
    files.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for file in files {
        let capture = file.trim_end_matches(".names.tsv");
        let analysis = analyze(capture);
        for line in std::fs::read_to_string(dir.join(&file)).unwrap().lines() {
            let c: Vec<&str> = line.split('\t').collect();
            let client: IpAddr = c[0].parse().unwrap();
            let client_port: u16 = c[1].parse().unwrap();
            let server: IpAddr = c[2].parse().unwrap();
            let server_port: u16 = c[3].parse().unwrap();
            let (kind, name) = (c[4], c[5]);
            checked += 1;
            let flow = analysis.flows.iter().find(|f| {
                f.conn.orig_h == client
                    && f.conn.orig_p == client_port
                    && f.conn.resp_h == server
                    && f.conn.resp_p == server_port
            });
            let Some(flow) = flow else {
                failures.push(format!("{capture}: no flow for {line}"));
                continue;
            };
            let ok = flow.server_name.as_deref() == Some(name)
                && flow.name_source.map(NameSource::as_str) == Some(kind)
                && flow.names.first().map(String::as_str) == Some(name);
            if !ok {
                failures.push(format!(
                    "{capture}: {line}: got {:?} {:?} {:?}",
                    flow.server_name, flow.name_source, flow.names
                ));
            }
        }
    }
    println!(
        "{checked} tshark names checked end to end, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// nfstream_iphone.pcap, reviewed by hand with tshark: the phone (192.168.2.17) resolved
/// captive.apple.com (CNAME chain to captive.g.aaplimg.com -> 17.253.105.202) and
/// mesu.apple.com to the same address; the HTTP flow says `captive.apple.com` in its Host, the
/// TLS flows `mesu.apple.com` in their SNI. Both DNS names are listed for each flow.
#[test]
fn shared_address_is_named_by_what_each_flow_sent() {
    let analysis = analyze("nfstream_iphone.pcap");
    let addr: IpAddr = "17.253.105.202".parse().unwrap();
    let to_addr: Vec<_> = analysis
        .flows
        .iter()
        .filter(|f| f.conn.resp_h == addr)
        .collect();
    assert!(to_addr.len() >= 3);
    for flow in to_addr {
        let expected = if flow.conn.resp_p == 80 {
            ("captive.apple.com", NameSource::HttpHost)
        } else {
            ("mesu.apple.com", NameSource::Sni)
        };
        assert_eq!(flow.server_name.as_deref(), Some(expected.0));
        assert_eq!(flow.name_source, Some(expected.1));
        assert!(flow.names.iter().any(|n| n == "captive.g.aaplimg.com"));
        assert!(!flow.name_ambiguous);
    }
}
