//! `netforensic flows` end to end: formats, exit statuses, hand-reviewed values, and the same
//! bytes whatever the thread count.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure should panic

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn capture(name: &str) -> String {
    root()
        .join("testdata/captures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn netforensic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .output()
        .expect("run netforensic")
}

fn jsonl(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn get_pcap_matches_the_hand_reviewed_record() {
    let out = netforensic(&["flows", "--format", "jsonl", &capture("zeek_get.pcap")]);
    assert_eq!(out.status.code(), Some(0));
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 1);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("testdata/expected/flow/zeek_get.pcap.json")).unwrap(),
    )
    .unwrap();
    for (key, value) in expected.as_object().unwrap() {
        if key.starts_with('_') {
            continue;
        }
        assert_eq!(&rows[0][key], value, "field {key}");
    }
    assert!(rows[0]["uid"].as_str().unwrap().starts_with('C'));
}

#[test]
fn same_bytes_with_one_and_two_threads() {
    for name in [
        "zeek_wikipedia.pcap",
        "zeek_bro.org.pcap",
        "zeek_Teredo.pcap",
    ] {
        for format in ["json", "csv", "table"] {
            let one = netforensic(&[
                "--threads",
                "1",
                "flows",
                "--format",
                format,
                &capture(name),
            ]);
            let two = netforensic(&[
                "--threads",
                "2",
                "flows",
                "--format",
                format,
                &capture(name),
            ]);
            assert_eq!(one.status.code(), Some(0), "{name}");
            assert!(!one.stdout.is_empty());
            assert_eq!(one.stdout, two.stdout, "{name} {format}");
        }
    }
}

#[test]
fn zeek_format_is_a_conn_log() {
    let out = netforensic(&["flows", "--format", "zeek", &capture("zeek_wikipedia.pcap")]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#separator \\x09");
    assert_eq!(lines[4], "#path\tconn");
    assert!(lines[6].starts_with("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\tcommunity_id"));
    assert!(lines.last().unwrap().starts_with("#close\t"));
    let fields = lines[6].split('\t').count();
    let rows: Vec<&&str> = lines.iter().filter(|l| !l.starts_with('#')).collect();
    // Zeek's baseline for this trace has 34 connections.
    assert_eq!(rows.len(), 34);
    assert!(rows.iter().all(|r| r.split('\t').count() + 1 == fields));
}

#[test]
fn csv_and_json_agree_on_rows() {
    let name = capture("zeek_wikipedia.pcap");
    let csv = netforensic(&["flows", "--format", "csv", &name]);
    let json = netforensic(&["flows", "--format", "json", &name]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let csv_text = String::from_utf8(csv.stdout).unwrap();
    assert!(csv_text.starts_with("ts,uid,id.orig_h,id.orig_p,"));
    assert_eq!(csv_text.lines().count(), rows.as_array().unwrap().len() + 1);
}

#[test]
fn table_is_sorted_by_first_packet_over_inputs() {
    let out = netforensic(&[
        "flows",
        &capture("zeek_get.pcap"),
        &capture("zeek_wikipedia.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let times: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 35);
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn exit_statuses() {
    let missing = netforensic(&["flows", "/nonexistent/capture.pcap"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("netforensic: "));
    let mixed = netforensic(&[
        "flows",
        "--format",
        "jsonl",
        &capture("zeek_get.pcap"),
        "/nonexistent/x.pcap",
    ]);
    assert_eq!(mixed.status.code(), Some(1));
    assert_eq!(
        jsonl(&mixed).len(),
        1,
        "what was readable is still reported"
    );
}

/// `--stats` reports on stderr only; the packet and byte counts are capinfos' (14 packets,
/// the file's 6,335 bytes) and the flow count the hand-reviewed one above.
#[test]
fn stats_go_to_stderr_and_leave_stdout_alone() {
    let path = capture("zeek_get.pcap");
    let plain = netforensic(&["flows", "--format", "jsonl", &path]);
    let with_stats = netforensic(&["--stats", "flows", "--format", "jsonl", &path]);
    assert_eq!(with_stats.status.code(), Some(0));
    assert_eq!(plain.stdout, with_stats.stdout);
    let stderr = String::from_utf8(with_stats.stderr).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("netforensic: stats: "))
        .expect("a stats line");
    assert!(
        line.contains(" 14 packets, 6335 bytes, 1 flows, "),
        "{line}"
    );
    assert!(line.contains("MB/s, peak memory "), "{line}");
    // Not a terminal: no progress bar, nothing else on stderr.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
