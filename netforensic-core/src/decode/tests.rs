//! Whole-decoder tests on real frames from the corpus (bytes copied from the named capture;
//! expected values read from `tshark -V` on the same frame) and on frames built byte by byte.

use super::*;
use std::net::{IpAddr, Ipv4Addr};

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_secs_nanos(secs, 0)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Decode one frame and return the packet (panics on anything else).
fn packet<'a>(decoder: &'a mut Decoder, link_type: u32, frame: &'a [u8]) -> Packet<'a> {
    match decoder.decode(LinkType(link_type), ts(0), frame) {
        Decoded::Packet(p) => p,
        other => panic!("expected a packet, got {other:?}"),
    }
}

fn ports(t: &Transport<'_>) -> (u16, u16) {
    match *t {
        Transport::Tcp {
            src_port, dst_port, ..
        }
        | Transport::Udp {
            src_port, dst_port, ..
        } => (src_port, dst_port),
        _ => panic!("no ports in {t:?}"),
    }
}

/// encap/zeek_6in4.pcap frame 1: IPv6 UDP inside IPv4 protocol 41.
#[test]
fn six_in_four() {
    let f = hex("0010db88d2efc8bcc896d2a00800450000480001000040296a79010203040506070860000000000c1140dead000000000000000000000000beefcafe000000000000000000000000babe753032c8000c83d258585858");
    let mut d = Decoder::new();
    let p = packet(&mut d, 1, &f);
    assert_eq!(p.src, "dead::beef".parse::<IpAddr>().unwrap());
    assert_eq!(p.dst, "cafe::babe".parse::<IpAddr>().unwrap());
    assert_eq!(ports(&p.transport), (30000, 13000));
    assert_eq!(p.tunnel, Some(Tunnel::IpInIp));
    assert_eq!(p.ip_len, 52);
    assert_eq!(d.stats().tunnels, 1);
}

/// encap/zeek_gre-pptp.pcap frame 1: VLAN 100, IPv6 outer, PPTP GRE, PPP, IPv4 UDP DNS.
#[test]
fn gre_pptp_in_vlan() {
    let f = hex("c500000082c400121ef2613d8100006486dd60000000008b04f62402f00000018e0100000000000055552607fcd00100230000000000b1082a6b4500008b8caf0000402f75fe100000c8c034a69a3081880b0067178000068fb100083a76ff03002145000063000040003c115667ac102c03080808089f400035004f2d23a62c01000001000000000000357871742d6465746563742d6d6f6465322d39373731326538382d313637612d343562392d393365652d39313331343065373636373800001c0001");
    let mut d = Decoder::new();
    let p = packet(&mut d, 1, &f);
    assert_eq!((p.src, p.dst), (v4("172.16.44.3"), v4("8.8.8.8")));
    assert_eq!(ports(&p.transport), (40768, 53));
    assert_eq!(p.tunnel, Some(Tunnel::Gre));
    assert_eq!(p.vlan, Some(100));
    assert_eq!(p.ip_len, 99);
    assert_eq!(p.ttl, 60);
}

/// encap/zeek_vxlan-encapsulated-http.pcap frame 1: TCP SYN inside VXLAN.
#[test]
fn vxlan_syn() {
    let f = hex("1242cdc5e8221242cdc5e82208004500006e0000000040119c4e0a01c8830a0101acc35012b5005a961f080000000000010074acb93fd27d48f17fa3b6ff08004500003c1998400040064538ac100bc93656edbc9da200505aafe1a800000000a002faf008920000020405b40402080ab78dd6b80000000001030307");
    let mut d = Decoder::new();
    let p = packet(&mut d, 1, &f);
    assert_eq!((p.src, p.dst), (v4("172.16.11.201"), v4("54.86.237.188")));
    assert_eq!(ports(&p.transport), (40354, 80));
    assert_eq!(p.tunnel, Some(Tunnel::Vxlan));
    assert_eq!(p.ip_len, 60);
    let Transport::Tcp {
        flags,
        seq,
        payload_len,
        ..
    } = p.transport
    else {
        panic!()
    };
    assert!(flags.syn() && !flags.ack());
    assert_eq!((seq, payload_len), (0x5aafe1a8, 0));
    let carrier = d.tunnel_carrier().unwrap();
    assert_eq!(
        (carrier.src, carrier.dst),
        (v4("10.1.200.131"), v4("10.1.1.172"))
    );
    assert_eq!((carrier.src_port, carrier.dst_port), (50000, 4789));
    assert_eq!((carrier.ip_len, carrier.payload_len), (110, 82));
}

