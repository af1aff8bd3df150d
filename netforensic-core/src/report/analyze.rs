//! The attribution report of `netforensic analyze` (DESIGN.md 4.4): per process, the hosts it
//! talked to; then the traffic no evidence ties to a process, with the reason. Aggregation is
//! deterministic (sorted maps, sorted output). Writers: JSON, an aligned terminal table, and a
//! self-contained HTML page. Every string from the input is escaped for its sink.

use crate::capture::{CaptureSummary, Damage};
use crate::correlate::Quality;
use crate::flow::Proto;
use crate::report::{FlowRecord, LocalSide, ProcessRef};
use crate::time::Timestamp;
use crate::{escape, Error, ErrorKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;

/// Version of the report's JSON shape; bumped on incompatible changes only.
pub const SCHEMA_VERSION: u32 = 1;

/// Reason given for an unattributed flow that carries none (should not happen after
/// correlation, but the report never invents one).
const REASON_UNKNOWN: &str = "unknown";

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalysisReport {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub inputs: Vec<InputReport>,
    pub processes: Vec<ProcessReport>,
    pub unattributed: UnattributedReport,
    pub stats: ReportStats,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// One capture that went into the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputReport {
    pub path: String,
    pub sha256: Option<String>,
    pub format: Option<String>,
    pub packets: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub complete: bool,
    pub damage: Vec<Damage>,
}

impl InputReport {
    pub fn new(path: &str, summary: &CaptureSummary, sha256: Option<String>) -> Self {
        InputReport {
            path: path.to_string(),
            sha256,
            format: summary.format.map(|f| f.as_str().to_string()),
            packets: summary.packets,
            first_ts: summary.first_ts,
            last_ts: summary.last_ts,
            complete: summary.complete(),
            damage: summary.damage.clone(),
        }
    }
}

/// One process and the hosts it talked to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProcessReport {
    pub pid: Option<u32>,
    pub name: Option<String>,
    pub exe: Option<String>,
    pub cmdline: Option<String>,
    pub user: Option<String>,
    /// The strongest `quality` among this process's flows (how sure we are it talked at all;
    /// each host says how sure its own flows are).
    pub quality: String,
    /// Every evidence source that named this process (sorted).
    pub evidence: Vec<String>,
    pub hosts: Vec<HostReport>,
}

/// Traffic with one remote endpoint, summed over flows. `port` is the responder's (service)
/// port; `orig_bytes`/`resp_bytes` keep conn.log's orientation (originator = the side that
/// opened the connection; `direction` says whether that was the local process).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostReport {
    /// The name the local program used for the host (SNI, HTTP Host, DNS); outbound only.
    pub name: Option<String>,
    pub addr: String,
    pub port: u16,
    pub proto: Proto,
    /// `outbound` (the local end opened the connection), `inbound`, or absent when the
    /// local end is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    pub flows: u64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The weakest attribution `quality` among these flows (attributed hosts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// Why these flows have no process (unattributed hosts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UnattributedReport {
    pub hosts: Vec<HostReport>,
}

/// Counts over the whole report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportStats {
    pub captures: u64,
    pub packets: u64,
    pub flows: u64,
    pub attributed_flows: u64,
    pub unattributed_flows: u64,
    /// Loopback/local flows whose server end was attributed too.
    pub resp_attributed_flows: u64,
    pub processes: u64,
    pub snapshots: u64,
    pub sockets: u64,
    pub flows_by_quality: BTreeMap<String, u64>,
    pub unattributed_by_reason: BTreeMap<String, u64>,
    /// Packets whose capture metadata named a process.
    pub packets_with_process: u64,
}

/// Identity of a process across flows and captures: the same pid with another name is another
/// process (pids are reused).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ProcessKey {
    pid: Option<u32>,
    name: Option<String>,
    exe: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct HostKey {
    addr: IpAddr,
    port: u16,
    proto: Proto,
    direction: Option<&'static str>,
    name: Option<String>,
    reason: Option<String>,
}

#[derive(Clone, Debug)]
struct HostAgg {
    flows: u64,
    orig_bytes: u64,
    resp_bytes: u64,
    first_seen: Timestamp,
    last_seen: Timestamp,
    weakest: Option<QualityRank>,
}

/// A quality token ranked (unknown tokens from other producers after the known ones).
#[derive(Clone, Debug, PartialEq, Eq)]
struct QualityRank(Option<Quality>, String);

