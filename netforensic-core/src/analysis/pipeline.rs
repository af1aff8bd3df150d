//! The parallel path: the reading thread reads and decodes (framing and decoding are one
//! sequential walk, and on a stream they must be), and hands each packet to the shard that owns
//! its connection; shard workers run the flow tables and inspectors. A connection's packets all
//! reach one shard in capture order, so results are identical for any number of shards.
//!
//! Packets cross threads in batches. When the input is held whole in memory (a mapped file),
//! it outlives the workers, so a packet whose slices all lie in it travels as it is, borrowing
//! the input: the shard ingests it in place, nothing is rebuilt. A packet of a stream (standard
//! input, a decompressed file) lies in the stream's current buffer: the batch holds that buffer
//! (shared, the reader moves on to another) and the shard points the packet at its bytes
//! there. Other bytes (reassembled fragments) are copied into the batch's arena once. No
//! packet needs an allocation of its own.

use super::shard::{EpochOutput, Run, Shard, ShardOutput};
use super::AnalysisOptions;
use crate::capture::{FrameMeta, StreamChunk};
use crate::decode::{Packet, PktapInfo, Transport};
use crate::time::Timestamp;
use std::net::IpAddr;
use std::sync::mpsc;

/// Packets per batch: large enough that channel traffic is negligible, small enough that a
/// batch stays in cache-friendly size and memory stays bounded.
const BATCH_PACKETS: usize = 2048;
/// Stream buffers one batch may hold before it is handed over: each holds at least one
/// record, up to 16 MiB, so the memory a batch keeps alive is bounded by buffers, not only by
/// packets (an ordinary batch spans 2-4 of the 1 MiB buffers).
const BATCH_CHUNKS: usize = 8;
/// Batches in flight per shard before the reader waits (bounds memory on fast inputs), when
/// batches carry packets by position (a few hundred kilobytes each): enough queued work that
/// the shards keep running while the reader thread names and writes out an epoch (with 4,
/// 1 GB took 0.85 s instead of 0.77, median of 5, 2 threads).
const BATCHES_IN_FLIGHT: usize = 16;
/// The same when batches copy their packets' bytes (a stream): 4 keeps standard input's peak
/// memory near 128 MiB (16 made it 169 MiB).
const COPYING_BATCHES_IN_FLIGHT: usize = 4;

/// Where copied bytes are in the batch's arena: `start..start + len`.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    len: usize,
}

/// A packet on its way to a shard, with its capture's network time, its index and time, and
/// its frame's metadata.
struct DetachedPacket<'i> {
    now: Timestamp,
    index: u64,
    ts: Timestamp,
    /// The packet, its slices in the shared input; or, when its bytes had to be copied (see
    /// [`Copied`]), with empty slices.
    packet: Packet<'i>,
    /// Index of this packet's [`Copied`] in [`Batch::copied`] ([`NOT_COPIED`] if none).
    copied: u32,
    meta: Option<Box<FrameMeta>>,
}

const NOT_COPIED: u32 = u32::MAX;
/// [`Copied::source`] of bytes copied into the batch's arena.
const IN_ARENA: u32 = u32::MAX;

/// Where the bytes of a packet that could not borrow the input are: in one of the stream
/// buffers the batch holds, or in its arena.
struct Copied {
    /// Index in [`Batch::chunks`], or [`IN_ARENA`].
    source: u32,
    payload: Span,
    /// The PKTAP header, if the packet has one.
    pktap: Option<Span>,
}

#[derive(Default)]
struct Batch<'i> {
    arena: Vec<u8>,
    /// Stream buffers that packets of this batch lie in (held until the shard is done).
    chunks: Vec<StreamChunk>,
    packets: Vec<DetachedPacket<'i>>,
    copied: Vec<Copied>,
    /// After these packets, hand over the epoch (number, network time) that ends here.
    mark: Option<(u64, Timestamp)>,
}

