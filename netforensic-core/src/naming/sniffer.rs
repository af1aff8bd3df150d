//! Watches the client side of each connection for the name it asked the server for: TLS SNI
//! over reassembled TCP, HTTP/1.x Host, DTLS SNI, QUIC Initial SNI.

use super::{dtls, http, quic, tls, InFlowName, NameSource};
use crate::dns::reassembly::{Push, Reassembler};
use crate::flow::{FlowId, FlowTouch, Proto};
use crate::time::Timestamp;
use ahash::AHashMap;

/// Client datagrams of a QUIC connection examined for the ClientHello (a post-quantum key
/// share spreads it over two or three Initials; retransmissions add a few more).
const MAX_QUIC_DATAGRAMS: u8 = 16;
/// Client datagrams of a DTLS connection examined for the (fragmented) ClientHello.
const MAX_DTLS_DATAGRAMS: u8 = 8;
/// CRYPTO frame pieces kept per QUIC connection.
const MAX_CRYPTO_PIECES: usize = 64;

enum Sniffing {
    Tls(Box<Reassembler>),
    Http(Box<Reassembler>),
    /// DTLS: the ClientHello, possibly in fragments over several datagrams.
    Dtls {
        hello: Box<dtls::HelloAssembler>,
        datagrams: u8,
    },
    /// Boxed: keeps the state small for the many connections that are not QUIC.
    Quic(Box<QuicHello>),
    Done,
}

/// A QUIC connection's CRYPTO frames, until they hold the ClientHello.
#[derive(Default)]
struct QuicHello {
    pieces: Vec<(u64, Vec<u8>)>,
    bytes: usize,
    datagrams: u8,
}

