//! The decoder against tshark: per frame, the innermost transport (tcp / udp / icmp / none)
//! with its addresses and ports must match what tshark dissects, tunnels removed, fragments
//! reassembled, ICMP errors counted as ICMP. Expected files are tshark's output, made by
//! `testdata/scripts/decode-expected.sh`; accepted differences are listed with their reasons in
//! `testdata/expected/decode/DIFFERENCES.md` and in [`ACCEPTED`].
//!
//! Two tests: the captures shipped in `testdata/captures/` (always), and every file of the
//! shared corpus (`NETFORENSIC_CORPUS`, default `../shared/corpus` beside the workspace) when
//! it is present: it lives outside the repository, so its absence is reported, not failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use netforensic_core::capture::CaptureReader;
use netforensic_core::decode::{Decoded, Decoder, Transport};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Differences we accept: (corpus file, text in tshark's row, reason). A frame that differs
/// is accepted when its file matches and tshark's row contains the text. DIFFERENCES.md
/// explains each in full.
const ACCEPTED: &[(&str, &str, &str)] = &[
    (
        "encap/zeek_Teredo.pcap",
        "192.168.2.16\t83.170.1.38\t3797\t32900",
        "Teredo via a relay on port 32900: Zeek decapsulates (protocol detection), tshark does not",
    ),
    (
        "encap/zeek_Teredo.pcap",
        "83.170.1.38\t192.168.2.16\t32900\t3797",
        "Teredo via a relay on port 32900: Zeek decapsulates (protocol detection), tshark does not",
    ),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn expected_dir() -> PathBuf {
    workspace().join("testdata/expected/decode")
}

/// One frame as our decoder classifies it, in the expected files' column order.
fn classify(decoded: Decoded<'_>) -> String {
    match decoded {
        Decoded::Packet(p) => match p.transport {
            Transport::Tcp {
                src_port, dst_port, ..
            } => format!("tcp\t{}\t{}\t{src_port}\t{dst_port}", p.src, p.dst),
            Transport::Udp {
                src_port, dst_port, ..
            } => format!("udp\t{}\t{}\t{src_port}\t{dst_port}", p.src, p.dst),
            Transport::Icmp { .. } => format!("icmp\t{}\t{}\t-\t-", p.src, p.dst),
            Transport::Other { .. } => "none\t-\t-\t-\t-".to_string(),
        },
        _ => "none\t-\t-\t-\t-".to_string(),
    }
}

/// Our classification of every frame of a capture file.
fn decode_file(path: &Path) -> Vec<String> {
    let mut reader = CaptureReader::open(path).expect("capture opens");
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame() {
        out.push(classify(decoder.decode(
            frame.link_type,
            frame.ts,
            frame.data,
        )));
    }
    out
}

fn class_counts(rows: &[String]) -> String {
    let mut n = BTreeMap::new();
    for row in rows {
        *n.entry(row.split('\t').next().unwrap()).or_insert(0u64) += 1;
    }
    ["tcp", "udp", "icmp", "none"]
        .map(|c| n.get(c).copied().unwrap_or(0).to_string())
        .join("\t")
}

/// Compare one file with tshark's expected output; returns the differences not accepted.
fn compare(path: &Path, corpus_name: &str, expected_counts: &str) -> Vec<String> {
    let ours = decode_file(path);
    let mut differences = Vec::new();
    let listed = expected_dir()
        .join("frames")
        .join(format!("{}.tsv", corpus_name.replace('/', "__")));
    if let Ok(expected) = std::fs::read_to_string(&listed) {
        let rows: Vec<&str> = expected.lines().skip(1).collect();
        if rows.len() != ours.len() {
            differences.push(format!("{} frames, tshark {}", ours.len(), rows.len()));
        }
        for (i, row) in rows.iter().enumerate() {
            let number = i as u64 + 1;
            let want = row.split_once('\t').unwrap().1;
            let got = ours.get(i).map(String::as_str).unwrap_or("<missing>");
            let accepted = ACCEPTED
                .iter()
                .any(|&(file, text, _)| file == corpus_name && want.contains(text));
            if got != want && !accepted {
                differences.push(format!("frame {number}: tshark {want} | ours {got}"));
            }
        }
    }
    let got = class_counts(&ours);
    if got != expected_counts && ACCEPTED.iter().all(|&(file, _, _)| file != corpus_name) {
        differences.push(format!("counts: tshark {expected_counts} | ours {got}"));
    }
    differences
}

/// `counts.tsv`: corpus file -> "tcp\tudp\ticmp\tnone" as tshark classifies.
fn expected_counts() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(expected_dir().join("counts.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let (file, counts) = line.split_once('\t').unwrap();
            (file.to_string(), counts.to_string())
        })
        .collect()
}

fn report(mismatches: &BTreeMap<String, Vec<String>>) {
    for (file, lines) in mismatches {
        eprintln!("== {file}: {} differences", lines.len());
        for line in lines.iter().take(8) {
            eprintln!("   {line}");
        }
    }
}

#[test]
fn shipped_captures_match_tshark() {
    let counts = expected_counts();
    let provenance =
        std::fs::read_to_string(workspace().join("testdata/provenance/decode.tsv")).unwrap();
    let mut mismatches = BTreeMap::new();
    let mut files = 0;
    for line in provenance.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (file, corpus_name) = (columns[0], columns[5]);
        let path = workspace().join("testdata/captures").join(file);
        let differences = compare(&path, corpus_name, &counts[corpus_name]);
        if !differences.is_empty() {
            mismatches.insert(corpus_name.to_string(), differences);
        }
        files += 1;
    }
    report(&mismatches);
    assert!(files >= 20, "decode provenance lists only {files} captures");
    assert!(
        mismatches.is_empty(),
        "{} shipped captures differ from tshark",
        mismatches.len()
    );
}

