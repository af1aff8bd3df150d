//! The bytes behind a reader, seen as a window that starts at an absolute offset: the whole
//! input for a mapped file or in-memory bytes, a bounded refilled buffer for a stream.

use super::limits::{STREAM_BUFFER_MAX, STREAM_CHUNK};
use super::read_ahead::ReadAhead;
use std::io::Read;
use std::sync::Arc;

/// gzip's magic number: such input is decompressed as a stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

enum Bytes {
    Empty,
    /// A mapped file or bytes in memory.
    Whole(SharedInput),
    Stream {
        reader: Box<dyn Read + Send>,
        /// Shared with the packets handed to shard workers, which borrow their bytes from it
        /// ([`StreamChunk`]): written only while nobody else holds it, else the window moves
        /// to another buffer.
        buf: StreamChunk,
        /// Valid bytes in `buf`.
        len: usize,
        /// Buffers left while still held elsewhere, reused once their last holder lets go.
        spare: Vec<StreamChunk>,
    },
}

/// Buffers of a stream kept for reuse (each [`STREAM_CHUNK`] bytes): about what the shard
/// workers' batches hold at once, so a fresh buffer (zeroed, page-faulted in) is rare.
const SPARE_BUFFERS: usize = 24;

/// A stream's buffer, shared: packets whose bytes lie in it cross to other threads holding
/// it, instead of being copied (see `analysis::pipeline`).
#[derive(Clone)]
pub(crate) struct StreamChunk(Arc<Vec<u8>>);

impl StreamChunk {
    fn zeroed(len: usize) -> Self {
        StreamChunk(Arc::new(vec![0; len]))
    }

