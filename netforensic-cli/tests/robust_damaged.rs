//! `netforensic info` over the damaged-capture suite (testdata/damaged/, made by
//! testdata/scripts/make-damaged.py; expected.tsv holds what capinfos/tshark read): no crash,
//! no hang, exit 1 for partial and 2 for unreadable input, the damage listed with offsets
//! inside the touched region, and at least as many records as tshark's genuine ones.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far more than any of these small files needs; a hang fails instead of blocking CI.
const TIMEOUT: Duration = Duration::from_secs(30);

fn damaged() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/damaged")
}

/// (exit code, stdout, stderr), killing the process if it outlives TIMEOUT.
fn run(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            panic!("{args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().expect("killed by a signal: a crash"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn info_lists_damage_and_exit_status_follows_it() {
    let table = std::fs::read_to_string(damaged().join("expected.tsv")).unwrap();
    let mut checked = 0;
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (file, source, kind) = (f[0], f[1], f[2]);
        let (a, b) = f[3].split_once(',').unwrap();
        let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
        let original: u64 = f[4].parse().unwrap();
        let tshark_genuine: u64 = f[6].parse().unwrap();
        let path = damaged().join(file);
        let path = path.to_str().unwrap();
        let (code, stdout, stderr) = run(&["info", "--format", "json", path]);
        let what = format!("{file} ({kind})");
        checked += 1;

        if source == "-" {
            assert_eq!(code, 2, "{what}: unreadable");
            assert!(stderr.starts_with("netforensic: "), "{what}: {stderr}");
            assert!(stdout.is_empty(), "{what}");
            continue;
        }
        let info: Value = serde_json::from_str(&stdout).unwrap();
        let packets = info["packets"].as_u64().unwrap();
        assert!(
            packets >= tshark_genuine,
            "{what}: {packets} < tshark {tshark_genuine}"
        );
        if a == b {
            // Concatenated: a new file header mid-stream is not damage.
            assert_eq!(code, 0, "{what}");
            assert_eq!(packets, 2 * original, "{what}");
            assert_eq!(info["complete"], true, "{what}");
            continue;
        }
        assert_eq!(code, 1, "{what}: partial");
        assert_eq!(info["complete"], false, "{what}");
        let damage = info["damage"].as_array().unwrap();
        assert!(!damage.is_empty(), "{what}");
        let first = &damage[0];
        let offset = first["offset"].as_u64().unwrap();
        assert!(
            (a..=b).contains(&offset),
            "{what}: damage at {offset}, outside the touched {a}..{b}"
        );
        assert!(first["length"].as_u64().unwrap() > 0, "{what}");
        assert!(!first["reason"].as_str().unwrap().is_empty(), "{what}");
        // One diagnostic per region, with the byte offset.
        assert!(
            stderr.contains(&format!("byte offset {offset}")),
            "{what}: {stderr}"
        );
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn every_command_survives_every_damaged_file() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(damaged())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "tsv"))
        .collect();
    files.sort();
    for file in &files {
        let path = file.to_str().unwrap();
        for args in [
            vec!["flows", "--format", "jsonl", path],
            vec!["dns", "--format", "csv", path],
            vec!["analyze", "--format", "json", path],
        ] {
            let (code, _, _) = run(&args);
            assert!((0..=2).contains(&code), "{args:?}: exit {code}");
        }
    }
}

#[test]
fn standard_input_finds_the_same_damage_as_the_file() {
    for entry in std::fs::read_dir(damaged()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tsv") {
            continue;
        }
        let (code, from_file, _) = run(&["info", "--format", "json", path.to_str().unwrap()]);
        let out = Command::new(env!("CARGO_BIN_EXE_netforensic"))
            .args(["info", "--format", "json", "-"])
            .stdin(std::fs::File::open(&path).unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{path:?}");
        if code == 2 {
            continue;
        }
        let file: Value = serde_json::from_str(&from_file).unwrap();
        let stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in [
            "sha256", "packets", "complete", "damage", "first_ts", "last_ts",
        ] {
            assert_eq!(file[key], stdin[key], "{path:?}: {key}");
        }
    }
}
