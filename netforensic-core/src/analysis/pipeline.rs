//! The parallel path: the calling thread reads and decodes (framing and decoding are one
//! sequential walk, and on a stream they must be), and hands each packet to the shard that owns
//! its connection; shard workers run the flow tables and inspectors. A connection's packets all
//! reach one shard in capture order, so results are identical for any number of shards.
//!
//! Packets cross threads in batches. The bytes a shard needs (payload, PKTAP strings) travel
//! by position when they are slices of an input held whole in memory (a mapped file: no copy),
//! else they are copied into the batch's arena once, so the reader's buffers can be reused at
//! once; no packet needs an allocation of its own.

use super::shard::{EpochOutput, Run, Shard, ShardOutput};
use super::AnalysisOptions;
use crate::capture::{FrameMeta, SharedInput};
use crate::decode::{Packet, PktapInfo, Transport, Tunnel};
use crate::time::Timestamp;
use std::net::IpAddr;
use std::sync::mpsc;

/// Packets per batch: large enough that channel traffic is negligible, small enough that a
/// batch stays in cache-friendly size and memory stays bounded.
const BATCH_PACKETS: usize = 2048;
/// Batches in flight per shard before the reader waits (bounds memory on fast inputs), when
/// batches carry packets by position (a few hundred kilobytes each): enough queued work that
/// the shards keep running while the reader thread names and writes out an epoch (with 4,
/// 1 GB took 0.85 s instead of 0.77, median of 5, 2 threads).
const BATCHES_IN_FLIGHT: usize = 16;
/// The same when batches copy their packets' bytes (a stream): 4 keeps standard input's peak
/// memory near 128 MiB (16 made it 169 MiB).
const COPYING_BATCHES_IN_FLIGHT: usize = 4;

/// Where the bytes of a detached slice are: `start..start + len` of the batch's arena or of the
/// shared input (see [`SharedInput::position_of`]). Lengths fit in 32 bits: no capture record
/// (pcap or pcapng) is longer, nor is a reassembled IP datagram.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u64,
    len: u32,
    in_arena: bool,
}

impl Span {
    fn new(start: usize, len: usize, in_arena: bool) -> Self {
        Span {
            start: start as u64,
            len: u32::try_from(len).unwrap_or(u32::MAX),
            in_arena,
        }
    }
}

/// A packet whose borrowed bytes were detached: located in the shared input, or moved into
/// a batch arena. Kept compact (the batches stream through memory between cores): the packet's
/// fields without its slices, and the rare PKTAP header in a side list of the batch.
struct DetachedPacket {
    now: Timestamp,
    index: u64,
    ts: Timestamp,
    src: IpAddr,
    dst: IpAddr,
    /// The transport header with an empty payload; `payload` says where the payload is.
    transport: Transport<'static>,
    payload: Span,
    ip_len: u32,
    ttl: u8,
    tunnel: Option<Tunnel>,
    vlan: Option<u16>,
    reassembled: bool,
    /// Index of this packet's PKTAP header in [`Batch::pktap`].
    pktap: Option<u32>,
    meta: Option<Box<FrameMeta>>,
}

/// A PKTAP header with empty slices, and where its three strings are.
struct DetachedPktap {
    shape: PktapInfo<'static>,
    strings: [Span; 3],
}

#[derive(Default)]
struct Batch {
    arena: Vec<u8>,
    packets: Vec<DetachedPacket>,
    pktap: Vec<DetachedPktap>,
    /// After these packets, hand over the epoch (number, network time) that ends here.
    mark: Option<(u64, Timestamp)>,
}

impl Batch {
    /// A batch with room for a full load of packets: growing by doubling would copy them
    /// over and over (batches are recycled, so this happens once per batch in flight).
    fn new() -> Self {
        Batch {
            packets: Vec::with_capacity(BATCH_PACKETS),
            ..Batch::default()
        }
    }

    fn push(
        &mut self,
        input: Option<&SharedInput>,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
    ) {
        let arena = &mut self.arena;
        let mut keep = |bytes: &[u8]| {
            if let Some(range) = input.and_then(|input| input.position_of(bytes)) {
                return Span::new(range.start, range.len(), false);
            }
            // Reassembled fragments, decompressed or streamed input: copied.
            let start = arena.len();
            arena.extend_from_slice(bytes);
            Span::new(start, bytes.len(), true)
        };
        let payload = keep(packet.transport.payload());
        let pktap = packet.pktap.map(|p| {
            let strings = [keep(p.comm), keep(p.effective_comm), keep(p.interface)];
            let shape = PktapInfo {
                comm: &[],
                effective_comm: &[],
                interface: &[],
                ..p
            };
            self.pktap.push(DetachedPktap { shape, strings });
            u32::try_from(self.pktap.len() - 1).unwrap_or(u32::MAX)
        });
        self.packets.push(DetachedPacket {
            now,
            index,
            ts,
            src: packet.src,
            dst: packet.dst,
            transport: packet.transport.with_payload(&[]),
            payload,
            ip_len: packet.ip_len,
            ttl: packet.ttl,
            tunnel: packet.tunnel,
            vlan: packet.vlan,
            reassembled: packet.reassembled,
            pktap,
            meta,
        });
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.packets.clear();
        self.pktap.clear();
    }
}

