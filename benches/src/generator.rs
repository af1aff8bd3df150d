//! A deterministic capture generator: the same seed and size give the same bytes, so benchmark
//! figures are comparable between runs and machines. The traffic mix is what a workstation
//! sends: DNS lookups with CNAME chains followed by TLS connections carrying SNI, plain HTTP with
//! a Host header, and small UDP exchanges; a quarter of it over IPv6; about 100k flows per GB.
//!
//! The generator also returns what it wrote ([`GeneratedCounts`]) so that benchmarks can assert
//! that a fast run was also a correct one.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Container format to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap, microsecond timestamps, little endian.
    Pcap,
    /// pcapng: one section, one Ethernet interface, Enhanced Packet Blocks.
    Pcapng,
}

#[derive(Clone, Copy, Debug)]
pub struct GeneratorConfig {
    /// Stop after the file reaches this many bytes (a session in progress is completed).
    pub target_bytes: u64,
    pub format: Format,
    pub seed: u64,
    /// Sessions interleaved at any time (how many flows are live at once).
    pub concurrency: usize,
    /// Multiplies the gaps between packets (1: about 76 us, 2 minutes per GB). Larger values
    /// stretch the capture over more time, so that connections time out inside it.
    pub gap_scale: u64,
}

impl GeneratorConfig {
    pub fn new(target_bytes: u64, format: Format) -> Self {
        GeneratorConfig {
            target_bytes,
            format,
            seed: 0x6e65_7466_6f72_656e,
            concurrency: 64,
            gap_scale: 1,
        }
    }
}

/// What was written: benchmarks assert their results against these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeneratedCounts {
    pub bytes: u64,
    pub packets: u64,
    pub tcp_flows: u64,
    pub udp_flows: u64,
    /// DNS responses (one per lookup; every lookup is answered).
    pub dns_responses: u64,
    pub tls_sni: u64,
    pub http_hosts: u64,
}

/// splitmix64: tiny, fast, and good enough for traffic shapes (not for secrets).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const TCP_SYN: u8 = 0x02;
const TCP_ACK: u8 = 0x10;
const TCP_PSH_ACK: u8 = 0x18;
const TCP_FIN_ACK: u8 = 0x11;
const TCP_SYN_ACK: u8 = 0x12;
const MSS: usize = 1400;

/// One packet a session wants to send next.
struct PlannedPacket {
    from_client: bool,
    kind: PlannedKind,
}

enum PlannedKind {
    Tcp { flags: u8, payload: Vec<u8> },
    Udp { payload: Vec<u8> },
}

/// One conversation (a DNS exchange, a TCP connection, a UDP exchange), played packet by packet.
struct Session {
    client: IpAddr,
    server: IpAddr,
    client_port: u16,
    server_port: u16,
    client_seq: u32,
    server_seq: u32,
    script: std::collections::VecDeque<PlannedPacket>,
}

/// Writes packets to the container.
struct Sink<'w, W: Write> {
    out: &'w mut W,
    format: Format,
    counts: GeneratedCounts,
    ts_micros: u64,
    frame: Vec<u8>,
}

