//! Watches the client side of each connection for the name it asked the server for: TLS SNI
//! over reassembled TCP, HTTP/1.x Host, DTLS SNI, QUIC Initial SNI.

use super::{http, quic, tls, InFlowName, NameSource};
use crate::dns::reassembly::{Push, Reassembler};
use crate::flow::{FlowId, FlowTouch, Proto};
use crate::time::Timestamp;
use ahash::AHashMap;
use tls_parser::{parse_dtls_plaintext_records, DTLSMessage, DTLSMessageHandshakeBody};

/// Client datagrams of a QUIC connection examined for the ClientHello (a post-quantum key
/// share spreads it over two or three Initials; retransmissions add a few more).
const MAX_QUIC_DATAGRAMS: u8 = 16;
/// CRYPTO frame pieces kept per QUIC connection.
const MAX_CRYPTO_PIECES: usize = 64;

enum Sniffing {
    Tls(Box<Reassembler>),
    Http(Box<Reassembler>),
    /// DTLS: the first client datagram carries the ClientHello.
    Dtls,
    Quic {
        pieces: Vec<(u64, Vec<u8>)>,
        bytes: usize,
        datagrams: u8,
    },
    Done,
}

/// Watches client payloads for SNI / Host.
#[derive(Default)]
pub struct NameSniffer {
    flows: AHashMap<FlowId, Sniffing>,
    found: Vec<(FlowId, InFlowName)>,
}

impl NameSniffer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn observe(
        &mut self,
        touch: &FlowTouch,
        ts: Timestamp,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        let _ = ts;
        if !touch.from_orig || touch.proto == Proto::Icmp {
            return;
        }
        let state = self
            .flows
            .entry(touch.id)
            .or_insert_with(|| first_look(touch.proto, payload));
        let outcome = match state {
            Sniffing::Done => return,
            Sniffing::Tls(stream) => {
                if stream.push(tcp_seq.unwrap_or(0), payload) == Push::Overflow {
                    Some(None)
                } else {
                    match tls::sni_from_stream(stream.data()) {
                        tls::Sniff::Found(name) => Some(Some((name, NameSource::Sni, "ssl"))),
                        tls::Sniff::NeedMore => None,
                        tls::Sniff::Done => Some(None),
                    }
                }
            }
            Sniffing::Http(stream) => {
                if stream.push(tcp_seq.unwrap_or(0), payload) == Push::Overflow {
                    Some(None)
                } else {
                    match http::request_host(stream.data()) {
                        tls::Sniff::Found(host) => Some(Some((host, NameSource::HttpHost, "http"))),
                        tls::Sniff::NeedMore => None,
                        tls::Sniff::Done => Some(None),
                    }
                }
            }
            Sniffing::Dtls => Some(dtls_sni(payload).map(|n| (n, NameSource::DtlsSni, "dtls"))),
            Sniffing::Quic {
                pieces,
                bytes,
                datagrams,
            } => {
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
                    Some(tls::Sniff::Found(name)) => {
                        Some(Some((name, NameSource::QuicSni, "quic")))
                    }
                    Some(_) => Some(None),
                    None if *datagrams >= MAX_QUIC_DATAGRAMS => Some(None),
                    None => None,
                }
            }
        };
        if let Some(result) = outcome {
            *state = Sniffing::Done;
            if let Some((name, source, service)) = result {
                self.found.push((
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

    pub fn flow_finished(&mut self, id: FlowId) {
        self.flows.remove(&id);
    }

    /// Names found per connection (sorted by id).
    pub fn finish(mut self) -> Vec<(FlowId, InFlowName)> {
        self.found.sort_by_key(|(id, _)| *id);
        self.found
    }
}

/// Decide from a connection's first client payload what to look for.
fn first_look(proto: Proto, payload: &[u8]) -> Sniffing {
    match proto {
        Proto::Tcp if tls::starts_like_tls(payload) => {
            Sniffing::Tls(Box::new(Reassembler::new(tls::MAX_CLIENT_HELLO)))
        }
        Proto::Tcp if http::starts_like_http(payload) => {
            Sniffing::Http(Box::new(Reassembler::new(http::MAX_REQUEST_HEAD)))
        }
        Proto::Udp if quic::is_client_initial(payload) => Sniffing::Quic {
            pieces: Vec::new(),
            bytes: 0,
            datagrams: 0,
        },
        Proto::Udp if is_dtls(payload) => Sniffing::Dtls,
        _ => Sniffing::Done,
    }
}

/// DTLS 1.0/1.2 handshake record (versions 0xfeff, 0xfefd).
fn is_dtls(payload: &[u8]) -> bool {
    matches!(payload, [22, 0xfe, 0xfd | 0xff, ..])
}

fn dtls_sni(datagram: &[u8]) -> Option<String> {
    let (_, records) = parse_dtls_plaintext_records(datagram).ok()?;
    records
        .iter()
        .flat_map(|r| r.messages.iter())
        .find_map(|m| match m {
            DTLSMessage::Handshake(h) => match &h.body {
                DTLSMessageHandshakeBody::ClientHello(hello) => {
                    tls::sni_from_extensions(hello.ext?)
                }
                _ => None,
            },
            _ => None,
        })
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