/// The packet again, its slices pointing into the batch's arena or the shared input.
fn attach<'a>(
    detached: &DetachedPacket,
    batch: &'a Batch,
    input: Option<&'a SharedInput>,
) -> Packet<'a> {
    let bytes = |span: &Span| -> &'a [u8] {
        let start = usize::try_from(span.start).unwrap_or(usize::MAX);
        let range = start..start.saturating_add(span.len as usize);
        let found = if span.in_arena {
            batch.arena.get(range)
        } else {
            input.and_then(|input| input.bytes().get(range))
        };
        found.unwrap_or_default()
    };
    let pktap = detached
        .pktap
        .and_then(|i| batch.pktap.get(i as usize))
        .map(|p| {
            let [comm, effective_comm, interface] = &p.strings;
            PktapInfo {
                comm: bytes(comm),
                effective_comm: bytes(effective_comm),
                interface: bytes(interface),
                ..p.shape
            }
        });
    Packet {
        src: detached.src,
        dst: detached.dst,
        ip_len: detached.ip_len,
        ttl: detached.ttl,
        transport: detached.transport.with_payload(bytes(&detached.payload)),
        tunnel: detached.tunnel,
        vlan: detached.vlan,
        pktap,
        reassembled: detached.reassembled,
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

/// Hands packets to shard workers and collects the shards when the input ends.
pub(crate) struct ShardPool<'scope> {
    /// The input, when held whole in memory: packets' bytes are passed by position.
    input: Option<SharedInput>,
    senders: Vec<mpsc::SyncSender<Batch>>,
    pending: Vec<Batch>,
    recycled: mpsc::Receiver<Batch>,
    workers: Vec<std::thread::ScopedJoinHandle<'scope, ShardOutput>>,
    /// Epoch outputs of a streamed analysis: (epoch, output), one per shard and epoch.
    epochs: mpsc::Receiver<(u64, EpochOutput)>,
    /// Outputs received for epochs not complete yet.
    partial: std::collections::BTreeMap<u64, Vec<EpochOutput>>,
}