#[test]
fn corpus_matches_tshark() {
    let corpus = std::env::var_os("NETFORENSIC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/corpus"));
    if !corpus.join("MANIFEST.tsv").is_file() {
        eprintln!(
            "corpus not found at {}: skipping (set NETFORENSIC_CORPUS)",
            corpus.display()
        );
        return;
    }
    let mut mismatches = BTreeMap::new();
    let counts = expected_counts();
    for (file, expected) in &counts {
        let differences = compare(&corpus.join(file), file, expected);
        if !differences.is_empty() {
            mismatches.insert(file.clone(), differences);
        }
    }
    report(&mismatches);
    eprintln!(
        "{} of {} corpus files match tshark frame by frame",
        counts.len() - mismatches.len(),
        counts.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} corpus files differ from tshark",
        mismatches.len()
    );
}

/// Rough decoder throughput on the corpus's largest trace (run with `--release --ignored`):
/// a guard against accidental per-packet allocation or quadratic work, not a benchmark.
#[test]
#[ignore]
fn decode_throughput() {
    let corpus = std::env::var_os("NETFORENSIC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/corpus"));
    let mut reader = CaptureReader::open(&corpus.join("large/zeek_echo-connections.pcap")).unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame() {
        frames.push((frame.link_type, frame.ts, frame.data.to_vec()));
    }
    let bytes: usize = frames.iter().map(|f| f.2.len()).sum();
    let passes = 50;
    let start = std::time::Instant::now();
    let mut packets = 0u64;
    for _ in 0..passes {
        let mut decoder = Decoder::new();
        for (link_type, ts, data) in &frames {
            if let Decoded::Packet(_) = decoder.decode(*link_type, *ts, data) {
                packets += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{packets} packets, {:.0} MB/s, {:.1} M frames/s",
        (bytes * passes) as f64 / secs / 1e6,
        (frames.len() * passes) as f64 / secs / 1e6
    );
}
