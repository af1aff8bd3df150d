//! Generic record writers: any record type that describes itself as typed columns
//! ([`TabularRecord`]) can be written as an aligned table, one JSON array, JSON lines, CSV, or
//! Zeek's tab-separated log format. Writers stream to a `&mut dyn Write`; the table, which
//! needs rows to know its column widths, holds one block of rendered rows at a time ([`table`]).
//!
//! Every string cell may come from the wire, so each sink escapes in its own way: the table
//! through [`crate::escape::terminal`], CSV through [`crate::escape::csv_cell`]'s rule, JSON through
//! rules identical to `serde_json` ([`json`]), Zeek TSV with Zeek's `\xNN` escapes.

mod csv_row;
pub(crate) mod json;
mod table;

use crate::time::Timestamp;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// One column of a record type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Flat name, used by the table, CSV and Zeek TSV (`id.orig_h`, `process.pid`).
    pub name: &'static str,
    /// Zeek type for the `#types` header (`time`, `string`, `addr`, `port`, `count`, `interval`,
    /// `bool`, `enum`, `set[string]`, `vector[string]`, ...).
    pub zeek_type: &'static str,
    /// In JSON, the column lives inside this nested object (`process` -> `{"process": {...}}`).
    /// Consecutive columns with the same parent form one object.
    pub json_parent: Option<&'static str>,
    /// Key in JSON (inside `json_parent` when set).
    pub json_key: &'static str,
}

impl Column {
    /// A top-level column: the same name everywhere.
    pub const fn new(name: &'static str, zeek_type: &'static str) -> Self {
        Column {
            name,
            zeek_type,
            json_parent: None,
            json_key: name,
        }
    }

    /// A column that JSON nests as `parent.key`, while the flat formats call it `name`.
    pub const fn nested(
        name: &'static str,
        parent: &'static str,
        key: &'static str,
        zeek_type: &'static str,
    ) -> Self {
        Column {
            name,
            zeek_type,
            json_parent: Some(parent),
            json_key: key,
        }
    }
}

/// A typed value of one cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    /// No value: omitted in JSON, `-` in Zeek TSV and the table, empty in CSV.
    Absent,
    Text(Cow<'a, str>),
    Int(i64),
    Count(u64),
    Float(f64),
    /// A span of time in nanoseconds (Zeek `interval`: seconds with 6 decimals).
    Seconds(i64),
    /// A point in time (Zeek `time`: epoch seconds with 6 decimals; JSON: float seconds).
    Time(Timestamp),
    Bool(bool),
    Addr(IpAddr),
    /// A set or vector; elements are themselves cells (never nested lists).
    List(Vec<Cell<'a>>),
}

impl<'a> Cell<'a> {
    pub fn str(s: &'a str) -> Self {
        Cell::Text(Cow::Borrowed(s))
    }

    /// A text cell from an optional string (absent when `None`).
    pub fn opt_str(s: Option<&'a str>) -> Self {
        s.map_or(Cell::Absent, Cell::str)
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Cell::Absent)
    }

    /// A list of strings.
    pub fn str_list<I: IntoIterator<Item = &'a S>, S: AsRef<str> + 'a + ?Sized>(items: I) -> Self {
        Cell::List(items.into_iter().map(|s| Cell::str(s.as_ref())).collect())
    }
}

/// A record type that can be written by the writers of this module.
pub trait TabularRecord {
    /// All columns, in output order.
    fn columns() -> &'static [Column];
    /// The value of column `index` (an index into [`TabularRecord::columns`]); out of range
    /// gives [`Cell::Absent`].
    fn cell(&self, index: usize) -> Cell<'_>;
    /// Zeek's `#path` for the TSV header (`conn`, `dns`).
    fn zeek_path() -> &'static str;
    /// Indices of the columns the human-facing table shows, in display order (default: all).
    fn table_columns() -> Option<&'static [usize]> {
        None
    }
    /// For record types written in bulk (flows): append this record as a JSON object straight
    /// from its fields and return `true`, instead of the generic encoder asking
    /// [`TabularRecord::cell`] column by column. The bytes must be the generic encoder's; a
    /// test must hold the two together. Default: `false`, nothing written.
    fn push_json(&self, _out: &mut Vec<u8>) -> bool {
        false
    }
}

/// The output formats of record commands (`flows`, `dns`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    Table,
    Json,
    Jsonl,
    Csv,
    Zeek,
}

/// The clock written into Zeek's `#open`/`#close` lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ZeekClock {
    /// Wall-clock time when the header and trailer are written (what Zeek does).
    #[default]
    Wall,
    /// A fixed time for both lines, for reproducible output.
    Fixed(Timestamp),
}

/// Below this many rows encoding in parallel does not pay for the thread hand-offs.
const PARALLEL_MIN_ROWS: usize = 4096;
/// Rows encoded per parallel block: bounds the encoded bytes held at once (~32 MB).
const PARALLEL_BLOCK_ROWS: usize = 65536;
/// Rows one task encodes.
const PARALLEL_CHUNK_ROWS: usize = 1024;

