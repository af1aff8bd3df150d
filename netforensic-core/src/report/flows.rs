//! Flow records as rows for the record writers (DESIGN.md 4.2): Zeek's conn.log columns with
//! their names and types, then ours (Community ID, capture, naming, process attribution).
//!
//! As in Zeek, `duration`, `orig_bytes` and `resp_bytes` are only set when the connection
//! lasted longer than zero, and an empty history is unset.

use super::tabular::json::JsonObject;
use super::tabular::{Cell, Column, TabularRecord};
use super::{FlowRecord, LocalSide, ProcessRef};
use crate::flow::{Connection, Proto};

const COLUMNS: &[Column] = &[
    // Zeek conn.log, in its order.
    Column::new("ts", "time"),
    Column::new("uid", "string"),
    Column::new("id.orig_h", "addr"),
    Column::new("id.orig_p", "port"),
    Column::new("id.resp_h", "addr"),
    Column::new("id.resp_p", "port"),
    Column::new("proto", "enum"),
    Column::new("service", "string"),
    Column::new("duration", "interval"),
    Column::new("orig_bytes", "count"),
    Column::new("resp_bytes", "count"),
    Column::new("conn_state", "string"),
    Column::new("local_orig", "bool"),
    Column::new("local_resp", "bool"),
    Column::new("missed_bytes", "count"),
    Column::new("history", "string"),
    Column::new("orig_pkts", "count"),
    Column::new("orig_ip_bytes", "count"),
    Column::new("resp_pkts", "count"),
    Column::new("resp_ip_bytes", "count"),
    Column::new("tunnel_parents", "set[string]"),
    Column::new("ip_proto", "count"),
    // netforensic.
    Column::new("community_id", "string"),
    Column::new("capture", "string"),
    Column::new("server_name", "string"),
    Column::new("name_source", "string"),
    Column::new("names", "vector[string]"),
    // Set (true) only when the names seen for the responder disagree and none is preferred.
    Column::new("name_ambiguous", "bool"),
    Column::new("local_side", "string"),
    Column::nested("process.pid", "process", "pid", "count"),
    Column::nested("process.name", "process", "name", "string"),
    Column::nested("process.exe", "process", "exe", "string"),
    Column::nested("process.cmdline", "process", "cmdline", "string"),
    Column::nested("process.user", "process", "user", "string"),
    Column::nested("process.evidence", "process", "evidence", "string"),
    Column::nested("process.quality", "process", "quality", "string"),
    Column::nested("resp_process.pid", "resp_process", "pid", "count"),
    Column::nested("resp_process.name", "resp_process", "name", "string"),
    Column::nested("resp_process.exe", "resp_process", "exe", "string"),
    Column::nested("resp_process.cmdline", "resp_process", "cmdline", "string"),
    Column::nested("resp_process.user", "resp_process", "user", "string"),
    Column::nested(
        "resp_process.evidence",
        "resp_process",
        "evidence",
        "string",
    ),
    Column::nested("resp_process.quality", "resp_process", "quality", "string"),
];

/// Index of the first process column; `resp_process` follows after [`PROCESS_FIELDS`].
const PROCESS_START: usize = 29;
const PROCESS_FIELDS: usize = 7;

/// What the human-facing table shows: when, who, what, how much, which program.
const TABLE_COLUMNS: &[usize] = &[0, 6, 2, 3, 4, 5, 7, 8, 9, 10, 11, 15, 24, 27, 30, 29];

fn ip_proto(c: &Connection) -> u64 {
    match c.proto {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Icmp if c.orig_h.is_ipv6() => 58,
        Proto::Icmp => 1,
    }
}

fn local_side_name(side: LocalSide) -> &'static str {
    match side {
        LocalSide::Orig => "orig",
        LocalSide::Resp => "resp",
    }
}

/// `,"key":` of a member written by [`FlowRecord::push_json`]: a literal, so its copy is a few
/// fixed-size stores.
macro_rules! member {
    ($key:literal) => {
        concat!(",\"", $key, "\":").as_bytes()
    };
}

