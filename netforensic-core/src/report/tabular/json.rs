//! JSON encoding of one record into a reused byte buffer: no allocation per cell, integers
//! through `itoa` and floats through `zmij` (the shortest round-trip form, the crate
//! `serde_json` itself prints floats with, so the bytes are the same as through `serde_json`).
//!
//! String escaping follows `serde_json` exactly: `"` and `\` escaped, the short forms `\b \f
//! \n \r \t`, every other byte below 0x20 as `\u00xx` (lowercase hex), everything else
//! (including non-ASCII UTF-8 and DEL) copied as is.

use super::{addr_text, Cell, TabularRecord, ADDR_TEXT_MAX};

/// One record as a JSON object appended to `out`: absent cells omitted, nested groups as
/// objects (an object whose cells are all absent is omitted).
pub(super) fn push_object<R: TabularRecord>(out: &mut Vec<u8>, record: &R) {
    let columns = R::columns();
    out.push(b'{');
    let mut first = true;
    let mut i = 0;
    while let Some(column) = columns.get(i) {
        match column.json_parent {
            None => {
                let cell = record.cell(i);
                if !cell.is_absent() {
                    push_key(out, column.json_key, &mut first);
                    push_value(out, &cell);
                }
                i += 1;
            }
            Some(parent) => {
                let end = columns
                    .iter()
                    .skip(i)
                    .position(|c| c.json_parent != Some(parent))
                    .map_or(columns.len(), |n| i + n);
                // Cells are cheap views, so asking twice beats collecting them.
                if (i..end).any(|j| !record.cell(j).is_absent()) {
                    push_key(out, parent, &mut first);
                    out.push(b'{');
                    let mut inner_first = true;
                    for (j, column) in columns.iter().enumerate().take(end).skip(i) {
                        let cell = record.cell(j);
                        if !cell.is_absent() {
                            push_key(out, column.json_key, &mut inner_first);
                            push_value(out, &cell);
                        }
                    }
                    out.push(b'}');
                }
                i = end;
            }
        }
    }
    out.push(b'}');
}

/// Keys are the columns' static names, which need no escaping (a test checks every record
/// type's columns): copied as they are, without the per-byte scan of [`push_str`].
fn push_key(out: &mut Vec<u8>, key: &str, first: &mut bool) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A key or parent name [`push_key`] may copy as it is.
#[cfg(test)]
pub(crate) fn is_plain_key(key: &str) -> bool {
    let mut escaped = Vec::new();
    push_str(&mut escaped, key);
    escaped.get(1..escaped.len().saturating_sub(1)) == Some(key.as_bytes())
}

fn push_value(out: &mut Vec<u8>, cell: &Cell<'_>) {
    match cell {
        Cell::Absent => out.extend_from_slice(b"null"),
        Cell::Text(s) => push_str(out, s),
        Cell::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Cell::Count(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Cell::Float(v) => push_float(out, *v),
        Cell::Seconds(nanos) => push_float(out, *nanos as f64 / 1e9),
        Cell::Time(t) => push_float(out, t.as_secs_f64()),
        Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Cell::Addr(a) => {
            out.push(b'"');
            out.extend_from_slice(addr_text(*a, &mut [0; ADDR_TEXT_MAX]).as_bytes());
            out.push(b'"');
        }
        Cell::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_value(out, item);
            }
            out.push(b']');
        }
    }
}

/// JSON has no NaN or infinity: those become `null`.
fn push_float(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// What each byte below 0x80 needs: 0 = copy, `u` = `\u00xx`, else the short escape letter.
const fn escape_table() -> [u8; 128] {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
}

const ESCAPE: [u8; 128] = escape_table();
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A JSON string literal, escaped as `serde_json` escapes it.
pub(super) fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Almost every string needs no escape: a branch-free scan (vectorised) decides that, so
    // the common case is one copy instead of a per-byte loop.
    let plain = bytes.iter().fold(true, |plain, &b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    // Copy runs of plain bytes at once; stop only at bytes that need an escape.
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE.get(usize::from(b)).copied().unwrap_or(0);
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        out.push(b'\\');
        if escape == b'u' {
            out.extend_from_slice(b"u00");
            out.push(HEX_DIGITS[usize::from(b >> 4)]);
            out.push(HEX_DIGITS[usize::from(b & 0xf)]);
        } else {
            out.push(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value below 0x80 and some non-ASCII, escaped by us and by `serde_json`.
    #[test]
    fn strings_escape_exactly_as_serde_json() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é→😀\u{7f}\u{2028}");
        for s in [all.as_str(), "", "plain", "\"q\"", "a\\b", "\u{0}\u{1f}"] {
            let mut ours = Vec::new();
            push_str(&mut ours, s);
            assert_eq!(ours, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn floats_print_as_serde_json_does() {
        for v in [
            0.0,
            -0.0,
            1.5,
            0.000477,
            1_300_475_167.096_535,
            1e-7,
            1e21,
            123_456_789_012.345_67,
            f64::MIN_POSITIVE,
        ] {
            let mut ours = Vec::new();
            push_float(&mut ours, v);
            assert_eq!(ours, serde_json::to_vec(&v).unwrap(), "{v}");
        }
        let mut nan = Vec::new();
        push_float(&mut nan, f64::NAN);
        assert_eq!(nan, b"null");
    }
}
