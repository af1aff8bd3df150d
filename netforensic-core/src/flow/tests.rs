//! State-machine tests with hand-built packets. Expected values follow Zeek's code paths
//! (cited per test) and the conn.log rows of Zeek's own baselines for the same patterns.

use super::*;
use crate::decode::{Packet, TcpFlags, Transport};
use std::net::IpAddr;

const A: &str = "10.0.0.1";
const B: &str = "192.0.2.80";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn t(ms: i64) -> Timestamp {
    Timestamp(ms * 1_000_000)
}

const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;
const FIN: u8 = TcpFlags::FIN;
const RST: u8 = TcpFlags::RST;
const PSH: u8 = TcpFlags::PSH;

#[allow(clippy::too_many_arguments)]
fn tcp(
    src: &str,
    sp: u16,
    dst: &str,
    dp: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    len: u32,
) -> Packet<'static> {
    Packet {
        src: ip(src),
        dst: ip(dst),
        ip_len: 40 + len,
        ttl: 64,
        transport: Transport::Tcp {
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 1000,
            payload: &[],
            payload_len: len,
        },
        tunnel: None,
        vlan: None,
        pktap: None,
        reassembled: false,
    }
}

fn udp(src: &str, sp: u16, dst: &str, dp: u16, len: u32) -> Packet<'static> {
    Packet {
        src: ip(src),
        dst: ip(dst),
        ip_len: 28 + len,
        ttl: 64,
        transport: Transport::Udp {
            src_port: sp,
            dst_port: dp,
            payload: &[],
            payload_len: len,
        },
        tunnel: None,
        vlan: None,
        pktap: None,
        reassembled: false,
    }
}

fn icmp(src: &str, dst: &str, icmp_type: u8, code: u8, len: u32) -> Packet<'static> {
    Packet {
        src: ip(src),
        dst: ip(dst),
        ip_len: 28 + len,
        ttl: 64,
        transport: Transport::Icmp {
            v6: false,
            icmp_type,
            code,
            payload: &[],
            payload_len: len,
        },
        tunnel: None,
        vlan: None,
        pktap: None,
        reassembled: false,
    }
}