/// Streams records of type `R` to `out` in one format. Call [`RecordWriter::finish`] at the end
/// (it closes the JSON array, writes the Zeek trailer and the table).
pub struct RecordWriter<'w, R: TabularRecord> {
    format: RecordFormat,
    out: &'w mut dyn Write,
    clock: ZeekClock,
    rows: u64,
    /// Table only: the block of rows not yet printed, and the widths so far.
    table: table::Table,
    /// Table only: the record's columns the table shows, in display order.
    table_columns: Vec<usize>,
    /// Reused buffer for one rendered Zeek or CSV row.
    scratch: String,
    /// CSV only: a field while it is quoted or prefixed.
    csv_spare: String,
    /// Reused buffer for one encoded JSON row (written with one `write_all`).
    line: Vec<u8>,
    /// Buffers of the chunks [`RecordWriter::write_slice`] encodes in parallel, kept between
    /// calls: their memory is reused rather than allocated (and page-faulted in) every time.
    chunks: Vec<Vec<u8>>,
    /// JSON formats only: the record type's JSON shape.
    json: json::JsonLayout,
    _record: std::marker::PhantomData<fn(&R)>,
}

impl<'w, R: TabularRecord> RecordWriter<'w, R> {
    pub fn new(format: RecordFormat, out: &'w mut dyn Write) -> Self {
        let json = match format {
            RecordFormat::Json | RecordFormat::Jsonl => json::JsonLayout::of::<R>(),
            _ => json::JsonLayout::default(),
        };
        let (table, table_columns) = match format {
            RecordFormat::Table => {
                let shown: Vec<usize> = table_indices::<R>().collect();
                let right_aligned = shown
                    .iter()
                    .map(|&i| {
                        R::columns().get(i).is_some_and(|c| {
                            matches!(c.zeek_type, "count" | "int" | "interval" | "port")
                        })
                    })
                    .collect();
                (table::Table::new(right_aligned), shown)
            }
            _ => (table::Table::default(), Vec::new()),
        };
        RecordWriter {
            format,
            out,
            clock: ZeekClock::Wall,
            rows: 0,
            table,
            table_columns,
            scratch: String::new(),
            csv_spare: String::new(),
            line: Vec::new(),
            chunks: Vec::new(),
            json,
            _record: std::marker::PhantomData,
        }
    }

