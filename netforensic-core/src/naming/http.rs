//! HTTP/1.x request host: the `Host` header of the first request, or the authority of an
//! absolute URI (proxy requests) or a `CONNECT` target.

/// Request head bytes looked at; a first request line plus headers beyond this is not HTTP
/// worth waiting for.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Methods recognised at the start of a stream.
const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"PATCH ",
    b"TRACE ",
];

/// Does a stream starting with these bytes look like an HTTP request?
pub fn starts_like_http(data: &[u8]) -> bool {
    METHODS
        .iter()
        .any(|m| data.starts_with(m) || m.starts_with(data))
}

use super::tls::Sniff;

/// The host of the first request (`NeedMore` while the head is incomplete).
pub fn request_host(data: &[u8]) -> Sniff {
    match parse_head(data) {
        Ok(Some(host)) => Sniff::Found(host),
        Ok(None) => Sniff::NeedMore,
        Err(NotFound) => Sniff::Done,
    }
}

/// No host in this stream.
struct NotFound;

fn parse_head(data: &[u8]) -> Result<Option<String>, NotFound> {
    let head_end = find(data, b"\r\n\r\n").or_else(|| find(data, b"\n\n"));
    let Some(head_end) = head_end else {
        return if data.len() > MAX_REQUEST_HEAD || !starts_like_http(data) {
            Err(NotFound)
        } else {
            Ok(None)
        };
    };
    let head = data.get(..head_end).ok_or(NotFound)?;
    let head = text_with_hex_escapes(head);
    let mut lines = head.lines();
    let request_line = lines.next().ok_or(NotFound)?;
    let mut parts = request_line.split(' ');
    let method = parts.next().ok_or(NotFound)?;
    let target = parts.next().ok_or(NotFound)?;
    let from_header = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| value.trim().to_string())
    });
    let authority = if method == "CONNECT" {
        Some(target.to_string())
    } else {
        target
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            // Userinfo (`user@host`) exists only in a URI's authority, never in a Host
            // header, whose `@` is part of the (hostile) value and must be kept.
            .map(|authority| {
                authority
                    .rsplit('@')
                    .next()
                    .unwrap_or(authority)
                    .to_string()
            })
    };
    let host = authority
        .filter(|a| !a.is_empty())
        .or(from_header)
        .ok_or(NotFound)?;
    match strip_port(&host) {
        "" => Err(NotFound),
        host => Ok(Some(host.to_string())),
    }
}

/// The head as text: valid UTF-8 kept, each invalid byte as `\xNN` (as dns.log shows
/// bytes), so a Host carrying invalid UTF-8 is still reported, faithfully.
fn text_with_hex_escapes(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_host_is_kept_hex_escaped() {
        // Regression (robust suite, hostile strings): a head with invalid UTF-8 lost its
        // Host entirely; tshark's http.host shows it.
        assert_eq!(
            request_host(b"GET / HTTP/1.1\r\nHost: bad\xff\xfeutf8\r\n\r\n"),
            Sniff::Found("bad\\xff\\xfeutf8".into())
        );
    }

    #[test]
    fn at_sign_in_host_header_is_kept() {
        // Regression (robust suite, hostile strings): the Host header `@SUM(1+1)` lost its
        // `@` to userinfo stripping meant for absolute URIs; tshark's http.host keeps it.
        assert_eq!(
            request_host(b"GET / HTTP/1.1\r\nHost: @SUM(1+1)\r\n\r\n"),
            Sniff::Found("@SUM(1+1)".into())
        );
        assert_eq!(
            request_host(b"GET http://user@proxied.test/x HTTP/1.1\r\n\r\n"),
            Sniff::Found("proxied.test".into())
        );
    }

    #[test]
    fn host_header_absolute_uri_and_connect() {
        assert_eq!(
            request_host(b"GET / HTTP/1.1\r\nHost: www.example.com:8080\r\n\r\n"),
            Sniff::Found("www.example.com".into())
        );
        assert_eq!(
            request_host(b"GET http://proxied.test/x HTTP/1.1\r\nHost: proxied.test\r\n\r\n"),
            Sniff::Found("proxied.test".into())
        );
        assert_eq!(
            request_host(b"CONNECT secure.test:443 HTTP/1.1\r\n\r\n"),
            Sniff::Found("secure.test".into())
        );
        assert_eq!(
            request_host(b"GET / HTTP/1.1\r\nhost: [2001:db8::1]:80\r\n\r\n"),
            Sniff::Found("2001:db8::1".into())
        );
        assert_eq!(request_host(b"GET / HTTP/1.1\r\nHo"), Sniff::NeedMore);
        assert_eq!(request_host(b"GET / HTTP/1.0\r\n\r\n"), Sniff::Done);
        assert_eq!(request_host(b"\x16\x03\x01"), Sniff::Done);
    }
}
