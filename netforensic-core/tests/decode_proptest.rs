//! Property tests: the decoder never panics, whatever the bytes and link type, and its
//! statistics account for every frame.

use netforensic_core::capture::LinkType;
use netforensic_core::decode::{Decoded, Decoder};
use netforensic_core::Timestamp;
use proptest::prelude::*;

/// Every link type the decoder handles, plus some it does not.
const LINK_TYPES: [u32; 22] = [
    0, 1, 9, 12, 14, 50, 51, 101, 105, 108, 113, 127, 149, 228, 229, 239, 258, 276, 119, 163, 2,
    1240,
];

/// Frames that start like real ones, so the random tail reaches the deeper layers.
fn prefixed() -> impl Strategy<Value = (u32, Vec<u8>)> {
    let ipv4 = |protocol: u8, flags: u8| {
        vec![
            0x45, 0, 0, 0, 0, 0, flags, 0, 64, protocol, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ]
    };
    let prefixes: Vec<(u32, Vec<u8>)> = vec![
        // Ethernet IPv4 / IPv6 / VLAN / PPPoE.
        (1, [vec![0; 12], vec![0x08, 0x00, 0x45]].concat()),
        (1, [vec![0; 12], vec![0x86, 0xdd, 0x60]].concat()),
        (
            1,
            [vec![0; 12], vec![0x81, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45]].concat(),
        ),
        (
            1,
            [
                vec![0; 12],
                vec![
                    0x88, 0x64, 0x11, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x21, 0x45,
                ],
            ]
            .concat(),
        ),
        // Raw IPv4 with GRE / IP-in-IP / UDP 4789 / UDP 3544 / a fragment; IPv6 fragment.
        (101, ipv4(47, 0)),
        (101, [ipv4(4, 0), vec![0x45]].concat()),
        (101, [ipv4(17, 0), vec![0x12, 0xb5, 0x12, 0xb5]].concat()),
        (101, [ipv4(17, 0), vec![0x0d, 0xd8, 0x0d, 0xd8]].concat()),
        (101, ipv4(17, 0x20)),
        (
            229,
            [vec![0x60, 0, 0, 0, 0, 0, 44, 64], vec![0; 32]].concat(),
        ),
        (
            229,
            [vec![0x60, 0, 0, 0, 0, 0, 0, 64], vec![0; 32]].concat(),
        ),
        // Loopback, PKTAP, NFLOG, radiotap.
        (0, vec![2, 0, 0, 0, 0x45]),
        (
            258,
            [vec![108, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], vec![0; 96]].concat(),
        ),
        (239, vec![2, 0, 0, 0]),
        (127, vec![0, 0, 8, 0, 0, 0, 0, 0, 0x08, 0x02]),
    ];
    (
        0..prefixes.len(),
        proptest::collection::vec(any::<u8>(), 0..160),
    )
        .prop_map(move |(i, tail)| {
            let (link_type, prefix) = &prefixes[i];
            (*link_type, [prefix.clone(), tail].concat())
        })
}

fn decode_all(frames: &[(u32, Vec<u8>)]) {
    let mut decoder = Decoder::new();
    for (i, (link_type, bytes)) in frames.iter().enumerate() {
        let ts = Timestamp::from_secs_nanos(i as i64, 0);
        if let Decoded::Packet(p) = decoder.decode(LinkType(*link_type), ts, bytes) {
            // Payload slices never extend past the frame.
            let _ = p.transport;
        }
    }
    let s = decoder.stats();
    let unsupported: u64 = s.unsupported_link_types.values().sum();
    // Each frame is exactly one of: packet, held fragment, not IP, unsupported, malformed.
    assert_eq!(
        s.packets + s.fragments_held + s.not_ip + unsupported + s.malformed,
        frames.len() as u64
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_under_every_link_type(
        link in proptest::sample::select(LINK_TYPES.to_vec()),
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        decode_all(&[(link, bytes)]);
    }

    #[test]
    fn plausible_prefixes_with_random_tails(frames in proptest::collection::vec(prefixed(), 1..8)) {
        decode_all(&frames);
    }
}
