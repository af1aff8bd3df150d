//! What every text importer shares: bounded line iteration with line numbers, warnings that
//! name the line, endpoint and time parsing.

use super::Snapshot;
use crate::time::Timestamp;
use crate::{Error, ErrorKind};
use std::net::IpAddr;

/// Longest line an importer reads; longer ones are skipped (no tool prints them, an attacker
/// might).
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;
/// Warnings kept per file; beyond this they are only counted.
const MAX_WARNINGS: usize = 50;
/// Longest name (process, user, module, ...) kept from a snapshot field.
pub(crate) const MAX_NAME_BYTES: usize = 4096;

/// What an importer returns: the snapshots a text held and what it could not read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imported {
    pub snapshots: Vec<Snapshot>,
    pub warnings: Vec<String>,
}

/// Collects warnings (bounded) and counts skipped lines while an importer runs.
#[derive(Debug, Default)]
pub(crate) struct ImportLog {
    warnings: Vec<String>,
    suppressed: u64,
    skipped_lines: u64,
    first_skipped: Option<usize>,
}

impl ImportLog {
    pub(crate) fn warn(&mut self, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
        }
    }

    pub(crate) fn too_long(&mut self, line: usize) {
        self.warn(format!(
            "line {line}: longer than {MAX_LINE_BYTES} bytes, ignored"
        ));
    }

    /// A line that is neither header nor row: counted, the first one named.
    pub(crate) fn skip(&mut self, line: usize) {
        self.skipped_lines = self.skipped_lines.saturating_add(1);
        if self.first_skipped.is_none() {
            self.first_skipped = Some(line);
        }
    }

    pub(crate) fn finish(mut self, snapshots: Vec<Snapshot>) -> Imported {
        if let Some(first) = self.first_skipped {
            let n = self.skipped_lines;
            self.warnings.push(format!(
                "skipped {n} unrecognised line{} (first: line {first})",
                if n == 1 { "" } else { "s" }
            ));
        }
        if self.suppressed > 0 {
            self.warnings
                .push(format!("{} more warnings not shown", self.suppressed));
        }
        Imported {
            snapshots,
            warnings: self.warnings,
        }
    }
}

/// Lines with 1-based numbers (offset by `first_line - 1`), `\r` removed. An over-long
/// line comes as `None`: the caller reports it with [`ImportLog::too_long`] and goes on.
pub(crate) fn numbered_lines(
    text: &str,
    first_line: usize,
) -> impl Iterator<Item = (usize, Option<&str>)> {
    text.lines().enumerate().map(move |(i, line)| {
        let number = first_line.saturating_add(i);
        if line.len() > MAX_LINE_BYTES {
            return (number, None);
        }
        (number, Some(line.strip_suffix('\r').unwrap_or(line)))
    })
}

/// A format error at a line.
pub(crate) fn error_at(line: usize, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::UnknownFormat, format!("line {line}: {message}"))
}

/// An address and port as the tools print them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `None` for `*` (any address).
    pub addr: Option<IpAddr>,
    /// `None` for `*` (any port).
    pub port: Option<u16>,
    /// `%scope` suffix of the address, without `%`.
    pub scope: Option<String>,
}

/// `1.2.3.4:80`, `[::1]:80`, `[fe80::1%eth0]:123`, `127.0.0.53%lo:53`, `:::22`, `*:*`,
/// `0.0.0.0:*`. Addresses come back canonical (IPv4-mapped IPv6 as IPv4).
pub(crate) fn parse_endpoint(s: &str) -> Option<Endpoint> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':')?)
    } else {
        s.rsplit_once(':')?
    };
    let port = match port {
        "*" => None,
        p => Some(p.parse::<u16>().ok()?),
    };
    let (addr, scope) = parse_host(host)?;
    Some(Endpoint { addr, port, scope })
}

/// An address with optional `%scope`; `*` is `None`. `Some((None, _))` = any address.
pub(crate) fn parse_host(host: &str) -> Option<(Option<IpAddr>, Option<String>)> {
    if host == "*" {
        return Some((None, None));
    }
    let (bare, scope) = match host.split_once('%') {
        Some((bare, scope)) => (bare, Some(bounded(scope))),
        None => (host, None),
    };
    let addr: IpAddr = bare.parse().ok()?;
    Some((Some(addr.to_canonical()), scope))
}

/// A field copied into the model, cut at [`MAX_NAME_BYTES`] on a character boundary.
pub(crate) fn bounded(s: &str) -> String {
    if s.len() <= MAX_NAME_BYTES {
        return s.to_string();
    }
    let mut end = MAX_NAME_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// `Some(text)` unless empty or a placeholder (`-`, `N/A`).
pub(crate) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || t == "-" || t.eq_ignore_ascii_case("n/a") {
        None
    } else {
        Some(bounded(t))
    }
}

/// RFC 3339 (`2026-11-24T10:00:00Z`, `...+01:00`, fractions) to a timestamp.
pub(crate) fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos()).ok().map(Timestamp)
}

/// A calendar date and time of day (no zone) to a timestamp, as UTC. `None` if invalid.
pub(crate) fn civil_to_timestamp(
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanos: u32,
) -> Option<Timestamp> {
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let t = time::PrimitiveDateTime::new(date, clock).assume_utc();
    i64::try_from(t.unix_timestamp_nanos()).ok().map(Timestamp)
}

/// Digits of a fraction (`394` of `.394`) as nanoseconds; at most 9 digits are used.
pub(crate) fn fraction_nanos(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: u32 = 0;
    for i in 0..9 {
        let d = digits.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + d;
    }
    Some(nanos)
}

/// The first `n` whitespace-separated fields of a line and the rest of it (trimmed): for
/// formats whose last column may contain spaces (process names, `users:(("a b",...))`).
pub(crate) fn split_fields(line: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut fields = Vec::with_capacity(n);
    let mut rest = line.trim_start();
    while fields.len() < n {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (field, after) = rest.split_at(end);
        fields.push(field);
        rest = after.trim_start();
    }
    Some((fields, rest.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn endpoints_in_every_spelling() {
        let e = parse_endpoint("127.0.0.53%lo:53").unwrap();
        assert_eq!(e.addr, Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 53))));
        assert_eq!(e.port, Some(53));
        assert_eq!(e.scope.as_deref(), Some("lo"));
        let e = parse_endpoint("[::ffff:10.0.0.1]:443").unwrap();
        assert_eq!(e.addr, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        let e = parse_endpoint(":::22").unwrap();
        assert_eq!(e.addr, Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        assert_eq!(e.port, Some(22));
        let e = parse_endpoint("*:*").unwrap();
        assert_eq!((e.addr, e.port), (None, None));
        let e = parse_endpoint("[fe80::1%eth0]:123").unwrap();
        assert_eq!(e.scope.as_deref(), Some("eth0"));
        assert!(parse_endpoint("localhost:ssh").is_none());
        assert!(parse_endpoint("1.2.3.4:70000").is_none());
        assert!(parse_endpoint("[::1").is_none());
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:01.5Z"),
            Some(Timestamp(1_500_000_000))
        );
        assert_eq!(fraction_nanos("394"), Some(394_000_000));
        assert_eq!(fraction_nanos("x"), None);
        assert_eq!(
            civil_to_timestamp(1970, 1, 2, 0, 0, 0, 0),
            Some(Timestamp(86_400 * 1_000_000_000))
        );
        assert_eq!(civil_to_timestamp(2025, 2, 30, 0, 0, 0, 0), None);
    }
}