/// encap/zeek_Teredo.pcap frame 6: Teredo with authentication and origin indication headers,
/// ICMPv6 router solicitation inside.
#[test]
fn teredo_router_solicitation() {
    let f = hex("001d5adccff10016cf419c2008004500006987c3000080111081c0a8021041379e500ed50dd80055597900010000cd5669400b22df88006000000000183afffe800000000000008000fffffffffffdff0200000000000000000000000000028500a91d0000000001020000000000008000f12ab9c82815");
    let mut d = Decoder::new();
    let p = packet(&mut d, 1, &f);
    assert_eq!(
        p.src,
        "fe80::8000:ffff:ffff:fffd".parse::<IpAddr>().unwrap()
    );
    assert_eq!(p.dst, "ff02::2".parse::<IpAddr>().unwrap());
    assert_eq!(p.tunnel, Some(Tunnel::Teredo));
    assert_eq!(p.ip_len, 64);
    assert!(matches!(
        p.transport,
        Transport::Icmp {
            v6: true,
            icmp_type: 133,
            code: 0,
            ..
        }
    ));
}

/// process/tcpdump_LINKTYPE_PKTAP.pcap frame 1: PKTAP (pid 512, en0) around Ethernet/UDP.
#[test]
fn pktap_header_and_inner_packet() {
    let f = hex("6c0000000100000001000000656e3000000000000000000000000000000000000000000002000000020000000e000000000000000002000000000000000000000000000000000000000000000000000000000000ffffffff0000000000000000000000000000000000000000001e491ff2c47073cb0b262a08004500003c2e030000ff1111440a20041b0a20640ff83200350028481443010100000100000000000002696e016d057961686f6f03636f6d0000010001");
    let mut d = Decoder::new();
    let p = packet(&mut d, 258, &f);
    assert_eq!((p.src, p.dst), (v4("10.32.4.27"), v4("10.32.100.15")));
    assert_eq!(ports(&p.transport), (63538, 53));
    let info = p.pktap.unwrap();
    assert_eq!(
        (info.pid(), info.effective_pid(), info.flags()),
        (512, -1, 2)
    );
    assert_eq!(
        (info.interface(), info.comm(), info.dlt()),
        (&b"en0"[..], &b""[..], 1)
    );
    // The same bytes under the legacy USER2 link type.
    assert!(matches!(
        d.decode(LinkType(149), ts(0), &f),
        Decoded::Packet(_)
    ));
}

/// linktype/zeek_nflog-http.pcap frame 1: NFLOG TLVs, payload TLV holds IPv4 TCP SYN.
#[test]
fn nflog_payload() {
    let f = hex("0200002a080001000000030005000a0000000000080005000000000208000b000000000008000e0000000000400009004500003ce8ef400040060fe30a00020f5db8d822c26200503f32bad100000000a002721042180000020405b40402080a0027523e0000000001030307");
    let mut d = Decoder::new();
    let p = packet(&mut d, 239, &f);
    assert_eq!((p.src, p.dst), (v4("10.0.2.15"), v4("93.184.216.34")));
    assert_eq!(ports(&p.transport), (49762, 80));
}

/// linktype/zeek_radiotap.pcap frame 1: radiotap, 802.11 QoS data, LLC/SNAP, IPv4 UDP DNS.
#[test]
fn radiotap_qos_data() {
    let f = hex("000030006b081c00e1615656000000001000a4154001b6a3014e349740010100a4156c221f010700010000000000000088012c008a15149b5ae090724097b6f5442b03aaab8d10000600aaaa0300000008004500003fd68d00004011aea2ac119c4cd043dcdcf12a0035002bc5dfa72f010000010000000000000763617074697665056170706c6503636f6d00000100010312c6a7");
    let mut d = Decoder::new();
    let p = packet(&mut d, 127, &f);
    assert_eq!((p.src, p.dst), (v4("172.17.156.76"), v4("208.67.220.220")));
    assert_eq!(ports(&p.transport), (61738, 53));
    let Transport::Udp { payload_len, .. } = p.transport else {
        panic!()
    };
    assert_eq!(payload_len, 35);
}

/// linktype/zeek_linux_dlt_sll2.pcap frame 1: SLL2, ICMP echo request.
#[test]
fn sll2_icmp_echo() {
    let f = hex("080000000000000103040006000000000000000045000054af8c40004001071ac0000201c0000201080066b400080001e9bdf96200000000e24e0d0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
    let mut d = Decoder::new();
    let p = packet(&mut d, 276, &f);
    assert_eq!((p.src, p.dst), (v4("192.0.2.1"), v4("192.0.2.1")));
    assert!(matches!(
        p.transport,
        Transport::Icmp {
            v6: false,
            icmp_type: 8,
            code: 0,
            payload_len: 56,
            ..
        }
    ));
    assert_eq!(p.ip_len, 84);
}

/// IPv4 header for built frames: 10.0.0.1 -> 10.0.0.2.
fn ipv4_header(total: u16, id: u16, flags_offset: u16, protocol: u8) -> Vec<u8> {
    let mut h = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&flags_offset.to_be_bytes());
    h
}

