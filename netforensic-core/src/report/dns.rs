//! DNS transactions as Zeek's dns.log rows (DESIGN.md 4.3), for every record format.

use super::tabular::{Cell, Column, TabularRecord};
use crate::dns::DnsRecord;

/// One dns.log row: a transaction and the input it was read from.
#[derive(Clone, Copy, Debug)]
pub struct DnsRow<'a> {
    pub record: &'a DnsRecord,
    pub capture: &'a str,
}

const COLUMNS: &[Column] = &[
    Column::new("ts", "time"),
    Column::new("uid", "string"),
    Column::new("id.orig_h", "addr"),
    Column::new("id.orig_p", "port"),
    Column::new("id.resp_h", "addr"),
    Column::new("id.resp_p", "port"),
    Column::new("proto", "enum"),
    Column::new("trans_id", "count"),
    Column::new("rtt", "interval"),
    Column::new("query", "string"),
    Column::new("qclass", "count"),
    Column::new("qclass_name", "string"),
    Column::new("qtype", "count"),
    Column::new("qtype_name", "string"),
    Column::new("rcode", "count"),
    Column::new("rcode_name", "string"),
    Column::new("AA", "bool"),
    Column::new("TC", "bool"),
    Column::new("RD", "bool"),
    Column::new("RA", "bool"),
    Column::new("Z", "count"),
    Column::new("answers", "vector[string]"),
    Column::new("TTLs", "vector[interval]"),
    Column::new("rejected", "bool"),
    Column::new("capture", "string"),
];

/// What the terminal table shows: time, endpoints, query, type, rcode, answers.
const TABLE_COLUMNS: &[usize] = &[0, 2, 4, 6, 9, 13, 15, 21];

impl TabularRecord for DnsRow<'_> {
    fn columns() -> &'static [Column] {
        COLUMNS
    }

    fn cell(&self, index: usize) -> Cell<'_> {
        let r = self.record;
        let count = |v: Option<u16>| v.map_or(Cell::Absent, |v| Cell::Count(u64::from(v)));
        match index {
            0 => Cell::Time(r.ts),
            1 => Cell::str(&r.uid),
            2 => Cell::Addr(r.orig_h),
            3 => Cell::Count(u64::from(r.orig_p)),
            4 => Cell::Addr(r.resp_h),
            5 => Cell::Count(u64::from(r.resp_p)),
            6 => Cell::str(r.proto.as_str()),
            7 => Cell::Count(u64::from(r.trans_id)),
            8 => r.rtt_nanos.map_or(Cell::Absent, Cell::Seconds),
            9 => Cell::opt_str(r.query.as_deref()),
            10 => count(r.qclass),
            11 => Cell::opt_str(r.qclass_name.as_deref()),
            12 => count(r.qtype),
            13 => Cell::opt_str(r.qtype_name.as_deref()),
            14 => count(r.rcode),
            15 => Cell::opt_str(r.rcode_name.as_deref()),
            16 => Cell::Bool(r.aa),
            17 => Cell::Bool(r.tc),
            18 => Cell::Bool(r.rd),
            19 => Cell::Bool(r.ra),
            20 => Cell::Count(u64::from(r.z)),
            // Zeek leaves empty answer vectors unset.
            21 if r.answers.is_empty() => Cell::Absent,
            21 => Cell::str_list(&r.answers),
            22 if r.ttls.is_empty() => Cell::Absent,
            22 => Cell::List(
                r.ttls
                    .iter()
                    .map(|t| Cell::Seconds(i64::from(*t).saturating_mul(1_000_000_000)))
                    .collect(),
            ),
            23 => Cell::Bool(r.rejected),
            24 => Cell::str(self.capture),
            _ => Cell::Absent,
        }
    }

    fn zeek_path() -> &'static str {
        "dns"
    }

    fn table_columns() -> Option<&'static [usize]> {
        Some(TABLE_COLUMNS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Proto;
    use crate::report::tabular::{RecordFormat, RecordWriter, ZeekClock};
    use crate::time::Timestamp;

    fn record() -> DnsRecord {
        DnsRecord {
            ts: Timestamp::from_secs_nanos(1_300_475_167, 96_535_000),
            uid: "CHhAvVGS1DHFjwGM9".into(),
            orig_h: "141.142.220.118".parse().unwrap(),
            orig_p: 40526,
            resp_h: "141.142.2.2".parse().unwrap(),
            resp_p: 53,
            proto: Proto::Udp,
            trans_id: 26096,
            rtt_nanos: Some(392_000),
            query: Some("upload.wikimedia.org".into()),
            qclass: Some(1),
            qclass_name: Some("C_INTERNET".into()),
            qtype: Some(1),
            qtype_name: Some("A".into()),
            rcode: Some(0),
            rcode_name: Some("NOERROR".into()),
            aa: false,
            tc: false,
            rd: true,
            ra: true,
            z: 0,
            answers: vec!["upload.pmtpa.wikimedia.org".into(), "208.80.152.3".into()],
            ttls: vec![124, 2156],
            rejected: false,
        }
    }

    /// The row of Zeek's opt.basic dns.log baseline (wikipedia.pcap) for this transaction.
    #[test]
    fn zeek_tsv_row_matches_the_zeek_baseline() {
        let r = record();
        let mut out = Vec::new();
        let mut writer = RecordWriter::<DnsRow>::new(RecordFormat::Zeek, &mut out)
            .with_zeek_clock(ZeekClock::Fixed(Timestamp(0)));
        writer
            .write(&DnsRow {
                record: &r,
                capture: "w.pcap",
            })
            .unwrap();
        writer.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text.lines().find(|l| !l.starts_with('#')).unwrap();
        let expected = "1300475167.096535\tCHhAvVGS1DHFjwGM9\t141.142.220.118\t40526\t141.142.2.2\t53\tudp\t26096\t0.000392\tupload.wikimedia.org\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\tupload.pmtpa.wikimedia.org,208.80.152.3\t124.000000,2156.000000\tF\tw.pcap";
        assert_eq!(row, expected);
    }

    #[test]
    fn json_uses_zeek_names() {
        let r = record();
        let mut out = Vec::new();
        let mut writer = RecordWriter::<DnsRow>::new(RecordFormat::Jsonl, &mut out);
        writer
            .write(&DnsRow {
                record: &r,
                capture: "w.pcap",
            })
            .unwrap();
        writer.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id.orig_h"], "141.142.220.118");
        assert_eq!(v["trans_id"], 26096);
        assert_eq!(v["AA"], false);
        assert_eq!(v["answers"][1], "208.80.152.3");
        assert_eq!(v["TTLs"][0].as_f64(), Some(124.0));
        assert_eq!(v["capture"], "w.pcap");
    }
}
