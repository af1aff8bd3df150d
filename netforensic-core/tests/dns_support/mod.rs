//! Shared by the DNS and naming tests: replay tshark-extracted payloads
//! (`testdata/scripts/dns-expected.sh`) as flow touches, without the capture reader.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test code

use netforensic_core::flow::{FlowTouch, Proto};
use netforensic_core::Timestamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| *c != ':').collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// One replayed packet.
pub struct Replayed {
    pub touch: FlowTouch,
    pub ts: Timestamp,
    pub tcp_seq: Option<u32>,
    pub payload: Vec<u8>,
}

/// Packets of a payloads file, flows keyed by the unordered 5-tuple with the first sender as
/// originator (ids in order of first appearance).
pub fn replay(payloads: &str) -> Vec<Replayed> {
    let mut flows: HashMap<(String, String, String), (u64, String, String)> = HashMap::new();
    let mut out = Vec::new();
    for line in payloads.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        let (ts, proto, src, sport, dst, dport, seq, payload) =
            (c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
        let a = format!("{src}/{sport}");
        let b = format!("{dst}/{dport}");
        let key = if a < b {
            (proto.to_string(), a, b)
        } else {
            (proto.to_string(), b, a)
        };
        let next_id = flows.len() as u64;
        let entry = flows
            .entry(key)
            .or_insert_with(|| (next_id, src.to_string(), sport.to_string()));
        let from_orig = entry.1 == src && entry.2 == sport;
        let (orig_h, orig_p, resp_h, resp_p) = if from_orig {
            (src, sport, dst, dport)
        } else {
            (dst, dport, src, sport)
        };
        out.push(Replayed {
            touch: FlowTouch {
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
            },
            ts: Timestamp::from_secs_f64(ts.parse().unwrap()),
            tcp_seq: (seq != "-").then(|| seq.parse::<u32>().unwrap()),
            payload: hex(payload),
        });
    }
    out
}
