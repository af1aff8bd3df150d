//! IPv4 and IPv6 fragment reassembly, bounded: a fixed number of datagrams in flight (the
//! oldest is evicted beyond it), 65535 bytes per datagram, a bounded number of disjoint pieces,
//! and a timeout on the capture's clock. Overlapping data keeps the bytes that arrived first
//! (later copies are ignored, never mixed in). Every fragment that does not end in a datagram
//! is counted as dropped.

use super::ip::{FragmentInfo, IpPacket};
use crate::time::Timestamp;
use std::net::IpAddr;

/// Datagrams reassembled at the same time. Real traffic has a handful; the bound caps memory
/// at about 16 MiB (256 x 64 KiB) even when an attacker opens datagrams without finishing them.
pub const MAX_DATAGRAMS_IN_FLIGHT: usize = 256;
/// The largest IP datagram (the 16-bit length fields): anything reaching beyond is an attack.
pub const MAX_DATAGRAM_LEN: u32 = 65_535;
/// Capture-time seconds a datagram may wait for its missing fragments (Linux and Zeek's
/// defaults are 30-60 s).
pub const FRAGMENT_TIMEOUT: i64 = 30 * Timestamp::NANOS_PER_SEC;
/// Disjoint received ranges per datagram: in-order fragments merge into one, so this only
/// limits hostile confetti of tiny out-of-order fragments.
const MAX_PIECES_PER_DATAGRAM: usize = 64;

/// Fragments belong together when these match (RFC 791 / RFC 8200).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FragmentKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4 only (IPv6 fragments of one datagram all name the same next header anyway).
    protocol: u8,
}

/// Header facts taken from the first fragment (offset 0).
#[derive(Clone, Copy, Debug)]
struct FirstFragment {
    ttl: u8,
    protocol: u8,
    unfragmentable_len: u32,
}

struct Pending {
    key: FragmentKey,
    first_seen: Timestamp,
    data: Vec<u8>,
    /// Sorted, merged, non-overlapping `[start, end)` ranges received.
    covered: Vec<(u32, u32)>,
    /// Payload length, known once the last fragment (MF = 0) arrived.
    total: Option<u32>,
    first: Option<FirstFragment>,
    fragments: u64,
}

/// A reassembled datagram, borrowed from the reassembler until its next call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reassembled<'a> {
    pub payload: &'a [u8],
    pub protocol: u8,
    pub ttl: u8,
    /// Length of the whole datagram as its reassembled header would state it.
    pub ip_len: u32,
}

/// What became of a fragment.
#[derive(Debug)]
pub(crate) enum Outcome<'a> {
    /// Kept; its datagram is still incomplete.
    Held,
    /// It completed its datagram.
    Complete(Reassembled<'a>),
    /// Rejected: it reaches past 65535 bytes or contradicts the datagram's length.
    Rejected,
}

#[derive(Default)]
pub(crate) struct Reassembler {
    pending: Vec<Pending>,
    /// The last completed datagram's payload (the returned packet borrows it).
    completed: Vec<u8>,
    /// Fragments dropped (evicted, timed out, rejected) not yet reported to the caller.
    dropped: u64,
}