/// The `process` / `resp_process` object, as the generic encoder makes it from
/// [`process_cell`].
fn push_process(o: &mut JsonObject<'_>, member: &[u8], process: Option<&ProcessRef>) {
    let Some(p) = process else {
        return;
    };
    let mut g = o.object(member);
    if let Some(pid) = p.pid {
        g.count(member!("pid"), u64::from(pid));
    }
    g.opt_str(member!("name"), p.name.as_deref());
    g.opt_str(member!("exe"), p.exe.as_deref());
    g.opt_str(member!("cmdline"), p.cmdline.as_deref());
    g.opt_str(member!("user"), p.user.as_deref());
    g.str(member!("evidence"), &p.evidence);
    g.str(member!("quality"), &p.quality);
    g.end();
}

fn process_cell(process: Option<&ProcessRef>, field: usize) -> Cell<'_> {
    let Some(p) = process else {
        return Cell::Absent;
    };
    match field {
        0 => p
            .pid
            .map_or(Cell::Absent, |pid| Cell::Count(u64::from(pid))),
        1 => Cell::opt_str(p.name.as_deref()),
        2 => Cell::opt_str(p.exe.as_deref()),
        3 => Cell::opt_str(p.cmdline.as_deref()),
        4 => Cell::opt_str(p.user.as_deref()),
        5 => Cell::str(&p.evidence),
        6 => Cell::str(&p.quality),
        _ => Cell::Absent,
    }
}