impl<W: Write> Sink<'_, W> {
    fn header(&mut self) -> io::Result<()> {
        match self.format {
            Format::Pcap => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&0i32.to_le_bytes());
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&65535u32.to_le_bytes());
                h.extend_from_slice(&1u32.to_le_bytes());
                self.write(&h)
            }
            Format::Pcapng => {
                let mut shb = Vec::with_capacity(28);
                shb.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
                shb.extend_from_slice(&28u32.to_le_bytes());
                shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
                shb.extend_from_slice(&1u16.to_le_bytes());
                shb.extend_from_slice(&0u16.to_le_bytes());
                shb.extend_from_slice(&(-1i64).to_le_bytes());
                shb.extend_from_slice(&28u32.to_le_bytes());
                self.write(&shb)?;
                let mut idb = Vec::with_capacity(20);
                idb.extend_from_slice(&1u32.to_le_bytes());
                idb.extend_from_slice(&20u32.to_le_bytes());
                idb.extend_from_slice(&1u16.to_le_bytes());
                idb.extend_from_slice(&0u16.to_le_bytes());
                idb.extend_from_slice(&65535u32.to_le_bytes());
                idb.extend_from_slice(&20u32.to_le_bytes());
                self.write(&idb)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.counts.bytes += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    /// Write the frame in `self.frame` as one record.
    fn record(&mut self) -> io::Result<()> {
        let len = self.frame.len() as u32;
        let mut hdr = [0u8; 28];
        let frame = std::mem::take(&mut self.frame);
        match self.format {
            Format::Pcap => {
                hdr[0..4].copy_from_slice(&((self.ts_micros / 1_000_000) as u32).to_le_bytes());
                hdr[4..8].copy_from_slice(&((self.ts_micros % 1_000_000) as u32).to_le_bytes());
                hdr[8..12].copy_from_slice(&len.to_le_bytes());
                hdr[12..16].copy_from_slice(&len.to_le_bytes());
                self.write(&hdr[..16])?;
                self.write(&frame)?;
            }
            Format::Pcapng => {
                let padded = (frame.len() + 3) & !3;
                let total = (32 + padded) as u32;
                hdr[0..4].copy_from_slice(&6u32.to_le_bytes());
                hdr[4..8].copy_from_slice(&total.to_le_bytes());
                hdr[8..12].copy_from_slice(&0u32.to_le_bytes());
                hdr[12..16].copy_from_slice(&((self.ts_micros >> 32) as u32).to_le_bytes());
                hdr[16..20].copy_from_slice(&(self.ts_micros as u32).to_le_bytes());
                hdr[20..24].copy_from_slice(&len.to_le_bytes());
                hdr[24..28].copy_from_slice(&len.to_le_bytes());
                self.write(&hdr)?;
                self.write(&frame)?;
                self.write(&[0u8; 3][..padded - frame.len()])?;
                self.write(&total.to_le_bytes())?;
            }
        }
        self.frame = frame;
        self.counts.packets += 1;
        Ok(())
    }
}

/// Build Ethernet + IP + TCP/UDP into `frame`.
fn build_frame(frame: &mut Vec<u8>, src: IpAddr, dst: IpAddr, sport: u16, dport: u16, l4: L4<'_>) {
    frame.clear();
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
    let (proto, l4_len) = match l4 {
        L4::Tcp { payload, .. } => (6u8, 20 + payload.len()),
        L4::Udp { payload } => (17u8, 8 + payload.len()),
    };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            frame.extend_from_slice(&0x0800u16.to_be_bytes());
            let start = frame.len();
            let total = (20 + l4_len) as u16;
            frame.extend_from_slice(&[0x45, 0]);
            frame.extend_from_slice(&total.to_be_bytes());
            frame.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
            frame.extend_from_slice(&s.octets());
            frame.extend_from_slice(&d.octets());
            let sum = ipv4_checksum(&frame[start..start + 20]);
            frame[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
        }
        (s, d) => {
            frame.extend_from_slice(&0x86ddu16.to_be_bytes());
            frame.extend_from_slice(&[0x60, 0, 0, 0]);
            frame.extend_from_slice(&(l4_len as u16).to_be_bytes());
            frame.extend_from_slice(&[proto, 64]);
            frame.extend_from_slice(&v6(s).octets());
            frame.extend_from_slice(&v6(d).octets());
        }
    }
    frame.extend_from_slice(&sport.to_be_bytes());
    frame.extend_from_slice(&dport.to_be_bytes());
    match l4 {
        L4::Tcp {
            seq,
            ack,
            flags,
            payload,
        } => {
            frame.extend_from_slice(&seq.to_be_bytes());
            frame.extend_from_slice(&ack.to_be_bytes());
            frame.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
            frame.extend_from_slice(payload);
        }
        L4::Udp { payload } => {
            frame.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            frame.extend_from_slice(&[0, 0]);
            frame.extend_from_slice(payload);
        }
    }
}