impl Reassembler {
    /// Datagrams waiting for fragments.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Add one fragment seen at `ts`. Also returns how many fragments were dropped on the way
    /// (this one if rejected, and those of datagrams evicted or timed out).
    pub(crate) fn add(
        &mut self,
        ts: Timestamp,
        ip: &IpPacket<'_>,
        info: FragmentInfo,
    ) -> (Outcome<'_>, u64) {
        self.expire(ts);
        let key = FragmentKey {
            src: ip.src,
            dst: ip.dst,
            id: info.id,
            protocol: if ip.src.is_ipv4() { ip.protocol } else { 0 },
        };
        let claimed_end = info.offset.saturating_add(ip.payload_len);
        let captured = ip
            .payload
            .get(..ip.payload_len as usize)
            .unwrap_or(ip.payload);
        let captured_end = info.offset.saturating_add(captured.len() as u32);
        if claimed_end > MAX_DATAGRAM_LEN {
            self.dropped += 1;
            return (Outcome::Rejected, std::mem::take(&mut self.dropped));
        }
        let index = match self.pending.iter().position(|p| p.key == key) {
            Some(index) => index,
            None => self.open(ts, key),
        };
        let Some(pending) = self.pending.get_mut(index) else {
            return (Outcome::Rejected, std::mem::take(&mut self.dropped));
        };
        if let (Some(total), false) = (pending.total, info.more) {
            if claimed_end != total {
                // A second "last" fragment that disagrees: keep the first one's word.
                self.dropped += 1;
                return (Outcome::Rejected, std::mem::take(&mut self.dropped));
            }
        }
        if !info.more {
            pending.total = Some(claimed_end);
            // Data received beyond the end (overlapping, inconsistent fragments) is cut, as
            // Wireshark does, rather than failing the datagram.
            pending.covered.retain_mut(|range| {
                range.1 = range.1.min(claimed_end);
                range.0 < range.1
            });
        }
        if info.offset == 0 {
            pending.first = Some(FirstFragment {
                ttl: ip.ttl,
                protocol: ip.protocol,
                unfragmentable_len: info.unfragmentable_len,
            });
        }
        pending.fragments += 1;
        let end = captured_end.min(pending.total.unwrap_or(MAX_DATAGRAM_LEN));
        copy_new_bytes(pending, info.offset, end, captured);
        if pending.covered.len() > MAX_PIECES_PER_DATAGRAM {
            let evicted = self.pending.swap_remove(index);
            self.dropped += evicted.fragments;
            return (Outcome::Held, std::mem::take(&mut self.dropped));
        }
        match (pending.total, pending.first, pending.covered.as_slice()) {
            (Some(total), Some(first), [(0, end)]) if *end == total => {
                let dropped = std::mem::take(&mut self.dropped);
                self.completed = self.pending.swap_remove(index).data;
                self.completed.truncate(total as usize);
                let datagram = Reassembled {
                    payload: &self.completed,
                    protocol: first.protocol,
                    ttl: first.ttl,
                    ip_len: first.unfragmentable_len.saturating_add(total),
                };
                (Outcome::Complete(datagram), dropped)
            }
            _ => (Outcome::Held, std::mem::take(&mut self.dropped)),
        }
    }

    /// Start a datagram, evicting the oldest when the table is full. Returns its index.
    fn open(&mut self, ts: Timestamp, key: FragmentKey) -> usize {
        if self.pending.len() >= MAX_DATAGRAMS_IN_FLIGHT {
            let oldest = self
                .pending
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| p.first_seen)
                .map(|(i, _)| i);
            if let Some(oldest) = oldest {
                let evicted = self.pending.swap_remove(oldest);
                self.dropped += evicted.fragments;
            }
        }
        self.pending.push(Pending {
            key,
            first_seen: ts,
            data: Vec::new(),
            covered: Vec::new(),
            total: None,
            first: None,
            fragments: 0,
        });
        self.pending.len() - 1
    }

    /// Drop datagrams that waited longer than the timeout (capture time).
    fn expire(&mut self, now: Timestamp) {
        let mut dropped = 0;
        self.pending.retain(|p| {
            let alive = now.nanos_since(p.first_seen) <= FRAGMENT_TIMEOUT;
            if !alive {
                dropped += p.fragments;
            }
            alive
        });
        self.dropped += dropped;
    }
}

/// Copy the parts of `[start, end)` not received before (first arrival wins), then record
/// the range as covered.
fn copy_new_bytes(pending: &mut Pending, start: u32, end: u32, bytes: &[u8]) {
    if end <= start {
        return;
    }
    if pending.data.len() < end as usize {
        pending.data.resize(end as usize, 0);
    }
    let mut cursor = start;
    let copy = |from: u32, to: u32, data: &mut Vec<u8>| {
        let source = bytes.get((from - start) as usize..(to - start) as usize);
        let target = data.get_mut(from as usize..to as usize);
        if let (Some(source), Some(target)) = (source, target) {
            target.copy_from_slice(source);
        }
    };
    for &(s, e) in &pending.covered {
        if e <= cursor {
            continue;
        }
        if s >= end {
            break;
        }
        if s > cursor {
            copy(cursor, s, &mut pending.data);
        }
        cursor = cursor.max(e);
    }
    if cursor < end {
        copy(cursor, end, &mut pending.data);
    }
    insert_range(&mut pending.covered, start, end);
}

