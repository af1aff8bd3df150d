//! `netforensic info` end to end: JSON shape and values against capinfos (testdata/expected/
//! capture/testdata-info.tsv, made by testdata/scripts/capture-expected.sh), exit statuses,
//! diagnostics, standard input, damaged input, table output.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

fn netforensic(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// capinfos "secs.frac" as f64 seconds.
fn seconds(text: &str) -> f64 {
    text.parse().unwrap()
}

struct Expected {
    file: String,
    format: String,
    packets: Option<u64>,
    first: Option<f64>,
    last: Option<f64>,
    sha256: String,
}

fn expected() -> Vec<Expected> {
    let text =
        std::fs::read_to_string(testdata().join("expected/capture/testdata-info.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            Expected {
                file: c[0].to_string(),
                format: c[1].to_string(),
                packets: c[2].parse().ok(),
                first: (c[3] != "-" && c[3] != "n/a").then(|| seconds(c[3])),
                last: (c[4] != "-" && c[4] != "n/a").then(|| seconds(c[4])),
                sha256: c[5].to_string(),
            }
        })
        .collect()
}

fn capture(name: &str) -> String {
    testdata()
        .join("captures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn json_matches_capinfos_for_every_shipped_capture() {
    let rows = expected();
    let readable: Vec<&Expected> = rows.iter().filter(|r| r.format != "unreadable").collect();
    assert!(readable.len() >= 7);
    let paths: Vec<String> = readable.iter().map(|r| capture(&r.file)).collect();
    let mut args = vec!["info", "--format", "json"];
    args.extend(paths.iter().map(String::as_str));
    let output = netforensic(&args, None);
    assert_eq!(output.status.code(), Some(0), "{:?}", output);
    assert!(output.stderr.is_empty());
    let objects = json_lines(&output);
    assert_eq!(objects.len(), readable.len());
    for (object, row) in objects.iter().zip(&readable) {
        let keys: Vec<&str> = object
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "path",
            "sha256",
            "format",
            "link_types",
            "packets",
            "first_ts",
            "last_ts",
            "complete",
            "damage",
        ] {
            assert!(keys.contains(&key), "{key} missing in {object}");
        }
        assert_eq!(object["path"], capture(&row.file).as_str());
        assert_eq!(object["sha256"], row.sha256.as_str(), "{}", row.file);
        assert_eq!(object["format"], row.format.as_str(), "{}", row.file);
        assert_eq!(object["packets"].as_u64(), row.packets, "{}", row.file);
        assert_eq!(object["complete"], true);
        assert_eq!(object["damage"], serde_json::json!([]));
        for (field, want) in [("first_ts", row.first), ("last_ts", row.last)] {
            match want {
                Some(want) => {
                    let got = object[field].as_f64().unwrap();
                    assert!(
                        (got - want).abs() < 1e-5,
                        "{}: {field} {got} != {want}",
                        row.file
                    );
                }
                None => assert!(object[field].is_null()),
            }
        }
        let link = &object["link_types"][0];
        assert!(
            link["number"].is_u64() && link["name"].is_string(),
            "{object}"
        );
    }
}

#[test]
fn unreadable_inputs_exit_2_with_offset_on_stderr() {
    for row in expected().iter().filter(|r| r.format == "unreadable") {
        let path = capture(&row.file);
        let output = netforensic(&["info", "--format", "json", &path], None);
        assert_eq!(output.status.code(), Some(2), "{}", row.file);
        assert!(output.stdout.is_empty());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("netforensic: "), "{stderr}");
        assert!(
            stderr.contains(&path) && stderr.contains("byte offset"),
            "{stderr}"
        );
    }
    let output = netforensic(&["info", "/nonexistent/capture.pcap"], None);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_readable_and_an_unreadable_input_exit_2_but_report_the_readable_one() {
    let good = capture("tcpdump_pptp.pcap");
    let bad = capture("libpcap_linktype-reserved-field-not-zero.pcap");
    let output = netforensic(&["info", "--format", "json", &good, &bad], None);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(json_lines(&output).len(), 1);
}

#[test]
fn standard_input_is_hashed_and_read() {
    let path = capture("tcpdump_tcp-handshake-nano.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let output = netforensic(&["info", "--format", "json", "-"], Some(&bytes));
    assert_eq!(output.status.code(), Some(0));
    let object = &json_lines(&output)[0];
    let row = expected()
        .into_iter()
        .find(|r| r.file == "tcpdump_tcp-handshake-nano.pcap")
        .unwrap();
    assert_eq!(object["path"], "-");
    assert_eq!(object["sha256"], row.sha256.as_str());
    assert_eq!(object["packets"].as_u64(), row.packets);
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netforensic-info-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn truncated_capture_exits_1_and_lists_the_damage() {
    let bytes = std::fs::read(capture("tcpdump_pptp.pcap")).unwrap();
    let cut = bytes.len() - 30;
    let path = temp_file("cut.pcap", &bytes[..cut]);
    let output = netforensic(&["info", "--format", "json", path.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(1));
    let object = &json_lines(&output)[0];
    assert_eq!(object["complete"], false);
    assert_eq!(object["packets"], 22);
    let damage = &object["damage"][0];
    let offset = damage["offset"].as_u64().unwrap();
    assert_eq!(offset + damage["length"].as_u64().unwrap(), cut as u64);
    assert!(damage["reason"].as_str().unwrap().contains("cut off"));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("netforensic: ") && stderr.contains(&format!("byte offset {offset}"))
    );
}

#[test]
fn table_output_is_aligned_and_output_flag_writes_a_file() {
    let path = capture("apple-tcpdump_radar-88502733.pcapng");
    let out = temp_file("info.txt", b"");
    let output = netforensic(&["info", &path, "--output", out.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    let table = std::fs::read_to_string(&out).unwrap();
    let value_column: Vec<usize> = table
        .lines()
        .map(|l| l.find("  ").unwrap() + l[l.find("  ").unwrap()..].find(|c| c != ' ').unwrap())
        .collect();
    assert!(value_column.windows(2).all(|w| w[0] == w[1]), "{table}");
    assert!(table.contains("0 (NULL)"), "{table}");
    assert!(table.contains("2022-02-04T20:45:00.533122Z"), "{table}");
}

#[test]
fn gzip_input_is_read_transparently() {
    let bytes = std::fs::read(capture("tcpdump_pptp.pcap")).unwrap();
    let mut gz = Vec::new();
    {
        // A stored (uncompressed) gzip member, written by hand: header, deflate stored
        // blocks, CRC32 and size trailer.
        gz.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        for (i, chunk) in bytes.chunks(65535).enumerate() {
            let last = (i + 1) * 65535 >= bytes.len();
            gz.push(u8::from(last));
            let len = chunk.len() as u16;
            gz.extend_from_slice(&len.to_le_bytes());
            gz.extend_from_slice(&(!len).to_le_bytes());
            gz.extend_from_slice(chunk);
        }
        gz.extend_from_slice(&crc32(&bytes).to_le_bytes());
        gz.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    }
    let path = temp_file("pptp.pcap.gz", &gz);
    let output = netforensic(&["info", "--format", "json", path.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(json_lines(&output)[0]["packets"], 23);
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
