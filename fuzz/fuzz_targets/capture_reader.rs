//! Any bytes as a capture file (pcap, pcapng, garbage): the reader must frame what it can,
//! list damage inside the input, and never panic or loop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netforensic_core::capture::{CaptureReader, CaptureSource};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let source = CaptureSource::Bytes {
        name: "fuzz".into(),
        bytes: Arc::from(data),
    };
    let Ok(mut reader) = CaptureReader::from_source(source) else {
        return;
    };
    let mut frames = 0u64;
    while let Some(frame) = reader.next_frame() {
        assert!(
            frame.offset <= data.len() as u64,
            "frame offset past the input"
        );
        frames += 1;
    }
    let summary = reader.into_summary();
    for damage in &summary.damage {
        assert!(
            damage.offset.saturating_add(damage.length) <= data.len() as u64,
            "damage region past the input: {damage:?}"
        );
    }
    let _ = frames;
});