    /// Use a fixed time for Zeek's `#open`/`#close` lines.
    pub fn with_zeek_clock(mut self, clock: ZeekClock) -> Self {
        self.clock = clock;
        self
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Write one record.
    pub fn write(&mut self, record: &R) -> io::Result<()> {
        if self.rows == 0 {
            self.write_header()?;
        }
        self.rows += 1;
        match self.format {
            RecordFormat::Table => self.table_row(record),
            RecordFormat::Json => {
                let mut line = std::mem::take(&mut self.line);
                line.clear();
                line.extend_from_slice(if self.rows == 1 { b"\n" } else { b",\n" });
                json::push_object(&mut line, record, &self.json);
                let result = self.out.write_all(&line);
                self.line = line;
                result
            }
            RecordFormat::Jsonl => {
                let mut line = std::mem::take(&mut self.line);
                line.clear();
                json::push_object(&mut line, record, &self.json);
                line.push(b'\n');
                let result = self.out.write_all(&line);
                self.line = line;
                result
            }
            RecordFormat::Csv => self.csv_row(record),
            RecordFormat::Zeek => self.zeek_row(record),
        }
    }

    /// Write every record of an iterator.
    pub fn write_all<'r, I>(&mut self, records: I) -> io::Result<()>
    where
        I: IntoIterator<Item = &'r R>,
        R: 'r,
    {
        for record in records {
            self.write(record)?;
        }
        Ok(())
    }

    /// Write a slice of records in order. JSON and JSON lines rows are independent of each
    /// other, so they are encoded on the rayon pool, block by block (bounded memory), and
    /// written in the slice's order: the bytes are those of [`RecordWriter::write_all`].
    pub fn write_slice(&mut self, records: &[R]) -> io::Result<()>
    where
        R: Sync,
    {
        use rayon::prelude::*;
        let jsonl = match self.format {
            RecordFormat::Jsonl => true,
            RecordFormat::Json => false,
            _ => return self.write_all(records),
        };
        if records.len() < PARALLEL_MIN_ROWS {
            return self.write_all(records);
        }
        if self.rows == 0 {
            self.write_header()?;
        }
        let mut buffers = std::mem::take(&mut self.chunks);
        for block in records.chunks(PARALLEL_BLOCK_ROWS) {
            let first_row = self.rows;
            let layout = &self.json;
            let count = block.len().div_ceil(PARALLEL_CHUNK_ROWS);
            if buffers.len() < count {
                buffers.resize_with(count, Vec::new);
            }
            let used = buffers.get_mut(..count).unwrap_or_default();
            block
                .par_chunks(PARALLEL_CHUNK_ROWS)
                .zip(used.par_iter_mut())
                .enumerate()
                .for_each(|(chunk_index, (chunk, buf))| {
                    buf.clear();
                    buf.reserve(chunk.len() * 512);
                    for (offset, record) in chunk.iter().enumerate() {
                        if jsonl {
                            json::push_object(buf, record, layout);
                            buf.push(b'\n');
                        } else {
                            let row =
                                first_row + (chunk_index * PARALLEL_CHUNK_ROWS + offset) as u64;
                            buf.extend_from_slice(if row == 0 { b"\n" } else { b",\n" });
                            json::push_object(buf, record, layout);
                        }
                    }
                });
            for buf in buffers.iter().take(count) {
                self.out.write_all(buf)?;
            }
            self.rows += block.len() as u64;
        }
        self.chunks = buffers;
        Ok(())
    }

    /// End the output and flush.
    pub fn finish(mut self) -> io::Result<()> {
        if self.rows == 0 {
            self.write_header()?;
        }
        match self.format {
            RecordFormat::Table => self.table.print_block(self.out)?,
            RecordFormat::Json => {
                let end: &[u8] = if self.rows == 0 { b"]\n" } else { b"\n]\n" };
                self.out.write_all(end)?;
            }
            RecordFormat::Jsonl | RecordFormat::Csv => {}
            RecordFormat::Zeek => {
                let close = zeek_header_time(self.clock);
                writeln!(self.out, "#close\t{close}")?;
            }
        }
        self.out.flush()
    }

    fn write_header(&mut self) -> io::Result<()> {
        match self.format {
            RecordFormat::Table => {
                let names = self
                    .table_columns
                    .iter()
                    .map(|&i| R::columns().get(i).map_or("", |c| c.name));
                self.table.header(names);
                Ok(())
            }
            RecordFormat::Json => self.out.write_all(b"["),
            RecordFormat::Jsonl => Ok(()),
            RecordFormat::Csv => self.csv_line(R::columns().iter().map(|c| Cell::str(c.name))),
            RecordFormat::Zeek => {
                let open = zeek_header_time(self.clock);
                let out = &mut *self.out;
                out.write_all(b"#separator \\x09\n#set_separator\t,\n")?;
                out.write_all(b"#empty_field\t(empty)\n#unset_field\t-\n")?;
                writeln!(out, "#path\t{}", R::zeek_path())?;
                writeln!(out, "#open\t{open}")?;
                out.write_all(b"#fields")?;
                for column in R::columns() {
                    write!(out, "\t{}", column.name)?;
                }
                out.write_all(b"\n#types")?;
                for column in R::columns() {
                    write!(out, "\t{}", column.zeek_type)?;
                }
                out.write_all(b"\n")
            }
        }
    }

    /// Add a row to the table's block; print the block once it is full.
    fn table_row(&mut self, record: &R) -> io::Result<()> {
        for &i in &self.table_columns {
            self.table.cell(&record.cell(i));
        }
        if !self.table.end_record() {
            return Ok(());
        }
        self.table.print_block(self.out)
    }

    /// One CSV record: fields rendered into one line and finished in place ([`csv_row`]).
    fn csv_row(&mut self, record: &R) -> io::Result<()> {
        self.csv_line((0..R::columns().len()).map(|i| record.cell(i)))
    }

    /// One CSV line of `cells` (the header's names or a record's cells).
    fn csv_line<'c>(&mut self, cells: impl Iterator<Item = Cell<'c>>) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.scratch);
        line.clear();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                line.push(',');
            }
            let start = line.len();
            render_plain(&mut line, &cell, "");
            if csv_row::may_change(&cell) {
                csv_row::finish_field(&mut line, start, &mut self.csv_spare);
            }
        }
        csv_row::end_record(&mut line, 0);
        let result = self.out.write_all(line.as_bytes());
        self.scratch = line;
        result
    }

    fn zeek_row(&mut self, record: &R) -> io::Result<()> {
        self.scratch.clear();
        for i in 0..R::columns().len() {
            if i > 0 {
                self.scratch.push('\t');
            }
            render_zeek(&mut self.scratch, &record.cell(i), false);
        }
        self.scratch.push('\n');
        let line = std::mem::take(&mut self.scratch);
        let result = self.out.write_all(line.as_bytes());
        self.scratch = line;
        result
    }
}

/// The table's columns, in the order the record type lists them (default: all, in order).
fn table_indices<R: TabularRecord>() -> Box<dyn Iterator<Item = usize>> {
    let count = R::columns().len();
    match R::table_columns() {
        Some(chosen) => Box::new(chosen.iter().copied().filter(move |&i| i < count)),
        None => Box::new(0..count),
    }
}

