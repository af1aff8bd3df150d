//! One frame of any link type through the decoder: the first two bytes pick the link type
//! (so every link-layer view is reached), the rest is the frame. Several frames share one
//! decoder so fragment and tunnel state is exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netforensic_core::capture::LinkType;
use netforensic_core::decode::Decoder;
use netforensic_core::Timestamp;

/// Link types worth reaching; the selector byte indexes this list, else is used raw.
const LINK_TYPES: [u32; 14] = [
    0, 1, 9, 12, 101, 105, 108, 113, 127, 149, 239, 258, 276, 228,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let link = LINK_TYPES
        .get(usize::from(selector))
        .copied()
        .unwrap_or(u32::from(selector));
    let mut decoder = Decoder::new();
    // Split the rest into frames at each 0xFE byte, one millisecond apart.
    for (i, frame) in rest.split(|&b| b == 0xFE).enumerate() {
        let ts = Timestamp(i as i64 * 1_000_000);
        let _ = decoder.decode(LinkType(link), ts, frame);
    }
});
