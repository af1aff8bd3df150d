//! Attribution over the real recordings in `testdata/recordings/{attribution,dualstack}`:
//! programs with known pids, ss / netstat / lsof snapshots every ~1.3 s, and
//! `expected-attribution.tsv` derived from the snapshots and the programs' own account (see
//! `testdata/recordings/README.md`). Zero wrong attributions; every flow a snapshot listed
//! during its lifetime is attributed to its pid; the rest unattributed.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers may fail loudly

use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::capture::CaptureSource;
use netforensic_core::correlate::{attribute, CorrelateOptions};
use netforensic_core::report::FlowRecord;
use netforensic_core::sockets::{load, TimeShift};
use netforensic_core::{ErrorKind, Timestamp};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// A flow matches an expected row when it starts at most this long after the program's clock
/// reading (as the recordings' own checker does).
const START_WINDOW_SECS: f64 = 2.0;

fn dir(recording: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/recordings")
        .join(recording)
}

struct Row {
    fields: HashMap<String, String>,
}

impl Row {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| *v != "-")
    }
    fn pid(&self, key: &str) -> Option<u32> {
        self.get(key).map(|v| v.parse().unwrap())
    }
}

fn expected(recording: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(dir(recording).join("expected-attribution.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|line| Row {
            fields: header
                .iter()
                .zip(line.split('\t'))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
        .collect()
}

fn matches(flow: &FlowRecord, row: &Row) -> bool {
    let c = &flow.conn;
    let ip = |k: &str| row.get(k).map(|v| v.parse::<IpAddr>().unwrap());
    let port = |k: &str| row.get(k).map(|v| v.parse::<u16>().unwrap());
    let start = Timestamp::from_secs_f64(row.get("start_epoch").unwrap().parse().unwrap());
    let late = c.ts.nanos_since(start);
    row.get("proto") == Some(c.proto.as_str())
        && ip("orig_addr") == Some(c.orig_h)
        && port("orig_port").is_none_or(|p| p == c.orig_p)
        && ip("resp_addr") == Some(c.resp_h)
        && port("resp_port") == Some(c.resp_p)
        && late >= -Timestamp::NANOS_PER_SEC / 10
        && late <= (START_WINDOW_SECS * 1e9) as i64
}

/// Check one recording with one snapshot tool's files; returns (attributed as expected,
/// flows checked).
fn check(recording: &str, tool: &str) -> (usize, usize) {
    let base = dir(recording);
    let mut analysis = analyze_capture(
        "capture.pcapng",
        CaptureSource::File(base.join("capture.pcapng")),
        &AnalysisOptions::default(),
    )
    .unwrap();
    let mut specs: Vec<String> = std::fs::read_dir(base.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{tool}-")))
        })
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "{recording}: no {tool} snapshots");
    // As `analyze` does: a file holding no snapshot (lsof finds no socket before the programs
    // start and prints nothing) is skipped; any other error fails.
    let mut snapshots = Vec::new();
    for spec in &specs {
        match load(spec, TimeShift::ZERO) {
            Ok(loaded) => snapshots.extend(loaded.snapshots),
            Err(err) if err.kind == ErrorKind::UnknownFormat => {
                let text = std::fs::read_to_string(spec).unwrap();
                assert!(
                    text.lines()
                        .all(|l| l.starts_with('#') || l.trim().is_empty()),
                    "{spec}: {err}"
                );
            }
            Err(err) => panic!("{spec}: {err}"),
        }
    }
    attribute(
        &mut analysis.flows,
        &snapshots,
        &analysis.process_evidence,
        &analysis.dns,
        &CorrelateOptions::default(),
    );
    let rows = expected(recording);
    let seen_column = format!("seen_in_{tool}_snapshots");
    let mut ok = 0;
    let mut checked = 0;
    for flow in &analysis.flows {
        let label = format!(
            "{recording}/{tool}: {} {}:{} -> {}:{}",
            flow.conn.proto.as_str(),
            flow.conn.orig_h,
            flow.conn.orig_p,
            flow.conn.resp_h,
            flow.conn.resp_p
        );
        let row = rows.iter().find(|r| matches(flow, r));
        let got = flow.process.as_ref().and_then(|p| p.pid);
        let Some(row) = row else {
            // Zero wrong attributions: nothing the expectations do not list may be attributed.
            assert_eq!(flow.process, None, "{label}: attributed but not expected");
            continue;
        };
        checked += 1;
        let want = row.pid("expected_pid");
        let truth = row.pid("truth_pid");
        let followup = row.pid("dns_followup_pid");
        match got {
            Some(pid) => {
                let quality = flow.process.as_ref().map(|p| p.quality.as_str());
                let right = Some(pid) == want
                    || Some(pid) == truth
                    || (Some(pid) == followup && quality == Some("dns_followup"));
                assert!(right, "{label}: attributed to {pid}, expected {want:?}");
                if Some(pid) == want {
                    if let Some(q) = row.get("expected_quality") {
                        assert_eq!(quality, Some(q), "{label}: quality");
                    }
                }
                ok += 1;
            }
            None => {
                // A flow this tool listed during its lifetime must be attributed, unless the
                // expectation itself says a conflict leaves it unattributed.
                let listed = row.get(&seen_column).is_some();
                if listed && want.is_some() {
                    panic!(
                        "{label}: unattributed ({:?}), expected {want:?}",
                        flow.unattributed_reason
                    );
                }
                assert!(flow.unattributed_reason.is_some(), "{label}: no reason");
            }
        }
        if let Some(server) = row.pid("resp_expected_pid") {
            if row.get(&seen_column).is_some() {
                let resp = flow.resp_process.as_ref().and_then(|p| p.pid);
                assert_eq!(resp, Some(server), "{label}: server process");
            }
        }
    }
    assert!(checked > 0, "{recording}/{tool}: no expected flow found");
    (ok, checked)
}

#[test]
fn attribution_recording_ss() {
    let (ok, checked) = check("attribution", "ss");
    println!("attribution/ss: {ok} of {checked} expected flows attributed");
}

#[test]
fn attribution_recording_netstat() {
    check("attribution", "netstat");
}

#[test]
fn attribution_recording_lsof() {
    check("attribution", "lsof");
}

#[test]
fn dualstack_recording_ss() {
    check("dualstack", "ss");
}

#[test]
fn dualstack_recording_netstat() {
    check("dualstack", "netstat");
}

#[test]
fn dualstack_recording_lsof() {
    check("dualstack", "lsof");
}