impl QualityRank {
    fn of(token: &str) -> Self {
        QualityRank(Quality::parse(token), token.to_string())
    }

    /// Lower is stronger; unknown tokens rank after every known one, by name.
    fn strength(&self) -> (u8, &str) {
        match self.0 {
            Some(q) => (q as u8, &self.1),
            None => (u8::MAX, &self.1),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct ProcessAgg {
    cmdline: Option<String>,
    user: Option<String>,
    strongest: Option<QualityRank>,
    evidence: std::collections::BTreeSet<String>,
    hosts: BTreeMap<HostKey, HostAgg>,
}

/// Builds a report from the flows of one or more captures.
#[derive(Default)]
pub struct ReportBuilder {
    inputs: Vec<InputReport>,
    processes: BTreeMap<ProcessKey, ProcessAgg>,
    unattributed: BTreeMap<HostKey, HostAgg>,
    stats: ReportStats,
}

impl ReportBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_input(&mut self, input: InputReport) {
        self.stats.captures += 1;
        self.stats.packets = self.stats.packets.saturating_add(input.packets);
        self.inputs.push(input);
    }

    /// Count the snapshots that were offered for attribution.
    pub fn add_snapshots(&mut self, snapshots: &[crate::sockets::Snapshot]) {
        self.stats.snapshots += snapshots.len() as u64;
        self.stats.sockets += snapshots
            .iter()
            .map(|s| s.sockets.len() as u64)
            .sum::<u64>();
    }

    pub fn add_packets_with_process(&mut self, packets: u64) {
        self.stats.packets_with_process = self.stats.packets_with_process.saturating_add(packets);
    }

    /// Add attributed flows (after [`crate::correlate::attribute`]).
    pub fn add_flows(&mut self, flows: &[FlowRecord]) {
        for flow in flows {
            self.add_flow(flow);
        }
    }

    fn add_flow(&mut self, flow: &FlowRecord) {
        self.stats.flows += 1;
        let c = &flow.conn;
        match &flow.process {
            Some(process) => {
                self.stats.attributed_flows += 1;
                *self
                    .stats
                    .flows_by_quality
                    .entry(process.quality.clone())
                    .or_default() += 1;
                let inbound = flow.local_side == Some(LocalSide::Resp);
                let key = if inbound {
                    host_key(c.orig_h, flow, Some("inbound"), None, None)
                } else {
                    host_key(
                        c.resp_h,
                        flow,
                        Some("outbound"),
                        flow.server_name.clone(),
                        None,
                    )
                };
                self.add_to_process(process, key, flow);
            }
            None => {
                self.stats.unattributed_flows += 1;
                let reason = flow
                    .unattributed_reason
                    .unwrap_or(REASON_UNKNOWN)
                    .to_string();
                *self
                    .stats
                    .unattributed_by_reason
                    .entry(reason.clone())
                    .or_default() += 1;
                let key = match flow.local_side {
                    Some(LocalSide::Resp) => {
                        host_key(c.orig_h, flow, Some("inbound"), None, Some(reason))
                    }
                    Some(LocalSide::Orig) => host_key(
                        c.resp_h,
                        flow,
                        Some("outbound"),
                        flow.server_name.clone(),
                        Some(reason),
                    ),
                    None => host_key(c.resp_h, flow, None, flow.server_name.clone(), Some(reason)),
                };
                accumulate(self.unattributed.entry(key), flow, None);
            }
        }
        if let Some(server) = &flow.resp_process {
            self.stats.resp_attributed_flows += 1;
            let key = host_key(c.orig_h, flow, Some("inbound"), None, None);
            self.add_to_process(server, key, flow);
        }
    }

    fn add_to_process(&mut self, process: &ProcessRef, key: HostKey, flow: &FlowRecord) {
        let agg = self
            .processes
            .entry(ProcessKey {
                pid: process.pid,
                name: process.name.clone(),
                exe: process.exe.clone(),
            })
            .or_default();
        if agg.cmdline.is_none() {
            agg.cmdline.clone_from(&process.cmdline);
        }
        if agg.user.is_none() {
            agg.user.clone_from(&process.user);
        }
        let rank = QualityRank::of(&process.quality);
        if agg
            .strongest
            .as_ref()
            .is_none_or(|s| rank.strength() < s.strength())
        {
            agg.strongest = Some(rank.clone());
        }
        agg.evidence.insert(process.evidence.clone());
        accumulate(agg.hosts.entry(key), flow, Some(rank));
    }

    pub fn finish(mut self) -> AnalysisReport {
        let processes: Vec<ProcessReport> = std::mem::take(&mut self.processes)
            .into_iter()
            .map(|(key, agg)| ProcessReport {
                pid: key.pid,
                name: key.name,
                exe: key.exe,
                cmdline: agg.cmdline,
                user: agg.user,
                quality: agg.strongest.map(|q| q.1).unwrap_or_default(),
                evidence: agg.evidence.into_iter().collect(),
                hosts: sorted_hosts(agg.hosts),
            })
            .collect();
        self.stats.processes = processes.len() as u64;
        AnalysisReport {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: "netforensic".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            inputs: self.inputs,
            processes,
            unattributed: UnattributedReport {
                hosts: sorted_hosts(self.unattributed),
            },
            stats: self.stats,
        }
    }
}

fn host_key(
    addr: IpAddr,
    flow: &FlowRecord,
    direction: Option<&'static str>,
    name: Option<String>,
    reason: Option<String>,
) -> HostKey {
    HostKey {
        addr,
        port: flow.conn.resp_p,
        proto: flow.conn.proto,
        direction,
        name,
        reason,
    }
}

fn accumulate(
    entry: std::collections::btree_map::Entry<'_, HostKey, HostAgg>,
    flow: &FlowRecord,
    quality: Option<QualityRank>,
) {
    let c = &flow.conn;
    let agg = entry.or_insert_with(|| HostAgg {
        flows: 0,
        orig_bytes: 0,
        resp_bytes: 0,
        first_seen: c.ts,
        last_seen: c.last_ts,
        weakest: None,
    });
    agg.flows += 1;
    agg.orig_bytes = agg.orig_bytes.saturating_add(c.orig_bytes);
    agg.resp_bytes = agg.resp_bytes.saturating_add(c.resp_bytes);
    agg.first_seen = agg.first_seen.min(c.ts);
    agg.last_seen = agg.last_seen.max(c.last_ts);
    if let Some(q) = quality {
        if agg
            .weakest
            .as_ref()
            .is_none_or(|w| q.strength() > w.strength())
        {
            agg.weakest = Some(q);
        }
    }
}

/// Hosts in the order an examiner reads a timeline: first seen, then address and port.
fn sorted_hosts(hosts: BTreeMap<HostKey, HostAgg>) -> Vec<HostReport> {
    let mut out: Vec<HostReport> = hosts
        .into_iter()
        .map(|(key, agg)| HostReport {
            name: key.name,
            addr: key.addr.to_string(),
            port: key.port,
            proto: key.proto,
            direction: key.direction,
            flows: agg.flows,
            orig_bytes: agg.orig_bytes,
            resp_bytes: agg.resp_bytes,
            first_seen: agg.first_seen,
            last_seen: agg.last_seen,
            quality: agg.weakest.map(|q| q.1),
            reason: key.reason,
        })
        .collect();
    // The map already ordered ties deterministically; a stable sort keeps that order.
    out.sort_by_key(|h| h.first_seen);
    out
}

fn output_error(err: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Output, format!("cannot write the report: {err}"))
}

/// The report as pretty JSON (one document, newline-terminated).
pub fn write_json(report: &AnalysisReport, out: &mut dyn Write) -> Result<(), Error> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(output_error)?;
    writeln!(out).map_err(output_error)
}

