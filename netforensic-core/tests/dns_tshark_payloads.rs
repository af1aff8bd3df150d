//! DNS tracker over real corpus payloads, compared with tshark.
//!
//! Input: `testdata/expected/dns/<capture>.payloads.tsv` (DNS-port payloads as tshark extracted
//! them, after IP reassembly), so this runs independently of the capture reader and decoder.
//! Expected: `<capture>.responses.tsv` (tshark's transaction id, question and answer-section
//! addresses of every response). Both come from `testdata/scripts/dns-expected.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod dns_support;

use netforensic_core::dns::DnsTracker;
use std::net::IpAddr;
use std::path::PathBuf;

fn expected_dir() -> PathBuf {
    dns_support::testdata().join("expected/dns")
}

struct Transaction {
    trans_id: u16,
    query: String,
    addrs: Vec<IpAddr>,
}

/// Feed one capture's payloads through a tracker, flows keyed by the unordered 5-tuple with
/// the first sender as originator.
fn run(payloads: &str) -> Vec<Transaction> {
    let mut tracker = DnsTracker::new();
    for p in dns_support::replay(payloads) {
        tracker.observe(&p.touch, p.ts, p.tcp_seq, &p.payload);
    }
    let (records, _, _) = tracker.finish(&|id| format!("C{id}"));
    records
        .into_iter()
        .filter(|r| r.rcode.is_some())
        .map(|r| Transaction {
            trans_id: r.trans_id,
            query: r.query.clone().unwrap_or_default(),
            addrs: r.answers.iter().filter_map(|a| a.parse().ok()).collect(),
        })
        .collect()
}

#[test]
fn every_tshark_response_is_found_with_its_addresses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(expected_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".responses.tsv"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 20,
        "expected files missing: run testdata/scripts/dns-expected.sh"
    );
    for name in names {
        let capture = name.trim_end_matches(".responses.tsv");
        let expected = std::fs::read_to_string(expected_dir().join(&name)).unwrap();
        let payloads =
            std::fs::read_to_string(expected_dir().join(format!("{capture}.payloads.tsv")))
                .unwrap();
        let ours = run(&payloads);
        for line in expected.lines() {
            let c: Vec<&str> = line.split('\t').collect();
            let (frame, id, qname) = (c[0], c[1].parse::<u16>().unwrap(), c[2]);
            let mut addrs: Vec<IpAddr> = c
                .get(3)
                .filter(|s| !s.is_empty())
                .map(|s| s.split(',').map(|a| a.parse().unwrap()).collect())
                .unwrap_or_default();
            addrs.sort();
            checked += 1;
            // tshark writes the root as `<Root>`; other `<...>` are its placeholders for names
            // it could not read, and an empty name means the response had no question (we
            // then report the paired query's name, as Zeek does).
            let qname = if qname == "<Root>" { "" } else { qname };
            let check_name = !(qname.is_empty() || qname.starts_with('<'));
            let found = ours.iter().any(|t| {
                let mut got = t.addrs.clone();
                got.sort();
                t.trans_id == id
                    && (!check_name || t.query.eq_ignore_ascii_case(qname))
                    && got == addrs
            });
            if !found {
                failures.push(format!(
                    "{capture} frame {frame}: id {id} {qname} {addrs:?}"
                ));
            }
        }
    }
    println!(
        "checked {checked} tshark responses, {} not matched",
        failures.len()
    );
    assert!(failures.is_empty(), "not matched:\n{}", failures.join("\n"));
}