#[test]
fn ipv4_fragments_reassemble_into_one_packet() {
    // A UDP datagram of 8 + 24 bytes split after 16 bytes of IP payload.
    let mut udp = vec![0x04, 0xd2, 0x00, 0x35, 0x00, 32, 0, 0];
    udp.extend((0..24).map(|i| i as u8));
    let mut first = ipv4_header(36, 77, 0x2000, 17);
    first.extend_from_slice(&udp[..16]);
    let mut second = ipv4_header(36, 77, 2, 17);
    second.extend_from_slice(&udp[16..]);

    let mut d = Decoder::new();
    assert!(matches!(
        d.decode(LinkType::RAW, ts(1), &second),
        Decoded::FragmentHeld
    ));
    let Decoded::Packet(p) = d.decode(LinkType::RAW, ts(2), &first) else {
        panic!("not reassembled")
    };
    assert!(p.reassembled);
    assert_eq!(p.ip_len, 52);
    let Transport::Udp {
        src_port,
        payload,
        payload_len,
        ..
    } = p.transport
    else {
        panic!()
    };
    assert_eq!((src_port, payload_len), (1234, 24));
    assert_eq!(payload, &udp[8..]);
    let stats = d.stats();
    assert_eq!((stats.fragments_held, stats.fragments_reassembled), (1, 1));
    assert_eq!(stats.packets, 1);
}

#[test]
fn snaplen_cut_fragments_follow_zeek() {
    // First fragment (MF, offset 0) claiming 100 bytes, 16 captured: decoded as it stands.
    let mut first = ipv4_header(120, 5, 0x2000, 17);
    first.extend_from_slice(&[
        0x04, 0xd2, 0x00, 0x35, 0x00, 200, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    let mut d = Decoder::new();
    let p = packet(&mut d, 101, &first);
    assert!(matches!(
        p.transport,
        Transport::Udp {
            src_port: 1234,
            payload_len: 92,
            ..
        }
    ));
    // A later fragment cut short is dropped at once.
    let mut later = ipv4_header(120, 5, 0x2000 | 13, 17);
    later.extend_from_slice(&[0; 16]);
    assert!(matches!(
        d.decode(LinkType::RAW, ts(0), &later),
        Decoded::Malformed
    ));
    assert_eq!(d.stats().fragments_dropped, 1);
    assert_eq!(d.stats().fragments_held, 0);
}

#[test]
fn icmp_error_is_icmp_not_the_quoted_flow() {
    let mut quoted = ipv4_header(28, 1, 0, 17);
    quoted.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 8, 0, 0]);
    let mut f = ipv4_header(20 + 8 + 28, 2, 0, 1);
    f.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&quoted);
    let mut d = Decoder::new();
    let p = packet(&mut d, 101, &f);
    assert_eq!(p.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert!(matches!(
        p.transport,
        Transport::Icmp {
            icmp_type: 3,
            code: 3,
            payload_len: 28,
            ..
        }
    ));
}

#[test]
fn snaplen_cut_tcp_counts_what_was_sent() {
    let mut f = ipv4_header(1500, 3, 0x4000, 6);
    f.extend_from_slice(&[
        0, 80, 0x30, 0x39, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 1, 0, 0, 0, 0, 0,
    ]);
    f.extend_from_slice(b"GET / HT");
    let mut d = Decoder::new();
    let p = packet(&mut d, 228, &f);
    assert_eq!(p.ip_len, 1500);
    let Transport::Tcp {
        payload,
        payload_len,
        ..
    } = p.transport
    else {
        panic!()
    };
    assert_eq!((payload, payload_len), (&b"GET / HT"[..], 1460));
}

#[test]
fn everything_else_is_counted() {
    let mut d = Decoder::new();
    assert!(matches!(
        d.decode(LinkType(1240), ts(0), &[1, 2, 3]),
        Decoded::Unsupported
    ));
    assert!(matches!(
        d.decode(LinkType::ETHERNET, ts(0), &[0; 5]),
        Decoded::Malformed
    ));
    let arp = [0u8; 12]
        .iter()
        .chain(&[0x08, 0x06, 0, 1])
        .copied()
        .collect::<Vec<_>>();
    assert!(matches!(
        d.decode(LinkType::ETHERNET, ts(0), &arp),
        Decoded::NotIp
    ));
    let mut esp = ipv4_header(28, 1, 0, 50);
    esp.extend_from_slice(&[0; 8]);
    assert!(matches!(
        d.decode(LinkType::RAW, ts(0), &esp),
        Decoded::Packet(Packet {
            transport: Transport::Other { protocol: 50 },
            ..
        })
    ));
    let stats = d.stats();
    assert_eq!(stats.unsupported_link_types.get(&1240), Some(&1));
    assert_eq!(stats.unsupported_ip_protocols.get(&50), Some(&1));
    assert_eq!((stats.malformed, stats.not_ip, stats.packets), (1, 1, 1));
}