fn run(packets: &[(i64, Packet<'static>)]) -> Vec<Connection> {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = Vec::new();
    for (ms, p) in packets {
        table.ingest(t(*ms), p);
        table.expire(t(*ms), &mut out);
    }
    out.extend(table.finish());
    out.sort_by_key(|c| (c.ts, c.id));
    out
}

/// A client-server exchange: handshake, 100 bytes up (acknowledged), 200 down, FIN both
/// ways, last ACK.
fn full_exchange(start_ms: i64, isn_a: u32, isn_b: u32) -> Vec<(i64, Packet<'static>)> {
    let a = |n: u32| isn_a.wrapping_add(n);
    let b = |n: u32| isn_b.wrapping_add(n);
    vec![
        (start_ms, tcp(A, 1234, B, 80, SYN, a(0), 0, 0)),
        (start_ms + 10, tcp(B, 80, A, 1234, SYN | ACK, b(0), a(1), 0)),
        (start_ms + 20, tcp(A, 1234, B, 80, ACK, a(1), b(1), 0)),
        (
            start_ms + 30,
            tcp(A, 1234, B, 80, ACK | PSH, a(1), b(1), 100),
        ),
        (start_ms + 35, tcp(B, 80, A, 1234, ACK, b(1), a(101), 0)),
        (
            start_ms + 40,
            tcp(B, 80, A, 1234, ACK | PSH, b(1), a(101), 200),
        ),
        (
            start_ms + 50,
            tcp(A, 1234, B, 80, FIN | ACK, a(101), b(201), 0),
        ),
        (
            start_ms + 60,
            tcp(B, 80, A, 1234, FIN | ACK, b(201), a(102), 0),
        ),
        (start_ms + 70, tcp(A, 1234, B, 80, ACK, a(102), b(202), 0)),
    ]
}

#[test]
fn complete_connection_is_sf_with_zeek_history_and_sizes() {
    let flows = run(&full_exchange(0, 1000, 5000));
    assert_eq!(flows.len(), 1);
    let c = &flows[0];
    assert_eq!(
        (c.orig_h, c.orig_p, c.resp_h, c.resp_p),
        (ip(A), 1234, ip(B), 80)
    );
    assert_eq!(c.history, "ShADadFf");
    assert_eq!(c.conn_state, ConnState::SF);
    assert_eq!((c.orig_bytes, c.resp_bytes), (100, 200));
    assert_eq!((c.orig_pkts, c.resp_pkts), (5, 4));
    assert_eq!(
        (c.orig_ip_bytes, c.resp_ip_bytes),
        (5 * 40 + 100, 4 * 40 + 200)
    );
    // The final ACK after both FINs does not extend the duration (conn/main.zeek note).
    assert_eq!(c.duration_nanos(), 60_000_000);
    assert!(c.uid.starts_with('C'));
    assert!(c.community_id.starts_with("1:"));
}

#[test]
fn sequence_numbers_wrapping_do_not_break_sizes() {
    let flows = run(&full_exchange(0, u32::MAX - 10, u32::MAX - 50));
    assert_eq!((flows[0].orig_bytes, flows[0].resp_bytes), (100, 200));
    assert_eq!(flows[0].conn_state, ConnState::SF);
}

#[test]
fn lone_syn_is_s0() {
    let flows = run(&[(0, tcp(A, 1234, B, 80, SYN, 7, 0, 0))]);
    assert_eq!(flows[0].history, "S");
    assert_eq!(flows[0].conn_state, ConnState::S0);
    assert_eq!((flows[0].orig_pkts, flows[0].resp_pkts), (1, 0));
}

#[test]
fn syn_answered_by_rst_is_rej() {
    let flows = run(&[
        (0, tcp(A, 1234, B, 80, SYN, 7, 0, 0)),
        (1, tcp(B, 80, A, 1234, RST | ACK, 0, 8, 0)),
    ]);
    assert_eq!(flows[0].history, "Sr");
    assert_eq!(flows[0].conn_state, ConnState::REJ);
}

#[test]
fn syn_then_own_rst_is_rstos0() {
    let flows = run(&[
        (0, tcp(A, 1234, B, 80, SYN, 7, 0, 0)),
        (1, tcp(A, 1234, B, 80, RST, 8, 0, 0)),
    ]);
    assert_eq!(flows[0].history, "SR");
    assert_eq!(flows[0].conn_state, ConnState::RSTOS0);
}

#[test]
fn syn_then_fin_is_sh() {
    let flows = run(&[
        (0, tcp(A, 1234, B, 80, SYN, 7, 0, 0)),
        (1, tcp(A, 1234, B, 80, FIN, 8, 0, 0)),
    ]);
    assert_eq!(flows[0].history, "SF");
    assert_eq!(flows[0].conn_state, ConnState::SH);
}

#[test]
fn established_then_orig_reset_is_rsto() {
    let mut p = full_exchange(0, 1000, 5000);
    p.truncate(6);
    p.push((45, tcp(A, 1234, B, 80, RST | ACK, 1101, 5201, 0)));
    let flows = run(&p);
    assert_eq!(flows[0].history, "ShADadR");
    assert_eq!(flows[0].conn_state, ConnState::RSTO);
}

#[test]
fn established_without_close_is_s1_and_half_close_s2_s3() {
    let mut p = full_exchange(0, 1000, 5000);
    p.truncate(6);
    assert_eq!(run(&p)[0].conn_state, ConnState::S1);
    let mut p2 = full_exchange(0, 1000, 5000);
    p2.truncate(7);
    assert_eq!(run(&p2)[0].conn_state, ConnState::S2);
    let mut p3 = full_exchange(0, 1000, 5000);
    p3.truncate(6);
    p3.push((55, tcp(B, 80, A, 1234, FIN | ACK, 5201, 1101, 0)));
    assert_eq!(run(&p3)[0].conn_state, ConnState::S3);
}

#[test]
fn retransmitted_data_is_counted_once_and_marked_t() {
    let mut p = full_exchange(0, 1000, 5000);
    p.truncate(4);
    p.push((35, tcp(A, 1234, B, 80, ACK | PSH, 1001, 5001, 100)));
    let flows = run(&p);
    assert_eq!(flows[0].history, "ShADT");
    assert_eq!(flows[0].orig_bytes, 100);
    assert_eq!(flows[0].orig_pkts, 4);
}

#[test]
fn midstream_traffic_is_oth() {
    // Zeek's wikipedia.pcap baseline: data without handshake, "DdA", OTH.
    let flows = run(&[
        (0, tcp(A, 35634, B, 80, ACK | PSH, 100, 900, 50)),
        (1, tcp(B, 80, A, 35634, ACK | PSH, 900, 150, 70)),
        (2, tcp(A, 35634, B, 80, ACK, 150, 970, 0)),
    ]);
    assert_eq!(flows[0].history, "DdA");
    assert_eq!(flows[0].conn_state, ConnState::OTH);
    assert_eq!((flows[0].orig_bytes, flows[0].resp_bytes), (50, 70));
}

#[test]
fn syn_ack_from_server_port_is_flipped() {
    // Zeek's wikipedia.pcap baseline: a lone SYN-ACK gives "^h", OTH, oriented to the client.
    let flows = run(&[(0, tcp(B, 80, A, 6705, SYN | ACK, 9, 1, 0))]);
    let c = &flows[0];
    assert_eq!(
        (c.orig_h, c.orig_p, c.resp_h, c.resp_p),
        (ip(A), 6705, ip(B), 80)
    );
    assert_eq!(c.history, "^h");
    assert_eq!(c.conn_state, ConnState::OTH);
    assert_eq!((c.orig_pkts, c.resp_pkts), (0, 1));
}

#[test]
fn fin_from_server_then_ack_is_shr() {
    // Zeek's Teredo.pcap baseline: "^fA", SHR.
    let flows = run(&[
        (0, tcp(B, 80, A, 1576, FIN | ACK, 9, 1, 0)),
        (1, tcp(A, 1576, B, 80, ACK, 1, 10, 0)),
    ]);
    assert_eq!(flows[0].history, "^fA");
    assert_eq!(flows[0].conn_state, ConnState::SHR);
    assert_eq!(flows[0].orig_h, ip(A));
}

#[test]
fn lone_reset_from_server_is_rstrh() {
    // Zeek's Teredo.pcap baseline: "^r", RSTRH.
    let flows = run(&[(0, tcp(B, 80, A, 1576, RST | ACK, 9, 1, 0))]);
    assert_eq!(flows[0].history, "^r");
    assert_eq!(flows[0].conn_state, ConnState::RSTRH);
}

#[test]
fn new_syn_after_close_starts_a_new_connection() {
    let mut p = full_exchange(0, 1000, 5000);
    p.extend(full_exchange(1000, 90_000, 70_000));
    let flows = run(&p);
    assert_eq!(flows.len(), 2);
    assert!(flows.iter().all(|c| c.history == "ShADadFf"));
    assert_ne!(flows[0].uid, flows[1].uid);
    assert_eq!(flows[0].community_id, flows[1].community_id);
}

#[test]
fn packets_after_close_delay_make_a_new_connection() {
    let mut p = full_exchange(0, 1000, 5000);
    p.push((10_000, tcp(A, 1234, B, 80, ACK, 1102, 5202, 0)));
    let flows = run(&p);
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[1].history, "A");
    assert_eq!(flows[1].conn_state, ConnState::OTH);
}

#[test]
fn unanswered_syn_retransmission_after_attempt_delay_is_a_new_connection() {
    let flows = run(&[
        (0, tcp(A, 1234, B, 80, SYN, 7, 0, 0)),
        (1000, tcp(A, 1234, B, 80, SYN, 7, 0, 0)),
        (3000, tcp(A, 1234, B, 80, SYN, 7, 0, 0)),
        (7000, tcp(A, 1234, B, 80, SYN, 7, 0, 0)),
    ]);
    assert_eq!(flows.len(), 2);
    assert_eq!((flows[0].history.as_str(), flows[0].orig_pkts), ("S", 3));
    assert_eq!((flows[1].history.as_str(), flows[1].orig_pkts), ("S", 1));
}

#[test]
fn udp_request_response_and_timeout() {
    let flows = run(&[
        (0, udp(A, 40000, B, 123, 30)),
        (5, udp(B, 123, A, 40000, 90)),
        (59_000, udp(A, 40000, B, 123, 30)),
        (119_000, udp(A, 40000, B, 123, 30)),
    ]);
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].history, "Dd");
    assert_eq!(flows[0].conn_state, ConnState::SF);
    assert_eq!((flows[0].orig_bytes, flows[0].resp_bytes), (60, 90));
    assert_eq!((flows[0].orig_pkts, flows[0].resp_pkts), (2, 1));
    assert_eq!(flows[1].conn_state, ConnState::S0);
}

