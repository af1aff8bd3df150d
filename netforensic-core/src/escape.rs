//! Strings from the wire (DNS names, SNI, HTTP Host, process names, command lines) are
//! attacker-controlled. These functions make them safe for each sink while keeping them
//! faithful: nothing is dropped, only escaped.

use std::borrow::Cow;
use std::fmt::Write;

/// For a terminal: control characters (C0, DEL, C1) and backslashes escaped, so no escape
/// sequence reaches the terminal. Printable Unicode is kept.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !needs_terminal(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    push_terminal(&mut out, s);
    Cow::Owned(out)
}

/// Whether [`terminal`] changes `s`. Printable ASCII other than the backslash, what nearly
/// every cell of a table is, is told apart byte by byte without decoding characters.
pub(crate) fn needs_terminal(s: &str) -> bool {
    let plain_ascii = |b: &u8| (0x20..0x7f).contains(b) && *b != b'\\';
    !s.as_bytes().iter().all(plain_ascii) && s.chars().any(needs_terminal_escape)
}

/// [`terminal`] appended to `out`, for writers that build one buffer of many strings.
pub(crate) fn push_terminal(out: &mut String, s: &str) {
    for c in s.chars() {
        if needs_terminal_escape(c) {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x100 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
        } else {
            out.push(c);
        }
    }
}

fn needs_terminal_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        // Bidirectional overrides and isolates can reorder what the examiner reads.
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Bytes that should be text but may not be UTF-8: invalid bytes become `\xNN`, then the
/// result is safe for a terminal.
pub fn bytes_lossless(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&terminal(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// For a CSV cell: a cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`,
/// tab, carriage return first) gets a leading `'`, as OWASP recommends. Quoting of separators
/// and newlines is the CSV writer's job.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    if csv_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Whether [`csv_cell`] prefixes `s` with `'`: for writers that put the prefix in place
/// themselves rather than copy the cell.
pub(crate) fn csv_formula(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// For HTML text and attribute values.
pub fn html(s: &str) -> Cow<'_, str> {
    if !s.contains(['<', '>', '&', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_ansi_and_newlines() {
        assert_eq!(terminal("a\x1b[31mb\nc"), "a\\x1b[31mb\\nc");
        assert_eq!(terminal("plain.example"), "plain.example");
        assert_eq!(terminal("\u{202e}gnp.exe"), "\\u{202e}gnp.exe");
    }

    #[test]
    fn invalid_utf8_is_kept_as_hex() {
        assert_eq!(bytes_lossless(b"ab\xffc"), "ab\\xffc");
    }

    #[test]
    fn csv_formulas_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("example.com"), "example.com");
    }
}