enum L4<'p> {
    Tcp {
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &'p [u8],
    },
    Udp {
        payload: &'p [u8],
    },
}

fn v6(addr: IpAddr) -> Ipv6Addr {
    match addr {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// DNS name in wire format.
fn push_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// A query, or its response answering `qname` through `chain` (CNAMEs) to `addr`.
fn dns_message(id: u16, qname: &str, ipv6: bool, answer: Option<(&[String], IpAddr)>) -> Vec<u8> {
    let mut m = Vec::with_capacity(160);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if answer.is_some() {
        &[0x81, 0x80]
    } else {
        &[0x01, 0x00]
    });
    let ancount = answer.map_or(0, |(chain, _)| chain.len() + 1) as u16;
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(&ancount.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    push_name(&mut m, qname);
    let qtype: u16 = if ipv6 { 28 } else { 1 };
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    if let Some((chain, addr)) = answer {
        let mut owner: Option<&str> = None;
        for target in chain {
            match owner {
                None => m.extend_from_slice(&[0xc0, 12]),
                Some(name) => push_name(&mut m, name),
            }
            m.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0x0e, 0x10]);
            let mut rdata = Vec::new();
            push_name(&mut rdata, target);
            m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            m.extend_from_slice(&rdata);
            owner = Some(target);
        }
        match owner {
            None => m.extend_from_slice(&[0xc0, 12]),
            Some(name) => push_name(&mut m, name),
        }
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        match addr {
            IpAddr::V4(a) => {
                m.extend_from_slice(&4u16.to_be_bytes());
                m.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                m.extend_from_slice(&16u16.to_be_bytes());
                m.extend_from_slice(&a.octets());
            }
        }
    }
    m
}