    /// A buffer holding `bytes` (tests of the code that hands packets over).
    #[cfg(test)]
    pub(crate) fn holding(bytes: Vec<u8>) -> Self {
        StreamChunk(Arc::new(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn same(&self, other: &StreamChunk) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

pub(crate) struct Input {
    bytes: Bytes,
    /// Absolute offset of the window's first byte.
    base: u64,
    /// Cache lines up to this absolute offset were requested ([`Input::prefetch_ahead`]).
    prefetched: u64,
    /// A stream has reported its end (or failed).
    eof: bool,
    /// A read error that ended a stream early.
    pub(crate) read_error: Option<String>,
}

impl Input {
    pub(crate) fn empty() -> Self {
        Self::whole(Bytes::Empty)
    }

    pub(crate) fn mapped(map: memmap2::Mmap) -> Self {
        Self::whole(Bytes::Whole(SharedInput(Held::Map(Arc::new(map)))))
    }

    pub(crate) fn in_memory(bytes: Arc<[u8]>) -> Self {
        Self::whole(Bytes::Whole(SharedInput::in_memory(bytes)))
    }

    fn whole(bytes: Bytes) -> Self {
        Input {
            bytes,
            base: 0,
            prefetched: 0,
            eof: true,
            read_error: None,
        }
    }

    /// A stream whose reading is real work (decompression), done a few chunks ahead on a
    /// thread of its own ([`ReadAhead`]) so that it runs beside the walk and decode. Plain
    /// streams are not: a `read` is only a copy, and a second copy through another thread
    /// made standard input slower (1 GB, 2 threads: 0.57 s against 0.54 s, 1 thread 0.2 s
    /// more CPU), where gzip gained (0.76 s against 0.82 s).
    pub(crate) fn stream_read_ahead(reader: Box<dyn Read + Send>) -> Self {
        match ReadAhead::start(reader) {
            Ok(ahead) => Self::stream(Box::new(ahead)),
            Err(reader) => Self::stream(reader),
        }
    }

    pub(crate) fn stream(reader: Box<dyn Read + Send>) -> Self {
        Input {
            bytes: Bytes::Stream {
                reader,
                buf: StreamChunk::zeroed(0),
                len: 0,
                spare: Vec::new(),
            },
            base: 0,
            prefetched: 0,
            eof: false,
            read_error: None,
        }
    }

    /// The underlying stream (after its held bytes were taken), to wrap it in a decoder.
    pub(crate) fn into_reader(self) -> Box<dyn Read + Send> {
        match self.bytes {
            Bytes::Stream { reader, .. } => reader,
            _ => Box::new(std::io::empty()),
        }
    }

    /// The whole input when it is held at once (a mapped file, bytes in memory): frames are
    /// slices of it, so they can be handed to other threads by position instead of copied.
    pub(crate) fn shared(&self) -> Option<SharedInput> {
        match &self.bytes {
            Bytes::Whole(input) => Some(input.clone()),
            _ => None,
        }
    }

    /// The bytes currently held, starting at [`Input::base`].
    pub(crate) fn window(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Empty => &[],
            Bytes::Whole(input) => input.bytes(),
            Bytes::Stream { buf, len, .. } => buf.bytes().get(..*len).unwrap_or_default(),
        }
    }

    /// The buffer of a stream, which the window's bytes are in.
    pub(crate) fn stream_chunk(&self) -> Option<&StreamChunk> {
        match &self.bytes {
            Bytes::Stream { buf, .. } => Some(buf),
            _ => None,
        }
    }

    pub(crate) fn base(&self) -> u64 {
        self.base
    }

    /// The window reaches the end of the input.
    pub(crate) fn is_complete(&self) -> bool {
        self.eof
    }

    /// Absolute offset just past the last byte held.
    pub(crate) fn end(&self) -> u64 {
        self.base + self.window().len() as u64
    }

    /// Walking records is bound by memory latency: each record header is a cache miss, in a
    /// mapped file even with the kernel's read-ahead, and in a stream's buffer too (the
    /// kernel copies large reads past the cache: a pcapng block's trailing length took half
    /// the walk's samples on standard input). Request every cache line a distance ahead of
    /// the reader. Cheap to call per record.
    #[inline]
    pub(crate) fn prefetch_ahead(&mut self, at: u64) {
        // Every cache line between the last one requested and `at`'s, a distance ahead
        // (none past the bytes held).
        let until = at.saturating_add(PREFETCH_DISTANCE);
        match &self.bytes {
            Bytes::Whole(input) => {
                let map = input.bytes();
                let mut line = self.prefetched.max(at) & !63;
                let in_map = until.min(map.len() as u64);
                while line < in_map {
                    // `line < map.len()`: the address is inside the map.
                    prefetch(map.as_ptr().wrapping_add(line as usize));
                    line += 64;
                }
                self.prefetched = line.max(until.next_multiple_of(64));
            }
            Bytes::Stream { buf, len, .. } => {
                // As offsets in the buffer; bytes past the ones held come with a later
                // refill, and are requested then.
                let start = self.base;
                let mut line = (self.prefetched.max(at) & !63).max(start) - start;
                let held_until = until.min(start + *len as u64).saturating_sub(start);
                while line < held_until {
                    // `line < len`: the address is inside the buffer.
                    prefetch(buf.bytes().as_ptr().wrapping_add(line as usize));
                    line += 64;
                }
                self.prefetched = start + line;
            }
            Bytes::Empty => {}
        }
    }

    /// The `len` bytes at absolute offset `at`, if held.
    #[inline]
    pub(crate) fn slice(&self, at: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(at.checked_sub(self.base)?).ok()?;
        self.window().get(start..start.checked_add(len)?)
    }

    /// Everything held from absolute offset `at` on.
    pub(crate) fn from(&self, at: u64) -> &[u8] {
        let start = at
            .checked_sub(self.base)
            .and_then(|s| usize::try_from(s).ok())
            .unwrap_or(usize::MAX);
        self.window().get(start..).unwrap_or_default()
    }

    /// Make `need` bytes from absolute offset `at` available if the input has them; returns
    /// how many bytes from `at` are held afterwards. A stream may drop everything before `at`.
    /// A refill reads until the buffer is full (or the stream ends): a buffer handed to other
    /// threads is not written again, so a partly filled one would be wasted.
    pub(crate) fn fill(&mut self, at: u64, need: usize) -> usize {
        let held = self.from(at).len();
        if held >= need || self.eof {
            return held;
        }
        let Bytes::Stream {
            reader,
            buf,
            len,
            spare,
        } = &mut self.bytes
        else {
            return held;
        };
        if at < self.base {
            return 0;
        }
        let need = need.min(STREAM_BUFFER_MAX);
        // A position past the bytes held: drop them and skip the stream forward.
        let held_end = self.base + *len as u64;
        if at > held_end {
            *len = 0;
            self.base = held_end;
            let skip = at - held_end;
            let skipped =
                std::io::copy(&mut reader.by_ref().take(skip), &mut std::io::sink()).unwrap_or(0);
            self.base += skipped;
            if skipped < skip {
                self.eof = true;
                return 0;
            }
        }
        let rel = usize::try_from(at - self.base)
            .unwrap_or(usize::MAX)
            .min(*len);
        let writable = Arc::get_mut(&mut buf.0).is_some();
        if !writable || rel.saturating_add(need) > buf.bytes().len() {
            // Move the bytes from `at` on to the start of a buffer that may be written and
            // holds the request: this one if nobody else holds it, else another.
            let want = need
                .max(STREAM_CHUNK)
                .next_multiple_of(STREAM_CHUNK)
                .min(STREAM_BUFFER_MAX);
            let kept = *len - rel;
            if let Some(own) = Arc::get_mut(&mut buf.0) {
                own.copy_within(rel..rel + kept, 0);
                if own.len() < want {
                    own.resize(want, 0);
                }
            } else {
                let free = spare
                    .iter()
                    .position(|b| Arc::strong_count(&b.0) == 1 && b.bytes().len() >= want);
                let mut fresh = match free {
                    Some(i) => spare.swap_remove(i),
                    None => StreamChunk::zeroed(want),
                };
                if let (Some(to), Some(from)) = (
                    Arc::get_mut(&mut fresh.0).and_then(|f| f.get_mut(..kept)),
                    buf.bytes().get(rel..rel + kept),
                ) {
                    to.copy_from_slice(from);
                }
                let left = std::mem::replace(buf, fresh);
                // Buffers grown for a huge record are not kept: spares stay SPARE_BUFFERS MiB.
                if spare.len() < SPARE_BUFFERS && left.bytes().len() == STREAM_CHUNK {
                    spare.push(left);
                }
            }
            *len = kept;
            self.base += rel as u64;
        }
        let rel = usize::try_from(at - self.base).unwrap_or(usize::MAX);
        let Some(own) = Arc::get_mut(&mut buf.0) else {
            return len.saturating_sub(rel);
        };
        while *len < own.len() {
            let Some(space) = own.get_mut(*len..) else {
                break;
            };
            match reader.read(space) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => *len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.read_error = Some(e.to_string());
                    self.eof = true;
                    break;
                }
            }
        }
        len.saturating_sub(rel)
    }
}

/// A whole input held in memory, shared between threads.
#[derive(Clone)]
pub struct SharedInput(Held);

#[derive(Clone)]
enum Held {
    Map(Arc<memmap2::Mmap>),
    Memory(Arc<[u8]>),
}

impl SharedInput {
    /// Bytes already in memory, shared.
    pub fn in_memory(bytes: Arc<[u8]>) -> Self {
        SharedInput(Held::Memory(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Held::Map(map) => map.as_ref(),
            Held::Memory(bytes) => bytes,
        }
    }

    /// A file mapped into memory (as opposed to bytes read into memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Held::Map(_))
    }

