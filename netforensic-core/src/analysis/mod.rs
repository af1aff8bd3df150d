//! The analysis driver: reads a capture, runs every packet through decode -> flow -> DNS and
//! naming, and assembles the records. This is the only module that decides about threads.
//!
//! With one thread everything runs inline. With more, a reading thread frames and decodes
//! (one sequential walk: pcapng sections and interfaces, fragment reassembly and streams all
//! need it), shard workers own disjoint sets of connections ([`pipeline`]) and the calling
//! thread merges what they hand over. Several inputs
//! are analysed side by side ([`analyze_captures`]). Every path gives byte-identical results:
//! connection ids are packet indexes, network time is the reader's, and results are sorted
//! when they are merged.

mod pipeline;
mod populate;
mod shard;
mod stream;

use crate::capture::{
    CaptureReader, CaptureSource, CaptureSummary, FrameMeta, SharedInput, StreamChunk,
};
use crate::correlate::CaptureEvidence;
use crate::correlate::InCaptureStats;
use crate::decode::{DecodeStats, Decoded, Decoder, Packet, Transport, TunnelCarrier};
use crate::dns::{DnsRecord, DnsStats, Resolution};
use crate::flow::{Connection, FlowConfig};
use crate::naming::InFlowName;
use crate::naming::NameIndex;
use crate::report::FlowRecord;
use crate::time::Timestamp;
use crate::Error;
use pipeline::ShardPool;
use populate::ReleaseBehind;
use shard::{Run, Shard, ShardOutput};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
pub use stream::StreamOutput;
use stream::{EpochMerger, MarkSender};

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
    /// Packets per epoch of a streamed analysis ([`EPOCH_PACKETS`]; tests use small ones).
    pub epoch_packets: u64,
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
            epoch_packets: EPOCH_PACKETS,
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
    let mut reader = CaptureReader::from_source(source)?;
    let mut decoder = Decoder::new();
    let progress = options.progress.as_deref();
    let shards = run_shards(&mut reader, &mut decoder, options, None);
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

/// What a streamed analysis of one input found (its connections went to the sink).
pub struct StreamedCapture {
    pub path: String,
    pub summary: CaptureSummary,
    /// Connections written to the sink.
    pub flows: u64,
    pub decode_stats: DecodeStats,
    pub dns_stats: DnsStats,
    pub evidence_stats: InCaptureStats,
    /// DNS answers still held for naming at the end: the answers no later connection could
    /// use are forgotten as the analysis goes (see `stream.rs`), so this follows the
    /// resolved addresses and the last minutes, not the capture's length.
    pub answers_held: usize,
    /// The sink failed (the analysis stopped there).
    pub write_error: Option<std::io::Error>,
}

/// Analyse one input and hand its connections to `output.sink` as they end (see [`stream`]):
/// memory follows the live connections. DNS transactions are counted, not kept. The same
/// output for any `options.threads`.
pub fn analyze_capture_streamed(
    path: &str,
    source: CaptureSource,
    options: &AnalysisOptions,
    output: StreamOutput<'_>,
) -> Result<StreamedCapture, Error> {
    let mut reader = CaptureReader::from_source(source)?;
    let mut decoder = Decoder::new();
    let progress = options.progress.as_deref();
    let mut merger = EpochMerger::new(path, options.naming || options.dns, output);
    let last = run_shards(&mut reader, &mut decoder, options, Some(&mut merger));
    let mut dns_stats = DnsStats::default();
    let mut parts = Vec::with_capacity(last.len());
    for shard in last {
        let (epoch, stats) = shard.into_last_epoch();
        add_dns_stats(&mut dns_stats, &stats);
        parts.push(epoch);
    }
    merger.merge(parts, reader.summary());
    if let Some(progress) = progress {
        progress.store(reader.summary().bytes, Ordering::Relaxed);
    }
    let end = merger.finish();
    Ok(StreamedCapture {
        path: path.to_string(),
        summary: reader.into_summary(),
        flows: end.flows,
        decode_stats: decoder.stats().clone(),
        dns_stats,
        evidence_stats: end.evidence_stats,
        answers_held: end.answers_held,
        write_error: end.error,
    })
}

