//! DTLS ClientHello (RFC 6347 4.2.2/4.2.3): handshake fragments spread over several records
//! and datagrams are put back together, then the whole message is read with `tls-parser`.

use super::tls;
use tls_parser::{parse_dtls_plaintext_records, DTLSMessage, DTLSMessageHandshakeBody};

/// DTLS record header: type, version, epoch, 48-bit sequence number, length.
const RECORD_HEADER_LEN: usize = 13;
/// DTLS handshake header: type, length, message_seq, fragment_offset, fragment_length.
const HANDSHAKE_HEADER_LEN: usize = 12;
const CONTENT_HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
/// Fragments kept per ClientHello.
const MAX_FRAGMENTS: usize = 64;

/// Does a datagram start with a DTLS 1.0/1.2 handshake record (versions 0xfeff, 0xfefd)?
pub fn starts_like_dtls(payload: &[u8]) -> bool {
    matches!(payload, [CONTENT_HANDSHAKE, 0xfe, 0xfd | 0xff, ..])
}

/// What the datagrams so far say.
#[derive(Debug, PartialEq, Eq)]
pub enum Hello {
    Sni(String),
    NoSni,
    NeedMore,
    NotHello,
}

/// The first ClientHello of a DTLS client, reassembled from its fragments.
#[derive(Debug, Default)]
pub struct HelloAssembler {
    /// Message length once known, and the message body bytes.
    length: Option<usize>,
    body: Vec<u8>,
    /// Byte ranges of `body` received.
    ranges: Vec<(usize, usize)>,
}

impl HelloAssembler {
    /// Add one client datagram.
    pub fn push(&mut self, datagram: &[u8]) -> Hello {
        let mut pos = 0usize;
        while let Some(header) = datagram.get(pos..pos + RECORD_HEADER_LEN) {
            let len = usize::from(u16::from_be_bytes([header[11], header[12]]));
            let Some(fragment) =
                datagram.get(pos + RECORD_HEADER_LEN..pos + RECORD_HEADER_LEN + len)
            else {
                break;
            };
            if header[0] == CONTENT_HANDSHAKE {
                if let Some(result) = self.add_fragment(fragment) {
                    return result;
                }
            }
            pos += RECORD_HEADER_LEN + len;
        }
        self.try_complete()
    }

    fn add_fragment(&mut self, fragment: &[u8]) -> Option<Hello> {
        let h = fragment.get(..HANDSHAKE_HEADER_LEN)?;
        if h[0] != CLIENT_HELLO {
            return Some(Hello::NotHello);
        }
        let u24 = |i: usize| {
            (usize::from(h[i]) << 16) | (usize::from(h[i + 1]) << 8) | usize::from(h[i + 2])
        };
        let (length, offset, frag_len) = (u24(1), u24(6), u24(9));
        if length > tls::MAX_CLIENT_HELLO {
            return Some(Hello::NotHello);
        }
        let total = *self.length.get_or_insert(length);
        if total != length || self.ranges.len() >= MAX_FRAGMENTS {
            return Some(Hello::NotHello);
        }
        let data = fragment.get(HANDSHAKE_HEADER_LEN..HANDSHAKE_HEADER_LEN + frag_len)?;
        let end = offset.checked_add(frag_len).filter(|e| *e <= total)?;
        if self.body.len() < total {
            self.body.resize(total, 0);
        }
        self.body.get_mut(offset..end)?.copy_from_slice(data);
        self.ranges.push((offset, end));
        None
    }

    fn try_complete(&mut self) -> Hello {
        let Some(total) = self.length else {
            return Hello::NeedMore;
        };
        self.ranges.sort_unstable();
        let mut covered = 0usize;
        for &(start, end) in &self.ranges {
            if start > covered {
                return Hello::NeedMore;
            }
            covered = covered.max(end);
        }
        if covered < total {
            return Hello::NeedMore;
        }
        // Rebuild one unfragmented record and let tls-parser read it.
        let mut record = vec![CONTENT_HANDSHAKE, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0];
        let Ok(record_len) = u16::try_from(HANDSHAKE_HEADER_LEN + total) else {
            return Hello::NotHello;
        };
        record.extend_from_slice(&record_len.to_be_bytes());
        let len = [(total >> 16) as u8, (total >> 8) as u8, total as u8];
        record.push(CLIENT_HELLO);
        record.extend_from_slice(&len);
        record.extend_from_slice(&[0, 0, 0, 0, 0]); // message_seq, fragment_offset
        record.extend_from_slice(&len);
        record.extend_from_slice(&self.body);
        match client_hello_sni(&record) {
            Some(Some(name)) => Hello::Sni(name),
            Some(None) => Hello::NoSni,
            None => Hello::NotHello,
        }
    }
}

/// `None`: no ClientHello in the records; `Some(None)`: a ClientHello without SNI.
fn client_hello_sni(records: &[u8]) -> Option<Option<String>> {
    let (_, records) = parse_dtls_plaintext_records(records).ok()?;
    records
        .iter()
        .flat_map(|r| r.messages.iter())
        .find_map(|m| match m {
            DTLSMessage::Handshake(h) => match &h.body {
                DTLSMessageHandshakeBody::ClientHello(hello) => {
                    Some(hello.ext.and_then(tls::sni_from_extensions))
                }
                _ => None,
            },
            _ => None,
        })
}
