//! The analysis driver: reads a capture, runs every packet through decode -> flow -> DNS and
//! naming, and assembles the records. This is the only module that decides about threads.
//!
//! With one thread everything runs inline. With more, the calling thread frames and decodes
//! (one sequential walk: pcapng sections and interfaces, fragment reassembly and streams all
//! need it) and shard workers own disjoint sets of connections ([`pipeline`]). Several inputs
//! are analysed side by side ([`analyze_captures`]). Every path gives byte-identical results:
//! connection ids are packet indexes, network time is the reader's, and results are sorted
//! when they are merged.

mod pipeline;
mod shard;

use crate::capture::{CaptureReader, CaptureSource, CaptureSummary, FrameMeta};
use crate::correlate::CaptureEvidence;
use crate::decode::{DecodeStats, Decoded, Decoder, Packet, Transport, TunnelCarrier};
use crate::dns::{DnsRecord, DnsStats, Resolution};
use crate::flow::{Connection, FlowConfig};
use crate::naming::InFlowName;
use crate::report::FlowRecord;
use crate::time::Timestamp;
use crate::Error;
use pipeline::ShardPool;
use shard::{Shard, ShardOutput};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    /// When set, the bytes of input consumed so far are published here every
    /// [`PROGRESS_PACKETS`] packets (for a progress display; relaxed ordering, no effect on
    /// results). One counter per input: it restarts at 0 for each capture analysed.
    pub progress: Option<Arc<AtomicU64>>,
}

/// Packets between two progress updates: rare enough to cost nothing measurable, frequent
/// enough (a few hundred kilobytes of input) for a smooth display.
pub const PROGRESS_PACKETS: u64 = 4096;

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            threads: None,
            flow_config: FlowConfig::default(),
            dns: true,
            naming: true,
            progress: None,
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

/// Analyse one input. `options.threads` (default: rayon's pool size) bounds the workers.
pub fn analyze_capture(
    path: &str,
    source: CaptureSource,
    options: &AnalysisOptions,
) -> Result<CaptureAnalysis, Error> {
    let threads = options
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let mut reader = CaptureReader::from_source(source)?;
    let mut decoder = Decoder::new();
    let progress = options.progress.as_deref();
    let shards = if threads == 1 {
        let mut shard = Shard::new(options);
        read_packets(
            &mut reader,
            &mut decoder,
            progress,
            |now, index, ts, packet, meta| {
                shard.ingest(now, index, ts, packet, meta.as_deref());
            },
        );
        vec![shard.finish()]
    } else {
        std::thread::scope(|scope| {
            let mut pool = ShardPool::start(scope, threads, options);
            read_packets(
                &mut reader,
                &mut decoder,
                progress,
                |now, index, ts, packet, meta| {
                    pool.ingest(now, index, ts, packet, meta);
                },
            );
            pool.finish()
        })
    };
    if let Some(progress) = progress {
        progress.store(reader.summary().bytes, Ordering::Relaxed);
    }
    Ok(assemble(
        path,
        reader.into_summary(),
        decoder.stats().clone(),
        shards,
        options,
    ))
}

/// Analyse several inputs: side by side on the rayon pool when there are at least as many
/// inputs as threads, else one after the other, each using all threads. Results in input
/// order.
pub fn analyze_captures(
    inputs: Vec<(String, CaptureSource)>,
    options: &AnalysisOptions,
) -> Vec<Result<CaptureAnalysis, Error>> {
    use rayon::prelude::*;
    let threads = options
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    if inputs.len() >= threads && threads > 1 {
        let single = AnalysisOptions {
            threads: Some(1),
            ..options.clone()
        };
        inputs
            .into_par_iter()
            .map(|(path, source)| analyze_capture(&path, source, &single))
            .collect()
    } else {
        inputs
            .into_iter()
            .map(|(path, source)| analyze_capture(&path, source, options))
            .collect()
    }
}