/// Read every packet into the shards: inline with one thread, else on shard workers (see
/// [`pipeline`]). With a merger (a streamed analysis) each epoch is merged as it completes:
/// inline, or on the calling thread while another reads (the reader feeds the shards; merging,
/// naming and writing an epoch there held them up). Returns the finished shards (their last
/// epoch not merged).
fn run_shards(
    reader: &mut CaptureReader,
    decoder: &mut Decoder,
    options: &AnalysisOptions,
    merger: Option<&mut EpochMerger<'_>>,
) -> Vec<ShardOutput> {
    let threads = options
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let run = if merger.is_some() {
        Run::Streamed
    } else {
        Run::Whole
    };
    if threads == 1 {
        let mut sink = InlineSink {
            shard: Shard::new(options, run),
            merger,
            mapped: reader.shared_input().filter(SharedInput::is_mapped),
            release: ReleaseBehind::default(),
        };
        read_packets::<false>(reader, decoder, options, &mut sink, None);
        return vec![sink.shard.finish()];
    }
    let read_position = AtomicU64::new(0);
    let read_done = AtomicBool::new(false);
    // Outside the scope: the packets handed to the workers borrow it.
    let input = reader.shared_input();
    let (reading_from, decoding) = (&mut *reader, &mut *decoder);
    let shards = std::thread::scope(|scope| {
        // Bytes already in memory (decompressed) have no page tables to fill.
        if let Some(input) = input.clone().filter(SharedInput::is_mapped) {
            let (position, done) = (&read_position, &read_done);
            scope.spawn(move || populate::populate_ahead(&input, position, done));
        }
        let whole = input.as_ref().map(SharedInput::bytes);
        let (pool, completed) = ShardPool::start(scope, threads, options, run, whole);
        let (marks, merge_marks) = stream::mark_channel();
        let streamed = merger.is_some();
        let (position, done) = (&read_position, &read_done);
        let reading = scope.spawn(move || {
            let mut sink = PooledSink {
                pool,
                marks: streamed.then_some(marks),
            };
            if whole.is_some() {
                read_packets::<false>(reading_from, decoding, options, &mut sink, Some(position));
            } else {
                read_packets::<true>(reading_from, decoding, options, &mut sink, Some(position));
            }
            done.store(true, Ordering::Relaxed);
            sink.pool.finish()
        });
        if let Some(merger) = merger {
            stream::merge_as_completed(merger, completed, merge_marks);
        }
        // A panic while reading is a bug: pass it on.
        reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    drop(reader.release_input());
    unmap_aside(input);
    shards
}

/// Unmap a mapped input (its last reference, once every packet was read and every shard is
/// done with it) on a thread of its own: tearing down the page tables still filled (up to
/// ~256 MiB around the reader's last position, see [`populate`]; a whole 1 GB map took
/// ~40 ms) would hold up the calling thread at the very end of a run, when it still has the
/// last epoch to name and write.
fn unmap_aside(input: Option<SharedInput>) {
    let Some(map) = input.filter(SharedInput::is_mapped) else {
        return;
    };
    // If no thread can be started, the map is dropped here, as it would have been anyway.
    let _ = std::thread::Builder::new()
        .name("netforensic-unmap".into())
        .spawn(move || drop(map));
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

/// Packets between two epoch marks of a streamed analysis: often enough that connections
/// are written out soon after they end, rarely enough that the per-epoch work (a scan of the
/// live connections, the merge) costs little.
pub const EPOCH_PACKETS: u64 = 1 << 16;

/// Where [`read_packets`] hands the decoded packets.
trait PacketSink {
    /// One packet; `chunk`: the stream buffer its frame was read into (a stream only).
    fn packet(
        &mut self,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
        chunk: Option<&StreamChunk>,
    );
    /// Epoch `epoch` ends after the packets handed so far (network time `now`).
    fn mark(&mut self, epoch: u64, now: Timestamp, summary: &CaptureSummary);
    /// Nobody wants the rest (a streamed output failed).
    fn stopped(&self) -> bool;
}

/// Everything inline, on the calling thread (one thread).
struct InlineSink<'m, 's> {
    shard: Shard,
    merger: Option<&'m mut EpochMerger<'s>>,
    /// The input when it is a mapped file: its page tables are released behind the reader.
    mapped: Option<SharedInput>,
    release: ReleaseBehind,
}

impl PacketSink for InlineSink<'_, '_> {
    fn packet(
        &mut self,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
        _chunk: Option<&StreamChunk>,
    ) {
        self.shard.ingest(now, index, ts, packet, meta.as_deref());
    }

    fn mark(&mut self, _epoch: u64, now: Timestamp, summary: &CaptureSummary) {
        if let Some(input) = &self.mapped {
            self.release.advance(input, summary.bytes);
        }
        if let Some(merger) = self.merger.as_deref_mut() {
            let parts = vec![self.shard.drain_epoch(now)];
            merger.merge(parts, summary);
        }
    }

    fn stopped(&self) -> bool {
        self.merger.as_deref().is_some_and(EpochMerger::stopped)
    }
}

/// Shard workers on threads of their own, fed by the reading thread; a streamed analysis's
/// marks go to the merging thread.
struct PooledSink<'p, 'i> {
    pool: ShardPool<'p, 'i>,
    /// Where epoch marks go (a streamed analysis only).
    marks: Option<MarkSender>,
}

impl PacketSink for PooledSink<'_, '_> {
    fn packet(
        &mut self,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
        chunk: Option<&StreamChunk>,
    ) {
        self.pool.ingest(now, index, ts, packet, meta, chunk);
    }

    fn mark(&mut self, epoch: u64, now: Timestamp, summary: &CaptureSummary) {
        let Some(marks) = self.marks.as_mut() else {
            return;
        };
        // The mark first: the merging thread looks for it once the shards complete the epoch.
        marks.mark(epoch, summary);
        self.pool.mark(epoch, now);
    }

    fn stopped(&self) -> bool {
        self.marks.as_ref().is_some_and(MarkSender::stopped)
    }
}

/// Frame and decode every packet, handing each decoded one to `sink` with the capture's
/// network time (latest packet time so far) and its index in the input; mark an epoch every
/// `options.epoch_packets` packets; publish progress (and the offset read so far to
/// `position`, for [`populate`]). `STREAM`: hand each packet the stream buffer its frame was
/// read into (workers hold it rather than copy the packet's bytes).
fn read_packets<const STREAM: bool>(
    reader: &mut CaptureReader,
    decoder: &mut Decoder,
    options: &AnalysisOptions,
    sink: &mut impl PacketSink,
    position: Option<&AtomicU64>,
) {
    let progress = options.progress.as_deref();
    let epoch_packets = options.epoch_packets.max(1);
    let mut now = Timestamp(i64::MIN);
    let mut until_progress = 0u64;
    let mut until_mark = epoch_packets;
    let mut epoch = 0u64;
    loop {
        if until_progress == 0 {
            let bytes = reader.summary().bytes;
            for published in [progress, position].into_iter().flatten() {
                published.store(bytes, Ordering::Relaxed);
            }
            until_progress = PROGRESS_PACKETS;
        }
        until_progress -= 1;
        // A mapped file's frames have no stream buffer: its path stays the plain walk (a
        // tuple of frame and buffer cost a copy of the frame per packet).
        if STREAM {
            let Some((frame, chunk)) = reader.next_frame_in_chunk() else {
                break;
            };
            hand_over(decoder, sink, &mut now, frame, chunk);
        } else {
            let Some(frame) = reader.next_frame() else {
                break;
            };
            hand_over(decoder, sink, &mut now, frame, None);
        }
        until_mark -= 1;
        if until_mark == 0 {
            until_mark = epoch_packets;
            sink.mark(epoch, now, reader.summary());
            epoch += 1;
            if sink.stopped() {
                break;
            }
        }
    }
}

/// Decode one frame and hand its packet to `sink`, advancing the network time `now`.
#[inline(always)]
fn hand_over(
    decoder: &mut Decoder,
    sink: &mut impl PacketSink,
    now: &mut Timestamp,
    frame: crate::capture::Frame<'_>,
    chunk: Option<&StreamChunk>,
) {
    let ts = frame.ts;
    if ts > *now {
        *now = ts;
    }
    // By reference: moving the packet out of the result was a 160-byte copy per packet.
    if let Decoded::Packet(packet) = &decoder.decode(frame.link_type, ts, frame.data) {
        sink.packet(*now, frame.index, ts, packet, frame.meta, chunk);
    }
    // Zeek logs a UDP tunnel's outer connection beside the inner one, and counts the
    // packet there even when the inner packet was a held fragment or malformed.
    if let Some(carrier) = decoder.tunnel_carrier() {
        let outer = carrier_packet(&carrier);
        sink.packet(*now, frame.index | CARRIER_ID_BIT, ts, &outer, None, None);
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
    let mut connections: Vec<Vec<Connection>> = Vec::with_capacity(shards.len());
    let mut dns_records: Vec<DnsRecord> = Vec::new();
    let mut resolutions: Vec<Resolution> = Vec::new();
    let mut dns_stats = DnsStats::default();
    let mut in_flow_names: Vec<(u64, InFlowName)> = Vec::new();
    let mut services: Vec<(u64, &'static str)> = Vec::new();
    let mut process_evidence = CaptureEvidence::default();
    for mut shard in shards {
        connections.push(std::mem::take(&mut shard.connections));
        dns_records.append(&mut shard.dns_records);
        resolutions.append(&mut shard.resolutions);
        add_dns_stats(&mut dns_stats, &shard.dns_stats);
        in_flow_names.append(&mut shard.in_flow_names);
        services.append(&mut shard.services);
        merge_evidence(
            &mut process_evidence,
            shard.evidence.finish(&summary.darwin_processes),
        );
    }
    dns_records.sort_by(|a, b| {
        (a.ts, &a.uid, a.trans_id, &a.query).cmp(&(b.ts, &b.uid, b.trans_id, &b.query))
    });
    resolutions.sort_by(resolution_order);
    let mut flows = Vec::new();
    flow_records(&Arc::from(path), connections, services, &mut flows);
    if options.naming || options.dns {
        let mut index = NameIndex::default();
        index.add_resolutions(resolutions.clone());
        index.add_name_records(&summary.name_records);
        name_flows(&mut flows, &index, in_flow_names);
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

/// The order resolutions are indexed in (ties in the ladder keep it).
fn resolution_order(a: &Resolution, b: &Resolution) -> std::cmp::Ordering {
    (a.ts, a.client, &a.query, a.addr).cmp(&(b.ts, b.client, &b.query, b.addr))
}

/// Flow records for finished connections (`parts`: each shard's, in any order), sorted by
/// first packet time then id, with the `service` that DNS or the name sniffer recognised where
/// the flow table had none; appended to `flows`.
fn flow_records(
    path: &Arc<str>,
    parts: Vec<Vec<Connection>>,
    mut services: Vec<(u64, &'static str)>,
    flows: &mut Vec<FlowRecord>,
) {
    services.sort_by_key(|(id, _)| *id);
    // Sort small keys, not the connections (216 bytes): each connection then moves once more,
    // into its record, instead of at every step of a sort and of a concatenation. A key is
    // one integer, the first packet time then the connection's place (plain integers sort
    // in half the instructions of tuples); connections that began at the same time are put
    // in id order afterwards (rare: runs of equal times are short).
    let starts: Vec<u64> = parts
        .iter()
        .scan(0u64, |next, part| {
            let start = *next;
            *next += part.len() as u64;
            Some(start)
        })
        .collect();
    let place = |at: u64| {
        let p = starts.partition_point(|s| *s <= at).checked_sub(1)?;
        let i = usize::try_from(at - starts.get(p)?).ok()?;
        Some((p, i))
    };
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut order: Vec<u128> = Vec::with_capacity(total);
    for (part, start) in parts.iter().zip(&starts) {
        let keys = part.iter().zip(*start..);
        order.extend(keys.map(|(c, at)| time_then(c.ts, at)));
    }
    // By time only: connections that began at the same time end up side by side, in an
    // order that the runs' sort by id makes right.
    order.sort_unstable_by_key(|key| (key >> 64) as u64);
    let id_at = |key: &u128| {
        let (p, i) = place(*key as u64)?;
        Some(parts.get(p)?.get(i)?.id)
    };
    for same_time in order.chunk_by_mut(|a, b| a >> 64 == b >> 64) {
        if same_time.len() > 1 {
            // Unstable is deterministic here: ids (first packet indexes) are unique.
            same_time.sort_unstable_by_key(id_at);
        }
    }
    // `Option<Connection>` has the size of a connection (niche): taken out in key order.
    let mut slots: Vec<Vec<Option<Connection>>> = parts
        .into_iter()
        .map(|part| part.into_iter().map(Some).collect())
        .collect();
    if flows.is_empty() && flows.capacity() < total {
        // Replaced, not grown: growing would copy the whole old capacity for nothing.
        *flows = Vec::with_capacity(total);
    }
    flows.reserve(total);
    let mut service_of = NearbyIds::default();
    for key in order {
        let Some(mut conn) =
            place(key as u64).and_then(|(p, i)| slots.get_mut(p)?.get_mut(i)?.take())
        else {
            continue;
        };
        if conn.service.is_none() {
            if let Some(i) = service_of.find(&services, conn.id, |(id, _)| *id) {
                conn.service = services.get(i).map(|(_, s)| Cow::Borrowed(*s));
            }
        }
        flows.push(FlowRecord::new(conn, Arc::clone(path)));
    }
}

/// Looks ids up in a list sorted by id, for lookups that come nearly in id order (connections
/// by first packet time are nearly in id order: ids are first packet indexes): each search
/// starts where the last one ended and widens from there, a few steps where a binary search
/// over the whole list took a dozen.
#[derive(Default)]
struct NearbyIds {
    /// Where the last search ended.
    at: usize,
}

impl NearbyIds {
    /// The index of `id` in `list` (sorted by `key`, keys unique), if it is there.
    fn find<T>(&mut self, list: &[T], id: u64, key: impl Fn(&T) -> u64) -> Option<usize> {
        let below = |i: usize| list.get(i).is_some_and(|t| key(t) < id);
        let place_in = |from: usize, to: usize| {
            let part = list.get(from..to).unwrap_or_default();
            from + part.partition_point(|t| key(t) < id)
        };
        // `place`: how many keys are below `id`. Widen from the last place by doubling steps
        // until a probe is on the other side, then search between the last two probes.
        let start = self.at.min(list.len());
        let mut step = 1usize;
        let place = if below(start) {
            let mut last_below = start;
            loop {
                let probe = last_below.saturating_add(step).min(list.len());
                if !below(probe) {
                    break place_in(last_below + 1, probe);
                }
                last_below = probe;
                step = step.saturating_mul(2);
            }
        } else {
            let mut first_not_below = start;
            loop {
                match first_not_below.checked_sub(step) {
                    Some(probe) if !below(probe) => first_not_below = probe,
                    Some(probe) => break place_in(probe + 1, first_not_below),
                    None => break place_in(0, first_not_below),
                }
                step = step.saturating_mul(2);
            }
        };
        self.at = place;
        list.get(place)
            .is_some_and(|t| key(t) == id)
            .then_some(place)
    }
}

/// `ts` then `low` as one integer of the same order: the time's sign bit flipped makes its
/// unsigned order that of the signed times.
fn time_then(ts: Timestamp, low: u64) -> u128 {
    let time = (ts.nanos() as u64) ^ (1 << 63);
    (u128::from(time) << 64) | u128::from(low)
}

/// Run the naming ladder over `flows` (in parallel: each flow only reads the index).
fn name_flows(flows: &mut [FlowRecord], index: &NameIndex, mut in_flow: Vec<(u64, InFlowName)>) {
    use rayon::prelude::*;
    in_flow.sort_by_key(|(id, _)| *id);
    // Each flow's in-flow name handed to it, moved rather than copied (a connection has at
    // most one).
    let (ids, mut names): (Vec<u64>, Vec<Option<InFlowName>>) = in_flow
        .into_iter()
        .map(|(id, name)| (id, Some(name)))
        .unzip();
    let mut name_of = NearbyIds::default();
    let own: Vec<Option<InFlowName>> = flows
        .iter()
        .map(|flow| {
            let at = name_of.find(&ids, flow.conn.id, |id| *id)?;
            names.get_mut(at)?.take()
        })
        .collect();
    flows
        .par_iter_mut()
        .zip(own)
        .with_min_len(1024)
        .for_each(|(flow, name)| index.name(flow, name));
}

fn add_dns_stats(into: &mut DnsStats, stats: &DnsStats) {
    into.messages += stats.messages;
    into.malformed += stats.malformed;
    into.tcp_buffer_overflows += stats.tcp_buffer_overflows;
    into.pending_overflows += stats.pending_overflows;
}

fn merge_evidence(into: &mut CaptureEvidence, part: CaptureEvidence) {
    into.flows.extend(part.flows);
    into.local_addrs.extend(part.local_addrs);
    add_evidence_stats(&mut into.stats, &part.stats);
}

fn add_evidence_stats(a: &mut InCaptureStats, b: &InCaptureStats) {
    a.packets_with_process += b.packets_with_process;
    a.flows_with_process += b.flows_with_process;
    a.flows_dropped += b.flows_dropped;
    a.unresolved_darwin_indexes += b.unresolved_darwin_indexes;
    a.ambiguous_sides += b.ambiguous_sides;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Proto;

    fn xorshift(mut state: u64) -> impl FnMut(u64) -> u64 {
        move |bound| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        }
    }

    /// Whatever order the lookups come in, a nearby search finds what a binary search finds.
    #[test]
    fn nearby_ids_find_what_a_binary_search_finds() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for len in [0usize, 1, 2, 3, 7, 100, 1000] {
            let mut ids: Vec<u64> = (0..len).map(|_| next(4 * len as u64 + 4)).collect();
            ids.push(u64::MAX);
            ids.sort_unstable();
            ids.dedup();
            // Nearly in order (what connections by first packet time give), then any order.
            let mut lookups: Vec<u64> = (0..3 * len as u64 + 8).collect();
            for i in 1..lookups.len() {
                if next(4) == 0 {
                    lookups.swap(i - 1, i);
                }
            }
            lookups.extend((0..len + 8).map(|_| next(5 * len as u64 + 8)));
            lookups.extend([u64::MAX, 0, u64::MAX - 1, u64::MAX]);
            let mut near = NearbyIds::default();
            for id in lookups {
                assert_eq!(
                    near.find(&ids, id, |i| *i),
                    ids.binary_search(&id).ok(),
                    "{id} in {len}"
                );
            }
        }
    }

    /// Records come out by first packet time then id, whatever part (shard) held them,
    /// with times before 1970 and connections that began at the same time.
    #[test]
    fn flow_records_are_ordered_by_time_then_id() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let times = [-5_000_000_000i64, -1, 0, 1, 7, 7_000_000_000, i64::MAX];
        let mut parts: Vec<Vec<Connection>> = vec![Vec::new(), Vec::new(), Vec::new()];
        let mut ids: Vec<u64> = (0..300).map(|i| i * 7 + next(7)).collect();
        ids.push(5 | (1 << 63));
        for id in ids {
            let ts = Timestamp(times[next(times.len() as u64) as usize]);
            let conn =
                Connection::for_test(id, Proto::Udp, ("10.0.0.1", 1), ("10.0.0.2", 2), ts, ts);
            parts[next(3) as usize].push(conn);
        }
        let mut expected: Vec<(Timestamp, u64)> =
            parts.iter().flatten().map(|c| (c.ts, c.id)).collect();
        expected.sort_unstable();
        let services = vec![(expected[3].1, "dns"), (expected[0].1, "ssl")];
        let mut flows = Vec::new();
        flow_records(&Arc::from("x.pcap"), parts, services, &mut flows);
        let got: Vec<(Timestamp, u64)> = flows.iter().map(|f| (f.conn.ts, f.conn.id)).collect();
        assert_eq!(got, expected);
        assert_eq!(flows[3].conn.service.as_deref(), Some("dns"));
        assert_eq!(flows[0].conn.service.as_deref(), Some("ssl"));
        assert!(flows[1].conn.service.is_none());
    }
}
