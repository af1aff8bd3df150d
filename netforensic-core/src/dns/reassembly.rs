//! A bounded, in-order view of one direction of a TCP connection's payload, for protocol readers
//! that need whole messages (DNS over TCP, TLS ClientHello). Out-of-order segments wait in a
//! small bounded list; retransmitted bytes are skipped; anything over the bounds is dropped and
//! reported so the caller can count it.

/// Out-of-order segments held at most per direction.
const MAX_PENDING_SEGMENTS: usize = 32;

/// What happened to a pushed segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Accepted (appended, queued, or a harmless retransmission).
    Accepted,
    /// Dropped because a bound was reached: the stream now has a hole.
    Overflow,
}

/// One direction of a TCP stream, reassembled up to `limit` bytes of unconsumed data.
#[derive(Debug)]
pub struct Reassembler {
    next_seq: Option<u32>,
    data: Vec<u8>,
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    limit: usize,
}

impl Reassembler {
    /// `limit` bounds both the contiguous buffer and the bytes held out of order.
    pub fn new(limit: usize) -> Self {
        Reassembler {
            next_seq: None,
            data: Vec::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            limit,
        }
    }

    /// Offer a segment starting at sequence number `seq`. The first segment seen fixes the start.
    pub fn push(&mut self, seq: u32, payload: &[u8]) -> Push {
        if payload.is_empty() {
            return Push::Accepted;
        }
        let next = *self.next_seq.get_or_insert(seq);
        // Signed distance on the 32-bit sequence circle (RFC 793 arithmetic).
        let offset = seq.wrapping_sub(next) as i32;
        if offset > 0 {
            if self.pending.len() >= MAX_PENDING_SEGMENTS
                || self.pending_bytes.saturating_add(payload.len()) > self.limit
            {
                return Push::Overflow;
            }
            self.pending_bytes += payload.len();
            self.pending.push((seq, payload.to_vec()));
            return Push::Accepted;
        }
        let result = self.append_at(offset, payload);
        if result == Push::Overflow {
            return result;
        }
        self.drain_pending()
    }

    /// Append `payload` which starts `offset` (<= 0) bytes relative to the next expected byte.
    fn append_at(&mut self, offset: i32, payload: &[u8]) -> Push {
        let skip = offset.unsigned_abs() as usize;
        let Some(fresh) = payload.get(skip..) else {
            return Push::Accepted; // entirely retransmitted
        };
        if fresh.is_empty() {
            return Push::Accepted;
        }
        if self.data.len().saturating_add(fresh.len()) > self.limit {
            return Push::Overflow;
        }
        self.data.extend_from_slice(fresh);
        if let Some(next) = self.next_seq.as_mut() {
            *next = next.wrapping_add(fresh.len() as u32);
        }
        Push::Accepted
    }

    fn drain_pending(&mut self) -> Push {
        let mut result = Push::Accepted;
        loop {
            let Some(next) = self.next_seq else {
                return result;
            };
            let Some(index) = self
                .pending
                .iter()
                .position(|(seq, _)| seq.wrapping_sub(next) as i32 <= 0)
            else {
                return result;
            };
            let (seq, segment) = self.pending.swap_remove(index);
            self.pending_bytes = self.pending_bytes.saturating_sub(segment.len());
            if self.append_at(seq.wrapping_sub(next) as i32, &segment) == Push::Overflow {
                result = Push::Overflow;
            }
        }
    }

    /// Contiguous bytes not yet consumed.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Forget the first `n` bytes of [`Self::data`].
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.data.len());
        self.data.drain(..n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_and_retransmission() {
        let mut r = Reassembler::new(100);
        assert_eq!(r.push(1000, b"abc"), Push::Accepted);
        assert_eq!(r.push(1006, b"ghi"), Push::Accepted); // early
        assert_eq!(r.data(), b"abc");
        assert_eq!(r.push(1001, b"bcdef"), Push::Accepted); // overlapping retransmission
        assert_eq!(r.data(), b"abcdefghi");
        assert_eq!(r.push(1000, b"abc"), Push::Accepted); // old retransmission
        r.consume(4);
        assert_eq!(r.data(), b"efghi");
    }

    #[test]
    fn sequence_wraps_around() {
        let mut r = Reassembler::new(100);
        r.push(u32::MAX - 1, b"ab");
        r.push(0, b"cd");
        assert_eq!(r.data(), b"abcd");
    }

    #[test]
    fn bounds_are_reported() {
        let mut r = Reassembler::new(4);
        assert_eq!(r.push(0, b"abcdef"), Push::Overflow);
        assert_eq!(r.push(0, b"abcd"), Push::Accepted);
        assert_eq!(r.push(4, b"e"), Push::Overflow);
        let mut r = Reassembler::new(1000);
        r.push(0, b"a");
        for i in 0..MAX_PENDING_SEGMENTS as u32 {
            assert_eq!(r.push(10 + i * 2, b"x"), Push::Accepted);
        }
        assert_eq!(r.push(500, b"y"), Push::Overflow);
    }
}
