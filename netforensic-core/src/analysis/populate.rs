//! Page tables of a mapped capture filled ahead of the reader and released behind it, on a
//! thread of its own.
//!
//! Reading a mapped file faults its pages in as the walk reaches them: about 17,500 faults per
//! GB (the kernel maps 16 pages per fault), all taken by the one reading thread, which is the
//! busiest of a run on shard workers. Filling the page tables from another thread (one read
//! per fault-around window, [`SharedInput::populate`]) costs the same kernel work, but off
//! that thread. Behind the reader the same thread drops the tables
//! again (`MADV_DONTNEED`): the resident size then follows the part of the file being read,
//! not the whole file, and unmapping at the end has little left to tear down (1 GB took ~40
//! ms of one core at the very end of a run). Neither changes what is read: a page released
//! too early (a shard still behind) is faulted in again with the same bytes.

use crate::capture::SharedInput;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Bytes filled or released per call: large enough that the call overhead (and the TLB
/// flush a release sends to the other cores) is nothing, small enough to stay close to the
/// reader.
const CHUNK: usize = 4 << 20;
/// How far ahead of the reader the tables are filled: bounded, so that on a file larger than
/// memory (not cached: populating reads it from disk) the pages filled are still cached when
/// the reader gets there.
const LEAD: u64 = 128 << 20;
/// How far behind the reader the tables are released: the shard workers read payloads from
/// the map a little after the reader (at most 16 batches of 2,048 packets queued per worker,
/// ~25 MB each on a typical capture).
const TRAIL: u64 = 128 << 20;
/// How long to wait when the lead is reached.
const PAUSE: Duration = Duration::from_millis(1);

/// Fill `input`'s page tables from the start, at most [`LEAD`] bytes past `read_position`
/// (the reader's offset, published as it goes), and release them [`TRAIL`] bytes behind it,
/// until the end or until `stop` is set.
pub(crate) fn populate_ahead(input: &SharedInput, read_position: &AtomicU64, stop: &AtomicBool) {
    let len = input.bytes().len();
    let mut at = 0usize;
    let mut behind = ReleaseBehind::default();
    while !stop.load(Ordering::Relaxed) {
        let read = read_position.load(Ordering::Relaxed);
        behind.advance(input, read);
        if at >= len || at as u64 > read.saturating_add(LEAD) {
            if at >= len && behind.done(len) {
                return;
            }
            std::thread::sleep(PAUSE);
            continue;
        }
        let end = at.saturating_add(CHUNK).min(len);
        // `at..end` lies inside the input: filling it cannot fail.
        input.populate(at..end);
        at = end;
    }
}

/// Releases a mapped input's page tables [`TRAIL`] bytes behind the reader, a [`CHUNK`] at a
/// time (also used without a filling thread: a one-thread run calls it as it reads).
#[derive(Default)]
pub(crate) struct ReleaseBehind {
    /// Released up to here.
    released: usize,
}

impl ReleaseBehind {
    /// The reader is at offset `read`: release what lies far enough behind it.
    pub fn advance(&mut self, input: &SharedInput, read: u64) {
        let len = input.bytes().len();
        let behind = usize::try_from(read.saturating_sub(TRAIL))
            .unwrap_or(len)
            .min(len);
        if behind >= self.released.saturating_add(CHUNK) {
            let end = behind - behind % CHUNK;
            if input.release(self.released..end) {
                self.released = end;
            }
        }
    }

    /// Everything that will ever be released of an input of `len` bytes was.
    fn done(&self, len: usize) -> bool {
        self.released >= len.saturating_sub(TRAIL as usize + CHUNK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;
    use std::io::Write;

    /// A pcap file (Ethernet) with at least `body` bytes of 1000-byte records.
    fn mapped_capture(tag: &str, body: usize) -> (std::path::PathBuf, SharedInput) {
        let path = std::env::temp_dir().join(format!(
            "netforensic-populate-{tag}-{}-{body}.pcap",
            std::process::id()
        ));
        let mut file = std::fs::File::create(&path).unwrap();
        let mut header = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&65535u32.to_le_bytes());
        header.extend_from_slice(&1u32.to_le_bytes());
        file.write_all(&header).unwrap();
        let mut record = Vec::new();
        for field in [1u32, 0, 1000, 1000] {
            record.extend_from_slice(&field.to_le_bytes());
        }
        record.resize(16 + 1000, 0);
        for _ in 0..body.div_ceil(record.len()) {
            file.write_all(&record).unwrap();
        }
        drop(file);
        let input = CaptureReader::open(&path)
            .unwrap()
            .shared_input()
            .expect("a file is mapped");
        (path, input)
    }

    #[test]
    fn fills_a_mapped_file_and_stops_when_told() {
        let (path, input) = mapped_capture("fill", 3 * CHUNK + 5);
        assert!(input.is_mapped());
        assert!(!input.populate(0..input.bytes().len() + 1), "past the end");
        // The reader far ahead: the whole file is filled, then the call returns.
        populate_ahead(
            &input,
            &AtomicU64::new(u64::MAX / 2),
            &AtomicBool::new(false),
        );
        // Stopped: returns at once, whatever the reader's position.
        populate_ahead(&input, &AtomicU64::new(0), &AtomicBool::new(true));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn released_pages_read_the_same_bytes() {
        let (path, input) = mapped_capture("release", 3 * CHUNK + 5);
        let expected = std::fs::read(&path).unwrap();
        let sum = |bytes: &[u8]| bytes.iter().map(|&b| u64::from(b)).sum::<u64>();
        assert_eq!(sum(input.bytes()), sum(&expected));
        // The reader far past the end: everything filled, then released behind it.
        populate_ahead(
            &input,
            &AtomicU64::new(u64::MAX / 2),
            &AtomicBool::new(false),
        );
        assert!(input.release(0..input.bytes().len()));
        assert!(!input.release(0..input.bytes().len() + 1), "past the end");
        assert_eq!(input.bytes(), &expected[..]);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn releases_whole_chunks_a_trail_behind_the_reader() {
        // Sparse past the first records: no disk, and only the pages read are ever cached.
        let (path, input) = mapped_capture("trail", 4096);
        let len = TRAIL as usize + 3 * CHUNK + 5;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len as u64)
            .unwrap();
        let input = {
            drop(input);
            CaptureReader::open(&path).unwrap().shared_input().unwrap()
        };
        assert_eq!(input.bytes().len(), len);
        let head = input.bytes()[..64].to_vec();
        let mut behind = ReleaseBehind::default();
        let trail = TRAIL + CHUNK as u64;
        behind.advance(&input, trail - 1);
        assert_eq!(behind.released, 0, "less than a chunk behind the trail");
        behind.advance(&input, trail + 10);
        assert_eq!(behind.released, CHUNK);
        behind.advance(&input, trail + CHUNK as u64 - 1);
        assert_eq!(behind.released, CHUNK, "whole chunks only");
        assert!(!behind.done(len));
        behind.advance(&input, u64::MAX);
        assert_eq!(behind.released, len - len % CHUNK);
        assert!(behind.done(len));
        // Released pages read the same bytes again.
        assert_eq!(&input.bytes()[..64], &head[..]);
        assert_eq!(input.bytes()[len - 1], 0);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn bytes_in_memory_need_nothing() {
        let input = SharedInput::in_memory(vec![1u8; 100].into());
        assert!(!input.is_mapped());
        assert!(input.populate(0..100));
        assert!(!input.release(0..100), "nothing to release");
        populate_ahead(&input, &AtomicU64::new(0), &AtomicBool::new(false));
    }
}