/// What looking at a connection's client bytes gave.
enum Outcome {
    /// Keep looking.
    Pending,
    /// Nothing to find.
    Nothing,
    /// The protocol is known (a ClientHello without SNI), not a name.
    Service(&'static str),
    Name(String, NameSource, &'static str),
}

/// One connection's sniffing state, for callers that keep it with the connection
/// ([`NameSniffer::observe_in`]; the analysis keeps it in the flow table's entry). Dropped
/// when the connection ends.
#[derive(Default)]
pub struct SniffSlot(Option<Sniffing>);

impl SniffSlot {
    /// Whether sniffing this connection is over (a name found, or nothing to find).
    pub fn is_done(&self) -> bool {
        matches!(self.0, Some(Sniffing::Done))
    }
}

/// Watches client payloads for SNI / Host.
#[derive(Default)]
pub struct NameSniffer {
    /// The state of the connections offered to [`NameSniffer::observe`] (callers of
    /// [`NameSniffer::observe_in`] keep it with their connections).
    flows: AHashMap<FlowId, SniffSlot>,
    found: Found,
}

/// What sniffing found: names, and protocols recognised without a name.
#[derive(Default)]
struct Found {
    names: Vec<(FlowId, InFlowName)>,
    services: Vec<FlowService>,
}

/// A connection and the application protocol recognised on it (`ssl`, `quic`, `dtls`).
pub type FlowService = (FlowId, &'static str);

fn from_tls(sniff: tls::Sniff, source: NameSource, service: &'static str) -> Outcome {
    match sniff {
        tls::Sniff::Found(name) => Outcome::Name(name, source, service),
        tls::Sniff::NoName => Outcome::Service(service),
        tls::Sniff::NeedMore => Outcome::Pending,
        tls::Sniff::Done => Outcome::Nothing,
    }
}

impl NameSniffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the sniffer looks at this packet's payload: client payloads of TCP and UDP.
    pub fn looks_at(touch: &FlowTouch) -> bool {
        touch.from_orig && touch.proto != Proto::Icmp
    }

    pub fn observe(
        &mut self,
        touch: &FlowTouch,
        ts: Timestamp,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        if !Self::looks_at(touch) {
            return;
        }
        let _ = ts;
        let slot = self.flows.entry(touch.id).or_default();
        self.found.sniff(slot, touch, tcp_seq, payload);
    }

    /// [`NameSniffer::observe`] for a caller that keeps the connection's state: `slot` (the
    /// same for every packet of the connection).
    pub fn observe_in(
        &mut self,
        slot: &mut SniffSlot,
        touch: &FlowTouch,
        ts: Timestamp,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        let _ = ts;
        if Self::looks_at(touch) {
            self.found.sniff(slot, touch, tcp_seq, payload);
        }
    }

    pub fn flow_finished(&mut self, id: FlowId) {
        self.flows.remove(&id);
    }

    /// Remove and return the names and recognised protocols of the connections `ended` says
    /// have ended (each sorted by id): a streamed analysis names connections as they end.
    pub fn take_ended(
        &mut self,
        ended: impl Fn(FlowId) -> bool,
    ) -> (Vec<(FlowId, InFlowName)>, Vec<FlowService>) {
        let names = take_where(&mut self.found.names, |(id, _)| ended(*id));
        let services = take_where(&mut self.found.services, |(id, _)| ended(*id));
        (names, services)
    }

    /// Names found per connection (sorted by id).
    pub fn finish(self) -> Vec<(FlowId, InFlowName)> {
        self.finish_with_services().0
    }

    /// Names found per connection, and the protocols recognised on connections that sent no
    /// name (a ClientHello without SNI), both sorted by id.
    pub fn finish_with_services(self) -> (Vec<(FlowId, InFlowName)>, Vec<FlowService>) {
        let Found {
            mut names,
            mut services,
        } = self.found;
        names.sort_by_key(|(id, _)| *id);
        services.sort_by_key(|(id, _)| *id);
        (names, services)
    }
}

impl Found {
    /// A client payload of a connection: look at it, and record what it gave.
    fn sniff(
        &mut self,
        slot: &mut SniffSlot,
        touch: &FlowTouch,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        let outcome = match &mut slot.0 {
            Some(state) => {
                if matches!(state, Sniffing::Done) {
                    return;
                }
                let outcome = keep_looking(state, tcp_seq, payload);
                if !matches!(outcome, Outcome::Pending) {
                    *state = Sniffing::Done;
                }
                outcome
            }
            None => {
                let (state, outcome) = first_look(touch.proto, tcp_seq, payload);
                slot.0 = Some(state);
                outcome
            }
        };
        match outcome {
            Outcome::Pending | Outcome::Nothing => {}
            Outcome::Service(service) => self.services.push((touch.id, service)),
            Outcome::Name(name, source, service) => {
                self.names.push((
                    touch.id,
                    InFlowName {
                        name,
                        source,
                        service,
                    },
                ));
            }
        }
    }
}

/// Move the elements `pick` selects out of `list`, sorted by id (first field).
fn take_where<T>(
    list: &mut Vec<(FlowId, T)>,
    pick: impl Fn(&(FlowId, T)) -> bool,
) -> Vec<(FlowId, T)> {
    let (mut taken, kept): (Vec<_>, Vec<_>) =
        std::mem::take(list).into_iter().partition(|e| pick(e));
    *list = kept;
    taken.sort_by_key(|(id, _)| *id);
    taken
}

/// Decide from a connection's first client payload what to look for, and look at it.
fn first_look(proto: Proto, tcp_seq: Option<u32>, payload: &[u8]) -> (Sniffing, Outcome) {
    let mut state = match proto {
        Proto::Tcp if tls::starts_like_tls(payload) => {
            let read =
                |stream: &[u8]| from_tls(tls::sni_from_stream(stream), NameSource::Sni, "ssl");
            return first_segment(tcp_seq, payload, tls::MAX_CLIENT_HELLO, read, Sniffing::Tls);
        }
        Proto::Tcp if http::starts_like_http(payload) => {
            let read =
                |stream: &[u8]| from_tls(http::request_host(stream), NameSource::HttpHost, "http");
            return first_segment(
                tcp_seq,
                payload,
                http::MAX_REQUEST_HEAD,
                read,
                Sniffing::Http,
            );
        }
        Proto::Udp if quic::is_client_initial(payload) => Sniffing::Quic(Box::default()),
        Proto::Udp if dtls::starts_like_dtls(payload) => Sniffing::Dtls {
            hello: Box::default(),
            datagrams: 0,
        },
        _ => return (Sniffing::Done, Outcome::Nothing),
    };
    let outcome = keep_looking(&mut state, tcp_seq, payload);
    if !matches!(outcome, Outcome::Pending) {
        state = Sniffing::Done;
    }
    (state, outcome)
}

/// A TCP stream's first segment, read where it is: it nearly always holds the whole
/// ClientHello or request head. Buffered (in a reassembler bounded by `limit`) only when the
/// message goes on in later segments.
fn first_segment(
    tcp_seq: Option<u32>,
    payload: &[u8],
    limit: usize,
    read: impl Fn(&[u8]) -> Outcome,
    buffered: fn(Box<Reassembler>) -> Sniffing,
) -> (Sniffing, Outcome) {
    if payload.len() > limit {
        // What the reassembler would say: over its bound.
        return (Sniffing::Done, Outcome::Nothing);
    }
    match read(payload) {
        Outcome::Pending => {
            let mut stream = Box::new(Reassembler::new(limit));
            let pushed = stream.push(tcp_seq.unwrap_or(0), payload);
            debug_assert_eq!(pushed, Push::Accepted);
            (buffered(stream), Outcome::Pending)
        }
        outcome => (Sniffing::Done, outcome),
    }
}

/// Look at one more client payload of a connection already being watched.
fn keep_looking(state: &mut Sniffing, tcp_seq: Option<u32>, payload: &[u8]) -> Outcome {
    match state {
        Sniffing::Done => Outcome::Nothing,
        Sniffing::Tls(stream) => {
            if stream.push(tcp_seq.unwrap_or(0), payload) == Push::Overflow {
                Outcome::Nothing
            } else {
                from_tls(tls::sni_from_stream(stream.data()), NameSource::Sni, "ssl")
            }
        }
        Sniffing::Http(stream) => {
            if stream.push(tcp_seq.unwrap_or(0), payload) == Push::Overflow {
                Outcome::Nothing
            } else {
                from_tls(
                    http::request_host(stream.data()),
                    NameSource::HttpHost,
                    "http",
                )
            }
        }
        Sniffing::Dtls { hello, datagrams } => {
            *datagrams = datagrams.saturating_add(1);
            match hello.push(payload) {
                dtls::Hello::Sni(name) => Outcome::Name(name, NameSource::DtlsSni, "dtls"),
                dtls::Hello::NoSni => Outcome::Service("dtls"),
                dtls::Hello::NeedMore if *datagrams < MAX_DTLS_DATAGRAMS => Outcome::Pending,
                dtls::Hello::NeedMore | dtls::Hello::NotHello => Outcome::Nothing,
            }
        }
        Sniffing::Quic(hello) => {
            let QuicHello {
                pieces,
                bytes,
                datagrams,
            } = &mut **hello;
            *datagrams = datagrams.saturating_add(1);
            quic::crypto_frames(payload, &mut |offset, data| {
                if pieces.len() < MAX_CRYPTO_PIECES
                    && bytes.saturating_add(data.len()) <= tls::MAX_CLIENT_HELLO
                {
                    *bytes += data.len();
                    pieces.push((offset, data.to_vec()));
                }
            });
            match tls::complete_client_hello(&contiguous_prefix(pieces)) {
                Some(sniff) => from_tls(sniff, NameSource::QuicSni, "quic"),
                None if *datagrams >= MAX_QUIC_DATAGRAMS => Outcome::Nothing,
                None => Outcome::Pending,
            }
        }
    }
}

/// The CRYPTO stream bytes from offset 0 up to the first gap.
fn contiguous_prefix(pieces: &mut [(u64, Vec<u8>)]) -> Vec<u8> {
    pieces.sort_by_key(|(offset, _)| *offset);
    let mut out: Vec<u8> = Vec::new();
    for (offset, data) in pieces.iter() {
        let Ok(offset) = usize::try_from(*offset) else {
            break;
        };
        if offset > out.len() {
            break;
        }
        if let Some(fresh) = data.get(out.len() - offset..) {
            out.extend_from_slice(fresh);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(proto: Proto, id: FlowId) -> FlowTouch {
        FlowTouch {
            id,
            from_orig: true,
            created: true,
            proto,
            orig_h: "10.0.0.1".parse().unwrap(),
            orig_p: 40000,
            resp_h: "192.0.2.1".parse().unwrap(),
            resp_p: 443,
        }
    }

    #[test]
    fn tls_hello_split_across_segments() {
        let hello = tls::tests::client_hello("split.example");
        let mut record = vec![22, 3, 1];
        record.extend_from_slice(&(hello.len() as u16).to_be_bytes());
        record.extend_from_slice(&hello);
        let (a, b) = record.split_at(11);
        let mut s = NameSniffer::new();
        s.observe(&touch(Proto::Tcp, 1), Timestamp(0), Some(1), a);
        s.observe(&touch(Proto::Tcp, 1), Timestamp(0), Some(12), b);
        s.observe(
            &touch(Proto::Tcp, 2),
            Timestamp(0),
            Some(1),
            b"GET / HTTP/1.1\r\nHost: h.example\r\n\r\n",
        );
        let found = s.finish();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].1.name, "split.example");
        assert_eq!(found[0].1.source, NameSource::Sni);
        assert_eq!(found[1].1.name, "h.example");
        assert_eq!(found[1].1.service, "http");
    }

    /// A caller that keeps each connection's state ([`NameSniffer::observe_in`]) finds what
    /// the sniffer's own map finds.
    #[test]
    fn caller_kept_slots_match_the_sniffers_map() {
        let hello = tls::tests::client_hello("kept.example");
        let mut record = vec![22, 3, 1];
        record.extend_from_slice(&(hello.len() as u16).to_be_bytes());
        record.extend_from_slice(&hello);
        let (a, b) = record.split_at(20);
        let http = b"GET / HTTP/1.1\r\nHost: h.example\r\n\r\n";
        let mut server = touch(Proto::Tcp, 1);
        server.from_orig = false;
        let packets: Vec<(FlowTouch, u32, &[u8])> = vec![
            (touch(Proto::Tcp, 1), 1, a),
            (server, 1, b"\x16\x03\x01"),
            (touch(Proto::Tcp, 2), 1, http),
            (touch(Proto::Tcp, 1), 21, b),
            (
                touch(Proto::Tcp, 2),
                100,
                b"GET / HTTP/1.1\r\nHost: again.example\r\n\r\n",
            ),
            (touch(Proto::Icmp, 3), 1, http),
        ];
        let (mut mapped, mut kept) = (NameSniffer::new(), NameSniffer::new());
        let mut slots: AHashMap<FlowId, SniffSlot> = AHashMap::default();
        for (touch, seq, payload) in &packets {
            mapped.observe(touch, Timestamp(0), Some(*seq), payload);
            let slot = slots.entry(touch.id).or_default();
            kept.observe_in(slot, touch, Timestamp(0), Some(*seq), payload);
        }
        let (found, services) = kept.finish_with_services();
        assert_eq!(mapped.finish_with_services(), (found.clone(), services));
        let names: Vec<&str> = found.iter().map(|(_, n)| n.name.as_str()).collect();
        assert_eq!(names, ["kept.example", "h.example"]);
    }

    #[test]
    fn http_head_split_across_segments_and_later_requests_ignored() {
        let head = b"GET /x HTTP/1.1\r\nUser-Agent: t\r\nHost: split.example\r\n\r\n";
        for cut in 1..head.len() {
            let (a, b) = head.split_at(cut);
            let mut s = NameSniffer::new();
            s.observe(&touch(Proto::Tcp, 5), Timestamp(0), Some(100), a);
            s.observe(
                &touch(Proto::Tcp, 5),
                Timestamp(0),
                Some(100 + cut as u32),
                b,
            );
            let again = b"GET / HTTP/1.1\r\nHost: second.example\r\n\r\n";
            s.observe(&touch(Proto::Tcp, 5), Timestamp(0), Some(1000), again);
            let found = s.finish();
            assert_eq!(found.len(), 1, "cut {cut}");
            assert_eq!(found[0].1.name, "split.example");
        }
    }

    /// A DTLS 1.2 ClientHello datagram (RFC 6347 4.2.2) with SNI `name`, built by hand.
    fn dtls_client_hello(name: &str) -> Vec<u8> {
        let tls_hello = tls::tests::client_hello(name);
        // TLS body after the 4-byte handshake header: version, random, session id, then the
        // rest. DTLS adds a cookie after the session id.
        let body_tls = &tls_hello[4..];
        let mut body = vec![0xfe, 0xfd];
        body.extend_from_slice(&body_tls[2..34]); // random
        body.push(0); // session id
        body.push(0); // cookie
        body.extend_from_slice(&body_tls[35..]); // ciphers, compression, extensions
        let len = body.len() as u32;
        let mut handshake = vec![1, (len >> 16) as u8, (len >> 8) as u8, len as u8, 0, 0];
        handshake.extend_from_slice(&[0, 0, 0]); // fragment offset
        handshake.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8]);
        handshake.extend_from_slice(&body);
        let mut record = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0];
        record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
        record.extend_from_slice(&handshake);
        record
    }

    #[test]
    fn dtls_client_hello_sni() {
        let mut s = NameSniffer::new();
        let datagram = dtls_client_hello("dtls.example");
        s.observe(&touch(Proto::Udp, 3), Timestamp(0), None, &datagram);
        let found = s.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.name, "dtls.example");
        assert_eq!(found[0].1.source, NameSource::DtlsSni);
        assert_eq!(found[0].1.service, "dtls");
        for cut in 0..datagram.len() {
            let mut s = NameSniffer::new();
            s.observe(&touch(Proto::Udp, 3), Timestamp(0), None, &datagram[..cut]);
            assert!(s.finish().is_empty());
        }
    }

    /// The same ClientHello sent as two handshake fragments in two datagrams, second first.
    #[test]
    fn dtls_fragmented_client_hello_sni() {
        let whole = dtls_client_hello("frag.example");
        let handshake = &whole[13..];
        let (len, body) = (&handshake[1..4], &handshake[12..]);
        let fragment = |offset: usize, data: &[u8]| {
            let mut h = vec![1, len[0], len[1], len[2], 0, 0];
            h.extend_from_slice(&[(offset >> 16) as u8, (offset >> 8) as u8, offset as u8]);
            h.extend_from_slice(&[0, (data.len() >> 8) as u8, data.len() as u8]);
            h.extend_from_slice(data);
            let mut r = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0];
            r.extend_from_slice(&(h.len() as u16).to_be_bytes());
            r.extend_from_slice(&h);
            r
        };
        let (a, b) = body.split_at(40);
        let mut s = NameSniffer::new();
        s.observe(&touch(Proto::Udp, 4), Timestamp(0), None, &fragment(40, b));
        s.observe(&touch(Proto::Udp, 4), Timestamp(0), None, &fragment(0, a));
        let found = s.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.name, "frag.example");
    }

    #[test]
    fn crypto_prefix_handles_overlap_and_gaps() {
        let mut pieces = vec![
            (3, b"def".to_vec()),
            (0, b"abcd".to_vec()),
            (10, b"x".to_vec()),
        ];
        assert_eq!(contiguous_prefix(&mut pieces), b"abcdef");
    }
}