/// `YYYY-MM-DD-HH-MM-SS`, as Zeek writes `#open` and `#close`.
fn zeek_header_time(clock: ZeekClock) -> String {
    let t = match clock {
        ZeekClock::Fixed(t) => time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        ZeekClock::Wall => time::OffsetDateTime::now_utc(),
    };
    let format = time::macros::format_description!("[year]-[month]-[day]-[hour]-[minute]-[second]");
    t.format(&format).unwrap_or_default()
}

/// Seconds with 6 decimals from nanoseconds, exact (no float), as Zeek prints `interval`.
fn push_seconds(out: &mut String, nanos: i64) {
    if nanos < 0 {
        out.push('-');
    }
    let micros = nanos.unsigned_abs() / 1000;
    push_decimal(out, micros / 1_000_000, (micros % 1_000_000) as u32);
}

/// `whole.frac` with `frac` (below one million) as exactly 6 digits.
fn push_decimal<W: itoa::Integer>(out: &mut String, whole: W, frac: u32) {
    let mut digits = itoa::Buffer::new();
    out.push_str(digits.format(whole));
    out.push('.');
    let frac = digits.format(frac);
    for _ in frac.len()..6 {
        out.push('0');
    }
    out.push_str(frac);
}

/// Longest address text: a full IPv6 address with an embedded IPv4 tail (INET6_ADDRSTRLEN).
pub(crate) const ADDR_TEXT_MAX: usize = 46;

/// An address exactly as `Display` writes it, without the `fmt` machinery (which costs over a
/// thousand instructions per IPv6 address; this runs for every address cell and DNS answer).
pub(crate) fn addr_text(addr: IpAddr, buf: &mut [u8; ADDR_TEXT_MAX]) -> &str {
    std::str::from_utf8(addr_ascii(addr, buf)).unwrap_or_default()
}

/// The bytes of [`addr_text`] (ASCII), for byte sinks: spares the UTF-8 check, which costs
/// about as much as writing the text.
pub(crate) fn addr_ascii(addr: IpAddr, buf: &mut [u8; ADDR_TEXT_MAX]) -> &[u8] {
    let mut text = AddrBuf { buf, len: 0 };
    match addr {
        IpAddr::V4(v4) => text.v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                text.put(b"::ffff:");
                text.v4(v4);
            }
            None => {
                let segments = v6.segments();
                // The first longest run of zero segments becomes `::` when it spans two or more.
                let (mut best_start, mut best_len, mut run_start, mut run_len) = (0, 0, 0, 0);
                for (i, &segment) in segments.iter().enumerate() {
                    if segment == 0 {
                        if run_len == 0 {
                            run_start = i;
                        }
                        run_len += 1;
                        if run_len > best_len {
                            (best_start, best_len) = (run_start, run_len);
                        }
                    } else {
                        run_len = 0;
                    }
                }
                if best_len > 1 {
                    text.hex_groups(segments.get(..best_start).unwrap_or_default());
                    text.put(b"::");
                    text.hex_groups(segments.get(best_start + best_len..).unwrap_or_default());
                } else {
                    text.hex_groups(&segments);
                }
            }
        },
    }
    let AddrBuf { buf, len } = text;
    buf.get(..len).unwrap_or_default()
}

/// The bytes of [`addr_ascii`] written so far.
struct AddrBuf<'a> {
    buf: &'a mut [u8; ADDR_TEXT_MAX],
    len: usize,
}

impl AddrBuf<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(slot) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            slot.copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    /// `bytes` at the end, keeping only its first `keep`: a fixed-size copy (one store) in
    /// place of a variable-length one, which costs a `memcpy` call. The buffer has room: no
    /// address text is longer than 39 bytes, so no write starts after byte 38.
    fn put4(&mut self, bytes: [u8; 4], keep: usize) {
        if let Some(slot) = self.buf.get_mut(self.len..self.len + 4) {
            slot.copy_from_slice(&bytes);
            self.len += keep;
        }
    }

    fn v4(&mut self, v4: std::net::Ipv4Addr) {
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                self.put(b".");
            }
            let (text, width) = OCTET_TEXT[usize::from(octet)];
            self.put4(text, width);
        }
    }

    /// Segments in lowercase hex without leading zeros, joined by `:`.
    fn hex_groups(&mut self, segments: &[u16]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, &segment) in segments.iter().enumerate() {
            if i > 0 {
                self.put(b":");
            }
            // Digits shifted to the front past the leading zeros (at least one digit stays).
            let skip = (segment.leading_zeros() / 4).min(3);
            let shifted = u32::from(segment) << (4 * skip);
            let digit = |n: u32| HEX[(shifted >> (12 - 4 * n) & 0xf) as usize];
            self.put4([digit(0), digit(1), digit(2), digit(3)], 4 - skip as usize);
        }
    }
}

/// Decimal text of each octet value, left-aligned, and its width.
const OCTET_TEXT: [([u8; 4], usize); 256] = octet_text();