    /// Fill the page tables of `range` of a mapped file now, so that reading it later takes
    /// no page faults (the pages are read from disk if they are not cached): one byte is read
    /// per [`FAULT_AROUND`] bytes, since a read fault maps the whole aligned window around it
    /// (the kernel's fault-around; where the window is smaller, the reader's own faults map
    /// the rest, as without this). That is cheaper than asking for every page: 1 GB in the
    /// page cache took 0.059-0.063 s of CPU against 0.078-0.081 s with `MADV_POPULATE_READ`
    /// (median of 5, two runs). False for a range outside the input. Bytes already in memory
    /// need nothing.
    pub fn populate(&self, range: std::ops::Range<usize>) -> bool {
        let Held::Map(map) = &self.0 else {
            return true;
        };
        let Some(part) = map.get(range) else {
            return false;
        };
        let touched = part
            .iter()
            .step_by(FAULT_AROUND)
            .chain(part.last())
            .fold(0u8, |acc, &byte| acc ^ byte);
        // The reads are the point: keep the compiler from dropping them.
        std::hint::black_box(touched);
        true
    }
}

/// The window a read fault of a mapped file maps at once (Linux `fault_around_bytes`, 64 KiB
/// unless changed by the administrator).
const FAULT_AROUND: usize = 64 << 10;

impl SharedInput {
    /// Drop the page-table entries of `range` of a mapped file (`MADV_DONTNEED`): the pages
    /// stay in the page cache, the map stays valid, and a later read of the range faults them
    /// in again with the same bytes. Tearing the tables down as the reading goes (instead of
    /// all at once when the map is dropped) keeps the process's resident size near what is
    /// being read, not the whole file. False when nothing was done (bytes in memory, a range
    /// outside the map, other systems).
    #[allow(unsafe_code)]
    pub fn release(&self, range: std::ops::Range<usize>) -> bool {
        match &self.0 {
            #[cfg(unix)]
            Held::Map(map) => {
                range.end <= map.len()
                    && range.start < range.end
                    // SAFETY: the map is read-only and backed by a file (memmap2's `Mmap`), so
                    // `MADV_DONTNEED` discards no data: it only unmaps pages that the next read
                    // maps again from the page cache (or the file). Every slice of the map
                    // stays valid and reads the same bytes.
                    && unsafe {
                        map.unchecked_advise_range(
                            memmap2::UncheckedAdvice::DontNeed,
                            range.start,
                            range.len(),
                        )
                    }
                    .is_ok()
            }
            _ => {
                let _ = range;
                false
            }
        }
    }
}

/// How far ahead of the record being read its successors' cache lines are requested (bytes).
const PREFETCH_DISTANCE: u64 = 2048;

/// Ask the CPU to bring the cache line at `address` closer (see [`Input::prefetch_ahead`]).
/// Takes an address, not a slice: the caller's loop then needs no bounds check per line.
#[allow(unsafe_code)]
fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and never changes memory, whatever the
    // address (here one inside the live map). SSE is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most 3 bytes per call, to exercise refills.
    struct Trickle(std::io::Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(3);
            self.0.read(&mut out[..n])
        }
    }

    #[test]
    fn stream_window_refills_and_slides() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3 * STREAM_CHUNK).collect();
        let mut input = Input::stream(Box::new(Trickle(std::io::Cursor::new(data.clone()))));
        assert!(input.fill(0, 10) >= 10);
        assert_eq!(input.slice(5, 3), Some(&data[5..8]));
        let at = 2 * STREAM_CHUNK as u64 + 7;
        assert!(input.fill(at, 100) >= 100);
        assert_eq!(
            input.slice(at, 100),
            Some(&data[at as usize..at as usize + 100])
        );
        let end = data.len() as u64 - 4;
        assert_eq!(input.fill(end, 100), 4);
        assert!(input.is_complete());
        assert_eq!(input.end(), data.len() as u64);
    }

    /// A buffer held elsewhere (by packets handed to a shard) is never written again: the
    /// window moves to another buffer, and buffers let go of are reused.
    #[test]
    fn a_held_stream_buffer_is_left_as_it_is() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5 * STREAM_CHUNK + 123).collect();
        let mut input = Input::stream(Box::new(Trickle(std::io::Cursor::new(data.clone()))));
        assert_eq!(
            input.fill(0, 10),
            STREAM_CHUNK,
            "a refill reads until the buffer is full"
        );
        let held = input
            .stream_chunk()
            .cloned()
            .expect("a stream has a buffer");
        let before = held.bytes().to_vec();
        // A record straddling the buffer's end: its first bytes move with it.
        let at = STREAM_CHUNK as u64 - 5;
        assert!(input.fill(at, 20) >= 20);
        assert_eq!(
            input.slice(at, 20),
            Some(&data[at as usize..at as usize + 20])
        );
        let second = input.stream_chunk().cloned().expect("a buffer");
        assert!(!second.same(&held));
        assert_eq!(held.bytes(), &before[..]);
        // Nothing holds either buffer now: the current one slides in place, the first waits
        // as a spare.
        drop(held);
        drop(second);
        let at = input.end() - 3;
        assert!(input.fill(at, 10) >= 10);
        assert_eq!(
            input.slice(at, 10),
            Some(&data[at as usize..at as usize + 10])
        );
        let Bytes::Stream { spare, .. } = &input.bytes else {
            panic!("a stream")
        };
        assert_eq!(spare.len(), 1);
        // To the end, with every buffer held as a shard would hold it (the spare is reused).
        let mut kept = Vec::new();
        let mut at = input.end() - 1;
        while !input.is_complete() {
            kept.push(input.stream_chunk().cloned());
            input.fill(at, 2);
            at = input.end().saturating_sub(1);
        }
        assert_eq!(input.end(), data.len() as u64);
        assert_eq!(input.from(at), &data[at as usize..]);
    }

    /// A buffer grown for a record larger than a chunk is let go, not kept as a spare: spares
    /// stay one chunk each however large the records of a hostile stream are.
    #[test]
    fn buffers_grown_for_huge_records_are_not_kept() {
        let data: Vec<u8> = (0..=255u8).cycle().take(8 * STREAM_CHUNK).collect();
        let mut input = Input::stream(Box::new(std::io::Cursor::new(data.clone())));
        input.fill(0, 10);
        let mut held = vec![input.stream_chunk().cloned()];
        // A 3-chunk record: the window moves to a buffer of 3 chunks.
        let at = STREAM_CHUNK as u64 - 1;
        assert!(input.fill(at, 3 * STREAM_CHUNK) >= 3 * STREAM_CHUNK);
        assert_eq!(
            input.slice(at, 8),
            Some(&data[at as usize..at as usize + 8])
        );
        held.push(input.stream_chunk().cloned());
        let at = input.end() - 1;
        input.fill(at, 10);
        let Bytes::Stream { spare, .. } = &input.bytes else {
            panic!("a stream")
        };
        assert_eq!(spare.len(), 1);
        assert!(spare.iter().all(|b| b.bytes().len() == STREAM_CHUNK));
        assert_eq!(
            input.slice(at, 10),
            Some(&data[at as usize..at as usize + 10])
        );
    }
}