#[test]
fn udp_dns_ends_at_the_dns_analyzer_tick_after_nine_idle_seconds() {
    // Zeek's Teredo.pcap baseline has two conn.log rows for one DNS 5-tuple used twice
    // within a minute: DNS_Analyzer::ExpireTimer (dns_session_timeout = 10 s).
    let split = run(&[
        (0, udp(A, 40000, B, 53, 30)),
        (5, udp(B, 53, A, 40000, 90)),
        (12_000, udp(A, 40000, B, 53, 30)),
    ]);
    assert_eq!(split.len(), 2);
    let kept = run(&[
        (0, udp(A, 40000, B, 53, 30)),
        (8_500, udp(B, 53, A, 40000, 90)),
        (12_000, udp(A, 40000, B, 53, 30)),
    ]);
    assert_eq!(kept.len(), 1);
    // Other UDP keeps the one-minute timeout.
    let other = run(&[
        (0, udp(A, 40000, B, 123, 30)),
        (12_000, udp(A, 40000, B, 123, 30)),
    ]);
    assert_eq!(other.len(), 1);
}

#[test]
fn udp_reply_seen_first_is_flipped_shr() {
    // Zeek's Teredo.pcap baseline: "^d", SHR.
    let flows = run(&[(0, udp(B, 53, A, 40000, 90))]);
    let c = &flows[0];
    assert_eq!((c.orig_h, c.orig_p), (ip(A), 40000));
    assert_eq!(c.history, "^d");
    assert_eq!(c.conn_state, ConnState::SHR);
}

