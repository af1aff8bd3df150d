//! Any bytes as a DNS message: the wire parser directly, then the tracker over UDP and over
//! TCP (length-prefixed, split in two segments) so reassembly and name decompression run.
//! Differential too: the unrendered, located and checking readers against the full one, and
//! a resolutions-only tracker against a full one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netforensic_core::dns::{wire, DnsTracker};
use netforensic_core::flow::{FlowTouch, Proto};
use netforensic_core::Timestamp;
use std::net::{IpAddr, Ipv4Addr};

fn touch(id: u64, proto: Proto, from_orig: bool, resp_p: u16) -> FlowTouch {
    FlowTouch {
        id,
        from_orig,
        created: from_orig,
        proto,
        orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        orig_p: 40000,
        resp_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53)),
        resp_p,
    }
}

fuzz_target!(|data: &[u8]| {
    for netbios in [false, true] {
        let rendered = wire::parse_message(data, netbios).map(|mut m| {
            m.answers.iter_mut().for_each(|a| a.rendered.clear());
            m
        });
        // The lighter readers must read exactly what the full one reads.
        assert_eq!(
            rendered.as_ref().map(|m| (m.header, m.damaged)),
            wire::check_message(data).map(|m| (m.header, m.damaged))
        );
        assert_eq!(rendered, wire::parse_message_unrendered(data, netbios));
    }
    // Names left in the message render and compare as the rendered ones.
    if let (Some(rendered), Some(located)) = (
        wire::parse_message_unrendered(data, false),
        wire::parse_message_located(data),
    ) {
        assert_eq!(
            (rendered.header, rendered.damaged, rendered.answers.len()),
            (located.header, located.damaged, located.answers.len())
        );
        assert_eq!(
            rendered.question.map(|q| q.name),
            located.question.map(|q| wire::name_text(data, q.name))
        );
        let mut names = Vec::new();
        for (r, l) in rendered.answers.iter().zip(&located.answers) {
            assert_eq!(r.name, wire::name_text(data, l.name));
            assert_eq!(
                r.cname_target,
                l.cname_target.map(|n| wire::name_text(data, n))
            );
            names.push(l.name);
            names.extend(l.cname_target);
        }
        for a in names.iter().take(16) {
            for b in names.iter().take(16) {
                let (ta, tb) = (wire::name_text(data, *a), wire::name_text(data, *b));
                assert_eq!(wire::same_name(data, *a, *b), ta.eq_ignore_ascii_case(&tb));
            }
        }
    }
    let mut name = String::new();
    let _ = wire::read_name(data, data.len() / 2, &mut name);

    // A full and a resolutions-only tracker must learn the same from the same packets.
    let mut full = DnsTracker::new();
    let mut lean = DnsTracker::resolutions_only();
    for tracker in [&mut full, &mut lean] {
        for (id, port) in [(1, 53), (2, 137), (3, 5353), (4, 9999)] {
            tracker.observe(&touch(id, Proto::Udp, true, port), Timestamp(0), None, data);
            tracker.observe(
                &touch(id, Proto::Udp, false, port),
                Timestamp(1_000),
                None,
                data,
            );
        }
        let mut framed = Vec::with_capacity(data.len() + 2);
        framed.extend_from_slice(&(data.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
        framed.extend_from_slice(data);
        let (first, second) = framed.split_at(framed.len() / 2);
        let t = touch(5, Proto::Tcp, true, 53);
        tracker.observe(&t, Timestamp(0), Some(1), first);
        tracker.observe(&t, Timestamp(1), Some(1 + first.len() as u32), second);
    }
    assert_eq!(full.dns_flows(), lean.dns_flows());
    let (_, full_resolutions, full_stats) = full.finish(&|_| String::new());
    let (_, lean_resolutions, lean_stats) = lean.finish(&|_| String::new());
    assert_eq!(full_resolutions, lean_resolutions);
    assert_eq!(full_stats, lean_stats);
});