/// A time for people: UTC, to the second.
fn short_time(ts: Timestamp) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ts.secs())
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ts.to_string())
}

/// Bytes sent and received from the local end's point of view.
fn sent_received(host: &HostReport) -> (u64, u64) {
    match host.direction {
        Some("inbound") => (host.resp_bytes, host.orig_bytes),
        _ => (host.orig_bytes, host.resp_bytes),
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// The cells of one host row (raw; each writer escapes them).
fn host_cells(host: &HostReport, last: &str) -> Vec<String> {
    let (sent, received) = sent_received(host);
    vec![
        opt(&host.name).to_string(),
        host.addr.clone(),
        host.port.to_string(),
        host.proto.as_str().to_string(),
        host.direction.unwrap_or("-").to_string(),
        host.flows.to_string(),
        sent.to_string(),
        received.to_string(),
        short_time(host.first_seen),
        short_time(host.last_seen),
        last.to_string(),
    ]
}

const HOST_HEADER: [&str; 11] = [
    "NAME", "ADDR", "PORT", "PROTO", "DIR", "FLOWS", "SENT", "RECEIVED", "FIRST", "LAST", "",
];

fn process_title(p: &ProcessReport) -> String {
    let pid = p.pid.map_or_else(|| "?".to_string(), |pid| pid.to_string());
    let mut title = format!("pid {pid} {}", opt(&p.name));
    if let Some(exe) = &p.exe {
        title.push_str(&format!(" ({exe})"));
    }
    if let Some(user) = &p.user {
        title.push_str(&format!(" user {user}"));
    }
    title.push_str(&format!(
        "  quality: {}  evidence: {}",
        p.quality,
        p.evidence.join(", ")
    ));
    title
}

/// Rows aligned in columns; every cell escaped for the terminal first.
fn write_aligned(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let escaped: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| escape::terminal(c).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &escaped {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::from("  ");
        for (i, cell) in cells.enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count());
            s.push_str(cell);
            s.push_str(&" ".repeat(pad + 2));
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&mut header.iter().copied()))?;
    for row in &escaped {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

/// The report as an aligned table for a terminal.
pub fn write_table(report: &AnalysisReport, out: &mut dyn Write) -> Result<(), Error> {
    write_table_io(report, out).map_err(output_error)
}

fn write_table_io(report: &AnalysisReport, out: &mut dyn Write) -> std::io::Result<()> {
    for input in &report.inputs {
        let span = match (input.first_ts, input.last_ts) {
            (Some(a), Some(b)) => format!("{} .. {}", short_time(a), short_time(b)),
            _ => "-".to_string(),
        };
        writeln!(
            out,
            "input {}: {} packets, {}{}",
            escape::terminal(&input.path),
            input.packets,
            span,
            if input.complete {
                ""
            } else {
                ", DAMAGED (partly read)"
            }
        )?;
    }
    for process in &report.processes {
        writeln!(out)?;
        writeln!(out, "{}", escape::terminal(&process_title(process)))?;
        let rows: Vec<Vec<String>> = process
            .hosts
            .iter()
            .map(|h| host_cells(h, h.quality.as_deref().unwrap_or("")))
            .collect();
        let mut header = HOST_HEADER;
        header[10] = "QUALITY";
        write_aligned(out, &header, &rows)?;
    }
    writeln!(out)?;
    if report.unattributed.hosts.is_empty() {
        writeln!(out, "unattributed: none")?;
    } else {
        writeln!(out, "unattributed (no evidence ties these to a process)")?;
        let rows: Vec<Vec<String>> = report
            .unattributed
            .hosts
            .iter()
            .map(|h| host_cells(h, h.reason.as_deref().unwrap_or(REASON_UNKNOWN)))
            .collect();
        let mut header = HOST_HEADER;
        header[10] = "REASON";
        write_aligned(out, &header, &rows)?;
    }
    let s = &report.stats;
    writeln!(out)?;
    writeln!(
        out,
        "{} flows: {} attributed, {} unattributed; {} processes; {} snapshots ({} sockets)",
        s.flows, s.attributed_flows, s.unattributed_flows, s.processes, s.snapshots, s.sockets
    )?;
    Ok(())
}

/// The report as one self-contained HTML page (no scripts, no external resources).
pub fn write_html(report: &AnalysisReport, out: &mut dyn Write) -> Result<(), Error> {
    write_html_io(report, out).map_err(output_error)
}

/// HTML-escaped, with control and bidi characters made visible first.
fn h(s: &str) -> String {
    escape::html(&escape::terminal(s)).into_owned()
}

fn html_table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    writeln!(out, "<table><thead><tr>")?;
    for cell in header {
        write!(out, "<th>{}</th>", h(cell))?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for row in rows {
        write!(out, "<tr>")?;
        for cell in row {
            write!(out, "<td>{}</td>", h(cell))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")
}

const HTML_STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:0.2em 0.6em;text-align:left;font-size:0.9em}\
th{background:#eee}h2{font-size:1.1em;margin-top:1.5em}.muted{color:#666}";

fn write_html_io(report: &AnalysisReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    )?;
    writeln!(
        out,
        "<title>netforensic report</title><style>{HTML_STYLE}</style></head><body>"
    )?;
    writeln!(
        out,
        "<h1>Which program talked to which host</h1><p class=\"muted\">{} {}</p>",
        h(&report.tool.name),
        h(&report.tool.version)
    )?;
    writeln!(out, "<h2>Inputs</h2>")?;
    let inputs: Vec<Vec<String>> = report
        .inputs
        .iter()
        .map(|i| {
            vec![
                i.path.clone(),
                opt(&i.sha256).to_string(),
                opt(&i.format).to_string(),
                i.packets.to_string(),
                i.first_ts.map(short_time).unwrap_or_default(),
                i.last_ts.map(short_time).unwrap_or_default(),
                if i.complete { "yes" } else { "no (damaged)" }.to_string(),
            ]
        })
        .collect();
    html_table(
        out,
        &[
            "path", "sha256", "format", "packets", "first", "last", "complete",
        ],
        &inputs,
    )?;
    for process in &report.processes {
        writeln!(out, "<h2>{}</h2>", h(&process_title(process)))?;
        if let Some(cmdline) = &process.cmdline {
            writeln!(out, "<p class=\"muted\">{}</p>", h(cmdline))?;
        }
        let rows: Vec<Vec<String>> = process
            .hosts
            .iter()
            .map(|x| host_cells(x, x.quality.as_deref().unwrap_or("")))
            .collect();
        let mut header = HOST_HEADER;
        header[10] = "QUALITY";
        html_table(out, &header, &rows)?;
    }
    writeln!(out, "<h2>Unattributed traffic</h2>")?;
    let rows: Vec<Vec<String>> = report
        .unattributed
        .hosts
        .iter()
        .map(|x| host_cells(x, x.reason.as_deref().unwrap_or(REASON_UNKNOWN)))
        .collect();
    let mut header = HOST_HEADER;
    header[10] = "REASON";
    html_table(out, &header, &rows)?;
    let s = &report.stats;
    writeln!(
        out,
        "<p class=\"muted\">{} flows: {} attributed, {} unattributed; {} processes; {} snapshots ({} sockets)</p>",
        s.flows, s.attributed_flows, s.unattributed_flows, s.processes, s.snapshots, s.sockets
    )?;
    writeln!(out, "</body></html>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Connection;

    fn flow(id: u64, orig: (&str, u16), resp: (&str, u16), at: i64) -> FlowRecord {
        FlowRecord::new(
            Connection {
                orig_bytes: 100,
                resp_bytes: 1000,
                orig_pkts: 1,
                resp_pkts: 1,
                ..Connection::for_test(
                    id,
                    Proto::Tcp,
                    orig,
                    resp,
                    Timestamp::from_secs_nanos(at, 0),
                    Timestamp::from_secs_nanos(at + 1, 0),
                )
            },
            "a.pcap".into(),
        )
    }

    fn process(pid: u32, name: &str, quality: &str) -> Box<ProcessRef> {
        Box::new(ProcessRef {
            pid: Some(pid),
            name: Some(name.into()),
            exe: None,
            cmdline: None,
            user: None,
            evidence: "snapshot:ss".into(),
            quality: quality.into(),
        })
    }

    fn sample() -> AnalysisReport {
        let mut out1 = flow(1, ("10.0.0.5", 50000), ("1.2.3.4", 443), 100);
        out1.local_side = Some(LocalSide::Orig);
        out1.server_name = Some("evil.example".into());
        out1.process = Some(process(42, "beacon", "exact"));
        let mut out2 = flow(2, ("10.0.0.5", 50001), ("1.2.3.4", 443), 50);
        out2.local_side = Some(LocalSide::Orig);
        out2.server_name = Some("evil.example".into());
        out2.process = Some(process(42, "beacon", "dns_followup"));
        let mut inbound = flow(3, ("8.8.8.8", 40000), ("10.0.0.5", 22), 10);
        inbound.local_side = Some(LocalSide::Resp);
        inbound.process = Some(process(7, "sshd", "listener"));
        let mut lo = flow(4, ("127.0.0.1", 45000), ("127.0.0.1", 8000), 5);
        lo.local_side = Some(LocalSide::Orig);
        lo.process = Some(process(10, "curl", "exact"));
        lo.resp_process = Some(process(20, "python3", "exact"));
        let mut none = flow(5, ("10.0.0.5", 50002), ("9.9.9.9", 53), 1);
        none.local_side = Some(LocalSide::Orig);
        none.unattributed_reason = Some("no_snapshot_covers_flow");
        let mut builder = ReportBuilder::new();
        builder.add_input(InputReport {
            path: "a.pcap".into(),
            sha256: Some("00".into()),
            format: Some("pcapng".into()),
            packets: 9,
            first_ts: Some(Timestamp::from_secs_nanos(1, 0)),
            last_ts: Some(Timestamp::from_secs_nanos(101, 0)),
            complete: true,
            damage: vec![],
        });
        builder.add_flows(&[out1, out2, inbound, lo, none]);
        builder.finish()
    }

    #[test]
    fn json_shape_follows_design_4_4() {
        let report = sample();
        let mut buf = Vec::new();
        write_json(&report, &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["tool"]["name"], "netforensic");
        assert_eq!(v["inputs"][0]["path"], "a.pcap");
        assert_eq!(v["inputs"][0]["complete"], true);
        let processes = v["processes"].as_array().unwrap();
        let pids: Vec<u64> = processes
            .iter()
            .map(|p| p["pid"].as_u64().unwrap())
            .collect();
        assert_eq!(pids, vec![7, 10, 20, 42]);
        let beacon = &processes[3];
        assert_eq!(beacon["quality"], "exact");
        let host = &beacon["hosts"][0];
        assert_eq!(host["name"], "evil.example");
        assert_eq!(host["addr"], "1.2.3.4");
        assert_eq!(host["port"], 443);
        assert_eq!(host["proto"], "tcp");
        assert_eq!(host["flows"], 2);
        assert_eq!(host["orig_bytes"], 200);
        assert_eq!(host["resp_bytes"], 2000);
        assert_eq!(host["first_seen"], 50.0);
        assert_eq!(host["last_seen"], 101.0);
        assert_eq!(host["quality"], "dns_followup");
        // The server end of the loopback connection, seen from python3.
        let server = &processes[2];
        assert_eq!(server["hosts"][0]["direction"], "inbound");
        assert_eq!(server["hosts"][0]["addr"], "127.0.0.1");
        let un = &v["unattributed"]["hosts"][0];
        assert_eq!(un["addr"], "9.9.9.9");
        assert_eq!(un["reason"], "no_snapshot_covers_flow");
        assert_eq!(v["stats"]["flows"], 5);
        assert_eq!(v["stats"]["attributed_flows"], 4);
        assert_eq!(v["stats"]["resp_attributed_flows"], 1);
        assert_eq!(
            v["stats"]["unattributed_by_reason"]["no_snapshot_covers_flow"],
            1
        );
    }

    #[test]
    fn deterministic() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_json(&sample(), &mut a).unwrap();
        write_json(&sample(), &mut b).unwrap();
        assert_eq!(a, b);
    }

    fn hostile() -> AnalysisReport {
        let mut f = flow(1, ("10.0.0.5", 50000), ("1.2.3.4", 443), 100);
        f.local_side = Some(LocalSide::Orig);
        f.server_name = Some("<script>alert(1)</script>\u{1b}[31m".into());
        f.process = Some(process(
            1,
            "\u{202e}exe.txt\u{1b}]0;pwned\u{7}",
            "in_capture",
        ));
        let mut builder = ReportBuilder::new();
        builder.add_flows(&[f]);
        builder.finish()
    }

    #[test]
    fn table_escapes_terminal_controls() {
        let mut buf = Vec::new();
        write_table(&hostile(), &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains('\u{1b}'));
        assert!(!text.contains('\u{202e}'));
        assert!(!text.contains('\u{7}'));
        assert!(text.contains("\\x1b[31m"));
    }

    #[test]
    fn html_escapes_markup_and_is_self_contained() {
        let mut buf = Vec::new();
        write_html(&hostile(), &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains("<script"));
        assert!(text.contains("&lt;script&gt;"));
        assert!(!text.contains('\u{1b}'));
        assert!(!text.contains("http://") && !text.contains("https://"));
        assert!(!text.contains("src="));
    }

    #[test]
    fn aligned_columns() {
        let mut buf = Vec::new();
        write_table(&sample(), &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let header = lines.iter().position(|l| l.contains("NAME")).unwrap();
        let addr_col = lines[header].find("ADDR").unwrap();
        assert_eq!(&lines[header + 1][addr_col..addr_col + 7], "8.8.8.8");
    }
}