#[test]
fn icmp_echo_request_and_reply_share_a_connection() {
    let flows = run(&[
        (0, icmp(A, B, 8, 0, 56)),
        (1, icmp(B, A, 0, 0, 56)),
        (2, icmp(A, B, 8, 0, 56)),
        (3, icmp(B, A, 0, 0, 56)),
    ]);
    assert_eq!(flows.len(), 1);
    let c = &flows[0];
    assert_eq!((c.orig_p, c.resp_p), (8, 0));
    assert_eq!((c.orig_pkts, c.resp_pkts), (2, 2));
    assert_eq!((c.orig_bytes, c.resp_bytes), (112, 112));
    assert_eq!(c.conn_state, ConnState::OTH);
    assert_eq!(c.history, "");
    assert_eq!(c.proto, Proto::Icmp);
}

#[test]
fn one_way_icmp_keeps_direction_and_code_as_port() {
    let flows = run(&[(0, icmp(A, B, 3, 3, 36)), (1, icmp(B, A, 3, 3, 36))]);
    assert_eq!(flows.len(), 2);
    assert_eq!((flows[0].orig_p, flows[0].resp_p), (3, 3));
    assert_eq!(flows[1].orig_h, ip(B));
}

#[test]
fn output_order_is_by_first_packet_time() {
    let flows = run(&[
        (0, udp(A, 1, B, 53, 1)),
        (1, udp(A, 2, B, 53, 1)),
        (2, udp(A, 3, B, 53, 1)),
    ]);
    let ports: Vec<u16> = flows.iter().map(|c| c.orig_p).collect();
    assert_eq!(ports, vec![1, 2, 3]);
    let ids: Vec<u64> = flows.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![0, 1, 2]);
}

#[test]
fn service_setter_joins_sorted() {
    let mut c = run(&[(0, udp(A, 1, B, 53, 1))]).remove(0);
    c.add_service("dns");
    c.add_service("SSL");
    c.add_service("dns");
    assert_eq!(c.service.as_deref(), Some("dns,ssl"));
}

