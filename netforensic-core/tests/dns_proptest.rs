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
/// [`seed`] with each `(at, value)` edit written at `at` modulo its length.
fn mutated_seed(edits: &[(usize, u8)]) -> Vec<u8> {
    let mut m = seed();
    for &(at, value) in edits {
        let len = m.len();
        m[at % len] = value;
    }
    m
}

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
        let m = mutated_seed(&edits);
        let cut = cut % (m.len() + 1);
        let _ = wire::parse_message(&m[..cut], false);
    }

    /// Reading without rendering finds the same message, damage included: only the answers'
    /// text is left out. Checking finds the same header and damage.
    #[test]
    fn unrendered_reader_reads_what_the_rendering_one_reads(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
        netbios in any::<bool>(),
    ) {
        let m = mutated_seed(&edits);
        let cut = cut % (m.len() + 1);
        let rendered = wire::parse_message(&m[..cut], netbios).map(|mut message| {
            message.answers.iter_mut().for_each(|a| a.rendered.clear());
            message
        });
        let checked = rendered.as_ref().map(|message| (message.header, message.damaged));
        prop_assert_eq!(rendered, wire::parse_message_unrendered(&m[..cut], netbios));
        let read = wire::check_message(&m[..cut]);
        prop_assert_eq!(checked, read.map(|message| (message.header, message.damaged)));
    }

    /// Reading with names left in the message finds the same message, and its names render
    /// and compare as the unrendered reader's do.
    #[test]
    fn located_reader_reads_what_the_unrendered_one_reads(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let m = mutated_seed(&edits);
        let msg = &m[..cut % (m.len() + 1)];
        let rendered = wire::parse_message_unrendered(msg, false);
        let located = wire::parse_message_located(msg);
        prop_assert_eq!(rendered.is_some(), located.is_some());
        if let (Some(rendered), Some(located)) = (rendered, located) {
            prop_assert_eq!((rendered.header, rendered.damaged), (located.header, located.damaged));
            prop_assert_eq!(
                rendered.question.map(|q| (q.name, q.qtype, q.qclass)),
                located.question.map(|q| (wire::name_text(msg, q.name), q.qtype, q.qclass))
            );
            prop_assert_eq!(rendered.answers.len(), located.answers.len());
            for (r, l) in rendered.answers.iter().zip(&located.answers) {
                prop_assert_eq!(&r.name, &wire::name_text(msg, l.name));
                prop_assert_eq!(&r.cname_target, &l.cname_target.map(|n| wire::name_text(msg, n)));
                prop_assert_eq!((r.rtype, r.ttl, r.addr, &r.hints), (l.rtype, l.ttl, l.addr, &l.hints));
            }
            let names: Vec<wire::NameAt> = located
                .answers
                .iter()
                .flat_map(|a| std::iter::once(a.name).chain(a.cname_target))
                .collect();
            for a in &names {
                for b in &names {
                    let (ta, tb) = (wire::name_text(msg, *a), wire::name_text(msg, *b));
                    prop_assert_eq!(wire::same_name(msg, *a, *b), ta.eq_ignore_ascii_case(&tb));
                }
            }
        }
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

    /// A resolutions-only tracker learns the same resolutions, DNS flows and counters as a
    /// full one, from queries and responses (some damaged) paired or not, over UDP on a DNS
    /// port and another port and over TCP.
    #[test]
    fn resolutions_only_tracker_agrees_with_the_full_one(
        packets in proptest::collection::vec(
            (
                0u8..3,
                any::<bool>(),
                0u16..4,
                proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
            ),
            1..40,
        ),
    ) {
        let mut full = DnsTracker::new();
        let mut lean = DnsTracker::resolutions_only();
        let mut seqs = [1u32, 1u32];
        for (i, (transport, is_response, id, edits)) in packets.iter().enumerate() {
            let mut m = seed();
            m[0..2].copy_from_slice(&id.to_be_bytes());
            if !is_response {
                m[2] &= 0x7f;
            }
            for (at, value) in edits {
                let len = m.len();
                m[at % len] = *value;
            }
            let ts = Timestamp(i as i64);
            let from_orig = !is_response;
            let (touch, seq, payload) = match transport {
                0 => (touch(Proto::Udp, from_orig, 53), None, m),
                1 => (touch(Proto::Udp, from_orig, 5300), None, m),
                _ => {
                    let mut framed = (m.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&m);
                    let side = usize::from(*is_response);
                    let seq = seqs[side];
                    seqs[side] = seq.wrapping_add(framed.len() as u32);
                    (touch(Proto::Tcp, from_orig, 53), Some(seq), framed)
                }
            };
            let mut touch = touch;
            touch.id = u64::from(*transport);
            full.observe(&touch, ts, seq, &payload);
            lean.observe(&touch, ts, seq, &payload);
        }
        prop_assert_eq!(full.dns_flows(), lean.dns_flows());
        let (_, full_resolutions, full_stats) = full.finish(&|id| format!("C{id}"));
        let (records, lean_resolutions, lean_stats) = lean.finish(&|id| format!("C{id}"));
        prop_assert_eq!(full_resolutions, lean_resolutions);
        prop_assert_eq!(full_stats, lean_stats);
        prop_assert!(records.is_empty());
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