/// Insert `[start, end)` into sorted merged ranges, merging touching and overlapping ones.
fn insert_range(ranges: &mut Vec<(u32, u32)>, start: u32, end: u32) {
    let at = ranges.partition_point(|&(s, _)| s < start);
    ranges.insert(at, (start, end));
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *ranges = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn piece(offset: u32, more: bool, data: &[u8]) -> (IpPacket<'_>, FragmentInfo) {
        let ip = IpPacket {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            ttl: 64,
            protocol: 17,
            ip_len: 20 + data.len() as u32,
            payload: data,
            payload_len: data.len() as u32,
            fragment: None,
        };
        let info = FragmentInfo {
            id: 9,
            offset,
            more,
            unfragmentable_len: 20,
        };
        (ip, info)
    }

    /// Add a fragment; the completed payload if any. Drops accumulate in `r.dropped`.
    fn add(
        r: &mut Reassembler,
        secs: i64,
        offset: u32,
        more: bool,
        data: &[u8],
    ) -> Option<Vec<u8>> {
        let (ip, info) = piece(offset, more, data);
        let (outcome, dropped) = r.add(Timestamp::from_secs_nanos(secs, 0), &ip, info);
        let result = match outcome {
            Outcome::Complete(d) => {
                assert_eq!(d.ip_len, 20 + d.payload.len() as u32);
                Some(d.payload.to_vec())
            }
            _ => None,
        };
        r.dropped += dropped;
        result
    }

    impl Reassembler {
        fn take_dropped(&mut self) -> u64 {
            std::mem::take(&mut self.dropped)
        }
    }

    fn add_raw(r: &mut Reassembler, ip: &IpPacket<'_>, info: FragmentInfo) -> bool {
        let (outcome, dropped) = r.add(Timestamp(0), ip, info);
        let held = matches!(outcome, Outcome::Held);
        r.dropped += dropped;
        held
    }

    #[test]
    fn in_order_and_out_of_order() {
        let mut r = Reassembler::default();
        assert_eq!(add(&mut r, 0, 0, true, &[1; 8]), None);
        assert_eq!(
            add(&mut r, 0, 8, false, &[2; 3]),
            Some(vec![1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2])
        );
        assert_eq!(r.in_flight(), 0);
        assert_eq!(add(&mut r, 0, 16, false, &[3; 2]), None);
        assert_eq!(add(&mut r, 0, 8, true, &[2; 8]), None);
        let d = add(&mut r, 0, 0, true, &[1; 8]).unwrap();
        assert_eq!(d.len(), 18);
        assert_eq!(r.take_dropped(), 0);
    }

    #[test]
    fn overlap_keeps_first_arrival() {
        let mut r = Reassembler::default();
        assert_eq!(add(&mut r, 0, 0, true, &[1; 16]), None);
        let d = add(&mut r, 0, 8, false, &[2; 16]).unwrap();
        assert_eq!(&d[..16], &[1; 16]);
        assert_eq!(&d[16..], &[2; 8]);
    }

    #[test]
    fn timeout_drops_the_datagram() {
        let mut r = Reassembler::default();
        assert_eq!(add(&mut r, 0, 0, true, &[1; 8]), None);
        assert_eq!(add(&mut r, 31, 8, false, &[2; 8]), None);
        assert_eq!(r.take_dropped(), 1);
        assert_eq!(r.in_flight(), 1);
    }

    #[test]
    fn oversize_and_inconsistent_are_rejected() {
        let mut r = Reassembler::default();
        let (ip, info) = piece(65_528, false, &[0; 16]);
        assert!(!add_raw(&mut r, &ip, info));
        assert_eq!(add(&mut r, 0, 16, false, &[1; 8]), None);
        // A fragment past the known end is cut to it, not fatal.
        let (ip, info) = piece(8, true, &[2; 24]);
        assert!(add_raw(&mut r, &ip, info));
        // A second, different last fragment is rejected; the datagram stays.
        let (ip, info) = piece(16, false, &[0; 16]);
        assert!(!add_raw(&mut r, &ip, info));
        assert_eq!(r.take_dropped(), 2);
        assert_eq!(r.in_flight(), 1);
        let d = add(&mut r, 0, 0, true, &[3; 8]).unwrap();
        assert_eq!(d, [[3; 8], [2; 8], [1; 8]].concat());
    }

    #[test]
    fn table_is_bounded() {
        let mut r = Reassembler::default();
        for id in 0..(MAX_DATAGRAMS_IN_FLIGHT as u32 + 10) {
            let (ip, mut info) = piece(0, true, &[0; 8]);
            info.id = id;
            assert!(add_raw(&mut r, &ip, info));
        }
        assert_eq!(r.in_flight(), MAX_DATAGRAMS_IN_FLIGHT);
        assert_eq!(r.take_dropped(), 10);
    }

    #[test]
    fn confetti_is_bounded() {
        let mut r = Reassembler::default();
        for i in 0..200u32 {
            add(&mut r, 0, i * 16, true, &[0; 8]);
        }
        assert!(r.in_flight() <= 1);
        assert!(r.take_dropped() > 0);
    }
}