/// Where `part` lies in `whole` (compared by address), if it does; empty slices always do.
fn span_in(whole: &[u8], part: &[u8]) -> Option<Span> {
    if part.is_empty() {
        return Some(Span { start: 0, len: 0 });
    }
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    whole.get(start..start.checked_add(part.len())?)?;
    Some(Span {
        start,
        len: part.len(),
    })
}

/// `part` as a slice of `whole` (compared by address), if it is one; empty slices always are.
fn within<'i>(whole: Option<&'i [u8]>, part: &[u8]) -> Option<&'i [u8]> {
    if part.is_empty() {
        return Some(&[]);
    }
    let whole = whole?;
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    whole.get(start..start.checked_add(part.len())?)
}

impl<'i> Batch<'i> {
    /// A batch with room for a full load of packets: growing by doubling would copy them
    /// over and over (batches are recycled, so this happens once per batch in flight).
    fn new() -> Self {
        Batch {
            packets: Vec::with_capacity(BATCH_PACKETS),
            ..Batch::default()
        }
    }

    /// Add a packet; `input` is the whole input when it is held in memory, else `chunk` the
    /// stream buffer the packet's frame was read into.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        input: Option<&'i [u8]>,
        chunk: Option<&StreamChunk>,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
    ) {
        let payload = within(input, packet.transport.payload());
        let packet = match (payload, packet.pktap) {
            (Some(payload), None) => rebind(packet, payload, None),
            _ => return self.push_rare(input, chunk, now, index, ts, packet, meta),
        };
        self.packets.push(DetachedPacket {
            now,
            index,
            ts,
            packet,
            copied: NOT_COPIED,
            meta,
        });
    }

    /// The rare packets of a mapped input (PKTAP, bytes not in the input), and every packet
    /// of a stream: borrowed if every slice is in the input, else located in the stream's
    /// buffer (held by the batch), else copied into the arena. It pushes the packet itself,
    /// as `push` does: returning the 104-byte packet to one common push instead cost 14 M
    /// more instructions on the 100 MB file with 2 threads (a copy per packet on the common
    /// path too).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn push_rare(
        &mut self,
        input: Option<&'i [u8]>,
        chunk: Option<&StreamChunk>,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
    ) {
        let payload = within(input, packet.transport.payload());
        // The PKTAP header borrowed from the input too: `Some(None)` without one.
        let pktap = match packet.pktap {
            None => Some(None),
            Some(p) => within(input, p.header()).and_then(PktapInfo::new).map(Some),
        };
        let (packet, copied) = match (payload, pktap) {
            (Some(payload), Some(pktap)) => (rebind(packet, payload, pktap), NOT_COPIED),
            _ => {
                let header = packet.pktap.map(|p| p.header());
                let copied = match chunk.and_then(|c| self.locate(c, packet, header)) {
                    Some(located) => located,
                    None => self.copy(packet, header),
                };
                self.copied.push(copied);
                let at = u32::try_from(self.copied.len() - 1).unwrap_or(NOT_COPIED);
                (rebind(packet, &[], None), at)
            }
        };
        self.packets.push(DetachedPacket {
            now,
            index,
            ts,
            packet,
            copied,
            meta,
        });
    }

    /// Where `packet`'s payload and PKTAP `header` are in the stream buffer `chunk`, if both
    /// are there; the batch then holds the buffer.
    fn locate(
        &mut self,
        chunk: &StreamChunk,
        packet: &Packet<'_>,
        header: Option<&[u8]>,
    ) -> Option<Copied> {
        let bytes = chunk.bytes();
        let payload = span_in(bytes, packet.transport.payload())?;
        let pktap = match header {
            Some(header) => Some(span_in(bytes, header)?),
            None => None,
        };
        // Consecutive packets mostly share a buffer: hold each once.
        if !self.chunks.last().is_some_and(|last| last.same(chunk)) {
            self.chunks.push(chunk.clone());
        }
        Some(Copied {
            source: u32::try_from(self.chunks.len() - 1).ok()?,
            payload,
            pktap,
        })
    }

    /// `packet`'s payload and PKTAP `header` copied into the arena.
    fn copy(&mut self, packet: &Packet<'_>, header: Option<&[u8]>) -> Copied {
        let arena = &mut self.arena;
        let mut copy = |bytes: &[u8]| {
            let start = arena.len();
            arena.extend_from_slice(bytes);
            Span {
                start,
                len: bytes.len(),
            }
        };
        Copied {
            source: IN_ARENA,
            payload: copy(packet.transport.payload()),
            pktap: header.map(copy),
        }
    }

    /// Each packet in order, as the shard ingests it: in place, or pointed at its bytes in a
    /// stream buffer or the arena.
    fn each(&self, mut f: impl FnMut(&DetachedPacket<'i>, &Packet<'_>)) {
        for detached in &self.packets {
            match self.copied.get(detached.copied as usize) {
                None => f(detached, &detached.packet),
                Some(copied) => {
                    let bytes = match copied.source {
                        IN_ARENA => &self.arena[..],
                        chunk => self
                            .chunks
                            .get(chunk as usize)
                            .map(StreamChunk::bytes)
                            .unwrap_or_default(),
                    };
                    f(detached, &copied.attach(&detached.packet, bytes))
                }
            }
        }
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.chunks.clear();
        self.packets.clear();
        self.copied.clear();
    }
}

