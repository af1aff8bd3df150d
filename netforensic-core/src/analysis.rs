//! The analysis driver: reads a capture, runs every packet through decode -> flow -> DNS and
//! naming, and assembles the records. This is the only module that decides about threads.

use crate::capture::{CaptureReader, CaptureSource, CaptureSummary};
use crate::correlate::{CaptureEvidence, InCaptureEvidence};
use crate::decode::{DecodeStats, Decoded, Decoder, Transport};
use crate::dns::{DnsRecord, DnsStats, DnsTracker, Resolution};
use crate::flow::{Connection, FlowConfig, FlowTable};
use crate::naming::NameSniffer;
use crate::report::FlowRecord;
use crate::Error;

/// What to compute.
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    /// Worker threads; `None` = all cores.
    pub threads: Option<usize>,
    pub flow_config: FlowConfig,
    /// Track DNS transactions and resolutions.
    pub dns: bool,
    /// Look for SNI / HTTP Host inside connections.
    pub naming: bool,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            threads: None,
            flow_config: FlowConfig::default(),
            dns: true,
            naming: true,
        }
    }
}

/// Everything learned from one input.
pub struct CaptureAnalysis {
    /// The input's name as given (path, or `-`).
    pub path: String,
    pub summary: CaptureSummary,
    pub flows: Vec<FlowRecord>,
    pub dns: Vec<DnsRecord>,
    pub resolutions: Vec<Resolution>,
    pub decode_stats: DecodeStats,
    pub dns_stats: DnsStats,
    /// Process metadata found inside the capture, per flow (for attribution).
    pub process_evidence: CaptureEvidence,
}

/// Analyse one input sequentially.
pub fn analyze_capture(
    path: &str,
    source: CaptureSource,
    options: &AnalysisOptions,
) -> Result<CaptureAnalysis, Error> {
    let mut reader = CaptureReader::from_source(source)?;
    let mut decoder = Decoder::new();
    let mut flows = FlowTable::new(options.flow_config);
    let mut dns = DnsTracker::new();
    let mut names = NameSniffer::new();
    let mut process_evidence = InCaptureEvidence::new();
    let mut finished: Vec<Connection> = Vec::new();
    let mut next_expiry_check = i64::MIN;

    while let Some(frame) = reader.next_frame() {
        let ts = frame.ts;
        let Decoded::Packet(packet) = decoder.decode(frame.link_type, ts, frame.data) else {
            continue;
        };
        let Some(touch) = flows.ingest(ts, &packet) else {
            continue;
        };
        process_evidence.observe(&touch, frame.meta.as_deref(), packet.pktap.as_ref());
        let (tcp_seq, payload) = match packet.transport {
            Transport::Tcp { seq, payload, .. } => (Some(seq), payload),
            Transport::Udp { payload, .. } => (None, payload),
            _ => (None, &[][..]),
        };
        if !payload.is_empty() {
            if options.dns {
                dns.observe(&touch, ts, tcp_seq, payload);
            }
            if options.naming {
                names.observe(&touch, ts, tcp_seq, payload);
            }
        }
        // Timeouts are checked once per capture-second, not per packet.
        if ts.nanos() >= next_expiry_check {
            let before = finished.len();
            flows.expire(ts, &mut finished);
            for conn in &finished[before..] {
                dns.flow_finished(conn.id);
                names.flow_finished(conn.id);
            }
            next_expiry_check = ts
                .nanos()
                .saturating_add(crate::time::Timestamp::NANOS_PER_SEC);
        }
    }

    finished.extend(flows.finish());
    finished.sort_by_key(|c| (c.ts, c.id));
    let uids: std::collections::HashMap<u64, String> =
        finished.iter().map(|c| (c.id, c.uid.clone())).collect();
    let (dns_records, resolutions, dns_stats) =
        dns.finish(&|id| uids.get(&id).cloned().unwrap_or_default());
    let in_flow_names = names.finish();
    let mut records: Vec<FlowRecord> = finished
        .into_iter()
        .map(|c| FlowRecord::new(c, path.to_string()))
        .collect();
    let summary = reader.into_summary();
    if options.naming || options.dns {
        crate::naming::assign_names(
            &mut records,
            &in_flow_names,
            &resolutions,
            &summary.name_records,
        );
    }

    let process_evidence = process_evidence.finish(&summary.darwin_processes);
    Ok(CaptureAnalysis {
        path: path.to_string(),
        decode_stats: decoder.stats().clone(),
        summary,
        process_evidence,
        flows: std::mem::take(&mut records),
        dns: dns_records,
        resolutions,
        dns_stats,
    })
}
