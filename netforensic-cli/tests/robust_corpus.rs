//! The shared corpus's hostile files: the captures tshark refuses (MANIFEST.tsv marks them
//! `unreadable`, from capinfos' verdict) give exit 2 and one clear line naming the file and
//! the byte offset; every file in `malformed/` reads without a crash or hang, exit 0 or 1.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use std::path::PathBuf;
use std::process::Command;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

#[test]
fn files_tshark_rejects_give_one_clear_error() {
    let manifest = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).unwrap();
    let rejected: Vec<&str> = manifest
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() > 5 && f[5].starts_with("unreadable")).then_some(f[0])
        })
        .collect();
    assert_eq!(rejected.len(), 5, "{rejected:?}");
    for file in rejected {
        let path = corpus().join(file);
        for command in ["info", "flows", "analyze"] {
            let out = Command::new(env!("CARGO_BIN_EXE_netforensic"))
                .args([command, path.to_str().unwrap()])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{command} {file}");
            let stderr = String::from_utf8(out.stderr).unwrap();
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{command} {file}: {stderr}");
            assert!(lines[0].starts_with("netforensic: "), "{}", lines[0]);
            assert!(lines[0].contains(file), "names the file: {}", lines[0]);
            assert!(
                lines[0].contains("byte offset "),
                "says where: {}",
                lines[0]
            );
        }
    }
}

#[test]
fn malformed_packets_never_crash() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join("malformed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 16, "{}", files.len());
    for file in &files {
        for command in ["flows", "dns", "analyze"] {
            let out = Command::new(env!("CARGO_BIN_EXE_netforensic"))
                .args([command, "--format", "json", file.to_str().unwrap()])
                .output()
                .unwrap();
            let code = out.status.code();
            assert!(matches!(code, Some(0 | 1)), "{command} {file:?}: {code:?}");
            serde_json::from_slice::<serde_json::Value>(&out.stdout)
                .unwrap_or_else(|e| panic!("{command} {file:?}: invalid JSON: {e}"));
        }
    }
}