#[test]
fn a_flood_of_new_tuples_is_bounded_by_eviction() {
    let config = FlowConfig {
        max_live_flows: 16,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(config);
    for port in 0..100u16 {
        table.ingest(t(i64::from(port)), &udp(A, port, B, 9999, 1));
        assert!(table.live_connections() <= 16);
    }
    assert!(table.stats().evicted >= 84);
    let flows = table.finish();
    assert_eq!(flows.len(), 100, "evicted flows are reported, not lost");
}

/// A UDP packet carrying `message` (a DNS header and whatever follows).
fn udp_with(src: &str, sp: u16, dst: &str, dp: u16, message: &'static [u8]) -> Packet<'static> {
    let mut p = udp(src, sp, dst, dp, message.len() as u32);
    if let Transport::Udp { payload, .. } = &mut p.transport {
        *payload = message;
    }
    p
}

/// DNS headers: id 0x6465, QR set (response) or clear (query), one question count.
const DNS_RESPONSE: &[u8] = &[0x64, 0x65, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
const DNS_QUERY: &[u8] = &[0x64, 0x65, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];

/// The packet that flips the roles is reported, to payload inspectors, from the side it is
/// on after the flip: `from_orig` agrees with the endpoints the touch names.
#[test]
fn a_flipping_packet_is_from_the_side_it_flipped_to() {
    let mut table = FlowTable::new(FlowConfig::default());
    // Port 53 both ways: the sender starts as originator, the DNS analyzer flips it.
    let touch = table
        .ingest(t(0), &udp_with(B, 53, A, 53, DNS_RESPONSE))
        .unwrap();
    assert_eq!((touch.resp_h, touch.resp_p), (ip(B), 53));
    assert!(
        !touch.from_orig,
        "the response's sender is now the responder"
    );
    let query = table
        .ingest(t(1), &udp_with(A, 53, B, 53, DNS_QUERY))
        .unwrap();
    assert!(query.from_orig && !query.created);
}

#[test]
fn dns_response_seen_first_between_server_ports_is_flipped_by_the_dns_analyzer() {
    // Port 53 on both sides: the UDP rule keeps the sender as originator; Zeek's DNS analyzer
    // then sees a response from the originator as its first message and calls FlipRoles
    // (DNS.cc), after the packet was counted: ConnSize's packet counters swap, the UDP
    // payload counters and history bits do not, `^` follows `D`. A later packet from the
    // server is a responder packet: `d`.
    let flows = run(&[
        (0, udp_with(B, 53, A, 53, DNS_RESPONSE)),
        (10, udp_with(B, 53, A, 53, DNS_RESPONSE)),
    ]);
    assert_eq!(flows.len(), 1);
    let c = &flows[0];
    assert_eq!(
        ((c.orig_h, c.orig_p), (c.resp_h, c.resp_p)),
        ((ip(A), 53), (ip(B), 53))
    );
    assert_eq!(c.history, "D^d");
    assert_eq!((c.orig_pkts, c.resp_pkts), (0, 2));
    assert_eq!((c.orig_ip_bytes, c.resp_ip_bytes), (0, 80));
    assert_eq!((c.orig_bytes, c.resp_bytes), (12, 12));
}

#[test]
fn dns_flip_needs_a_first_response_from_the_originator_to_a_unicast_address() {
    // A query first: no flip, whatever follows.
    let flows = run(&[
        (0, udp_with(A, 53, B, 53, DNS_QUERY)),
        (5, udp_with(B, 53, A, 53, DNS_RESPONSE)),
    ]);
    assert_eq!((flows[0].orig_h, flows[0].history.as_str()), (ip(A), "Dd"));
    // A response to a multicast group (mDNS): Zeek keeps the roles.
    let flows = run(&[(0, udp_with(A, 5353, "224.0.0.251", 5353, DNS_RESPONSE))]);
    assert_eq!((flows[0].orig_h, flows[0].history.as_str()), (ip(A), "D"));
    // Shorter than a DNS header: not a message; the next one decides.
    let flows = run(&[
        (0, udp_with(B, 53, A, 53, &[0x00, 0x01, 0x80])),
        (5, udp_with(B, 53, A, 53, DNS_RESPONSE)),
    ]);
    assert_eq!((flows[0].orig_h, flows[0].history.as_str()), (ip(A), "D^"));
    // Not a DNS port: no DNS analyzer, no flip.
    let flows = run(&[(0, udp_with(B, 5000, A, 5000, DNS_RESPONSE))]);
    assert_eq!((flows[0].orig_h, flows[0].history.as_str()), (ip(B), "D"));
}

/// A slot that counts its connection's packets; wanted back when it counted an odd number.
#[derive(Default, Debug, PartialEq)]
struct Count(u32);

impl ConnSlot for Count {
    fn wanted_at_end(&self) -> bool {
        self.0 % 2 == 1
    }
}

/// Feed `packets` to a table with slots (ids are packet indexes); count each packet in its
/// connection's slot. Returns the slots handed back, sorted, and the connections.
fn run_slots(config: FlowConfig, packets: &[(i64, Packet<'static>)]) -> (Vec<(u64, u32)>, usize) {
    let mut table: FlowTable<Count> = FlowTable::with_slots(config);
    let mut back = Vec::new();
    let mut out = Vec::new();
    for (i, (ms, p)) in packets.iter().enumerate() {
        let (touch, slot) = table.ingest_at(t(*ms), t(*ms), i as u64, p).unwrap();
        assert_eq!(
            touch.created,
            slot.0 == 0,
            "a new connection's slot is fresh"
        );
        slot.0 += 1;
        table.expire(t(*ms), &mut out);
        back.extend(table.ended_slots().map(|(id, slot)| (id, slot.0)));
    }
    let rest = table.finish_unordered(&mut out);
    back.extend(rest.into_iter().map(|(id, slot)| (id, slot.0)));
    back.sort_unstable();
    (back, out.len())
}

#[test]
fn slots_are_handed_back_however_a_connection_ends() {
    // Replaced on reuse (3 packets), expired (1 packet), ended at the end of input (1 and 2
    // packets: the second is dropped with its connection, unwanted).
    let mut p = full_exchange(0, 1000, 5000);
    p.truncate(3);
    p.push((1000, tcp(A, 1234, B, 80, SYN, 90_000, 0, 0)));
    p.push((1001, udp(A, 5000, B, 123, 1)));
    p.push((200_000, udp(A, 6000, B, 123, 1)));
    p.push((200_001, udp(A, 7000, B, 123, 1)));
    p.push((200_002, udp(B, 123, A, 7000, 1)));
    let (back, flows) = run_slots(FlowConfig::default(), &p);
    assert_eq!(flows, 5);
    assert_eq!(back, vec![(0, 3), (3, 1), (4, 1), (5, 1)]);

    // Evicted: a table of two, three UDP tuples.
    let config = FlowConfig {
        max_live_flows: 2,
        ..FlowConfig::default()
    };
    let p = [
        (0, udp(A, 1, B, 9999, 1)),
        (1, udp(A, 2, B, 9999, 1)),
        (2, udp(A, 3, B, 9999, 1)),
    ];
    let (back, flows) = run_slots(config, &p);
    assert_eq!(flows, 3);
    assert_eq!(back, vec![(0, 1), (1, 1), (2, 1)]);
}

#[test]
fn a_timestamp_going_back_brings_the_inactivity_timeout_forward() {
    // The table caches when a connection can next time out; a packet stamped earlier than the
    // connection's last one moves `last` back, and the next scan must see it.
    let mut table = FlowTable::new(FlowConfig::default());
    let mut out = Vec::new();
    table.ingest(t(100_000), &udp(A, 40000, B, 123, 30));
    table.ingest(t(1_000), &udp(A, 40000, B, 123, 30));
    table.expire_due(t(100_000), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].last_ts, t(1_000));
}

#[test]
fn a_shorter_tcp_timeout_after_the_handshake_ends_the_connection_at_the_next_scan() {
    let config = FlowConfig {
        tcp_inactivity: 2_000_000_000,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(config);
    let mut out = Vec::new();
    table.ingest(t(0), &tcp(A, 1234, B, 80, SYN, 7, 0, 0));
    // A scan while the UDP timeout (one minute) still applies caches a later time.
    table.expire_due(t(10), &mut out);
    table.ingest(t(20), &tcp(B, 80, A, 1234, SYN | ACK, 70, 8, 0));
    table.ingest(t(30), &tcp(A, 1234, B, 80, ACK, 8, 71, 0));
    table.expire_due(t(2_029), &mut out);
    assert!(out.is_empty());
    table.expire_due(t(2_030), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].history, "ShA");
}