impl<'scope> ShardPool<'scope> {
    pub fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        shards: usize,
        options: &'env AnalysisOptions,
        run: Run,
        input: Option<SharedInput>,
    ) -> Self {
        let (recycle_tx, recycled) = mpsc::channel::<Batch>();
        // Unbounded, but each shard sends one output per mark and the reader collects them at
        // every mark.
        let (epoch_tx, epochs) = mpsc::channel::<(u64, EpochOutput)>();
        let mut senders = Vec::with_capacity(shards);
        let mut workers = Vec::with_capacity(shards);
        let in_flight = if input.is_some() {
            BATCHES_IN_FLIGHT
        } else {
            COPYING_BATCHES_IN_FLIGHT
        };
        for _ in 0..shards {
            let (tx, rx) = mpsc::sync_channel::<Batch>(in_flight);
            let recycle = recycle_tx.clone();
            let epoch_out = epoch_tx.clone();
            let input = input.clone();
            senders.push(tx);
            workers.push(scope.spawn(move || {
                let mut shard = Shard::new(options, run);
                for mut batch in rx {
                    for detached in &batch.packets {
                        let packet = attach(detached, &batch, input.as_ref());
                        shard.ingest(
                            detached.now,
                            detached.index,
                            detached.ts,
                            &packet,
                            detached.meta.as_deref(),
                        );
                    }
                    if let Some((epoch, now)) = batch.mark.take() {
                        let _ = epoch_out.send((epoch, shard.drain_epoch(now)));
                    }
                    batch.clear();
                    let _ = recycle.send(batch);
                }
                shard.finish()
            }));
        }
        ShardPool {
            input,
            senders,
            pending: (0..shards).map(|_| Batch::new()).collect(),
            recycled,
            workers,
            epochs,
            partial: std::collections::BTreeMap::new(),
        }
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

    /// Epochs every shard has handed over since the last call, in order, with the outputs of
    /// all shards (in no particular order: the merge sorts).
    pub fn completed_epochs(&mut self) -> Vec<(u64, Vec<EpochOutput>)> {
        let shards = self.senders.len().max(self.workers.len());
        while let Ok((epoch, output)) = self.epochs.try_recv() {
            self.partial.entry(epoch).or_default().push(output);
        }
        let mut done = Vec::new();
        while let Some(entry) = self.partial.first_entry() {
            if entry.get().len() < shards {
                break;
            }
            done.push(entry.remove_entry());
        }
        done
    }

    pub fn ingest(
        &mut self,
        now: Timestamp,
        index: u64,
        ts: Timestamp,
        packet: &Packet<'_>,
        meta: Option<Box<FrameMeta>>,
    ) {
        let shard = shard_of(packet, self.senders.len());
        let Some(batch) = self.pending.get_mut(shard) else {
            return;
        };
        batch.push(self.input.as_ref(), now, index, ts, packet, meta);
        if batch.packets.len() >= BATCH_PACKETS {
            let fresh = self.recycled.try_recv().unwrap_or_else(|_| Batch::new());
            let full = std::mem::replace(batch, fresh);
            if let Some(sender) = self.senders.get(shard) {
                let _ = sender.send(full);
            }
        }
    }

    /// Flush what is pending, end the workers and return their shards, with the epochs they
    /// completed that were not collected yet.
    pub fn finish(mut self) -> (Vec<ShardOutput>, Vec<(u64, Vec<EpochOutput>)>) {
        for (batch, sender) in self.pending.drain(..).zip(&self.senders) {
            if !batch.packets.is_empty() {
                let _ = sender.send(batch);
            }
        }
        self.senders.clear();
        let workers = std::mem::take(&mut self.workers);
        let shards = workers.len();
        // A worker's panic is a bug: pass it on rather than lose that shard's connections.
        let outputs: Vec<ShardOutput> = workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        // Every mark reached every worker before it ended, so every epoch is complete.
        while let Ok((epoch, output)) = self.epochs.try_recv() {
            self.partial.entry(epoch).or_default().push(output);
        }
        let epochs = std::mem::take(&mut self.partial)
            .into_iter()
            .filter(|(_, parts)| parts.len() == shards)
            .collect();
        (outputs, epochs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;
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
            pktap: Some(PktapInfo {
                pid: 42,
                comm: b"curl",
                effective_pid: 43,
                effective_comm: b"helper",
                flags: 1,
                interface: b"en0",
                service_class: 0,
                dlt: 1,
            }),
            reassembled: false,
        }
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

    #[test]
    fn detach_then_attach_restores_the_packet() {
        let original = tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, b"hello");
        let mut batch = Batch::default();
        batch.push(None, Timestamp(5), 3, Timestamp(4), &original, None);
        assert!(batch.packets[0].payload.in_arena);
        let restored = attach(&batch.packets[0], &batch, None);
        assert_eq!(format!("{original:?}"), format!("{restored:?}"));
    }

    #[test]
    fn each_packet_gets_its_own_pktap_header_back() {
        let first = tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, b"one");
        let mut plain = tcp([10, 0, 0, 2], 5001, [192, 0, 2, 9], 443, b"two");
        plain.pktap = None;
        let mut third = tcp([10, 0, 0, 3], 5002, [192, 0, 2, 9], 443, b"three");
        if let Some(p) = third.pktap.as_mut() {
            p.pid = 7;
            p.comm = b"ssh";
        }
        let mut batch = Batch::default();
        for (i, packet) in [first, plain, third].iter().enumerate() {
            batch.push(None, Timestamp(5), i as u64, Timestamp(4), packet, None);
        }
        assert_eq!(batch.pktap.len(), 2);
        for (detached, original) in batch.packets.iter().zip([first, plain, third]) {
            let restored = attach(detached, &batch, None);
            assert_eq!(format!("{original:?}"), format!("{restored:?}"));
        }
        batch.clear();
        assert!(batch.packets.is_empty() && batch.pktap.is_empty() && batch.arena.is_empty());
    }

    #[test]
    fn slices_of_the_shared_input_travel_by_position() {
        let bytes: std::sync::Arc<[u8]> = b"xxhelloyycurlhelperen0".to_vec().into();
        let input = SharedInput::in_memory(bytes.clone());
        let mut original = tcp([10, 0, 0, 1], 5000, [192, 0, 2, 9], 443, &bytes[2..7]);
        if let Some(p) = original.pktap.as_mut() {
            p.comm = &bytes[9..13];
        }
        let mut batch = Batch::default();
        batch.push(Some(&input), Timestamp(5), 3, Timestamp(4), &original, None);
        let payload = batch.packets[0].payload;
        assert_eq!(
            (payload.in_arena, payload.start, payload.len),
            (false, 2, 5)
        );
        assert!(
            batch.arena.len() < 16,
            "only the non-input PKTAP strings are copied"
        );
        let restored = attach(&batch.packets[0], &batch, Some(&input));
        assert_eq!(format!("{original:?}"), format!("{restored:?}"));
    }
}
