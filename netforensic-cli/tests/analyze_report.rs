//! `netforensic analyze` over real captures: the report's JSON shape (DESIGN.md 4.4), process
//! metadata inside the capture, a socket snapshot, and the other formats.
//! Expected values: tshark / Zeek baselines / sha256sum, noted beside each.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers may fail loudly

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn testdata(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn netforensic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .output()
        .expect("run netforensic")
}

fn json_report(args: &[&str]) -> Value {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let out = netforensic(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report is JSON")
}

#[test]
fn ptcpdump_capture_report() {
    let capture = testdata("captures/ptcpdump_curl-thread.pcapng");
    let v = json_report(&[&capture]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["tool"]["name"], "netforensic");
    let input = &v["inputs"][0];
    // sha256sum testdata/captures/ptcpdump_curl-thread.pcapng
    assert_eq!(
        input["sha256"],
        "7ca32b0c423a23f74299b4c89a8f6cd4ad7087802660c1116986c81b9e530d6c"
    );
    assert_eq!(input["format"], "pcapng");
    assert_eq!(input["packets"], 10); // capinfos
    assert_eq!(input["complete"], true);
    let processes = v["processes"].as_array().unwrap();
    assert_eq!(processes.len(), 1);
    let curl = &processes[0];
    // tshark frame.comment: "PID: 122868\nCmd: /usr/bin/curl\nArgs: curl kernel.com"
    assert_eq!(curl["pid"], 122868);
    assert_eq!(curl["name"], "curl");
    assert_eq!(curl["exe"], "/usr/bin/curl");
    assert_eq!(curl["quality"], "in_capture");
    let host = &curl["hosts"][0];
    assert_eq!(host["addr"], "198.185.159.144");
    assert_eq!(host["port"], 80);
    assert_eq!(host["proto"], "tcp");
    assert_eq!(host["flows"], 1);
    assert_eq!(v["unattributed"]["hosts"].as_array().unwrap().len(), 0);
    assert_eq!(v["stats"]["attributed_flows"], 1);
}

#[test]
fn snapshot_attributes_a_plain_capture() {
    // http/get.pcap: one HTTP connection 141.142.228.5:59856 -> 192.150.187.43:80 at
    // 1362692526.869344 .. 1362692527.080972 (tshark); orig_bytes 136, resp_bytes 5007 (Zeek
    // baseline conn.log). The snapshot file lists wget for that tuple at 1362692527.0, and a
    // different process on the same tuple 73 s later, which must not be used.
    let capture = testdata("captures/zeek_get.pcap");
    let sockets = testdata("snapshots/correlate-zeek_get.jsonl");
    let v = json_report(&["--sockets", &sockets, "--", &capture]);
    let processes = v["processes"].as_array().unwrap();
    assert_eq!(processes.len(), 1, "{v:#}");
    let wget = &processes[0];
    assert_eq!(wget["pid"], 4242);
    assert_eq!(wget["name"], "wget");
    assert_eq!(wget["user"], "alice");
    assert_eq!(wget["quality"], "exact");
    assert_eq!(wget["evidence"][0], "snapshot:netforensic");
    let host = &wget["hosts"][0];
    assert_eq!(host["addr"], "192.150.187.43");
    assert_eq!(host["port"], 80);
    assert_eq!(host["direction"], "outbound");
    assert_eq!(host["orig_bytes"], 136);
    assert_eq!(host["resp_bytes"], 5007);
    assert_eq!(v["stats"]["snapshots"], 2);
    // Without the snapshot the flow is reported, unattributed, with the reason.
    let v = json_report(&[&capture]);
    assert_eq!(v["processes"].as_array().unwrap().len(), 0);
    let un = &v["unattributed"]["hosts"][0];
    assert_eq!(un["addr"], "192.150.187.43");
    assert_eq!(un["reason"], "no_snapshot_covers_flow");
}

#[test]
fn snapshot_far_in_time_needs_time_shift() {
    // The same snapshot read with a clock 1000 s off covers nothing; shifting it back fixes it.
    let capture = testdata("captures/zeek_get.pcap");
    let sockets = testdata("snapshots/correlate-zeek_get.jsonl");
    let v = json_report(&[
        "--sockets",
        &sockets,
        "--time-shift",
        "1000",
        "--",
        &capture,
    ]);
    assert_eq!(v["processes"].as_array().unwrap().len(), 0);
    assert_eq!(
        v["unattributed"]["hosts"][0]["reason"],
        "no_snapshot_covers_flow"
    );
}

#[test]
fn table_and_html_formats() {
    let capture = testdata("captures/ptcpdump_curl-thread.pcapng");
    let out = netforensic(&["analyze", &capture]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("pid 122868 curl"), "{text}");
    assert!(text.contains("198.185.159.144"), "{text}");
    let out = netforensic(&["analyze", "--format", "html", &capture]);
    assert_eq!(out.status.code(), Some(0));
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("198.185.159.144"));
}

#[test]
fn one_unreadable_input_among_readable_ones_exits_1() {
    let capture = testdata("captures/ptcpdump_curl-thread.pcapng");
    let out = netforensic(&["analyze", "--format", "json", &capture, "/nonexistent.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"].as_array().unwrap().len(), 1);
}

#[test]
fn standard_input_is_read_and_hashed() {
    use std::io::Write;
    use std::process::Stdio;
    let bytes = std::fs::read(testdata("captures/ptcpdump_curl-thread.pcapng")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(["analyze", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"][0]["path"], "-");
    // sha256sum testdata/captures/ptcpdump_curl-thread.pcapng
    assert_eq!(
        v["inputs"][0]["sha256"],
        "7ca32b0c423a23f74299b4c89a8f6cd4ad7087802660c1116986c81b9e530d6c"
    );
    assert_eq!(v["processes"][0]["pid"], 122868);
}

#[test]
fn snapshot_file_not_understood_is_skipped_with_exit_1() {
    // An lsof run that found no sockets prints nothing: the file holds no snapshot.
    let dir = std::env::temp_dir().join(format!("nf-analyze-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join("lsof-empty.txt");
    std::fs::write(&odd, "").unwrap();
    let capture = testdata("captures/zeek_get.pcap");
    let sockets = testdata("snapshots/correlate-zeek_get.jsonl");
    let out = netforensic(&[
        "analyze",
        "--format",
        "json",
        "--sockets",
        odd.to_str().unwrap(),
        &sockets,
        "--",
        &capture,
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["processes"][0]["pid"], 4242);
}