const fn octet_text() -> [([u8; 4], usize); 256] {
    let mut table = [([0u8; 4], 0usize); 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        let (hundreds, tens, ones) = (b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10);
        table[i] = if v >= 100 {
            ([hundreds, tens, ones, 0], 3)
        } else if v >= 10 {
            ([tens, ones, 0, 0], 2)
        } else {
            ([ones, 0, 0, 0], 1)
        };
        i += 1;
    }
    table
}

/// Render a cell for the table and CSV: lists joined by `,`, absent as `absent`.
fn render_plain(out: &mut String, cell: &Cell<'_>, absent: &str) {
    match cell {
        Cell::Absent => out.push_str(absent),
        Cell::Text(s) => out.push_str(s),
        Cell::Int(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Cell::Count(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Cell::Float(v) => {
            let _ = write!(out, "{v}");
        }
        Cell::Seconds(nanos) => push_seconds(out, *nanos),
        // As `Timestamp`'s `Display`: floor seconds, then microseconds.
        Cell::Time(t) => push_decimal(out, t.secs(), t.subsec_nanos() / 1000),
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Cell::Addr(a) => out.push_str(addr_text(*a, &mut [0; ADDR_TEXT_MAX])),
        Cell::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render_plain(out, item, absent);
            }
        }
    }
}

/// Zeek's reserved field contents: a string equal to one of them gets its first byte escaped.
const ZEEK_UNSET: &str = "-";
const ZEEK_EMPTY: &str = "(empty)";

