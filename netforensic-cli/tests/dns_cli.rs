//! `netforensic dns` end to end: JSON field names and values (checked against Zeek's dns.log
//! baseline for wikipedia.pcap), every format, several inputs, exit statuses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn capture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/captures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn netforensic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn json_rows_use_zeek_names_and_values() {
    let wikipedia = capture("zeek_wikipedia.pcap");
    let out = netforensic(&["dns", &wikipedia, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    // Zeek's opt.basic dns.log for wikipedia.pcap has 34 rows.
    assert_eq!(rows.len(), 34);
    // The row Zeek logs for transaction 26096 (baseline, field by field).
    let row = rows.iter().find(|r| r["trans_id"] == 26096).unwrap();
    assert_eq!(row["id.orig_h"], "141.142.220.118");
    assert_eq!(row["id.orig_p"], 40526);
    assert_eq!(row["id.resp_h"], "141.142.2.2");
    assert_eq!(row["id.resp_p"], 53);
    assert_eq!(row["proto"], "udp");
    assert_eq!(row["rtt"].as_f64(), Some(0.000392));
    assert_eq!(row["query"], "upload.wikimedia.org");
    assert_eq!(row["qclass_name"], "C_INTERNET");
    assert_eq!(row["qtype_name"], "A");
    assert_eq!(row["rcode_name"], "NOERROR");
    assert_eq!(
        (row["AA"].clone(), row["RD"].clone(), row["RA"].clone()),
        (false.into(), true.into(), true.into())
    );
    assert_eq!(
        row["answers"],
        serde_json::json!(["upload.pmtpa.wikimedia.org", "208.80.152.3"])
    );
    assert_eq!(row["TTLs"], serde_json::json!([124.0, 2156.0]));
    assert_eq!(row["rejected"], false);
    assert_eq!(row["capture"], wikipedia.as_str());
    assert!(row["uid"].as_str().unwrap().starts_with('C'));
    // NXDOMAIN kept, no answers field.
    let nx = rows.iter().find(|r| r["trans_id"] == 26428).unwrap();
    assert_eq!(nx["rcode_name"], "NXDOMAIN");
    assert!(nx.get("answers").is_none());
}

#[test]
fn every_format_and_several_inputs() {
    let a = capture("zeek_dns53.pcap");
    let b = capture("tcpdump_dns_tcp.pcap");
    let jsonl = netforensic(&["dns", &a, &b, "--format", "jsonl"]);
    assert_eq!(jsonl.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // DNS over TCP, answered (tshark: one AAAA query and its response on port 53/tcp).
    let tcp = lines.iter().find(|r| r["proto"] == "tcp").unwrap();
    assert_eq!(tcp["rcode_name"], "NOERROR");
    assert!(tcp["rtt"].as_f64().is_some());

    let zeek = netforensic(&["dns", &a, "--format", "zeek"]);
    let text = String::from_utf8(zeek.stdout).unwrap();
    assert!(text.starts_with("#separator \\x09\n"));
    assert!(text.contains("#path\tdns\n"));
    assert!(text.contains("us.v27.distributed.net"));

    let csv = netforensic(&["dns", &a, "--format", "csv"]);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("ts,uid,id.orig_h"));
    assert_eq!(text.lines().count(), 2);

    let table = netforensic(&["dns", &a]);
    assert_eq!(table.status.code(), Some(0));
    assert!(String::from_utf8(table.stdout)
        .unwrap()
        .contains("us.v27.distributed.net"));
}

#[test]
fn unreadable_input_exits_2_and_partial_exits_1() {
    let out = netforensic(&["dns", "/nonexistent/capture.pcap", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("netforensic:"));
    let good = capture("zeek_dns53.pcap");
    let out = netforensic(&[
        "dns",
        &good,
        "/nonexistent/capture.pcap",
        "--format",
        "jsonl",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
}
