//! JSON encoding of one record into a reused byte buffer: no allocation per cell, integers
//! through `itoa` and floats through `zmij` (the shortest round-trip form, the crate
//! `serde_json` itself prints floats with, so the bytes are the same as through `serde_json`).
//!
//! String escaping follows `serde_json` exactly: `"` and `\` escaped, the short forms `\b \f
//! \n \r \t`, every other byte below 0x20 as `\u00xx` (lowercase hex), everything else
//! (including non-ASCII UTF-8 and DEL) copied as is.

use super::{addr_ascii, Cell, TabularRecord, ADDR_TEXT_MAX};
use crate::flow::IdText;
use crate::time::Timestamp;
use std::net::IpAddr;

/// The JSON shape of a record type, worked out once per writer from its columns rather than
/// per row: each member's key is pre-rendered with its separator (`,"key":`), and runs of
/// columns with the same `json_parent` are grouped.
#[derive(Debug, Default)]
pub(crate) struct JsonLayout {
    members: Vec<Member>,
}

#[derive(Debug)]
enum Member {
    Cell(Field),
    /// A nested object: its key (`,"parent":`) and its fields.
    Group {
        parent: &'static str,
        key: Box<[u8]>,
        fields: Vec<Field>,
    },
}

#[derive(Debug)]
struct Field {
    column: usize,
    key: Box<[u8]>,
}

impl JsonLayout {
    pub(crate) fn of<R: TabularRecord>() -> Self {
        let mut members: Vec<Member> = Vec::new();
        for (column, c) in R::columns().iter().enumerate() {
            let field = Field {
                column,
                key: member_key(c.json_key),
            };
            match (c.json_parent, members.last_mut()) {
                (None, _) => members.push(Member::Cell(field)),
                (
                    Some(parent),
                    Some(Member::Group {
                        parent: p, fields, ..
                    }),
                ) if *p == parent => {
                    fields.push(field);
                }
                (Some(parent), _) => members.push(Member::Group {
                    parent,
                    key: member_key(parent),
                    fields: vec![field],
                }),
            }
        }
        JsonLayout { members }
    }
}

/// `,"key":`. Keys are the columns' static names, which need no escaping (a test checks every
/// record type's columns): copied as they are, without the per-byte scan of [`push_str`].
fn member_key(key: &str) -> Box<[u8]> {
    [b",\"", key.as_bytes(), b"\":"].concat().into()
}

/// One record as a JSON object appended to `out`: the record type's direct encoder where it
/// has one ([`TabularRecord::push_json`]), else the generic one ([`push_cells`]).
pub(super) fn push_object<R: TabularRecord>(out: &mut Vec<u8>, record: &R, layout: &JsonLayout) {
    if !record.push_json(out) {
        push_cells(out, record, layout);
    }
}

/// The generic encoder: absent cells omitted, nested groups as objects (an object whose cells
/// are all absent is omitted). Each cell is asked for once.
pub(crate) fn push_cells<R: TabularRecord>(out: &mut Vec<u8>, record: &R, layout: &JsonLayout) {
    let start = out.len();
    for member in &layout.members {
        match member {
            Member::Cell(field) => push_field(out, field, record),
            Member::Group { key, fields, .. } => {
                let group = out.len();
                out.extend_from_slice(key);
                let inner = out.len();
                for field in fields {
                    push_field(out, field, record);
                }
                if out.len() == inner {
                    out.truncate(group);
                } else {
                    close_object(out, inner);
                }
            }
        }
    }
    close_object(out, start);
}

fn push_field<R: TabularRecord>(out: &mut Vec<u8>, field: &Field, record: &R) {
    let cell = record.cell(field.column);
    if !cell.is_absent() {
        out.extend_from_slice(&field.key);
        push_value(out, &cell);
    }
}

/// Members were written from `start` on, each after a `,`: the first of those becomes the
/// object's `{` (no members: `{}`).
fn close_object(out: &mut Vec<u8>, start: usize) {
    match out.get_mut(start) {
        Some(first) => {
            *first = b'{';
            out.push(b'}');
        }
        None => out.extend_from_slice(b"{}"),
    }
}

/// A key or parent name [`member_key`] may copy as it is (or a token, [`JsonObject::token`]).
#[cfg(test)]
pub(crate) fn is_plain_key(key: &str) -> bool {
    let mut escaped = Vec::new();
    push_str(&mut escaped, key);
    escaped.get(1..escaped.len().saturating_sub(1)) == Some(key.as_bytes())
}

