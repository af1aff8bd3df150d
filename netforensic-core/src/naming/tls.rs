//! TLS ClientHello server name (SNI, RFC 6066) from a client's TCP byte stream, and from a bare
//! handshake message (what QUIC's CRYPTO frames carry).

use tls_parser::{
    parse_tls_extension, parse_tls_message_handshake, TlsExtension, TlsMessage, TlsMessageHandshake,
};

/// TLS record header: type, version, length.
const RECORD_HEADER_LEN: usize = 5;
/// Handshake content type.
const CONTENT_HANDSHAKE: u8 = 22;
/// Handshake message header: type, 24-bit length.
const HANDSHAKE_HEADER_LEN: usize = 4;
/// ClientHello handshake type.
const CLIENT_HELLO: u8 = 1;
/// A ClientHello larger than this is not waited for (post-quantum key shares and ECH make
/// them a few KB; 64 KiB leaves room without letting a peer make us buffer more).
pub const MAX_CLIENT_HELLO: usize = 64 * 1024;

/// Result of looking at the bytes so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Sniff {
    Found(String),
    /// A ClientHello without a host name: the protocol is known, the name is not.
    NoName,
    NeedMore,
    /// Not TLS, or a ClientHello without a host name: stop looking.
    Done,
}

/// Does a stream starting with these bytes look like a TLS handshake record?
pub fn starts_like_tls(data: &[u8]) -> bool {
    matches!(data, [CONTENT_HANDSHAKE, 3, 0..=4, ..])
}

/// Read the SNI from a client's stream: records are unwrapped into handshake bytes (a
/// ClientHello may span records and segments).
pub fn sni_from_stream(stream: &[u8]) -> Sniff {
    // The first record nearly always holds the whole ClientHello: read it where it is.
    let first = match record_body(stream, 0) {
        Ok(body) => body,
        Err(sniff) => return sniff,
    };
    if let Some(result) = complete_client_hello(first) {
        return result;
    }
    let mut handshake = first.to_vec();
    let mut pos = RECORD_HEADER_LEN + first.len();
    loop {
        let body = match record_body(stream, pos) {
            Ok(body) => body,
            Err(sniff) => return sniff,
        };
        handshake.extend_from_slice(body);
        pos += RECORD_HEADER_LEN + body.len();
        if handshake.len() > MAX_CLIENT_HELLO {
            return Sniff::Done;
        }
        if let Some(result) = complete_client_hello(&handshake) {
            return result;
        }
    }
}

/// The body of the handshake record at `pos`: `NeedMore` while it is incomplete, `Done` when
/// the record is no handshake record.
fn record_body(stream: &[u8], pos: usize) -> Result<&[u8], Sniff> {
    let Some(header) = stream.get(pos..pos + RECORD_HEADER_LEN) else {
        return Err(Sniff::NeedMore);
    };
    if header[0] != CONTENT_HANDSHAKE {
        return Err(Sniff::Done);
    }
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let start = pos + RECORD_HEADER_LEN;
    stream.get(start..start + len).ok_or(Sniff::NeedMore)
}

/// `Some` once `handshake` holds a whole first handshake message (or proves it is no
/// ClientHello).
pub fn complete_client_hello(handshake: &[u8]) -> Option<Sniff> {
    let header = handshake.get(..HANDSHAKE_HEADER_LEN)?;
    if header[0] != CLIENT_HELLO {
        return Some(Sniff::Done);
    }
    let len =
        (usize::from(header[1]) << 16) | (usize::from(header[2]) << 8) | usize::from(header[3]);
    if len > MAX_CLIENT_HELLO {
        return Some(Sniff::Done);
    }
    let message = handshake.get(..HANDSHAKE_HEADER_LEN + len)?;
    Some(match client_hello_sni(message) {
        Some(Some(name)) => Sniff::Found(name),
        Some(None) => Sniff::NoName,
        None => Sniff::Done,
    })
}

