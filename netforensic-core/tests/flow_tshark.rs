//! Our TCP/UDP flows against tshark's conversations for every capture in testdata/captures:
//! per 5-tuple, the packets in each direction (summed over flows sharing a 5-tuple). The
//! expected files were written by tshark (testdata/scripts/flows-expected.sh), so this test
//! needs no tshark at run time. Tunnels: like Zeek, we report both the outer UDP connection
//! and the inner one; tshark's conversations hold both too when it decodes the tunnel.
//! Differences are listed in KNOWN_DIFFERENCES and explained in
//! testdata/expected/flow/DIFFERENCES.md; an entry that no longer differs fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure should panic

use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::capture::CaptureSource;
use netforensic_core::flow::Proto;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// (capture, normalised key `proto lo_addr lo_port hi_addr hi_port`, why it differs).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[(
    "zeek_Teredo.pcap",
    "tcp 2001:0:4137:9e50:8000:f12a:b9c8:2815 1286 2001:4860:0:2001::68 80",
    "carried by Teredo on UDP port 32900: tshark only decodes Teredo on 3544, the decoder \
     (like Zeek) follows the relay the client's 3544 exchange named",
)];

type Counts = BTreeMap<String, (u64, u64)>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn add(table: &mut Counts, proto: &str, a: (IpAddr, u16), b: (IpAddr, u16), ab: u64, ba: u64) {
    let (lo, hi, lo_hi, hi_lo) = if a <= b {
        (a, b, ab, ba)
    } else {
        (b, a, ba, ab)
    };
    let key = format!("{proto} {} {} {} {}", lo.0, lo.1, hi.0, hi.1);
    let entry = table.entry(key).or_insert((0, 0));
    entry.0 += lo_hi;
    entry.1 += hi_lo;
}

fn load_expected(path: &Path) -> Counts {
    let text = std::fs::read_to_string(path).expect("expected file");
    let mut table = Counts::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let p: Vec<&str> = line.split('\t').collect();
        assert_eq!(p.len(), 7, "bad expected line {line:?}");
        let key = format!("{} {} {} {} {}", p[0], p[1], p[2], p[3], p[4]);
        table.insert(key, (p[5].parse().unwrap(), p[6].parse().unwrap()));
    }
    table
}

fn ours(capture: &Path) -> Counts {
    let name = capture.to_string_lossy().to_string();
    let analysis = analyze_capture(
        &name,
        CaptureSource::File(capture.to_path_buf()),
        &AnalysisOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut table = Counts::new();
    for r in &analysis.flows {
        let c = &r.conn;
        let proto = match c.proto {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => continue,
        };
        add(
            &mut table,
            proto,
            (c.orig_h, c.orig_p),
            (c.resp_h, c.resp_p),
            c.orig_pkts,
            c.resp_pkts,
        );
    }
    table
}

#[test]
fn per_direction_packet_counts_match_tshark() {
    let dir = root().join("testdata/expected/flow/tshark");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("expected dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    assert!(
        !entries.is_empty(),
        "no expected files in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    let (mut files, mut tuples, mut known_seen) = (0, 0, 0);
    for expected_path in entries {
        let Some(capture_name) = expected_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".tsv"))
        else {
            continue;
        };
        files += 1;
        let expected = load_expected(&expected_path);
        let actual = ours(&root().join("testdata/captures").join(capture_name));
        let keys: std::collections::BTreeSet<&String> =
            expected.keys().chain(actual.keys()).collect();
        for key in keys {
            tuples += 1;
            let (e, a) = (expected.get(key), actual.get(key));
            if e == a {
                continue;
            }
            let known = KNOWN_DIFFERENCES
                .iter()
                .any(|(c, k, _)| *c == capture_name && k == key);
            if known {
                known_seen += 1;
            } else {
                failures.push(format!("{capture_name}: {key}: tshark {e:?} ours {a:?}"));
            }
        }
    }
    eprintln!("compared {tuples} 5-tuples in {files} captures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(files >= 15, "expected files went missing");
    assert_eq!(
        known_seen,
        KNOWN_DIFFERENCES.len(),
        "a known difference no longer occurs"
    );
}

/// Community IDs against Wireshark's own implementation (its `communityid` postdissector,
/// written to testdata/expected/flow/community_id by flows-expected.sh): the set of IDs of a
/// capture's packets equals the set of IDs of our flows.
#[test]
fn community_ids_match_wireshark() {
    let dir = root().join("testdata/expected/flow/community_id");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("community_id dir") {
        let path = entry.expect("entry").path();
        let Some(capture) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".txt"))
        else {
            continue;
        };
        let expected: std::collections::BTreeSet<String> = std::fs::read_to_string(&path)
            .expect("expected ids")
            .lines()
            .map(str::to_string)
            .collect();
        let file = root().join("testdata/captures").join(capture);
        let analysis = analyze_capture(
            capture,
            CaptureSource::File(file),
            &AnalysisOptions::default(),
        )
        .expect("capture");
        let ours: std::collections::BTreeSet<String> = analysis
            .flows
            .iter()
            .map(|r| r.conn.community_id.to_string())
            .collect();
        assert_eq!(ours, expected, "{capture}");
        checked += expected.len();
    }
    assert!(checked >= 50, "only {checked} community IDs compared");
}