#[test]
fn nested_tunnels_stop_at_the_depth_limit() {
    // IPv4-in-IPv4 nested deeper than the limit: the decoder keeps the innermost it reached.
    let layers = MAX_TUNNEL_DEPTH + 3;
    let mut packet = {
        let mut p = ipv4_header(28, 0, 0, 17);
        p.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
        p
    };
    for _ in 0..layers {
        let mut outer = ipv4_header(20 + packet.len() as u16, 0, 0, 4);
        outer.extend_from_slice(&packet);
        packet = outer;
    }
    let mut d = Decoder::new();
    let p = packet_of(&mut d, &packet);
    assert_eq!(p, Some(Tunnel::IpInIp));
    fn packet_of(d: &mut Decoder, f: &[u8]) -> Option<Tunnel> {
        match d.decode(LinkType::RAW, ts(0), f) {
            Decoded::Packet(Packet {
                transport: Transport::Other { protocol: 4 },
                tunnel,
                ..
            }) => tunnel,
            other => panic!("{other:?}"),
        }
    }
}

/// Every real frame above, cut at every length: never a panic, and each prefix is counted
/// exactly once in the statistics.
#[test]
fn real_frames_truncated_at_every_length() {
    let frames: [(u32, &str); 8] = [
        (1, "0010db88d2efc8bcc896d2a00800450000480001000040296a79010203040506070860000000000c1140dead000000000000000000000000beefcafe000000000000000000000000babe753032c8000c83d258585858"),
        (1, "c500000082c400121ef2613d8100006486dd60000000008b04f62402f00000018e0100000000000055552607fcd00100230000000000b1082a6b4500008b8caf0000402f75fe100000c8c034a69a3081880b0067178000068fb100083a76ff03002145000063000040003c115667ac102c03080808089f400035004f2d23a62c01000001000000000000357871742d6465746563742d6d6f6465322d39373731326538382d313637612d343562392d393365652d39313331343065373636373800001c0001"),
        (1, "1242cdc5e8221242cdc5e82208004500006e0000000040119c4e0a01c8830a0101acc35012b5005a961f080000000000010074acb93fd27d48f17fa3b6ff08004500003c1998400040064538ac100bc93656edbc9da200505aafe1a800000000a002faf008920000020405b40402080ab78dd6b80000000001030307"),
        (1, "001d5adccff10016cf419c2008004500006987c3000080111081c0a8021041379e500ed50dd80055597900010000cd5669400b22df88006000000000183afffe800000000000008000fffffffffffdff0200000000000000000000000000028500a91d0000000001020000000000008000f12ab9c82815"),
        (258, "6c0000000100000001000000656e3000000000000000000000000000000000000000000002000000020000000e000000000000000002000000000000000000000000000000000000000000000000000000000000ffffffff0000000000000000000000000000000000000000001e491ff2c47073cb0b262a08004500003c2e030000ff1111440a20041b0a20640ff83200350028481443010100000100000000000002696e016d057961686f6f03636f6d0000010001"),
        (239, "0200002a080001000000030005000a0000000000080005000000000208000b000000000008000e0000000000400009004500003ce8ef400040060fe30a00020f5db8d822c26200503f32bad100000000a002721042180000020405b40402080a0027523e0000000001030307"),
        (127, "000030006b081c00e1615656000000001000a4154001b6a3014e349740010100a4156c221f010700010000000000000088012c008a15149b5ae090724097b6f5442b03aaab8d10000600aaaa0300000008004500003fd68d00004011aea2ac119c4cd043dcdcf12a0035002bc5dfa72f010000010000000000000763617074697665056170706c6503636f6d00000100010312c6a7"),
        (276, "080000000000000103040006000000000000000045000054af8c40004001071ac0000201c0000201080066b400080001e9bdf96200000000e24e0d0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"),
    ];
    for (link_type, frame) in frames {
        let bytes = hex(frame);
        let mut d = Decoder::new();
        for end in 0..=bytes.len() {
            let _ = d.decode(LinkType(link_type), ts(0), &bytes[..end]);
        }
        let s = d.stats();
        let unsupported: u64 = s.unsupported_link_types.values().sum();
        let total = s.packets + s.fragments_held + s.not_ip + unsupported + s.malformed;
        assert_eq!(total, bytes.len() as u64 + 1);
        assert!(matches!(
            d.decode(LinkType(link_type), ts(0), &bytes),
            Decoded::Packet(_)
        ));
    }
}
