//! Every file of the shared real-capture corpus (`../shared/corpus`, MANIFEST.tsv): readable
//! files give capinfos' packet count, format and link types with no damage; the five files
//! tshark rejects give an error naming the byte offset.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is the point

use netforensic_core::capture::{CaptureReader, LinkType};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "the shared corpus is missing: expected {} (CI puts shared/ beside the clone)",
        dir.display()
    );
    dir
}

struct Row {
    file: String,
    format: String,
    link_types: BTreeSet<u32>,
    packets: Option<u64>,
}

fn manifest() -> Vec<Row> {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let format = cols[5].split_whitespace().next().unwrap().to_string();
            // "ETHERNET(1),NULL(0) [tshark: ...]" -> {1, 0}
            let link_types = cols[6]
                .split_whitespace()
                .next()
                .unwrap()
                .split(',')
                .filter_map(|lt| {
                    let open = lt.rfind('(')?;
                    lt[open + 1..lt.len() - 1].parse().ok()
                })
                .collect();
            Row {
                file: cols[0].to_string(),
                format,
                link_types,
                packets: cols[7].parse().ok(),
            }
        })
        .collect()
}

#[test]
fn every_corpus_file_matches_capinfos() {
    let dir = corpus_dir();
    let rows = manifest();
    assert_eq!(rows.len(), 210, "MANIFEST.tsv should list 210 files");
    let mut failures = Vec::new();
    let mut readable = 0;
    let mut rejected = 0;
    for row in &rows {
        let path = dir.join(&row.file);
        let opened = CaptureReader::open(&path);
        if row.format == "unreadable" {
            match opened {
                Err(err) => {
                    let line = err.to_string();
                    if err.offset.is_none() || line.contains('\n') {
                        failures.push(format!("{}: error lacks an offset: {line}", row.file));
                    } else {
                        rejected += 1;
                    }
                }
                Ok(_) => failures.push(format!("{}: must be rejected but opened", row.file)),
            }
            continue;
        }
        let mut reader = match opened {
            Ok(reader) => reader,
            Err(err) => {
                failures.push(format!("{}: {err}", row.file));
                continue;
            }
        };
        while reader.next_frame().is_some() {}
        let summary = reader.into_summary();
        let mut problems = Vec::new();
        if Some(summary.packets) != row.packets {
            problems.push(format!(
                "packets {} != capinfos {:?}",
                summary.packets, row.packets
            ));
        }
        let format = summary.format.map(|f| f.as_str()).unwrap_or("-");
        if format != row.format {
            problems.push(format!("format {format} != {}", row.format));
        }
        let ours: BTreeSet<u32> = summary.link_types.iter().map(|&LinkType(n)| n).collect();
        if ours != row.link_types {
            problems.push(format!("link types {ours:?} != {:?}", row.link_types));
        }
        if !summary.damage.is_empty() {
            problems.push(format!("unexpected damage {:?}", summary.damage));
        }
        if problems.is_empty() {
            readable += 1;
        } else {
            failures.push(format!("{}: {}", row.file, problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files disagree:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert_eq!((readable, rejected), (205, 5));
}