/// A JSON object written member by member, for direct encoders ([`TabularRecord::push_json`]):
/// the generic encoder's rules (member separators, values through the same functions), with
/// each member's `,"key":` given by the caller, typically a literal.
pub(crate) struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    /// Where the members start (a `,` before each; the first becomes the `{`).
    start: usize,
    /// A nested object: where its own member (`,"key":`) starts, to take it back when the
    /// object gets no member.
    member: Option<usize>,
}

impl<'a> JsonObject<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        let start = out.len();
        JsonObject {
            out,
            start,
            member: None,
        }
    }

    /// A nested object, omitted if it gets no member; close it with [`JsonObject::end`].
    pub(crate) fn object(&mut self, member: &[u8]) -> JsonObject<'_> {
        let at = self.out.len();
        self.out.extend_from_slice(member);
        let start = self.out.len();
        JsonObject {
            out: self.out,
            start,
            member: Some(at),
        }
    }

    pub(crate) fn end(self) {
        match self.member {
            Some(at) if self.out.len() == self.start => self.out.truncate(at),
            _ => close_object(self.out, self.start),
        }
    }

    pub(crate) fn str(&mut self, member: &[u8], s: &str) {
        self.out.extend_from_slice(member);
        push_str(self.out, s);
    }

    /// A uid or Community ID: its characters need no escape (see [`IdText`]), so it is
    /// copied without the scan of [`push_str`].
    pub(crate) fn id_text<const N: usize>(&mut self, member: &[u8], text: &IdText<N>) {
        self.out.extend_from_slice(member);
        self.out.push(b'"');
        push_cut(self.out, text.padded(), text.as_bytes().len());
        self.out.push(b'"');
    }

    /// One of the program's fixed names (protocol, state, name source): plain ASCII with
    /// nothing to escape (a test checks every one), so copied without the scan of [`push_str`].
    pub(crate) fn token(&mut self, member: &[u8], token: &'static str) {
        self.unescaped(member, token.as_bytes());
    }

    /// A string member whose bytes are known to need no escape, copied as they are (inlined:
    /// four to six per row; a call each cost 0.9 M instructions on the 100 MB file).
    #[inline(always)]
    fn unescaped(&mut self, member: &[u8], text: &[u8]) {
        self.out.extend_from_slice(member);
        self.out.push(b'"');
        self.out.extend_from_slice(text);
        self.out.push(b'"');
    }

    pub(crate) fn opt_str(&mut self, member: &[u8], s: Option<&str>) {
        if let Some(s) = s {
            self.str(member, s);
        }
    }

    pub(crate) fn str_list<S: AsRef<str>>(&mut self, member: &[u8], items: &[S]) {
        self.out.extend_from_slice(member);
        self.out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            push_str(self.out, item.as_ref());
        }
        self.out.push(b']');
    }

    /// Inlined: nine per flow, and the member's copy stays a fixed-size one.
    #[inline(always)]
    pub(crate) fn count(&mut self, member: &[u8], v: u64) {
        self.out.extend_from_slice(member);
        push_count(self.out, v);
    }

    pub(crate) fn time(&mut self, member: &[u8], t: Timestamp) {
        self.out.extend_from_slice(member);
        push_time(self.out, t);
    }

    pub(crate) fn seconds(&mut self, member: &[u8], nanos: i64) {
        self.out.extend_from_slice(member);
        push_seconds(self.out, nanos);
    }

    pub(crate) fn bool(&mut self, member: &[u8], b: bool) {
        self.out.extend_from_slice(member);
        push_bool(self.out, b);
    }

    pub(crate) fn addr(&mut self, member: &[u8], a: IpAddr) {
        self.out.extend_from_slice(member);
        push_addr(self.out, a);
    }
}

