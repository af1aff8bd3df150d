//! The naming-traps recording (`testdata/recordings/naming/`, made with real programs, dnsmasq
//! and network namespaces; ground truth from the programs themselves): every connection is
//! named as `expected-names.tsv` says a correct analyser must (rules in that README), and
//! `netforensic dns` holds the 30 responses of `tshark-dns.txt`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod dns_support;

use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::capture::CaptureSource;
use std::net::IpAddr;

#[test]
fn recording_names_match_the_ground_truth() {
    let dir = dns_support::testdata().join("recordings/naming");
    let analysis = analyze_capture(
        "capture.pcapng",
        CaptureSource::File(dir.join("capture.pcapng")),
        &AnalysisOptions::default(),
    )
    .unwrap();
    let expected = std::fs::read_to_string(dir.join("expected-names.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in expected.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        let (proto, client, client_port, server, server_port) = (c[0], c[1], c[2], c[3], c[4]);
        let (program, name, sources, include, ambiguous) = (c[5], c[6], c[7], c[8], c[9]);
        let client: IpAddr = client.parse().unwrap();
        let server: IpAddr = server.parse().unwrap();
        let (client_port, server_port): (u16, u16) =
            (client_port.parse().unwrap(), server_port.parse().unwrap());
        let Some(flow) = analysis.flows.iter().find(|f| {
            f.conn.proto.as_str() == proto
                && f.conn.orig_h == client
                && f.conn.orig_p == client_port
                && f.conn.resp_h == server
                && f.conn.resp_p == server_port
        }) else {
            failures.push(format!("{program}: no flow"));
            continue;
        };
        checked += 1;
        let include: Vec<&str> = if include == "-" {
            Vec::new()
        } else {
            include.split(',').collect()
        };
        let has_all = include.iter().all(|n| flow.names.iter().any(|m| m == n));
        let source = flow.name_source.map(|s| s.as_str()).unwrap_or("-");
        let single = flow.server_name.as_deref() == Some(name)
            && sources.split('|').any(|s| s == source)
            && !flow.name_ambiguous;
        let flagged = flow.name_ambiguous
            && flow
                .server_name
                .as_deref()
                .is_none_or(|n| include.contains(&n));
        let good = has_all
            && match ambiguous {
                "no" if name == "-" => flow.server_name.is_none() && flow.names.is_empty(),
                "no" => single,
                "yes" => flagged,
                _ => single || flagged,
            };
        if !good {
            failures.push(format!(
                "{program}: got {:?} {:?} {:?} ambiguous={}",
                flow.server_name, flow.name_source, flow.names, flow.name_ambiguous
            ));
        }
    }
    assert_eq!(checked, 14, "{failures:?}");
    // 30 responses: 13 glibc A+AAAA lookups over UDP, dig A+TXT and implant A+AAAA over TCP.
    let responses = analysis.dns.iter().filter(|r| r.rcode.is_some()).count();
    assert_eq!(responses, 30);
    let nxdomain = analysis
        .dns
        .iter()
        .filter(|r| r.rcode_name.as_deref() == Some("NXDOMAIN"))
        .count();
    assert_eq!(nxdomain, 2);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