/// A TLS 1.2-framed ClientHello with an SNI extension (what every browser sends first).
fn client_hello(sni: &str, rng: &mut Rng) -> Vec<u8> {
    let mut ext = Vec::new();
    let name = sni.as_bytes();
    ext.extend_from_slice(&0u16.to_be_bytes());
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    // supported_versions: TLS 1.3, 1.2
    ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]);
    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x03]);
    for _ in 0..4 {
        body.extend_from_slice(&rng.next().to_be_bytes());
    }
    body.push(32);
    for _ in 0..4 {
        body.extend_from_slice(&rng.next().to_be_bytes());
    }
    body.extend_from_slice(&[0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]);
    body.extend_from_slice(&[0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

struct Planner {
    rng: Rng,
    next_id: u64,
}

impl Planner {
    fn client(&mut self, ipv6: bool) -> IpAddr {
        let n = self.rng.below(500) as u16;
        if ipv6 {
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 1, 0, 0, 0, n + 1))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 1, (n >> 8) as u8, (n & 0xff) as u8 + 1))
        }
    }

    fn server(&mut self, ipv6: bool) -> IpAddr {
        let n = self.rng.below(20_000) as u32;
        if ipv6 {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0,
                0,
                0,
                0,
                (n >> 16) as u16,
                n as u16,
            ))
        } else {
            IpAddr::V4(Ipv4Addr::new(
                198,
                18 + (n >> 16) as u8,
                (n >> 8) as u8,
                n as u8,
            ))
        }
    }

    fn resolver(ipv6: bool) -> IpAddr {
        if ipv6 {
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 53, 0, 0, 0, 53))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53))
        }
    }

    fn session(&mut self, client: IpAddr, server: IpAddr, server_port: u16) -> Session {
        Session {
            client,
            server,
            client_port: 1024 + self.rng.below(64_000) as u16,
            server_port,
            client_seq: self.rng.next() as u32,
            server_seq: self.rng.next() as u32,
            script: Default::default(),
        }
    }

    /// The next group of sessions: a lookup plus a TLS connection, an HTTP connection, or UDP.
    fn plan(&mut self, counts: &mut GeneratedCounts) -> Vec<Session> {
        self.next_id += 1;
        let id = self.next_id;
        let ipv6 = self.rng.below(4) == 0;
        let client = self.client(ipv6);
        let server = self.server(ipv6);
        match self.rng.below(10) {
            0..=5 => {
                let name = format!("www{}.site{}.example", id % 997, id % 7919);
                let chain = vec![
                    format!("edge{}.cdn{}.example", id % 89, id % 13),
                    format!("e{}.a.cdn.example", id % 4093),
                ];
                let mut dns = self.session(client, Self::resolver(ipv6), 53);
                let txid = self.rng.next() as u16;
                let query = dns_message(txid, &name, ipv6, None);
                let response = dns_message(txid, &name, ipv6, Some((&chain, server)));
                dns.script.push_back(PlannedPacket {
                    from_client: true,
                    kind: PlannedKind::Udp { payload: query },
                });
                dns.script.push_back(PlannedPacket {
                    from_client: false,
                    kind: PlannedKind::Udp { payload: response },
                });
                counts.udp_flows += 1;
                counts.dns_responses += 1;
                let mut tls = self.session(client, server, 443);
                let hello = client_hello(&name, &mut self.rng);
                let segments = 4 + self.rng.below(20) as usize;
                tcp_script(&mut tls, hello, segments, &mut self.rng);
                counts.tcp_flows += 1;
                counts.tls_sni += 1;
                vec![dns, tls]
            }
            6..=7 => {
                let host = format!("plain{}.site{}.example", id % 499, id % 211);
                let mut http = self.session(client, server, 80);
                let request = format!(
                    "GET /item/{id} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gen/1.0\r\nAccept: */*\r\n\r\n"
                )
                .into_bytes();
                let segments = 2 + self.rng.below(12) as usize;
                tcp_script(&mut http, request, segments, &mut self.rng);
                counts.tcp_flows += 1;
                counts.http_hosts += 1;
                vec![http]
            }
            _ => {
                let port = 3000 + self.rng.below(1000) as u16;
                let mut udp = self.session(client, server, port);
                for i in 0..(2 + self.rng.below(6)) {
                    let len = 40 + self.rng.below(900) as usize;
                    udp.script.push_back(PlannedPacket {
                        from_client: i % 2 == 0,
                        kind: PlannedKind::Udp {
                            payload: vec![0x5a; len],
                        },
                    });
                }
                counts.udp_flows += 1;
                vec![udp]
            }
        }
    }
}

/// Handshake, client request, `segments` full-size server segments acked every second one,
/// then a FIN exchange from the client.
fn tcp_script(s: &mut Session, request: Vec<u8>, segments: usize, rng: &mut Rng) {
    let tcp = |from_client, flags, payload| PlannedPacket {
        from_client,
        kind: PlannedKind::Tcp { flags, payload },
    };
    s.script.push_back(tcp(true, TCP_SYN, Vec::new()));
    s.script.push_back(tcp(false, TCP_SYN_ACK, Vec::new()));
    s.script.push_back(tcp(true, TCP_ACK, Vec::new()));
    s.script.push_back(tcp(true, TCP_PSH_ACK, request));
    for i in 0..segments {
        let len = if i + 1 == segments {
            100 + rng.below(MSS as u64 - 100) as usize
        } else {
            MSS
        };
        s.script.push_back(tcp(false, TCP_PSH_ACK, vec![0x17; len]));
        if i % 2 == 1 || i + 1 == segments {
            s.script.push_back(tcp(true, TCP_ACK, Vec::new()));
        }
    }
    s.script.push_back(tcp(true, TCP_FIN_ACK, Vec::new()));
    s.script.push_back(tcp(false, TCP_FIN_ACK, Vec::new()));
    s.script.push_back(tcp(true, TCP_ACK, Vec::new()));
}