fn push_value(out: &mut Vec<u8>, cell: &Cell<'_>) {
    match cell {
        Cell::Absent => out.extend_from_slice(b"null"),
        Cell::Text(s) => push_str(out, s),
        Cell::Int(v) => push_int(out, *v),
        Cell::Count(v) => push_count(out, *v),
        Cell::Float(v) => push_float(out, *v),
        Cell::Seconds(nanos) => push_seconds(out, *nanos),
        Cell::Time(t) => push_time(out, *t),
        Cell::Bool(b) => push_bool(out, *b),
        Cell::Addr(a) => push_addr(out, *a),
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

fn push_int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// A count in decimal: below 10^8 (nearly every count: ports, packets, bytes) through
/// [`push_digits8`], inlined (nine per flow), without `itoa`'s variable-length copy.
#[inline(always)]
fn push_count(out: &mut Vec<u8>, v: u64) {
    if v < 100_000_000 {
        push_digits8(out, v as u32);
    } else {
        push_large_count(out, v);
    }
}

#[cold]
#[inline(never)]
fn push_large_count(out: &mut Vec<u8>, v: u64) {
    push_int(out, v);
}

fn push_seconds(out: &mut Vec<u8>, nanos: i64) {
    push_nanos_float(out, nanos as f64 / 1e9, nanos);
}

fn push_time(out: &mut Vec<u8>, t: Timestamp) {
    push_nanos_float(out, t.as_secs_f64(), t.nanos());
}

/// 2^33: below it neighbouring f64 are less than a microsecond apart.
const MICROS_TEXT_LIMIT: f64 = 8_589_934_592.0;

/// `value`, the seconds of `nanos` nanoseconds as an f64, as [`push_float`] prints it, from
/// integers when `nanos` is whole microseconds (pcap's resolution): half the instructions,
/// twice per flow. The text is then the microseconds' decimal without trailing zeros, when
/// that decimal reads back as `value` (checked: `micros as f64 / 1e6` is the correctly rounded
/// f64 of `micros` µs, exact below 2^53): below [`MICROS_TEXT_LIMIT`] at most one multiple of
/// a microsecond reads back as a given f64, and every shorter decimal is such a multiple, so
/// it is the shortest text; from 1e-5 (10 µs) on `zmij` writes it without an exponent.
/// Anything else (nanoseconds, negative, tiny, huge) goes through [`push_float`].
fn push_nanos_float(out: &mut Vec<u8>, value: f64, nanos: i64) {
    if nanos >= 10_000 && nanos % 1000 == 0 && value < MICROS_TEXT_LIMIT {
        let micros = nanos / 1000;
        if micros as f64 / 1e6 == value {
            push_micros_text(out, micros.unsigned_abs());
            return;
        }
    }
    push_float(out, value);
}

/// Each byte of [`bcd8`] as an ASCII digit.
const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// `micros` (below 2^33 seconds) as seconds: the whole part, `.`, and the six decimals
/// without trailing zeros (`.0` when all are zero). Digits are made eight at a time
/// ([`bcd8`]) and stored as one 8-byte word, then the surplus cut off.
fn push_micros_text(out: &mut Vec<u8>, micros: u64) {
    let whole = micros / 1_000_000;
    let frac = (micros % 1_000_000) as u32;
    let (high, low) = ((whole / 100_000_000) as u32, (whole % 100_000_000) as u32);
    if high > 0 {
        // Below 2^33 seconds: at most two more digits.
        if high >= 10 {
            out.push(b'0' + (high / 10 % 10) as u8);
        }
        out.push(b'0' + (high % 10) as u8);
        out.extend_from_slice(&(bcd8(low) | ASCII_ZEROS).to_le_bytes());
    } else {
        push_digits8(out, low);
    }
    if frac == 0 {
        out.extend_from_slice(b".0");
        return;
    }
    // The six decimals and two zeros; trailing zero digits are the high zero bytes (two or more).
    let digits = bcd8(frac * 100);
    let trailing = digits.leading_zeros() / 8;
    let start = out.len();
    out.push(b'.');
    out.extend_from_slice(&(digits | ASCII_ZEROS).to_le_bytes());
    out.truncate(start + 9 - trailing as usize);
}

/// `n` (below 10^8) in decimal, from [`bcd8`]: stored as one 8-byte word less its leading
/// zero digits (the low zero bytes; at least one digit stays), then cut to length.
#[inline(always)]
fn push_digits8(out: &mut Vec<u8>, n: u32) {
    let digits = bcd8(n);
    let leading = (digits.trailing_zeros() / 8).min(7);
    let start = out.len();
    out.extend_from_slice(&((digits | ASCII_ZEROS) >> (8 * leading)).to_le_bytes());
    out.truncate(start + 8 - leading as usize);
}

/// The eight decimal digits of `n` (below 10^8, zero-padded), one per byte, the first in the
/// lowest byte: split in halves, quarters and digits in parallel lanes of one `u64`, where
/// each division by 100 or 10 is a multiplication and a shift, exact in these ranges.
fn bcd8(n: u32) -> u64 {
    let n = u64::from(n % 100_000_000);
    let halves = (n / 10_000) | ((n % 10_000) << 32);
    let hundreds = ((halves * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let quarters = ((halves - hundreds * 100) << 16) | hundreds;
    let tens = ((quarters * 103) >> 10) & 0x000f_000f_000f_000f;
    ((quarters - tens * 10) << 8) | tens
}

fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn push_addr(out: &mut Vec<u8>, a: IpAddr) {
    let mut text = [0; ADDR_TEXT_MAX];
    let len = addr_ascii(a, &mut text).len();
    out.push(b'"');
    push_cut(out, &text, len);
    out.push(b'"');
}

/// The first `len` bytes of `bytes`: all of it copied (a fixed size, a few vector stores),
/// then cut, instead of a variable-length copy (a `memcpy` call) for these short texts.
#[inline(always)]
fn push_cut<const N: usize>(out: &mut Vec<u8>, bytes: &[u8; N], len: usize) {
    let start = out.len();
    out.extend_from_slice(bytes);
    out.truncate(start + len.min(N));
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

/// Every byte of a word: `0x01` in each.
const BYTE_ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a word.
const BYTE_HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether no byte of `bytes` needs an escape (below 0x20, `"`, `\`), eight bytes at a time in
/// a `u64` (a third of the instructions of a scan per byte on the strings of a flow). Bytes
/// from 0x80 up (UTF-8 beyond ASCII) need none.
fn is_plain(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        return bytes.iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\');
    }
    let mut escapes = 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        escapes |= escape_bytes(word);
    }
    // The last eight bytes once more, overlapping the full words: they cover the remainder.
    if let Some(last) = bytes.get(bytes.len() - 8..) {
        escapes |= escape_bytes(last);
    }
    escapes == 0
}

/// Non-zero when a byte of the eight in `word` is below 0x20, `"` or `\` (the classic test for
/// a byte below `n`: `(w - n·ones) & !w & highs`, exact as to whether there is one; equality
/// is a zero byte after XOR).
fn escape_bytes(word: &[u8]) -> u64 {
    // A short slice (never: eight bytes are passed) reads as zeros, which need an escape: the
    // per-byte path then runs, correct either way.
    let w = <[u8; 8]>::try_from(word).map_or(0, u64::from_le_bytes);
    let below = |w: u64, n: u8| w.wrapping_sub(BYTE_ONES * u64::from(n)) & !w & BYTE_HIGHS;
    below(w, 0x20)
        | below(w ^ (BYTE_ONES * u64::from(b'"')), 1)
        | below(w ^ (BYTE_ONES * u64::from(b'\\')), 1)
}

/// A JSON string literal, escaped as `serde_json` escapes it.
pub(super) fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Almost every string needs no escape: a scan eight bytes at a time decides that, so the
    // common case is one copy instead of a per-byte loop.
    if is_plain(bytes) {
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
    use crate::report::tabular::Column;

    /// Cells `0..n` of a record of [`SHAPE`]; `None` = absent.
    struct Cells(Vec<Option<u64>>);

    const SHAPE: &[Column] = &[
        Column::new("a", "count"),
        Column::nested("g.x", "g", "x", "count"),
        Column::nested("g.y", "g", "y", "count"),
        Column::nested("h.x", "h", "x", "count"),
        Column::new("b", "count"),
    ];

    impl TabularRecord for Cells {
        fn columns() -> &'static [Column] {
            SHAPE
        }
        fn cell(&self, index: usize) -> Cell<'_> {
            self.0
                .get(index)
                .copied()
                .flatten()
                .map_or(Cell::Absent, Cell::Count)
        }
        fn zeek_path() -> &'static str {
            "test"
        }
    }

    #[test]
    fn objects_and_groups_open_and_close_around_present_cells() {
        let layout = JsonLayout::of::<Cells>();
        for (cells, expected) in [
            (vec![None; 5], "{}"),
            (vec![Some(1), None, None, None, None], r#"{"a":1}"#),
            (vec![None, None, Some(2), None, None], r#"{"g":{"y":2}}"#),
            (
                vec![None, Some(1), Some(2), Some(3), Some(4)],
                r#"{"g":{"x":1,"y":2},"h":{"x":3},"b":4}"#,
            ),
            (
                vec![Some(0), None, None, Some(3), None],
                r#"{"a":0,"h":{"x":3}}"#,
            ),
        ] {
            let mut out = b"[".to_vec();
            push_object(&mut out, &Cells(cells), &layout);
            assert_eq!(out.get(1..), Some(expected.as_bytes()), "{expected}");
        }
    }

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

    /// Each byte value at each place of strings of up to 24 bytes (the word-at-a-time scan's
    /// words, remainders and overlaps), escaped by us and by `serde_json`.
    #[test]
    fn every_byte_at_every_place_escapes_as_serde_json() {
        for len in 1..=24 {
            for at in 0..len {
                for b in (0u8..0x80).chain([0xc3]) {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    if b == 0xc3 {
                        // "é" (two bytes), so the string stays UTF-8.
                        bytes.insert(at + 1, 0xa9);
                    }
                    let s = std::str::from_utf8(&bytes).unwrap();
                    let mut ours = Vec::new();
                    push_str(&mut ours, s);
                    assert_eq!(ours, serde_json::to_vec(s).unwrap(), "{s:?}");
                }
            }
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

    #[test]
    fn counts_print_as_itoa_does() {
        let mut values: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 99_999_999, 100_000_000, u64::MAX];
        values.extend((0..64).map(|bit| 1u64 << bit));
        values.extend((0..64).map(|bit| (1u64 << bit) - 1));
        values.extend((0..=19).map(|exp| 10u64.pow(exp)));
        values.extend((1..=19).map(|exp| 10u64.pow(exp) - 1));
        values.extend((0..200_000u64).map(|i| i * 503));
        for v in values {
            let mut ours = Vec::new();
            push_count(&mut ours, v);
            assert_eq!(ours, v.to_string().as_bytes(), "{v}");
        }
    }

    #[test]
    fn bcd8_gives_the_digits() {
        for n in (0..100_000_000)
            .step_by(997)
            .chain([0, 1, 9, 10, 99_999_999, 10_000_000])
        {
            let text = (bcd8(n) | ASCII_ZEROS).to_le_bytes();
            assert_eq!(text, *format!("{n:08}").as_bytes(), "{n}");
        }
    }

    /// Times and durations written from integers are the bytes the float formatter writes
    /// for the same f64, in every case: zero, negative, sub-microsecond, tiny, huge, the
    /// limits of the integer path, trailing zeros, and random values at every magnitude.
    #[test]
    fn times_and_durations_print_as_their_floats() {
        let check = |nanos: i64| {
            let t = Timestamp(nanos);
            let (mut ours, mut float) = (Vec::new(), Vec::new());
            push_time(&mut ours, t);
            push_float(&mut float, t.as_secs_f64());
            assert_eq!(ours, float, "time {nanos}");
            ours.clear();
            float.clear();
            push_seconds(&mut ours, nanos);
            push_float(&mut float, nanos as f64 / 1e9);
            assert_eq!(ours, float, "seconds {nanos}");
        };
        let limit = (MICROS_TEXT_LIMIT * 1e9) as i64;
        let mut edges = vec![
            0,
            1,
            999,
            1_000,
            9_000,
            9_999,
            10_000,
            10_001,
            11_000,
            100_000,
            477_000,
            999_999_000,
            1_000_000_000,
            1_000_001_000,
            1_300_475_167_000_000_000,
            1_300_475_167_100_000_000,
            1_300_475_167_096_530_000,
            1_300_475_167_096_535_000,
            1_300_475_167_096_535_001,
            1_300_475_167_096_535_999,
            1_700_000_000_999_999_000,
            limit - 1_000,
            limit,
            limit + 1_000,
            i64::MAX,
            i64::MAX - i64::MAX % 1000,
            i64::MIN,
        ];
        edges.extend((0..63).map(|bit| 1i64 << bit));
        edges.extend((0..63).map(|bit| (1i64 << bit) / 1000 * 1000));
        edges.extend((0..=18).map(|exp| 10i64.pow(exp)));
        edges.extend((1..=18).map(|exp| 10i64.pow(exp) - 1_000));
        for nanos in edges {
            check(nanos);
            check(nanos.saturating_neg());
        }
        // Random microseconds (and a few nanoseconds) at every magnitude up to past the limit.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..400_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let micros = (x >> 1) >> (x % 64).min(62) as u32;
            let micros = micros.min(i64::MAX as u64 / 1000 - 1) as i64;
            let extra = if i % 8 == 0 {
                (x >> 20) as i64 % 1000
            } else {
                0
            };
            check(micros * 1000 + extra);
        }
        // Every microsecond of a few seconds, as pcap timestamps have them.
        for secs in [
            1,
            59,
            1_300_475_167,
            1_700_000_000,
            4_294_967_295,
            8_589_934_591,
        ] {
            for micros in (0..1_000_000).step_by(7) {
                check(secs * 1_000_000_000 + micros * 1000);
            }
        }
    }
}
