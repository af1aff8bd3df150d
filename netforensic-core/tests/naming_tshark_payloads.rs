//! Name sniffer over real corpus payloads, compared with tshark: every TLS/QUIC/DTLS SNI and
//! every HTTP Host tshark shows is found on its flow, with the right source, and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod dns_support;

use netforensic_core::naming::NameSniffer;
use std::collections::{BTreeSet, HashMap};

#[test]
fn every_tshark_name_is_found_and_no_other() {
    let dir = dns_support::testdata().join("expected/naming");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".names.tsv"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 15,
        "expected files missing: run testdata/scripts/dns-expected.sh"
    );
    let (mut expected_total, mut failures) = (0, Vec::new());
    for name in names {
        let capture = name.trim_end_matches(".names.tsv");
        let expected_text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let payloads =
            std::fs::read_to_string(dir.join(format!("{capture}.payloads.tsv"))).unwrap();
        let packets = dns_support::replay(&payloads);
        let mut sniffer = NameSniffer::new();
        let mut endpoints = HashMap::new();
        for p in &packets {
            endpoints.insert(
                p.touch.id,
                (
                    p.touch.orig_h,
                    p.touch.orig_p,
                    p.touch.resp_h,
                    p.touch.resp_p,
                ),
            );
            sniffer.observe(&p.touch, p.ts, p.tcp_seq, &p.payload);
        }
        let ours: BTreeSet<String> = sniffer
            .finish()
            .into_iter()
            .map(|(id, n)| {
                let (oh, op, rh, rp) = endpoints[&id];
                format!("{oh}\t{op}\t{rh}\t{rp}\t{}\t{}", n.source.as_str(), n.name)
            })
            .collect();
        let expected: BTreeSet<String> = expected_text
            .lines()
            .map(|l| {
                // Normalise the addresses as Rust prints them.
                let c: Vec<&str> = l.split('\t').collect();
                let oh: std::net::IpAddr = c[0].parse().unwrap();
                let rh: std::net::IpAddr = c[2].parse().unwrap();
                format!("{oh}\t{}\t{rh}\t{}\t{}\t{}", c[1], c[3], c[4], c[5])
            })
            .collect();
        expected_total += expected.len();
        for missing in expected.difference(&ours) {
            failures.push(format!("{capture}: missing {missing}"));
        }
        for extra in ours.difference(&expected) {
            failures.push(format!("{capture}: extra {extra}"));
        }
    }
    println!(
        "{expected_total} tshark names checked, {} differences",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
