//! `dns` rows against Zeek's own dns.log baselines (zeek/zeek btest baselines, copied into
//! `testdata/expected/dns/zeek/`), field by field. `ts` and `uid` are masked in the baselines;
//! Zeek's `opcode`/`opcode_name` columns are not ours. Differences that are understood and
//! kept on purpose are listed in `testdata/expected/dns/DIFFERENCES.md` and in `KNOWN` below.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod dns_support;

use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
use netforensic_core::capture::CaptureSource;
use netforensic_core::report::dns::DnsRow;
use netforensic_core::report::{RecordFormat, RecordWriter};

/// (baseline file, capture in testdata/captures)
const BASELINES: &[(&str, &str)] = &[
    (
        "dns-two-responses.pcap__scripts.base.protocols.dns.duplicate-reponses__dns.log",
        "zeek_dns-two-responses.pcap",
    ),
    (
        "dns-txt-multiple.pcap__scripts.base.protocols.dns.multiple-txt-strings__dns.log",
        "zeek_dns-txt-multiple.pcap",
    ),
    (
        "dns-zero-RRs.pcap__scripts.base.protocols.dns.zero-responses__dns.log",
        "zeek_dns-zero-RRs.pcap",
    ),
    (
        "dns53.pcap__scripts.base.protocols.dns.flip__dns.log",
        "zeek_dns53.pcap",
    ),
    (
        "gre-pptp.pcap__core.tunnels.gre-pptp__dns.log",
        "zeek_gre-pptp.pcap",
    ),
    (
        "ipv6-fragmented-dns.pcap__core.ipv6-frag__dns.log",
        "zeek_ipv6-fragmented-dns.pcap",
    ),
    (
        "loc-29-trunc.pcap__scripts.base.protocols.dns.loc__dns.log",
        "zeek_loc-29-trunc.pcap",
    ),
    ("wikipedia.pcap__opt.basic__dns.log", "zeek_wikipedia.pcap"),
];

/// Columns compared: id.* .. rejected (2..=23 of Zeek's dns.log).
fn comparable(fields: &[&str]) -> String {
    fields[2..=23].join("\t")
}

/// Captures with rows that differ from Zeek for understood reasons (DIFFERENCES.md): the number
/// of Zeek rows without an identical row of ours, and why.
const KNOWN: &[(&str, usize, &str)] = &[
    (
        "zeek_dns-txt-multiple.pcap",
        1,
        "the query has a bad UDP checksum: Zeek drops it, we (like tshark) keep and pair it",
    ),
    (
        "zeek_loc-29-trunc.pcap",
        1,
        "LOC records are not rendered (`<unknown type=29>` instead of Zeek's `LOC: ...`)",
    ),
];

#[test]
fn rows_match_zeek_baselines() {
    let testdata = dns_support::testdata();
    let (mut compared, mut known) = (0, 0);
    let mut failures = Vec::new();
    for (baseline, capture) in BASELINES {
        let text =
            std::fs::read_to_string(testdata.join("expected/dns/zeek").join(baseline)).unwrap();
        let mut zeek: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| comparable(&l.split('\t').collect::<Vec<_>>()))
            .collect();
        let path = testdata.join("captures").join(capture);
        let analysis = analyze_capture(
            capture,
            CaptureSource::File(path),
            &AnalysisOptions::default(),
        )
        .unwrap();
        let mut out = Vec::new();
        let mut writer = RecordWriter::<DnsRow>::new(RecordFormat::Zeek, &mut out);
        for record in &analysis.dns {
            writer.write(&DnsRow { record, capture }).unwrap();
        }
        writer.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut ours: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| comparable(&l.split('\t').collect::<Vec<_>>()))
            .collect();
        zeek.sort();
        ours.sort();
        compared += zeek.len();
        let mut zeek_only = Vec::new();
        for row in &zeek {
            if let Some(i) = ours.iter().position(|r| r == row) {
                ours.remove(i);
            } else {
                zeek_only.push(row.clone());
            }
        }
        let allowed = KNOWN
            .iter()
            .find(|(c, _, _)| c == capture)
            .map_or(0, |(_, n, _)| *n);
        if zeek_only.len() != allowed || ours.len() != allowed {
            for row in &zeek_only {
                failures.push(format!("{capture}: zeek only: {row}"));
            }
            for row in &ours {
                failures.push(format!("{capture}: ours only: {row}"));
            }
        } else {
            known += allowed;
        }
    }
    println!(
        "{compared} Zeek rows compared, {known} known differences, {} unexpected",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