/// `packet` over other bytes: `payload`, and `pktap` for its PKTAP header (if it has one).
fn rebind<'i>(packet: &Packet<'_>, payload: &'i [u8], pktap: Option<PktapInfo<'i>>) -> Packet<'i> {
    Packet {
        src: packet.src,
        dst: packet.dst,
        ip_len: packet.ip_len,
        ttl: packet.ttl,
        transport: packet.transport.with_payload(payload),
        tunnel: packet.tunnel,
        vlan: packet.vlan,
        pktap,
        reassembled: packet.reassembled,
    }
}

impl Copied {
    /// `packet` (with empty slices) pointed at its bytes in `source` (a stream buffer or the
    /// arena).
    fn attach<'a>(&self, packet: &Packet<'_>, source: &'a [u8]) -> Packet<'a> {
        let bytes = |span: Span| -> &'a [u8] {
            source
                .get(span.start..span.start.saturating_add(span.len))
                .unwrap_or_default()
        };
        let pktap = self.pktap.map(bytes).and_then(PktapInfo::new);
        rebind(packet, bytes(self.payload), pktap)
    }
}

/// Which shard owns a packet's connection: a hash of its endpoints in an order-independent
/// way, so both directions agree (ports only for TCP/UDP: ICMP is keyed by addresses).
/// Not keyed: a crafted skew only slows the run down, it cannot change results.
fn shard_of(packet: &Packet<'_>, shards: usize) -> usize {
    let ports = match packet.transport {
        Transport::Tcp {
            src_port, dst_port, ..
        }
        | Transport::Udp {
            src_port, dst_port, ..
        } => (src_port, dst_port),
        _ => (0, 0),
    };
    let a = endpoint_hash(packet.src, ports.0);
    let b = endpoint_hash(packet.dst, ports.1);
    // Order-independent combination, then a full avalanche (splitmix64's finaliser) so that
    // every output bit depends on every input bit.
    let mut z = a.min(b).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ a.max(b);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    // `z * shards / 2^64` maps the hash onto the shards evenly without a division (a 64-bit
    // `div` stalled the reading thread ~40 cycles per packet).
    ((u128::from(z) * shards as u128) >> 64) as usize
}

fn endpoint_hash(addr: IpAddr, port: u16) -> u64 {
    let bits = match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let folded = (bits as u64) ^ ((bits >> 64) as u64).rotate_left(17);
    (folded ^ u64::from(port).rotate_left(48)).wrapping_mul(0xff51_afd7_ed55_8ccd)
}

