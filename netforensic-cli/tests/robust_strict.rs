//! `--strict`: anomalies become a failure with one stderr line per kind. Expected anomalies
//! come from tshark: `tshark -r tcpdump_dns-badlabel.pcap -Y '_ws.expert.severity >= 6291456'`
//! flags exactly one (error-severity) DNS packet; zeek_icmp.pcap has none.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

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

fn strict_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains(": strict: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn malformed_dns_fails_only_when_strict() {
    let file = capture("tcpdump_dns-badlabel.pcap");
    for command in ["dns", "flows", "analyze"] {
        let lax = netforensic(&[command, &file]);
        assert_eq!(lax.status.code(), Some(0), "{command} without --strict");
        assert!(strict_lines(&lax).is_empty());

        let strict = netforensic(&["--strict", command, &file]);
        assert_eq!(strict.status.code(), Some(1), "{command} --strict");
        let lines = strict_lines(&strict);
        assert_eq!(lines.len(), 1, "{command}: one line per kind: {lines:?}");
        assert!(lines[0].starts_with("netforensic: "), "{}", lines[0]);
        assert!(
            lines[0].ends_with("strict: 1 malformed DNS messages"),
            "{}",
            lines[0]
        );
        // Results are still written.
        assert!(!strict.stdout.is_empty(), "{command}: output kept");
    }
}

#[test]
fn clean_capture_passes_strict() {
    let file = capture("zeek_icmp.pcap");
    for command in ["dns", "flows", "analyze", "info"] {
        let out = netforensic(&["--strict", command, &file]);
        assert_eq!(out.status.code(), Some(0), "{command}");
        assert!(strict_lines(&out).is_empty());
    }
}

#[test]
fn damage_is_an_anomaly_and_unreadable_stays_2() {
    let dir = std::env::temp_dir().join(format!("nf-strict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let original = std::fs::read(capture("zeek_get.pcap")).unwrap();
    // Cut the last record in half: a partial input.
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &original[..original.len() - 20]).unwrap();
    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all").unwrap();
    let cut = cut.to_string_lossy().into_owned();
    let garbage = garbage.to_string_lossy().into_owned();

    let out = netforensic(&["--strict", "info", &cut]);
    assert_eq!(out.status.code(), Some(1));
    let lines = strict_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with("strict: 1 damaged regions skipped"),
        "{}",
        lines[0]
    );

    let out = netforensic(&["--strict", "flows", &garbage]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strict_is_documented_in_help() {
    let help = netforensic(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--strict"), "{text}");
    assert!(text.contains("anomalies"), "{text}");
}