/// Frame and decode every packet, handing each decoded one to `sink` with the capture's
/// network time (latest packet time so far) and its index in the input; publish progress.
fn read_packets<F>(
    reader: &mut CaptureReader,
    decoder: &mut Decoder,
    progress: Option<&AtomicU64>,
    mut sink: F,
) where
    F: FnMut(Timestamp, u64, Timestamp, &Packet<'_>, Option<Box<FrameMeta>>),
{
    let mut now = Timestamp(i64::MIN);
    let mut until_progress = 0u64;
    loop {
        if let Some(progress) = progress {
            if until_progress == 0 {
                progress.store(reader.summary().bytes, Ordering::Relaxed);
                until_progress = PROGRESS_PACKETS;
            }
            until_progress -= 1;
        }
        let Some(frame) = reader.next_frame() else {
            break;
        };
        let ts = frame.ts;
        if ts > now {
            now = ts;
        }
        if let Decoded::Packet(packet) = decoder.decode(frame.link_type, ts, frame.data) {
            sink(now, frame.index, ts, &packet, frame.meta);
        }
        // Zeek logs a UDP tunnel's outer connection beside the inner one, and counts the
        // packet there even when the inner packet was a held fragment or malformed.
        if let Some(carrier) = decoder.tunnel_carrier() {
            let outer = carrier_packet(&carrier);
            sink(now, frame.index | CARRIER_ID_BIT, ts, &outer, None);
        }
    }
}

/// Set in the id of a connection created by a tunnel's outer packet: the frame's index is
/// already the id of the inner packet's connection, and ids must stay unique per capture.
/// Frame indexes never reach this bit (2^63 frames).
const CARRIER_ID_BIT: u64 = 1 << 63;

/// The outer UDP packet of a tunnel, as the flow table sees it: headers and lengths only
/// (its payload, the inner packet, is inspected as the inner connection's).
fn carrier_packet(carrier: &TunnelCarrier) -> Packet<'static> {
    Packet {
        src: carrier.src,
        dst: carrier.dst,
        ip_len: carrier.ip_len,
        ttl: carrier.ttl,
        transport: Transport::Udp {
            src_port: carrier.src_port,
            dst_port: carrier.dst_port,
            payload: &[],
            payload_len: carrier.payload_len,
        },
        tunnel: None,
        vlan: None,
        pktap: None,
        reassembled: false,
    }
}

/// Merge the shards' results (sorted, so the shard count cannot show) and name the flows.
fn assemble(
    path: &str,
    summary: CaptureSummary,
    decode_stats: DecodeStats,
    shards: Vec<ShardOutput>,
    options: &AnalysisOptions,
) -> CaptureAnalysis {
    // Sized once: growing by doubling would hold up to twice the largest list at the peak.
    let total: usize = shards.iter().map(|s| s.connections.len()).sum();
    let mut connections: Vec<Connection> = Vec::with_capacity(total);
    let mut dns_records: Vec<DnsRecord> = Vec::new();
    let mut resolutions: Vec<Resolution> = Vec::new();
    let mut dns_stats = DnsStats::default();
    let mut in_flow_names: Vec<(u64, InFlowName)> = Vec::new();
    let mut services: Vec<(u64, &'static str)> = Vec::new();
    let mut process_evidence = CaptureEvidence::default();
    for mut shard in shards {
        connections.append(&mut shard.connections);
        dns_records.append(&mut shard.dns_records);
        resolutions.append(&mut shard.resolutions);
        let stats = shard.dns_stats;
        dns_stats.messages += stats.messages;
        dns_stats.malformed += stats.malformed;
        dns_stats.tcp_buffer_overflows += stats.tcp_buffer_overflows;
        dns_stats.pending_overflows += stats.pending_overflows;
        in_flow_names.append(&mut shard.in_flow_names);
        services.append(&mut shard.services);
        merge_evidence(
            &mut process_evidence,
            shard.evidence.finish(&summary.darwin_processes),
        );
    }
    // Unstable is deterministic here: ids (first packet indexes) are unique.
    connections.sort_unstable_by_key(|c| (c.ts, c.id));
    dns_records.sort_by(|a, b| {
        (a.ts, &a.uid, a.trans_id, &a.query).cmp(&(b.ts, &b.uid, b.trans_id, &b.query))
    });
    resolutions.sort_by(|a, b| {
        (a.ts, a.client, &a.query, a.addr).cmp(&(b.ts, b.client, &b.query, b.addr))
    });
    in_flow_names.sort_by_key(|(id, _)| *id);
    services.sort_by_key(|(id, _)| *id);

    let mut flows: Vec<FlowRecord> = connections
        .into_iter()
        .map(|c| FlowRecord::new(c, path.to_string()))
        .collect();
    for flow in &mut flows {
        if flow.conn.service.is_none() {
            if let Ok(i) = services.binary_search_by_key(&flow.conn.id, |(id, _)| *id) {
                flow.conn.service = services.get(i).map(|(_, s)| s.to_string());
            }
        }
    }
    if options.naming || options.dns {
        crate::naming::assign_names(
            &mut flows,
            &in_flow_names,
            &resolutions,
            &summary.name_records,
        );
    }
    CaptureAnalysis {
        path: path.to_string(),
        summary,
        flows,
        dns: dns_records,
        resolutions,
        decode_stats,
        dns_stats,
        process_evidence,
    }
}

fn merge_evidence(into: &mut CaptureEvidence, part: CaptureEvidence) {
    into.flows.extend(part.flows);
    into.local_addrs.extend(part.local_addrs);
    let (a, b) = (&mut into.stats, part.stats);
    a.packets_with_process += b.packets_with_process;
    a.flows_with_process += b.flows_with_process;
    a.flows_dropped += b.flows_dropped;
    a.unresolved_darwin_indexes += b.unresolved_darwin_indexes;
    a.ambiguous_sides += b.ambiguous_sides;
}