/// Hands packets to shard workers and collects the shards when the input ends. `'i`: the
/// input held whole in memory, which outlives the workers (packets borrow it).
pub(crate) struct ShardPool<'scope, 'i> {
    /// The whole input, when held in memory: packets borrow their bytes from it.
    input: Option<&'i [u8]>,
    senders: Vec<mpsc::SyncSender<Batch<'i>>>,
    pending: Vec<Batch<'i>>,
    recycled: mpsc::Receiver<Batch<'i>>,
    workers: Vec<std::thread::ScopedJoinHandle<'scope, ShardOutput>>,
}

/// The epochs of a streamed analysis as every shard completes them, in order: what the
/// merging thread waits on (see [`ShardPool::start`]).
pub(crate) struct CompletedEpochs {
    /// (epoch, output), one per shard and epoch; ends when every worker has ended.
    outputs: mpsc::Receiver<(u64, EpochOutput)>,
    shards: usize,
    /// Outputs received for epochs not complete yet.
    partial: std::collections::BTreeMap<u64, Vec<EpochOutput>>,
}

impl Iterator for CompletedEpochs {
    type Item = (u64, Vec<EpochOutput>);

    /// The next epoch every shard has handed over, with the outputs of all shards (in no
    /// particular order: the merge sorts); waits for it. `None` once the workers have ended
    /// (each shard completes its epochs in order, so no epoch is left incomplete).
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.partial.first_entry() {
                if entry.get().len() >= self.shards {
                    return Some(entry.remove_entry());
                }
            }
            let (epoch, output) = self.outputs.recv().ok()?;
            self.partial.entry(epoch).or_default().push(output);
        }
    }
}

