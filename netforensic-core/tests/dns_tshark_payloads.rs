//! DNS tracker over real corpus payloads, compared with tshark.
//!
//! Input: `testdata/expected/dns/<capture>.payloads.tsv` (DNS-port payloads as tshark extracted
//! them, after IP reassembly), so this runs independently of the capture reader and decoder.
//! Expected: `<capture>.responses.tsv` (tshark's transaction id, question and answer-section
//! addresses of every response). Both come from `testdata/scripts/dns-expected.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use netforensic_core::dns::DnsTracker;
use netforensic_core::flow::{FlowTouch, Proto};
use netforensic_core::Timestamp;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

fn expected_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/expected/dns")
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| *c != ':').collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
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
    let mut flows: HashMap<(String, String, String), (u64, String, u16)> = HashMap::new();
    for line in payloads.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let (ts, proto, src, sport, dst, dport, seq, payload) =
            (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
        let a = format!("{src}/{sport}");
        let b = format!("{dst}/{dport}");
        let key = if a < b {
            (proto.to_string(), a.clone(), b.clone())
        } else {
            (proto.to_string(), b.clone(), a.clone())
        };
        let next_id = flows.len() as u64;
        let entry = flows
            .entry(key)
            .or_insert_with(|| (next_id, src.to_string(), sport.parse().unwrap()));
        let from_orig = entry.1 == src && entry.2 == sport.parse::<u16>().unwrap();
        let (orig_h, orig_p, resp_h, resp_p) = if from_orig {
            (src, sport, dst, dport)
        } else {
            (dst, dport, src, sport)
        };
        let touch = FlowTouch {
            id: entry.0,
            from_orig,
            created: false,
            proto: if proto == "tcp" {
                Proto::Tcp
            } else {
                Proto::Udp
            },
            orig_h: orig_h.parse().unwrap(),
            orig_p: orig_p.parse().unwrap(),
            resp_h: resp_h.parse().unwrap(),
            resp_p: resp_p.parse().unwrap(),
        };
        let ts = Timestamp::from_secs_f64(ts.parse().unwrap());
        let seq = (seq != "-").then(|| seq.parse::<u32>().unwrap());
        tracker.observe(&touch, ts, seq, &hex(payload));
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
