//! Hostile input: arbitrary and mutated bytes through the DNS reader, the tracker (UDP and TCP
//! framing) and the name sniffer (TLS, HTTP, QUIC, DTLS starts) never panic or hang.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use netforensic_core::dns::{wire, DnsTracker};
use netforensic_core::flow::{FlowTouch, Proto};
use netforensic_core::naming::NameSniffer;
use netforensic_core::Timestamp;
use proptest::prelude::*;

fn touch(proto: Proto, from_orig: bool, resp_p: u16) -> FlowTouch {
    FlowTouch {
        id: 1,
        from_orig,
        created: false,
        proto,
        orig_h: "10.0.0.1".parse().unwrap(),
        orig_p: 40000,
        resp_h: "10.0.0.2".parse().unwrap(),
        resp_p,
    }
}

/// A real response (www.example.com CNAME + A) to mutate.
fn seed() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 17]);
    m.extend_from_slice(b"\x03web\x07example\x03net\x00");
    m.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 192, 0, 2, 7]);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn wire_reader_survives_anything(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = wire::parse_message(&bytes, false);
        let _ = wire::parse_message(&bytes, true);
    }

    #[test]
    fn wire_reader_survives_mutations(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut m = seed();
        for (at, value) in edits {
            let len = m.len();
            m[at % len] = value;
        }
        let cut = cut % (m.len() + 1);
        let _ = wire::parse_message(&m[..cut], false);
    }

    #[test]
    fn tracker_survives_anything(
        packets in proptest::collection::vec(
            (any::<bool>(), any::<bool>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 0..300)),
            1..12,
        ),
    ) {
        let mut tracker = DnsTracker::new();
        for (i, (tcp, from_orig, seq, payload)) in packets.iter().enumerate() {
            let proto = if *tcp { Proto::Tcp } else { Proto::Udp };
            let seq = tcp.then_some(*seq);
            tracker.observe(&touch(proto, *from_orig, 53), Timestamp(i as i64), seq, payload);
            tracker.observe(&touch(Proto::Udp, *from_orig, 5300), Timestamp(i as i64), None, payload);
        }
        let _ = tracker.finish(&|id| format!("C{id}"));
    }

    #[test]
    fn sniffer_survives_anything(
        start in prop_oneof![
            Just(vec![22u8, 3, 1]),
            Just(b"GET ".to_vec()),
            Just(vec![0xc3u8, 0, 0, 0, 1]),
            Just(vec![0xd3u8, 0x6b, 0x33, 0x43, 0xcf]),
            Just(vec![22u8, 0xfe, 0xfd]),
        ],
        rest in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 1..6),
        seqs in proptest::collection::vec(any::<u32>(), 6),
    ) {
        let mut sniffer = NameSniffer::new();
        for (i, chunk) in rest.iter().enumerate() {
            let mut payload = if i == 0 { start.clone() } else { Vec::new() };
            payload.extend_from_slice(chunk);
            sniffer.observe(&touch(Proto::Tcp, true, 443), Timestamp(0), Some(seqs[i]), &payload);
            let mut udp = touch(Proto::Udp, true, 443);
            udp.id = 2;
            sniffer.observe(&udp, Timestamp(0), None, &payload);
        }
        let _ = sniffer.finish();
    }
}
