//! The lower bound for `flows`, measured instead of estimated by hand: the capture is
//! split into byte ranges, one thread per range walks its records
//! ([`CaptureReader::from_range`]), decodes every frame with the project's [`Decoder`] and
//! counts packets per order-independent 5-tuple in its own hash map; the maps are merged at the
//! end. No flow state, DNS, naming or output: what any `flows` run must at least do.
//!
//! Each range has its own decoder, so an IP fragment whose pieces fall into two ranges is not
//! reassembled (the sequential walk would reassemble it): the 5-tuple counts can then differ
//! from a sequential walk's, the packet counts cannot.

use netforensic_core::capture::{CaptureReader, CaptureSource};
use netforensic_core::decode::{Decoded, Decoder, Packet, Transport};
use netforensic_core::Error;
use std::collections::HashMap;
use std::net::IpAddr;

/// An order-independent 5-tuple: the two endpoints sorted, so both directions of a
/// conversation are one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tuple {
    pub low: (IpAddr, u16),
    pub high: (IpAddr, u16),
    pub protocol: u8,
}

impl Tuple {
    pub fn of(packet: &Packet<'_>) -> Self {
        let (protocol, src_port, dst_port) = match packet.transport {
            Transport::Tcp {
                src_port, dst_port, ..
            } => (6, src_port, dst_port),
            Transport::Udp {
                src_port, dst_port, ..
            } => (17, src_port, dst_port),
            Transport::Icmp { v6, .. } => (if v6 { 58 } else { 1 }, 0, 0),
            Transport::Other { protocol } => (protocol, 0, 0),
        };
        let a = (packet.src, src_port);
        let b = (packet.dst, dst_port);
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        Tuple {
            low,
            high,
            protocol,
        }
    }
}

/// Packets per 5-tuple. ahash with random keys, as the flow table uses.
pub type TupleMap = HashMap<Tuple, u64, ahash::RandomState>;

/// What a walk counted.
#[derive(Debug, Default)]
pub struct Walk {
    /// Packet records read (what `netforensic info` reports as packets).
    pub packets: u64,
    /// Records that decoded to an IP packet with a 5-tuple.
    pub decoded: u64,
    pub tuples: TupleMap,
}

impl Walk {
    fn merge(&mut self, other: Walk) {
        self.packets += other.packets;
        self.decoded += other.decoded;
        if other.tuples.len() > self.tuples.len() {
            // Insert the smaller map into the larger one.
            let smaller = std::mem::replace(&mut self.tuples, other.tuples);
            add(&mut self.tuples, smaller);
        } else {
            add(&mut self.tuples, other.tuples);
        }
    }
}

fn add(into: &mut TupleMap, from: TupleMap) {
    for (tuple, n) in from {
        *into.entry(tuple).or_insert(0) += n;
    }
}

/// Walk one reader to its end, decoding and counting.
fn walk(mut reader: CaptureReader) -> Walk {
    let mut decoder = Decoder::new();
    let mut counts = Walk::default();
    while let Some(frame) = reader.next_frame() {
        counts.packets += 1;
        if let Decoded::Packet(packet) = decoder.decode(frame.link_type, frame.ts, frame.data) {
            counts.decoded += 1;
            *counts.tuples.entry(Tuple::of(&packet)).or_insert(0) += 1;
        }
    }
    counts
}

/// The whole capture on the calling thread with the ordinary sequential reader (the
/// reference the ranges are checked against).
pub fn walk_sequential(source: CaptureSource) -> Result<Walk, Error> {
    Ok(walk(CaptureReader::from_source(source)?))
}

/// `len` bytes split into `parts` adjacent ranges of (nearly) equal size.
pub fn split(len: u64, parts: usize) -> Vec<std::ops::Range<u64>> {
    let parts = parts.max(1) as u64;
    let at = |i: u64| (len as u128 * i as u128 / parts as u128) as u64;
    (0..parts).map(|i| at(i)..at(i + 1)).collect()
}

/// The capture of `len` bytes split into `threads` byte ranges, each walked on its own thread,
/// the per-thread maps merged. `source` is called once per range: for a file, each range
/// reader maps it (the same page-cache pages; a map costs microseconds).
pub fn walk_ranges(
    source: &(dyn Fn() -> CaptureSource + Sync),
    len: u64,
    threads: usize,
) -> Result<Walk, Error> {
    let results: Vec<Result<Walk, Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = split(len, threads)
            .into_iter()
            .map(|range| scope.spawn(move || Ok(walk(CaptureReader::from_range(source(), range)?))))
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    let mut total = Walk::default();
    for result in results {
        total.merge(result?);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn ranges_are_adjacent_and_cover_the_input() {
        for (len, parts) in [(0, 1), (10, 3), (1 << 30, 2), (7, 8)] {
            let ranges = split(len, parts);
            assert_eq!(ranges.len(), parts);
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[parts - 1].end, len);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