/// Write a capture of about `config.target_bytes` to `out`.
pub fn generate<W: Write>(config: &GeneratorConfig, out: &mut W) -> io::Result<GeneratedCounts> {
    let mut sink = Sink {
        out,
        format: config.format,
        counts: GeneratedCounts::default(),
        ts_micros: 1_700_000_000_000_000,
        frame: Vec::with_capacity(1600),
    };
    sink.header()?;
    let mut planner = Planner {
        rng: Rng(config.seed),
        next_id: 0,
    };
    let mut live: Vec<Session> = Vec::with_capacity(config.concurrency * 2);
    // Sessions that wait for an earlier one of their group (the TLS connection after its lookup).
    let mut waiting: std::collections::VecDeque<Session> = Default::default();
    let mut planning = true;
    loop {
        if planning && sink.counts.bytes >= config.target_bytes {
            planning = false;
        }
        while planning && live.len() < config.concurrency.max(1) {
            if let Some(next) = waiting.pop_front() {
                live.push(next);
                continue;
            }
            let mut group = planner.plan(&mut sink.counts).into_iter();
            if let Some(first) = group.next() {
                live.push(first);
            }
            waiting.extend(group);
        }
        if !planning && live.is_empty() {
            if let Some(next) = waiting.pop_front() {
                live.push(next);
            } else {
                break;
            }
        }
        let pick = planner.rng.below(live.len() as u64) as usize;
        let session = &mut live[pick];
        let Some(step) = session.script.pop_front() else {
            live.swap_remove(pick);
            continue;
        };
        sink.ts_micros += (1 + planner.rng.below(150)) * config.gap_scale.max(1);
        let (src, dst, sport, dport) = if step.from_client {
            (
                session.client,
                session.server,
                session.client_port,
                session.server_port,
            )
        } else {
            (
                session.server,
                session.client,
                session.server_port,
                session.client_port,
            )
        };
        let mut frame = std::mem::take(&mut sink.frame);
        match step.kind {
            PlannedKind::Tcp { flags, payload } => {
                let (seq, ack) = if step.from_client {
                    (session.client_seq, session.server_seq)
                } else {
                    (session.server_seq, session.client_seq)
                };
                let ack = if flags & TCP_ACK != 0 { ack } else { 0 };
                build_frame(
                    &mut frame,
                    src,
                    dst,
                    sport,
                    dport,
                    L4::Tcp {
                        seq,
                        ack,
                        flags,
                        payload: &payload,
                    },
                );
                let advance = payload.len() as u32 + u32::from(flags & (TCP_SYN | 0x01) != 0);
                if step.from_client {
                    session.client_seq = session.client_seq.wrapping_add(advance);
                } else {
                    session.server_seq = session.server_seq.wrapping_add(advance);
                }
            }
            PlannedKind::Udp { payload } => {
                build_frame(
                    &mut frame,
                    src,
                    dst,
                    sport,
                    dport,
                    L4::Udp { payload: &payload },
                );
            }
        }
        sink.frame = frame;
        sink.record()?;
    }
    Ok(sink.counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let config = GeneratorConfig::new(200_000, Format::Pcap);
        let mut a = Vec::new();
        let mut b = Vec::new();
        let counts = generate(&config, &mut a).unwrap();
        generate(&config, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(counts.bytes, a.len() as u64);
        assert!(counts.tcp_flows > 10 && counts.udp_flows > 10);
    }

    #[test]
    fn pcapng_blocks_are_aligned() {
        let mut out = Vec::new();
        let counts = generate(&GeneratorConfig::new(50_000, Format::Pcapng), &mut out).unwrap();
        assert_eq!(out.len() % 4, 0);
        assert_eq!(counts.bytes, out.len() as u64);
    }
}