impl<'scope, 'i> ShardPool<'scope, 'i> {
    pub fn start<'env: 'scope>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        shards: usize,
        options: &'env AnalysisOptions,
        run: Run,
        input: Option<&'i [u8]>,
    ) -> (Self, CompletedEpochs)
    where
        'i: 'scope,
    {
        let (recycle_tx, recycled) = mpsc::channel::<Batch<'i>>();
        // Unbounded, but each shard sends one output per mark, and the reader stops marking
        // while too many epochs wait for their merge (see `MarkSender`).
        let (epoch_tx, epochs) = mpsc::channel::<(u64, EpochOutput)>();
        let mut senders = Vec::with_capacity(shards);
        let mut workers = Vec::with_capacity(shards);
        let in_flight = if input.is_some() {
            BATCHES_IN_FLIGHT
        } else {
            COPYING_BATCHES_IN_FLIGHT
        };
        for _ in 0..shards {
            let (tx, rx) = mpsc::sync_channel::<Batch<'i>>(in_flight);
            let recycle = recycle_tx.clone();
            let epoch_out = epoch_tx.clone();
            senders.push(tx);
            workers.push(scope.spawn(move || {
                let mut shard = Shard::new(options, run);
                for mut batch in rx {
                    batch.each(|detached, packet| {
                        let meta = detached.meta.as_deref();
                        shard.ingest(detached.now, detached.index, detached.ts, packet, meta);
                    });
                    if let Some((epoch, now)) = batch.mark.take() {
                        let _ = epoch_out.send((epoch, shard.drain_epoch(now)));
                    }
                    batch.clear();
                    let _ = recycle.send(batch);
                }
                shard.finish()
            }));
        }
        let pool = ShardPool {
            input,
            senders,
            pending: (0..shards).map(|_| Batch::new()).collect(),
            recycled,
            workers,
        };
        let completed = CompletedEpochs {
            outputs: epochs,
            shards,
            partial: std::collections::BTreeMap::new(),
        };
        (pool, completed)
    }

    /// End epoch `epoch` at network time `now` in every shard (after the packets handed so
    /// far).
    pub fn mark(&mut self, epoch: u64, now: Timestamp) {
        for (batch, sender) in self.pending.iter_mut().zip(&self.senders) {
            let fresh = self.recycled.try_recv().unwrap_or_else(|_| Batch::new());
            let mut full = std::mem::replace(batch, fresh);
            full.mark = Some((epoch, now));
            let _ = sender.send(full);
        }
    }

    /// Hand a packet to the shard of its connection; `chunk`: the stream buffer its frame
    /// was read into, if the input is a stream.
    pub fn ingest(
        &mut self,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
        chunk: Option<&StreamChunk>,
    ) {
        let shard = shard_of(packet, self.senders.len());
        let Some(batch) = self.pending.get_mut(shard) else {
            return;
        };
        batch.push(self.input, chunk, now, index, ts, packet, meta);
        if batch.packets.len() >= BATCH_PACKETS || batch.chunks.len() >= BATCH_CHUNKS {
            let fresh = self.recycled.try_recv().unwrap_or_else(|_| Batch::new());
            let full = std::mem::replace(batch, fresh);
            if let Some(sender) = self.senders.get(shard) {
                let _ = sender.send(full);
            }
        }
    }

    /// Flush what is pending, end the workers and return their shards (their completed
    /// epochs went to [`CompletedEpochs`]).
    pub fn finish(mut self) -> Vec<ShardOutput> {
        for (batch, sender) in self.pending.drain(..).zip(&self.senders) {
            if !batch.packets.is_empty() {
                let _ = sender.send(batch);
            }
        }
        self.senders.clear();
        // A worker's panic is a bug: pass it on rather than lose that shard's connections.
        std::mem::take(&mut self.workers)
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{TcpFlags, TestHeader};
    use std::net::Ipv4Addr;

    fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Packet<'_> {
        Packet {
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            ip_len: 40 + payload.len() as u32,
            ttl: 64,
            transport: Transport::Tcp {
                src_port: sport,
                dst_port: dport,
                seq: 7,
                ack: 9,
                flags: TcpFlags(TcpFlags::ACK),
                window: 100,
                payload,
                payload_len: payload.len() as u32,
            },
            tunnel: None,
            vlan: None,
            pktap: None,
            reassembled: false,
        }
    }

    /// A PKTAP header of process `pid` named `comm`.
    fn header(pid: i32, comm: &[u8]) -> Vec<u8> {
        TestHeader {
            pid,
            comm,
            effective_pid: 43,
            effective_comm: b"helper",
            flags: 1,
            interface: b"en0",
            service_class: 0,
            dlt: 1,
        }
        .bytes()
    }

    /// `packet` with the PKTAP header `header`.
    fn with_pktap<'a>(mut packet: Packet<'a>, header: &'a [u8]) -> Packet<'a> {
        packet.pktap = PktapInfo::new(header);
        assert!(packet.pktap.is_some());
        packet
    }

    #[test]
    fn both_directions_land_in_the_same_shard() {
        for shards in 2..8 {
            for port in 1000..1100 {
                let a = tcp([10, 0, 0, 1], port, [192, 0, 2, 9], 443, b"");
                let b = tcp([192, 0, 2, 9], 443, [10, 0, 0, 1], port, b"");
                assert_eq!(shard_of(&a, shards), shard_of(&b, shards));
            }
        }
    }

    #[test]
    fn shards_are_used_evenly_enough() {
        let mut counts = [0usize; 2];
        for port in 0..2000u16 {
            let p = tcp([10, 0, 0, 1], 1024 + port, [192, 0, 2, 9], 443, b"");
            counts[shard_of(&p, 2)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    }

    /// What the shard would see of each packet of `batch`.
    fn delivered(batch: &Batch<'_>) -> Vec<String> {
        let mut seen = Vec::new();
        batch.each(|_, packet| seen.push(format!("{packet:?}")));
        seen
    }

    #[test]
    fn copied_packets_come_back_whole() {
        let curl = header(42, b"curl");
        let original = with_pktap(
            tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, b"hello"),
            &curl,
        );
        let mut batch = Batch::default();
        batch.push(None, None, Timestamp(5), 3, Timestamp(4), &original, None);
        assert_eq!(batch.packets[0].copied, 0);
        assert_eq!(delivered(&batch), [format!("{original:?}")]);
    }

    #[test]
    fn each_packet_gets_its_own_pktap_header_back() {
        let (curl, ssh) = (header(42, b"curl"), header(7, b"ssh"));
        let first = with_pktap(tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, b"one"), &curl);
        let plain = tcp([10, 0, 0, 2], 5001, [192, 0, 2, 9], 443, b"");
        let third = with_pktap(
            tcp([10, 0, 0, 3], 5002, [192, 0, 2, 9], 443, b"three"),
            &ssh,
        );
        let mut batch = Batch::default();
        for (i, packet) in [first, plain, third].iter().enumerate() {
            batch.push(
                None,
                None,
                Timestamp(5),
                i as u64,
                Timestamp(4),
                packet,
                None,
            );
        }
        // The packet without PKTAP header has nothing to copy (an empty payload).
        assert_eq!(batch.copied.len(), 2);
        let originals = [first, plain, third].map(|p| format!("{p:?}"));
        assert_eq!(delivered(&batch), originals);
        batch.clear();
        assert!(batch.packets.is_empty() && batch.copied.is_empty() && batch.arena.is_empty());
    }

    #[test]
    fn slices_of_the_shared_input_are_borrowed() {
        let bytes = [&b"xxhelloyy"[..], &header(42, b"curl")].concat();
        let input = Some(&bytes[..]);
        let original = tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, &bytes[2..7]);
        let mut batch = Batch::default();
        batch.push(input, None, Timestamp(5), 3, Timestamp(4), &original, None);
        let with_pktap = with_pktap(original, &bytes[9..]);
        batch.push(
            input,
            None,
            Timestamp(5),
            4,
            Timestamp(4),
            &with_pktap,
            None,
        );
        assert!(batch.copied.is_empty() && batch.arena.is_empty());
        let payload = batch.packets[0].packet.transport.payload();
        assert_eq!(payload.as_ptr(), bytes[2..].as_ptr());
        assert_eq!(
            delivered(&batch),
            [format!("{original:?}"), format!("{with_pktap:?}")]
        );
    }

    /// A stream's packets are not copied: the batch holds the buffer they lie in (once for
    /// consecutive packets) and points them at it; bytes elsewhere are still copied.
    #[test]
    fn stream_packets_are_located_in_their_buffer() {
        let first = StreamChunk::holding([&b"..hello..world"[..], &header(42, b"curl")].concat());
        let second = StreamChunk::holding(b"again".to_vec());
        let elsewhere = b"reassembled".to_vec();
        let bytes = first.bytes();
        let one = tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, &bytes[2..7]);
        let one = with_pktap(one, &bytes[14..]);
        let two = tcp([10, 0, 0, 2], 5001, [192, 0, 2, 9], 443, &bytes[9..14]);
        let three = tcp([10, 0, 0, 3], 5002, [192, 0, 2, 9], 443, second.bytes());
        let four = tcp([10, 0, 0, 4], 5003, [192, 0, 2, 9], 443, &elsewhere);
        let mut batch = Batch::default();
        let sent = [
            (one, &first),
            (two, &first),
            (three, &second),
            (four, &second),
        ];
        for (i, (packet, chunk)) in sent.iter().enumerate() {
            batch.push(
                None,
                Some(chunk),
                Timestamp(5),
                i as u64,
                Timestamp(4),
                packet,
                None,
            );
        }
        assert_eq!(batch.chunks.len(), 2);
        assert_eq!(batch.arena, elsewhere);
        let originals = [one, two, three, four].map(|p| format!("{p:?}"));
        assert_eq!(delivered(&batch), originals);
        batch.clear();
        assert!(batch.chunks.is_empty());
    }

    #[test]
    fn a_pktap_header_outside_the_input_copies_the_packet() {
        let bytes = b"xxhelloyy".to_vec();
        let curl = header(42, b"curl");
        let original = with_pktap(
            tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, &bytes[2..7]),
            &curl,
        );
        let mut batch = Batch::default();
        batch.push(
            Some(&bytes[..]),
            None,
            Timestamp(5),
            3,
            Timestamp(4),
            &original,
            None,
        );
        assert_eq!(batch.copied.len(), 1);
        assert_eq!(delivered(&batch), [format!("{original:?}")]);
    }
}