/// Render a cell as Zeek's ASCII writer does. `in_set` also escapes the set separator.
fn render_zeek(out: &mut String, cell: &Cell<'_>, in_set: bool) {
    match cell {
        Cell::Absent => out.push_str(ZEEK_UNSET),
        Cell::Text(s) if s.is_empty() => out.push_str(ZEEK_EMPTY),
        Cell::Text(s) => {
            let bytes = s.as_bytes();
            let reserved = *s == ZEEK_UNSET || *s == ZEEK_EMPTY;
            for (i, &b) in bytes.iter().enumerate() {
                let escape =
                    (reserved && i == 0) || !(0x20..0x7f).contains(&b) || (in_set && b == b',');
                if escape {
                    let _ = write!(out, "\\x{b:02x}");
                } else {
                    out.push(char::from(b));
                }
            }
        }
        Cell::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Cell::Float(v) => {
            let _ = write!(out, "{v}");
        }
        Cell::List(items) if items.is_empty() => out.push_str(ZEEK_EMPTY),
        Cell::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render_zeek(out, item, true);
            }
        }
        other => render_plain(out, other, ZEEK_UNSET),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape;

    /// JSON copies keys without escaping them: every record type's keys must allow it.
    #[test]
    fn json_keys_need_no_escaping() {
        let all = [
            crate::report::FlowRecord::columns(),
            crate::report::dns::DnsRow::columns(),
            COLUMNS,
        ];
        for column in all.iter().flat_map(|columns| columns.iter()) {
            assert!(json::is_plain_key(column.json_key), "{column:?}");
            if let Some(parent) = column.json_parent {
                assert!(json::is_plain_key(parent), "{column:?}");
            }
        }
        assert!(!json::is_plain_key("a\"b"));
    }

    struct Row {
        name: String,
        count: Option<u64>,
        when: Timestamp,
        tags: Vec<String>,
        pid: Option<u32>,
        exe: Option<String>,
    }

    const COLUMNS: &[Column] = &[
        Column::new("ts", "time"),
        Column::new("id.name", "string"),
        Column::new("count", "count"),
        Column::new("tags", "set[string]"),
        Column::nested("process.pid", "process", "pid", "count"),
        Column::nested("process.exe", "process", "exe", "string"),
    ];

    impl TabularRecord for Row {
        fn columns() -> &'static [Column] {
            COLUMNS
        }
        fn cell(&self, index: usize) -> Cell<'_> {
            match index {
                0 => Cell::Time(self.when),
                1 => Cell::str(&self.name),
                2 => self.count.map_or(Cell::Absent, Cell::Count),
                3 => Cell::str_list(&self.tags),
                4 => self.pid.map_or(Cell::Absent, |p| Cell::Count(u64::from(p))),
                5 => Cell::opt_str(self.exe.as_deref()),
                _ => Cell::Absent,
            }
        }
        fn zeek_path() -> &'static str {
            "test"
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                name: "a\tb\x1b".into(),
                count: Some(7),
                when: Timestamp::from_secs_nanos(1_258_531_221, 486_539_000),
                tags: vec!["x,y".into(), "z".into()],
                pid: Some(42),
                exe: Some("/bin/curl".into()),
            },
            Row {
                name: "-".into(),
                count: None,
                when: Timestamp::from_secs_nanos(2, 0),
                tags: vec![],
                pid: None,
                exe: None,
            },
        ]
    }

    fn render(format: RecordFormat) -> String {
        let mut buf: Vec<u8> = Vec::new();
        let mut writer = RecordWriter::<Row>::new(format, &mut buf)
            .with_zeek_clock(ZeekClock::Fixed(Timestamp::from_secs_nanos(0, 0)));
        writer.write_all(&rows()).unwrap();
        writer.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn parallel_slice_writing_gives_the_same_bytes() {
        // Enough rows for several parallel blocks and chunks, with absent values mixed in.
        let many: Vec<Row> = (0..(PARALLEL_BLOCK_ROWS + 3 * PARALLEL_CHUNK_ROWS + 17))
            .map(|i| Row {
                name: format!("host{i}\u{1b}"),
                count: (i % 3 != 0).then_some(i as u64),
                when: Timestamp::from_secs_nanos(i as i64, 1000),
                tags: vec![format!("t{}", i % 5)],
                pid: (i % 7 == 0).then_some(i as u32),
                exe: None,
            })
            .collect();
        for format in [RecordFormat::Json, RecordFormat::Jsonl, RecordFormat::Csv] {
            let mut serial: Vec<u8> = Vec::new();
            let mut writer = RecordWriter::<Row>::new(format, &mut serial);
            writer.write_all(&many).unwrap();
            writer.finish().unwrap();
            let mut parallel: Vec<u8> = Vec::new();
            let mut writer = RecordWriter::<Row>::new(format, &mut parallel);
            writer.write_slice(&many[..10]).unwrap();
            writer.write_slice(&many[10..]).unwrap();
            writer.finish().unwrap();
            assert!(serial == parallel, "{format:?} differs");
        }
    }

    #[test]
    fn zeek_tsv_matches_zeek_layout_and_escapes() {
        let text = render(RecordFormat::Zeek);
        let expected = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
            #unset_field\t-\n#path\ttest\n#open\t1970-01-01-00-00-00\n\
            #fields\tts\tid.name\tcount\ttags\tprocess.pid\tprocess.exe\n\
            #types\ttime\tstring\tcount\tset[string]\tcount\tstring\n\
            1258531221.486539\ta\\x09b\\x1b\t7\tx\\x2cy,z\t42\t/bin/curl\n\
            2.000000\t\\x2d\t-\t(empty)\t-\t-\n#close\t1970-01-01-00-00-00\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn json_omits_absent_and_nests_groups() {
        let text = render(RecordFormat::Json);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let rows = value.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id.name"], "a\tb\x1b");
        assert_eq!(rows[0]["process"]["pid"], 42);
        assert_eq!(rows[0]["process"]["exe"], "/bin/curl");
        assert_eq!(rows[0]["tags"], serde_json::json!(["x,y", "z"]));
        assert_eq!(rows[0]["ts"].as_f64().unwrap(), 1_258_531_221.486_539);
        assert!(rows[1].get("count").is_none());
        assert!(rows[1].get("process").is_none());
        assert_eq!(rows[1]["tags"], serde_json::json!([]));
    }

    #[test]
    fn empty_json_is_an_empty_array() {
        let mut buf: Vec<u8> = Vec::new();
        RecordWriter::<Row>::new(RecordFormat::Json, &mut buf)
            .finish()
            .unwrap();
        assert_eq!(buf, b"[]\n");
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let text = render(RecordFormat::Jsonl);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v.is_object());
        }
    }

    #[test]
    fn csv_has_header_and_neutralised_formulas() {
        let text = render(RecordFormat::Csv);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header[1], "id.name");
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&records[0][1], "a\tb\x1b");
        assert_eq!(&records[0][3], "x,y,z");
        assert_eq!(&records[1][1], "'-");
        assert_eq!(&records[1][2], "");
    }

    #[test]
    fn table_is_aligned_and_terminal_safe() {
        let text = render(RecordFormat::Table);
        assert!(!text.contains('\x1b'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = lines[0].find("id.name").unwrap();
        assert_eq!(&lines[1][col..col + 2], "a\\");
        assert_eq!(&lines[2][col..col + 1], "-");
    }

    /// The table as it was laid out before blocks: every row measured, then printed. A table
    /// that fits in one block must still come out exactly so.
    fn whole_table(rows: &[Row]) -> String {
        let shown: Vec<usize> = table_indices::<Row>().collect();
        let mut cells: Vec<Vec<String>> = vec![shown
            .iter()
            .map(|&i| escape::terminal(COLUMNS[i].name).into_owned())
            .collect()];
        for row in rows {
            cells.push(
                shown
                    .iter()
                    .map(|&i| {
                        let mut s = String::new();
                        render_plain(&mut s, &row.cell(i), "-");
                        escape::terminal(&s).into_owned()
                    })
                    .collect(),
            );
        }
        let mut widths = vec![0; shown.len()];
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let right: Vec<bool> = shown
            .iter()
            .map(|&i| matches!(COLUMNS[i].zeek_type, "count" | "int" | "interval" | "port"))
            .collect();
        let mut text = String::new();
        for row in &cells {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let width = widths[i];
                if i > 0 {
                    line.push_str("  ");
                }
                if right[i] {
                    line.push_str(&format!("{cell:>width$}"));
                } else if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}"));
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }

    fn table_of(rows: &[Row]) -> String {
        let mut buf: Vec<u8> = Vec::new();
        let mut writer = RecordWriter::<Row>::new(RecordFormat::Table, &mut buf);
        writer.write_all(rows).unwrap();
        writer.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn plain_row(i: usize, name: &str, count: Option<u64>, exe: Option<&str>) -> Row {
        Row {
            name: name.into(),
            count,
            when: Timestamp::from_secs_nanos(1_700_000_000 + i as i64, 1000),
            tags: vec![format!("t{}", i % 3), "u".into()],
            pid: (i % 2 == 0).then_some(i as u32),
            exe: exe.map(String::from),
        }
    }

    /// Where each space-free cell of a line starts and ends, in characters.
    fn cell_spans(line: &str) -> Vec<(usize, usize)> {
        let chars: Vec<char> = line.chars().collect();
        let mut spans = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == ' ' {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && chars[i] != ' ' {
                i += 1;
            }
            spans.push((start, i));
        }
        spans
    }

    /// Columns left-aligned start, right-aligned ones end, at one place on every line of a
    /// block; returns those places per block.
    fn block_edges(lines: &[&str]) -> Vec<usize> {
        // ts, id.name, count (right), tags, process.pid (right), process.exe.
        let right = [false, false, true, false, true, false];
        let edges = |line: &str| -> Vec<usize> {
            let spans = cell_spans(line);
            assert_eq!(spans.len(), 6, "{line:?}");
            spans
                .iter()
                .zip(right)
                .map(|(&(start, end), right)| if right { end } else { start })
                .collect()
        };
        let first = edges(lines[0]);
        for line in lines {
            assert_eq!(edges(line), first, "misaligned: {line:?}");
        }
        first
    }

    #[test]
    fn table_in_one_block_is_laid_out_as_a_whole() {
        let mut rows = rows();
        rows.push(plain_row(
            3,
            "\u{202e}é\\x",
            Some(123_456),
            Some("/usr/bin/ok  "),
        ));
        rows.push(plain_row(4, "-", None, None));
        assert_eq!(table_of(&rows), whole_table(&rows));
    }

    #[test]
    fn table_longer_than_a_block_is_aligned_per_block_and_never_narrows() {
        let block = table::BLOCK_ROWS;
        let rows: Vec<Row> = (0..2 * block + 10)
            .map(|i| {
                let name = match i {
                    // One wide name in the second block only.
                    i if i == block + 7 => "a-much-longer-name-than-the-rest".to_string(),
                    i => format!("n{}", i % 10),
                };
                // One wide count in the third block only.
                let count = if i == 2 * block + 3 {
                    123_456_789_012
                } else {
                    i as u64 % 100
                };
                plain_row(i, &name, Some(count), Some("/bin/x"))
            })
            .collect();
        let text = table_of(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + rows.len());
        // The header and the first block come out as a table of the first block alone would:
        // later rows change nothing already printed.
        let first_block: String = lines[..=block].iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(first_block, whole_table(&rows[..block]));
        let edges: Vec<Vec<usize>> = [
            &lines[1..=block],
            &lines[block + 1..=2 * block],
            &lines[2 * block + 1..],
        ]
        .iter()
        .map(|block| block_edges(block))
        .collect();
        // The header is aligned with the first block.
        assert_eq!(block_edges(&lines[..2]), edges[0]);
        // The wide name pushes the later columns right in the second block...
        assert!(edges[1][2] > edges[0][2], "{edges:?}");
        // ...and they stay there in the third, whose names are short again; its wide count
        // pushes only itself (right-aligned: its end) and the columns after it.
        assert_eq!(edges[2][..2], edges[1][..2]);
        assert!(
            edges[2][2..].iter().zip(&edges[1][2..]).all(|(a, b)| a > b),
            "{edges:?}"
        );
        for pair in edges.windows(2) {
            assert!(
                pair[0].iter().zip(&pair[1]).all(|(a, b)| a <= b),
                "{edges:?}"
            );
        }
    }

    /// A writer that lets the test read what was written while the record writer holds it.
    #[derive(Clone, Default)]
    struct SharedSink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for SharedSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn table_holds_at_most_one_block() {
        let block = table::BLOCK_ROWS;
        let sink = SharedSink::default();
        let mut out = sink.clone();
        let mut writer = RecordWriter::<Row>::new(RecordFormat::Table, &mut out);
        let row = |i: usize| plain_row(i, "name", Some(i as u64), None);
        for i in 0..block - 1 {
            writer.write(&row(i)).unwrap();
        }
        assert!(
            sink.0.borrow().is_empty(),
            "printed before the block was full"
        );
        writer.write(&row(block - 1)).unwrap();
        let printed = |sink: &SharedSink| sink.0.borrow().iter().filter(|&&b| b == b'\n').count();
        assert_eq!(printed(&sink), 1 + block);
        assert_eq!(writer.table.held(), 0);
        for i in block..2 * block + 5 {
            writer.write(&row(i)).unwrap();
            assert!(writer.table.held() < block);
        }
        assert_eq!(printed(&sink), 1 + 2 * block);
        writer.finish().unwrap();
        assert_eq!(printed(&sink), 1 + 2 * block + 5);
    }

    #[test]
    fn table_escapes_every_cell_and_aligns_on_what_is_shown() {
        let block = table::BLOCK_ROWS;
        let hostile = [
            "\x1b[2J\x1b]0;owned\x07",
            "evil\u{202e}gpj.exe",
            "tab\there\nnewline\r",
            "back\\slash\u{85}\u{7f}",
            "caf\u{e9}\u{2066}",
        ];
        // The hostile names in the first block and again past it.
        let rows: Vec<Row> = (0..block + hostile.len())
            .map(|i| {
                let name = if i < hostile.len() {
                    hostile[i]
                } else if i >= block {
                    hostile[i - block]
                } else {
                    "plain"
                };
                plain_row(i, name, Some(1), Some(name))
            })
            .collect();
        let text = table_of(&rows);
        for c in text.chars() {
            assert!(
                c == '\n' || !c.is_control(),
                "raw control {c:?} reached the table"
            );
            assert!(!matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'));
        }
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("\\x1b[2J\\x1b]0;owned\\x07"));
        assert!(lines[2].contains("evil\\u{202e}gpj.exe"));
        assert!(lines[3].contains("tab\\there\\nnewline\\r"));
        assert!(lines[4].contains("back\\\\slash\\x85\\x7f"));
        assert!(lines[5].contains("caf\u{e9}\\u{2066}"));
        assert!(lines[block + 1].contains("\\x1b[2J"));
        // Widths count the escaped text's characters (é is one): the count column ends at one
        // place on every line.
        block_edges(&lines[1..=block]);
        block_edges(&lines[block + 1..]);
    }

    #[test]
    fn seconds_are_exact() {
        let mut s = String::new();
        push_seconds(&mut s, 1_500_000_000);
        assert_eq!(s, "1.500000");
        s.clear();
        push_seconds(&mut s, -2_000);
        assert_eq!(s, "-0.000002");
    }

    #[test]
    fn addresses_print_as_display_does() {
        for a in [
            "0.0.0.0",
            "255.255.255.255",
            "10.1.20.3",
            "::1",
            "2001:db8::8:800:200c:417a",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::ffff:255.255.255.255",
        ] {
            let addr: IpAddr = a.parse().unwrap();
            assert_eq!(addr_text(addr, &mut [0; ADDR_TEXT_MAX]), addr.to_string());
        }
    }

    /// Every pattern of zero and non-zero IPv6 segments (where `::` goes), with segment values
    /// of each digit count, IPv4-mapped and -compatible forms, and IPv4 octets of each width.
    #[test]
    fn every_ipv6_zero_pattern_prints_as_display_does() {
        let values = [1u16, 0xf, 0x10, 0xab, 0x100, 0xfff, 0x1000, 0xffff, 0xffff];
        for pattern in 0u32..256 {
            for (k, &value) in values.iter().enumerate() {
                let mut segments = [0u16; 8];
                for (i, segment) in segments.iter_mut().enumerate() {
                    if pattern & (1 << i) != 0 {
                        *segment = values[(i + k) % values.len()].wrapping_add(pattern as u16);
                        if *segment == 0 {
                            *segment = value;
                        }
                    }
                }
                let addr = IpAddr::V6(std::net::Ipv6Addr::from(segments));
                assert_eq!(addr_text(addr, &mut [0; ADDR_TEXT_MAX]), addr.to_string());
            }
        }
        for octet in [0u8, 9, 10, 99, 100, 255] {
            for v6 in [
                std::net::Ipv4Addr::new(octet, 1, octet, 200).to_ipv6_mapped(),
                std::net::Ipv4Addr::new(octet, 1, octet, 200).to_ipv6_compatible(),
            ] {
                let addr = IpAddr::V6(v6);
                assert_eq!(addr_text(addr, &mut [0; ADDR_TEXT_MAX]), addr.to_string());
            }
            let addr = IpAddr::V4(std::net::Ipv4Addr::new(octet, 0, 255 - octet, octet / 2));
            assert_eq!(addr_text(addr, &mut [0; ADDR_TEXT_MAX]), addr.to_string());
        }
    }

    #[test]
    fn times_print_as_display_does() {
        for nanos in [
            0,
            1,
            999,
            1_000,
            1_300_475_167_096_535_123,
            -1,
            -1_500_000_000,
        ] {
            let t = Timestamp(nanos);
            let mut s = String::new();
            render_plain(&mut s, &Cell::Time(t), "");
            assert_eq!(s, t.to_string());
        }
    }
}
