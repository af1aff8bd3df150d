//! `netforensic analyze` end to end: exit statuses, diagnostics, report formats.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers may fail loudly

use std::process::{Command, Output};

fn netforensic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .output()
        .expect("run netforensic")
}

#[test]
fn bad_local_net_is_a_usage_error() {
    let out = netforensic(&["analyze", "--local-net", "10.0.0.0/33", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("netforensic:"), "{stderr}");
    assert!(stderr.contains("prefix length"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn absurd_time_shift_is_a_usage_error() {
    let out = netforensic(&["analyze", "--time-shift", "1e300", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn nothing_readable_exits_2() {
    let out = netforensic(&["analyze", "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("netforensic:"));
}

#[test]
fn unreadable_snapshot_file_is_an_error() {
    let out = netforensic(&[
        "analyze",
        "--sockets",
        "/nonexistent/ss.txt",
        "--",
        "x.pcap",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
