//! Page tables of a mapped capture filled ahead of the reader, on a thread of its own.
//!
//! Reading a mapped file faults its pages in as the walk reaches them: about 17,500 faults per
//! GB (the kernel maps 16 pages per fault), all taken by the one reading thread, which is the
//! busiest of a run on shard workers. Filling the page tables from another thread
//! (`MADV_POPULATE_READ`) costs the same kernel work, but off that thread, on a core the shard
//! workers leave idle part of the time. It only changes when pages are mapped, never what is
//! read.

use crate::capture::SharedInput;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Bytes filled per call: large enough that the call overhead is nothing, small enough to stay
/// close to the reader at its start.
const CHUNK: usize = 4 << 20;
/// How far ahead of the reader the tables are filled: bounded, so that on a file larger than
/// memory (not cached: populating reads it from disk) the pages filled are still cached when
/// the reader gets there.
const LEAD: u64 = 256 << 20;
/// How long to wait when the lead is reached.
const PAUSE: Duration = Duration::from_millis(1);

/// Fill `input`'s page tables from the start, at most [`LEAD`] bytes past `read_position`
/// (the reader's offset, published as it goes), until the end or until `stop` is set. Gives
/// up at the first failure (a kernel without `MADV_POPULATE_READ`): the reader's own faults
/// then do the work, as without this.
pub(crate) fn populate_ahead(input: &SharedInput, read_position: &AtomicU64, stop: &AtomicBool) {
    let len = input.bytes().len();
    let mut at = 0usize;
    while at < len && !stop.load(Ordering::Relaxed) {
        if at as u64 > read_position.load(Ordering::Relaxed).saturating_add(LEAD) {
            std::thread::sleep(PAUSE);
            continue;
        }
        let end = at.saturating_add(CHUNK).min(len);
        if !input.populate(at..end) {
            return;
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;
    use std::io::Write;

    /// A pcap file (Ethernet) with at least `body` bytes of 1000-byte records.
    fn mapped_capture(body: usize) -> (std::path::PathBuf, SharedInput) {
        let path = std::env::temp_dir().join(format!(
            "netforensic-populate-{}-{body}.pcap",
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
        let (path, input) = mapped_capture(3 * CHUNK + 5);
        assert!(input.is_mapped());
        // (Whether filling works depends on the kernel: 5.14 or later.)
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
    fn bytes_in_memory_need_nothing() {
        let input = SharedInput::in_memory(vec![1u8; 100].into());
        assert!(!input.is_mapped());
        assert!(input.populate(0..100));
        populate_ahead(&input, &AtomicU64::new(0), &AtomicBool::new(false));
    }
}