/// SNI host name of one complete ClientHello handshake message: `None` when it is no
/// ClientHello, `Some(None)` for a ClientHello without a host name.
pub fn client_hello_sni(message: &[u8]) -> Option<Option<String>> {
    let Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)))) =
        parse_tls_message_handshake(message)
    else {
        return None;
    };
    Some(hello.ext.and_then(sni_from_extensions))
}

/// SNI host name among raw ClientHello extensions: the first host name of the first SNI
/// extension that has one, among the extensions before the first that does not parse (where
/// `parse_tls_extensions` ends its list; its parsers never fail harder than that). Parsed one
/// at a time, stopping at the name: the extensions after it are not looked at.
pub fn sni_from_extensions(ext: &[u8]) -> Option<String> {
    let mut rest = ext;
    loop {
        let Ok((after, extension)) = parse_tls_extension(rest) else {
            return None;
        };
        if after.len() >= rest.len() {
            return None; // consumed nothing (where `many0` stops too)
        }
        if let TlsExtension::SNI(names) = extension {
            if let Some((_, name)) = names.iter().find(|(kind, _)| kind.0 == 0) {
                return Some(host_text(name));
            }
        }
        rest = after;
    }
}

/// A host name as text: printable ASCII kept, anything else escaped as `\xNN`.
pub fn host_text(raw: &[u8]) -> String {
    // The usual name: copied whole rather than pushed a char at a time.
    if raw.iter().all(u8::is_ascii_graphic) {
        if let Ok(text) = std::str::from_utf8(raw) {
            return text.to_owned();
        }
    }
    let mut out = String::with_capacity(raw.len());
    for &b in raw {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal TLS 1.2 ClientHello handshake message with SNI `name`.
    pub fn client_hello(name: &str) -> Vec<u8> {
        let mut sni = Vec::new();
        let n = name.len() as u16;
        sni.extend_from_slice(&(n + 3).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&n.to_be_bytes());
        sni.extend_from_slice(name.as_bytes());
        let mut ext = vec![0, 0];
        ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        ext.extend_from_slice(&sni);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7u8; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher
        body.extend_from_slice(&[1, 0]); // null compression
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut msg = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
        msg.extend_from_slice(&body);
        msg
    }

    fn record(fragment: &[u8]) -> Vec<u8> {
        let mut r = vec![22, 3, 1];
        r.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
        r.extend_from_slice(fragment);
        r
    }

    #[test]
    fn sni_in_one_record_and_split_over_two() {
        let hello = client_hello("example.org");
        assert_eq!(
            sni_from_stream(&record(&hello)),
            Sniff::Found("example.org".into())
        );
        let (a, b) = hello.split_at(20);
        let mut stream = record(a);
        stream.extend_from_slice(&record(b));
        for cut in 0..stream.len() {
            assert_eq!(
                sni_from_stream(&stream[..cut]),
                Sniff::NeedMore,
                "cut {cut}"
            );
        }
        assert_eq!(sni_from_stream(&stream), Sniff::Found("example.org".into()));
    }

    /// The list as `parse_tls_extensions` builds it, searched whole (what the early stop must
    /// match).
    fn sni_from_whole_list(ext: &[u8]) -> Option<String> {
        let (_, extensions) = tls_parser::parse_tls_extensions(ext).ok()?;
        extensions.iter().find_map(|e| match e {
            TlsExtension::SNI(names) => names
                .iter()
                .find(|(kind, _)| kind.0 == 0)
                .map(|(_, name)| host_text(name)),
            _ => None,
        })
    }

    #[test]
    fn sni_search_stops_where_the_whole_list_would_find_it() {
        let ext = |kind: u16, data: &[u8]| {
            let mut e = kind.to_be_bytes().to_vec();
            e.extend_from_slice(&(data.len() as u16).to_be_bytes());
            e.extend_from_slice(data);
            e
        };
        let sni = |kind: u8, name: &[u8]| {
            let mut list = vec![kind];
            list.extend_from_slice(&(name.len() as u16).to_be_bytes());
            list.extend_from_slice(name);
            let mut d = (list.len() as u16).to_be_bytes().to_vec();
            d.extend_from_slice(&list);
            ext(0, &d)
        };
        let lists = [
            [
                ext(0x0a0a, &[]),
                sni(0, b"first.example"),
                sni(0, b"second.example"),
            ]
            .concat(),
            [
                sni(1, b"not-a-host"),
                ext(43, &[4, 3, 4, 3, 3]),
                sni(0, b"b.example"),
            ]
            .concat(),
            [ext(43, &[]), sni(0, b"after-bad.example")].concat(),
            [
                ext(13, &[0, 2, 4, 3]),
                ext(0, &[0, 9, 0]),
                sni(0, b"c.example"),
            ]
            .concat(),
        ];
        for list in &lists {
            for cut in 0..=list.len() {
                let ext = &list[..cut];
                assert_eq!(
                    sni_from_extensions(ext),
                    sni_from_whole_list(ext),
                    "{ext:?}"
                );
            }
        }
        assert_eq!(
            sni_from_extensions(&lists[0]).as_deref(),
            Some("first.example")
        );
    }

    /// Every record copied into one buffer, looked at after each (what the in-place first
    /// record must match).
    fn sni_copying_every_record(stream: &[u8]) -> Sniff {
        let mut handshake: Vec<u8> = Vec::new();
        let mut pos = 0usize;
        loop {
            if let Some(result) = complete_client_hello(&handshake) {
                return result;
            }
            let Some(header) = stream.get(pos..pos + RECORD_HEADER_LEN) else {
                return Sniff::NeedMore;
            };
            if header[0] != CONTENT_HANDSHAKE {
                return Sniff::Done;
            }
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            let Some(body) = stream.get(pos + RECORD_HEADER_LEN..pos + RECORD_HEADER_LEN + len)
            else {
                return Sniff::NeedMore;
            };
            handshake.extend_from_slice(body);
            pos += RECORD_HEADER_LEN + len;
            if handshake.len() > MAX_CLIENT_HELLO {
                return Sniff::Done;
            }
        }
    }

    #[test]
    fn first_record_read_in_place_as_when_copied() {
        let hello = client_hello("in-place.example");
        let (a, rest) = hello.split_at(7);
        let (b, c) = rest.split_at(30);
        let mut huge = vec![1, 0x01, 0, 0];
        huge.resize(0xffff, 0);
        let streams = [
            record(&hello),
            [record(a), record(b), record(c)].concat(),
            [record(a), vec![23, 3, 3, 0, 1, 0], record(rest)].concat(),
            [record(&[]), record(&hello)].concat(),
            [record(&huge), record(&huge)].concat(),
            [record(&hello[..4]), vec![0; 9]].concat(),
        ];
        for stream in &streams {
            for cut in 0..=stream.len().min(400) {
                let part = &stream[..cut];
                assert_eq!(sni_from_stream(part), sni_copying_every_record(part));
            }
            assert_eq!(sni_from_stream(stream), sni_copying_every_record(stream));
        }
        assert_eq!(sni_from_stream(&streams[4]), Sniff::Done);
    }

    #[test]
    fn host_text_escapes_all_but_printable_ascii() {
        assert_eq!(host_text(b"www.example.com"), "www.example.com");
        assert_eq!(host_text(b"a b\xff\x00~"), "a\\x20b\\xff\\x00~");
        assert_eq!(host_text(b""), "");
    }

    #[test]
    fn not_a_client_hello() {
        assert_eq!(sni_from_stream(&record(&[2, 0, 0, 0])), Sniff::Done);
        let mut no_ext = client_hello("x");
        no_ext.truncate(4 + 2 + 32 + 1 + 4 + 2);
        no_ext[3] = (no_ext.len() - 4) as u8;
        assert_eq!(sni_from_stream(&record(&no_ext)), Sniff::NoName);
        assert_eq!(sni_from_stream(b"GET / HTTP/1.1\r\n"), Sniff::Done);
        assert!(!starts_like_tls(b"GET"));
    }
}