impl TabularRecord for FlowRecord {
    fn columns() -> &'static [Column] {
        COLUMNS
    }

    fn zeek_path() -> &'static str {
        "conn"
    }

    fn table_columns() -> Option<&'static [usize]> {
        Some(TABLE_COLUMNS)
    }

    fn cell(&self, index: usize) -> Cell<'_> {
        let c = &self.conn;
        let duration = c.duration_nanos();
        let lasted = duration > 0;
        match index {
            0 => Cell::Time(c.ts),
            1 => Cell::str(&c.uid),
            2 => Cell::Addr(c.orig_h),
            3 => Cell::Count(u64::from(c.orig_p)),
            4 => Cell::Addr(c.resp_h),
            5 => Cell::Count(u64::from(c.resp_p)),
            6 => Cell::str(c.proto.as_str()),
            7 => Cell::opt_str(c.service.as_deref()),
            8 if lasted => Cell::Seconds(duration),
            9 if lasted => Cell::Count(c.orig_bytes),
            10 if lasted => Cell::Count(c.resp_bytes),
            11 => Cell::str(c.conn_state.as_str()),
            15 if !c.history.is_empty() => Cell::str(&c.history),
            16 => Cell::Count(c.orig_pkts),
            17 => Cell::Count(c.orig_ip_bytes),
            18 => Cell::Count(c.resp_pkts),
            19 => Cell::Count(c.resp_ip_bytes),
            21 => Cell::Count(ip_proto(c)),
            22 => Cell::str(&c.community_id),
            23 => Cell::str(&self.capture),
            24 => Cell::opt_str(self.server_name.as_deref()),
            25 => Cell::opt_str(self.name_source.map(|s| s.as_str())),
            26 if !self.names.is_empty() => Cell::str_list(&self.names),
            // Only `true` is written (JSON leaves the field out otherwise).
            27 if self.name_ambiguous => Cell::Bool(true),
            28 => Cell::opt_str(self.local_side.map(local_side_name)),
            i if (PROCESS_START..PROCESS_START + PROCESS_FIELDS).contains(&i) => {
                process_cell(self.process.as_deref(), i - PROCESS_START)
            }
            i if (PROCESS_START + PROCESS_FIELDS..PROCESS_START + 2 * PROCESS_FIELDS)
                .contains(&i) =>
            {
                process_cell(
                    self.resp_process.as_deref(),
                    i - PROCESS_START - PROCESS_FIELDS,
                )
            }
            // local_orig/local_resp (no local networks configured), missed_bytes (no
            // reassembly), tunnel_parents: unknown, so unset rather than invented.
            _ => Cell::Absent,
        }
    }

    /// Flows are the bulk of the output: written straight from the fields, in half the
    /// instructions of the generic encoder (no `Cell` per column, keys as literals). Same
    /// bytes: see the test `direct_json_equals_generic_json`.
    fn push_json(&self, out: &mut Vec<u8>) -> bool {
        let c = &self.conn;
        let duration = c.duration_nanos();
        let mut o = JsonObject::new(out);
        o.time(member!("ts"), c.ts);
        o.id_text(member!("uid"), &c.uid);
        o.addr(member!("id.orig_h"), c.orig_h);
        o.count(member!("id.orig_p"), u64::from(c.orig_p));
        o.addr(member!("id.resp_h"), c.resp_h);
        o.count(member!("id.resp_p"), u64::from(c.resp_p));
        o.token(member!("proto"), c.proto.as_str());
        o.opt_str(member!("service"), c.service.as_deref());
        if duration > 0 {
            o.seconds(member!("duration"), duration);
            o.count(member!("orig_bytes"), c.orig_bytes);
            o.count(member!("resp_bytes"), c.resp_bytes);
        }
        o.token(member!("conn_state"), c.conn_state.as_str());
        if !c.history.is_empty() {
            o.str(member!("history"), &c.history);
        }
        o.count(member!("orig_pkts"), c.orig_pkts);
        o.count(member!("orig_ip_bytes"), c.orig_ip_bytes);
        o.count(member!("resp_pkts"), c.resp_pkts);
        o.count(member!("resp_ip_bytes"), c.resp_ip_bytes);
        o.count(member!("ip_proto"), ip_proto(c));
        o.id_text(member!("community_id"), &c.community_id);
        o.str(member!("capture"), &self.capture);
        o.opt_str(member!("server_name"), self.server_name.as_deref());
        if let Some(source) = self.name_source {
            o.token(member!("name_source"), source.as_str());
        }
        if !self.names.is_empty() {
            o.str_list(member!("names"), &self.names);
        }
        if self.name_ambiguous {
            o.bool(member!("name_ambiguous"), true);
        }
        if let Some(side) = self.local_side {
            o.token(member!("local_side"), local_side_name(side));
        }
        push_process(&mut o, member!("process"), self.process.as_deref());
        push_process(
            &mut o,
            member!("resp_process"),
            self.resp_process.as_deref(),
        );
        o.end();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{CommunityId, ConnState, Connection, Uid};
    use crate::report::{RecordFormat, RecordWriter, ZeekClock};
    use crate::time::Timestamp;

    fn record() -> FlowRecord {
        let conn = Connection {
            id: 0,
            uid: Uid::new("CabC").unwrap(),
            ts: Timestamp::from_secs_nanos(1_300_475_167, 96_535_000),
            last_ts: Timestamp::from_secs_nanos(1_300_475_167, 97_012_000),
            orig_h: "141.142.220.202".parse().unwrap(),
            orig_p: 5353,
            resp_h: "224.0.0.251".parse().unwrap(),
            resp_p: 5353,
            proto: Proto::Udp,
            service: Some("dns".into()),
            orig_bytes: 73,
            resp_bytes: 0,
            conn_state: ConnState::S0,
            history: "D".into(),
            orig_pkts: 2,
            orig_ip_bytes: 202,
            resp_pkts: 0,
            resp_ip_bytes: 0,
            community_id: CommunityId::new("1:xyz").unwrap(),
        };
        let mut r = FlowRecord::new(conn, "x.pcap".into());
        r.process = Some(Box::new(ProcessRef {
            pid: Some(42),
            name: Some("curl".into()),
            exe: None,
            cmdline: None,
            user: None,
            evidence: "pktap".into(),
            quality: "exact".into(),
        }));
        r
    }

    fn hostile_process() -> ProcessRef {
        ProcessRef {
            pid: Some(u32::MAX),
            name: Some("cu\"rl\u{0}\u{1b}[2J".into()),
            exe: Some("C:\\Program Files\\\u{202e}gpj.exe".into()),
            cmdline: Some("sh -c 'echo \\xff\t\r\n\u{7f}\u{8}\u{c}'".into()),
            user: Some(String::new()),
            evidence: "snapshot:ss".into(),
            quality: "exact".into(),
        }
    }

    /// Every combination of present and absent optional fields, IPv4 and IPv6 (and mapped)
    /// addresses, each protocol, and strings with control bytes, quotes, backslashes, bidi
    /// overrides, non-ASCII and invalid UTF-8 as the decoders render it (`\xff`).
    fn varied_record(mask: u32) -> FlowRecord {
        let hostile = "a\u{0}\u{1f}\t\n\"q\"\\\u{1b}[31m\u{7f}\u{202e}é😀\\xff</script>";
        let bit = |n: u32| mask & (1 << n) != 0;
        let mut r = record();
        if bit(0) {
            r.conn.last_ts = r.conn.ts;
        } else if mask % 7 == 0 {
            r.conn.last_ts = r.conn.ts.saturating_add_nanos(-1);
        }
        if bit(1) {
            r.conn.history.clear();
        }
        r.conn.service = (!bit(2)).then(|| hostile.to_string().into());
        if bit(3) {
            r.names = vec!["x.example".into(), hostile.into(), String::new()];
            r.name_ambiguous = bit(4);
            r.server_name = Some(hostile.into());
            r.name_source = Some(crate::naming::NameSource::DnsOtherClient);
        }
        if bit(4) {
            r.capture = hostile.into();
            r.conn.uid = Uid::default();
        }
        match mask >> 5 & 3 {
            0 => r.process = None,
            1 => {}
            2 => r.process = Some(Box::new(hostile_process())),
            _ => {
                r.process = None;
                r.resp_process = Some(Box::new(hostile_process()));
            }
        }
        if bit(7) {
            r.resp_process = Some(Box::new(ProcessRef {
                pid: None,
                name: None,
                ..hostile_process()
            }));
        }
        match mask >> 8 & 3 {
            0 => {}
            1 => {
                r.conn.orig_h = "2001:db8::8:800:200c:417a".parse().unwrap();
                r.conn.resp_h = "ff02::fb".parse().unwrap();
            }
            2 => {
                r.conn.orig_h = "::ffff:10.0.0.255".parse().unwrap();
                r.conn.resp_h = "fe80::1:0:0:1".parse().unwrap();
            }
            _ => {
                r.conn.orig_h = "0.0.0.0".parse().unwrap();
                r.conn.resp_h = "255.255.255.255".parse().unwrap();
            }
        }
        r.conn.proto = [Proto::Tcp, Proto::Udp, Proto::Icmp][(mask >> 10) as usize % 3];
        r.local_side = [None, Some(LocalSide::Orig), Some(LocalSide::Resp)][mask as usize % 3];
        r.conn.orig_bytes = u64::from(mask) << 40;
        r.conn.resp_pkts = u64::MAX - u64::from(mask);
        r
    }

    #[test]
    fn direct_json_equals_generic_json() {
        use crate::report::tabular::json::{push_cells, JsonLayout};
        let layout = JsonLayout::of::<FlowRecord>();
        let (mut direct, mut generic) = (Vec::new(), Vec::new());
        for mask in 0..4096 {
            let r = varied_record(mask);
            direct.clear();
            generic.clear();
            assert!(r.push_json(&mut direct));
            push_cells(&mut generic, &r, &layout);
            assert_eq!(
                String::from_utf8_lossy(&direct),
                String::from_utf8_lossy(&generic),
                "mask {mask}"
            );
        }
        // And the bytes are JSON, with the hostile strings intact.
        let r = varied_record(0b0101_0100_1000);
        direct.clear();
        r.push_json(&mut direct);
        let v: serde_json::Value = serde_json::from_slice(&direct).unwrap();
        assert_eq!(v["process"]["name"], "cu\"rl\u{0}\u{1b}[2J");
        assert_eq!(v["names"][1], r.names[1].as_str());
        assert_eq!(v["id.orig_h"], "2001:db8::8:800:200c:417a");
    }

    /// The names written as tokens (copied without escaping) need no escape.
    #[test]
    fn tokens_need_no_escape() {
        use crate::naming::NameSource;
        use crate::report::tabular::json::is_plain_key;
        let protos = [Proto::Tcp, Proto::Udp, Proto::Icmp].map(Proto::as_str);
        let states = [
            ConnState::S0,
            ConnState::S1,
            ConnState::SF,
            ConnState::REJ,
            ConnState::S2,
            ConnState::S3,
            ConnState::RSTO,
            ConnState::RSTR,
            ConnState::RSTOS0,
            ConnState::RSTRH,
            ConnState::SH,
            ConnState::SHR,
            ConnState::OTH,
        ]
        .map(ConnState::as_str);
        let sources = [
            NameSource::Sni,
            NameSource::QuicSni,
            NameSource::DtlsSni,
            NameSource::HttpHost,
            NameSource::Dns,
            NameSource::Nrb,
            NameSource::DnsOtherClient,
        ]
        .map(NameSource::as_str);
        let sides = [LocalSide::Orig, LocalSide::Resp].map(local_side_name);
        for token in protos.iter().chain(&states).chain(&sources).chain(&sides) {
            assert!(is_plain_key(token), "{token}");
        }
    }

    #[test]
    fn columns_line_up_with_the_index_constants() {
        assert_eq!(COLUMNS[PROCESS_START].name, "process.pid");
        assert_eq!(
            COLUMNS[PROCESS_START + PROCESS_FIELDS].name,
            "resp_process.pid"
        );
        assert_eq!(COLUMNS.len(), PROCESS_START + 2 * PROCESS_FIELDS);
        assert_eq!(COLUMNS[15].name, "history");
        assert_eq!(COLUMNS[22].name, "community_id");
        assert_eq!(COLUMNS[27].name, "name_ambiguous");
        assert_eq!(COLUMNS[28].name, "local_side");
        assert!(TABLE_COLUMNS.iter().all(|&i| i < COLUMNS.len()));
    }

    #[test]
    fn json_uses_design_names() {
        let mut buf = Vec::new();
        let mut w = RecordWriter::<FlowRecord>::new(RecordFormat::Jsonl, &mut buf);
        w.write(&record()).unwrap();
        w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["id.orig_h"], "141.142.220.202");
        assert_eq!(v["id.resp_p"], 5353);
        assert_eq!(v["proto"], "udp");
        assert_eq!(v["duration"].as_f64().unwrap(), 0.000477);
        assert_eq!(v["orig_bytes"], 73);
        assert_eq!(v["conn_state"], "S0");
        assert_eq!(v["process"]["pid"], 42);
        assert_eq!(v["process"]["quality"], "exact");
        assert_eq!(v["community_id"], "1:xyz");
        assert!(v.get("resp_process").is_none());
        assert!(v.get("local_orig").is_none());
        assert!(v.get("names").is_none());
        assert!(v.get("name_ambiguous").is_none());
    }

    #[test]
    fn an_ambiguous_name_is_marked_in_every_format() {
        let mut r = record();
        r.names = vec!["a.example".into(), "b.example".into()];
        r.name_ambiguous = true;
        let write = |format| {
            let mut buf = Vec::new();
            let mut w = RecordWriter::<FlowRecord>::new(format, &mut buf)
                .with_zeek_clock(ZeekClock::Fixed(Timestamp(0)));
            w.write(&r).unwrap();
            w.finish().unwrap();
            String::from_utf8(buf).unwrap()
        };
        let v: serde_json::Value = serde_json::from_str(&write(RecordFormat::Jsonl)).unwrap();
        assert_eq!(v["name_ambiguous"], true);
        let zeek = write(RecordFormat::Zeek);
        let row: Vec<&str> = zeek
            .lines()
            .find(|l| !l.starts_with('#'))
            .unwrap()
            .split('\t')
            .collect();
        assert_eq!(row[27], "T");
        let csv = write(RecordFormat::Csv);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let at = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "name_ambiguous")
            .unwrap();
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(row.get(at), Some("true"));
        assert!(write(RecordFormat::Table).contains("name_ambiguous"));
    }

    #[test]
    fn zeek_row_matches_conn_log_layout() {
        let mut r = record();
        r.conn.last_ts = r.conn.ts; // zero duration: no duration, no byte counts
        let mut buf = Vec::new();
        let mut w = RecordWriter::<FlowRecord>::new(RecordFormat::Zeek, &mut buf)
            .with_zeek_clock(ZeekClock::Fixed(Timestamp(0)));
        w.write(&r).unwrap();
        w.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        let row = text.lines().find(|l| !l.starts_with('#')).unwrap();
        let zeek_part: Vec<&str> = row.split('\t').take(20).collect();
        assert_eq!(
            zeek_part.join("\t"),
            "1300475167.096535\tCabC\t141.142.220.202\t5353\t224.0.0.251\t5353\tudp\tdns\t-\t-\t-\tS0\t-\t-\t-\tD\t2\t202\t0\t0"
        );
        assert!(text.contains("#path\tconn\n"));
    }
}
