//! A tolerant, bounded reader of DNS wire format (RFC 1035): header, question, and the answer
//! section rendered the way Zeek's dns.log renders it ([`parse_message`]), or left unrendered
//! when only addresses and names are wanted ([`parse_message_unrendered`]), with names left
//! where they are in the message ([`parse_message_located`]), or only checked
//! ([`check_message`]).
//!
//! Why our own walker and not `simple-dns` alone: Zeek-style rendering needs the raw record
//! data (TXT strings with their lengths, RRSIG's covered type, unknown types by number), and a
//! message whose tenth record is damaged must still yield the nine before it. Every read goes
//! through [`Reader`]-style checked slicing, so no input can panic, loop or allocate unboundedly.

use crate::report::tabular::{addr_text, ADDR_TEXT_MAX};
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// DNS header length (RFC 1035 4.1.1).
pub const HEADER_LEN: usize = 12;
/// A name on the wire is at most 255 bytes (RFC 1035 2.3.4); longer renderings are malformed.
const MAX_NAME_WIRE_LEN: usize = 255;
/// Compression pointers followed per name. Pointers must also go strictly backwards, which
/// alone rules out loops; the hop limit bounds the work per name regardless.
const MAX_POINTER_HOPS: usize = 64;
/// Answer records rendered per message: enough for any real answer, bounded against bombs.
pub const MAX_ANSWERS: usize = 256;
/// Hint addresses kept per SVCB/HTTPS record.
const MAX_HINTS: usize = 16;

/// Fixed header fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub is_response: bool,
    pub opcode: u8,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    /// The three Z bits (Zeek logs them as one number, including AD/CD).
    pub z: u8,
    pub rcode: u8,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn parse(msg: &[u8]) -> Option<Header> {
        let h = msg.get(..HEADER_LEN)?;
        let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let flags = word(2);
        Some(Header {
            id: word(0),
            is_response: flags & 0x8000 != 0,
            opcode: ((flags >> 11) & 0x0f) as u8,
            aa: flags & 0x0400 != 0,
            tc: flags & 0x0200 != 0,
            rd: flags & 0x0100 != 0,
            ra: flags & 0x0080 != 0,
            z: ((flags >> 4) & 0x07) as u8,
            rcode: (flags & 0x0f) as u8,
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        })
    }
}

/// Why a message could not be read completely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    Truncated,
    /// A compression pointer that does not point strictly backwards, or too many hops.
    BadPointer,
    /// A label type other than 0b00 (normal) or 0b11 (pointer), or a name over 255 bytes.
    BadLabel,
}

/// The first question. Names are `String`s, or [`NameAt`]s from [`parse_message_located`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question<N = String> {
    pub name: N,
    pub qtype: u16,
    pub qclass: u16,
}

/// One answer-section record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer<N = String> {
    /// Owner name.
    pub name: N,
    pub rtype: u16,
    pub ttl: u32,
    /// Zeek's rendering (address, target name, `TXT 5 hello`, ...); empty when the message
    /// was parsed unrendered.
    pub rendered: String,
    /// Address of an A/AAAA record.
    pub addr: Option<IpAddr>,
    /// Target of a CNAME record.
    pub cname_target: Option<N>,
    /// ipv4hint/ipv6hint addresses of an SVCB/HTTPS record.
    pub hints: Vec<IpAddr>,
}

/// A message as far as it could be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message<N = String> {
    pub header: Header,
    pub question: Option<Question<N>>,
    pub answers: Vec<Answer<N>>,
    /// Something after the header could not be read; what came before is kept.
    pub damaged: bool,
}

/// Record types (RFC 1035 and later).
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const DNAME: u16 = 39;
    pub const DS: u16 = 43;
    pub const RRSIG: u16 = 46;
    pub const NSEC: u16 = 47;
    pub const DNSKEY: u16 = 48;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    pub const SPF: u16 = 99;
}

/// Parse a whole message. `None` only when even the header is missing; otherwise the message
/// is returned with `damaged` set where reading had to stop.
pub fn parse_message(msg: &[u8], netbios: bool) -> Option<Message> {
    parse::<Ascii, Ascii>(msg, netbios)
}

/// [`parse_message`] without the answers' text (`rendered` stays empty): owner names, TTLs,
/// addresses, CNAME targets and hints only, what resolutions are made of. The same bytes are
/// read and checked, so `damaged` and the answers read are the same.
pub fn parse_message_unrendered(msg: &[u8], netbios: bool) -> Option<Message> {
    parse::<Ascii, Unrendered>(msg, netbios)
}

/// Where a name of a message read by [`parse_message_located`] is: at an offset of the
/// message (it read cleanly from there), or unreadable (rendered as a placeholder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameAt {
    At {
        /// Where its first label is (leading pointers already followed): names at the same
        /// offset are the same name.
        offset: usize,
        /// Length on the wire, pointers followed: names of different lengths differ.
        wire_len: usize,
        /// All its labels lie in one run from `offset` (no pointer after the first label):
        /// two such names compare as two byte ranges.
        flat: bool,
    },
    Unreadable,
}

/// [`parse_message_unrendered`] with names left in the message: the same bytes are read and
/// checked, but no name is built. For callers that compare names ([`same_name`]) and render
/// only the few they keep ([`name_text`]). NetBIOS names are not decoded.
pub fn parse_message_located(msg: &[u8]) -> Option<Message<NameAt>> {
    parse::<Located, Unrendered>(msg, false)
}

/// Whether two names of `msg` (as [`parse_message_located`] read them) render the same,
/// ignoring ASCII case. Renderings are lowercased and escape the separator and every byte
/// that is not printable, so they are equal exactly when the labels are equal ignoring ASCII
/// case; and the placeholder only equals itself (a rendered name holds no space).
#[inline]
pub fn same_name(msg: &[u8], a: NameAt, b: NameAt) -> bool {
    match (a, b) {
        (
            NameAt::At {
                offset: a,
                wire_len,
                flat: a_flat,
            },
            NameAt::At {
                offset: b,
                wire_len: b_len,
                flat: b_flat,
            },
        ) => {
            if wire_len != b_len {
                return false;
            }
            if a == b {
                return true;
            }
            if a_flat && b_flat {
                // Length bytes (below 0x40) have no case, so equal runs ignoring case hold
                // the same labels ignoring case.
                let run = |at: usize| msg.get(at..at.checked_add(wire_len)?);
                return match (run(a), run(b)) {
                    (Some(x), Some(y)) => x == y || x.eq_ignore_ascii_case(y),
                    _ => false,
                };
            }
            same_labels(msg, a, b).unwrap_or(false)
        }
        (NameAt::Unreadable, NameAt::Unreadable) => true,
        _ => false,
    }
}

fn same_labels(msg: &[u8], a: usize, b: usize) -> Result<bool, WireError> {
    let (mut a, mut b) = (Labels::new(msg, a), Labels::new(msg, b));
    loop {
        if a.pos == b.pos {
            // The same bytes from here on (compression makes this common).
            return Ok(true);
        }
        match (a.next_label()?, b.next_label()?) {
            (None, None) => return Ok(true),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return Ok(false),
        }
    }
}

/// A name of `msg` as [`parse_message`] renders it.
pub fn name_text(msg: &[u8], name: NameAt) -> String {
    let mut text = Ascii::with_room();
    match name {
        NameAt::At { offset, .. } => {
            if walk_name(msg, offset, &mut text).is_err() {
                text.unreadable();
            }
        }
        NameAt::Unreadable => text.unreadable(),
    }
    text.into_string()
}

/// [`parse_message`] keeping only the header and `damaged`: the question and answers are read
/// and checked the same way but not kept (`question` is `None`, `answers` empty). For messages
/// that are only counted.
pub fn check_message(msg: &[u8]) -> Option<Message> {
    let read = parse::<Unrendered, Unrendered>(msg, false)?;
    Some(Message {
        header: read.header,
        damaged: read.damaged,
        ..Message::default()
    })
}

/// Read a message keeping its names (question, owners, CNAME targets) in `N` and the answers'
/// text in `T`. Text is only kept where names are: (Ascii, Ascii), (Ascii, Unrendered),
/// (Located, Unrendered) or (Unrendered, Unrendered).
fn parse<N: Text, T: Text>(msg: &[u8], netbios: bool) -> Option<Message<N::Name>> {
    let header = Header::parse(msg)?;
    let mut out = Message {
        header,
        question: None,
        answers: Vec::new(),
        damaged: false,
    };
    let mut pos = HEADER_LEN;
    let mut name = N::with_room();
    for index in 0..header.qdcount {
        name.clear();
        let next = match walk_name(msg, pos, &mut name) {
            Ok(next) => next,
            Err(_) => {
                // Skip an unreadable name when its extent is known (as Wireshark does).
                out.damaged = true;
                name.unreadable();
                match skip_name(msg, pos) {
                    Ok(next) => next,
                    Err(_) => return Some(out),
                }
            }
        };
        let (Some(qtype), Some(qclass)) = (be16(msg, next), be16(msg, next + 2)) else {
            out.damaged = true;
            return Some(out);
        };
        pos = next + 4;
        if index == 0 {
            // Taken, not copied: a further question (rare) reads into a fresh buffer.
            let name = std::mem::take(&mut name).into_question(netbios);
            out.question = Some(Question {
                name,
                qtype,
                qclass,
            });
        }
    }
    for _ in 0..header.ancount {
        if out.answers.len() >= MAX_ANSWERS {
            break;
        }
        match read_answer::<N, T>(msg, pos) {
            Ok((answer, next, names_ok)) => {
                out.damaged |= !names_ok;
                out.answers.push(answer);
                pos = next;
            }
            Err(_) => {
                out.damaged = true;
                break;
            }
        }
    }
    Some(out)
}

fn be16(msg: &[u8], at: usize) -> Option<u16> {
    let b = msg.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(msg: &[u8], at: usize) -> Option<u32> {
    let b = msg.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Read a (possibly compressed) name starting at `start`, appending it to `out` (labels joined
/// by `.`, lowercased as Zeek logs names, root = empty string as Zeek prints it, unprintable
/// bytes as `\xNN`). Returns the offset just
/// after the name in the original position.
pub fn read_name(msg: &[u8], start: usize, out: &mut String) -> Result<usize, WireError> {
    let mut name = Ascii::default();
    let read = walk_name(msg, start, &mut name);
    out.push_str(name.as_str());
    read
}

/// [`read_name`] into any [`Text`]: the walk and its checks do not depend on what is kept.
fn walk_name<T: Text>(msg: &[u8], start: usize, out: &mut T) -> Result<usize, WireError> {
    // The same checks as `Labels`, in one loop: this walk is the hot one.
    out.mark_start(start);
    let mut first = true;
    let mut pos = start;
    let mut after: Option<usize> = None;
    let mut hops = 0usize;
    let mut wire_len = 0usize;
    // Pointers must point before the lowest position read so far: strictly backwards.
    let mut floor = start;
    loop {
        let len = *msg.get(pos).ok_or(WireError::Truncated)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Ok(after.unwrap_or(pos + 1));
                }
                let len = usize::from(len);
                let label = msg
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(WireError::Truncated)?;
                wire_len += len + 1;
                if wire_len > MAX_NAME_WIRE_LEN {
                    return Err(WireError::BadLabel);
                }
                if first {
                    out.mark_first_label(pos);
                }
                out.push_label(label, first);
                first = false;
                pos += 1 + len;
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or(WireError::Truncated)?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                hops += 1;
                if target >= floor || hops > MAX_POINTER_HOPS {
                    return Err(WireError::BadPointer);
                }
                if after.is_none() {
                    after = Some(pos + 2);
                }
                if !first {
                    out.mark_pointer_after_label();
                }
                floor = target;
                pos = target;
            }
            _ => return Err(WireError::BadLabel),
        }
    }
}

/// The labels of a (possibly compressed) name, checked as [`walk_name`] checks them.
struct Labels<'a> {
    msg: &'a [u8],
    /// Where the next label or pointer is.
    pos: usize,
    hops: usize,
    wire_len: usize,
    /// Pointers must point before the lowest position read so far: strictly backwards.
    floor: usize,
}

impl<'a> Labels<'a> {
    fn new(msg: &'a [u8], start: usize) -> Self {
        Labels {
            msg,
            pos: start,
            hops: 0,
            wire_len: 0,
            floor: start,
        }
    }

    /// The next label, `None` at the end of the name.
    fn next_label(&mut self) -> Result<Option<&'a [u8]>, WireError> {
        loop {
            let len = *self.msg.get(self.pos).ok_or(WireError::Truncated)?;
            match len & 0xc0 {
                0x00 if len == 0 => return Ok(None),
                0x00 => {
                    let len = usize::from(len);
                    let label = self
                        .msg
                        .get(self.pos + 1..self.pos + 1 + len)
                        .ok_or(WireError::Truncated)?;
                    self.wire_len += len + 1;
                    if self.wire_len > MAX_NAME_WIRE_LEN {
                        return Err(WireError::BadLabel);
                    }
                    self.pos += 1 + len;
                    return Ok(Some(label));
                }
                0xc0 => {
                    let low = *self.msg.get(self.pos + 1).ok_or(WireError::Truncated)?;
                    let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                    self.hops += 1;
                    if target >= self.floor || self.hops > MAX_POINTER_HOPS {
                        return Err(WireError::BadPointer);
                    }
                    self.floor = target;
                    self.pos = target;
                }
                _ => return Err(WireError::BadLabel),
            }
        }
    }
}

/// What each label byte is written as: itself lowercased when it is printable ASCII other than
/// the separator and the escape character, else 0 (it is written as `\xNN`).
static PLAIN: [u8; 256] = plain_bytes();

const fn plain_bytes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0x21u8;
    while b < 0x7f {
        if b != b'.' && b != b'\\' {
            table[b as usize] = b.to_ascii_lowercase();
        }
        b += 1;
    }
    table
}

/// Append a label lowercased, escaping bytes that are not printable ASCII (and the separator)
/// as `\xNN`: the output is ASCII whatever the input.
fn push_label(out: &mut Vec<u8>, label: &[u8]) {
    // Nearly every real label is plain (letters, digits, hyphens): one table-driven pass.
    let start = out.len();
    let mut escaped = false;
    out.extend(label.iter().map(|&b| {
        let plain = PLAIN[usize::from(b)];
        escaped |= plain == 0;
        plain
    }));
    if !escaped {
        return;
    }
    out.truncate(start);
    for &b in label {
        match PLAIN[usize::from(b)] {
            0 => {
                // Hot for hostile names (every byte escaped): no formatting machinery per byte.
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0x0f)],
                ]);
            }
            plain => out.push(plain),
        }
    }
}

/// Where the text of names and answers goes: [`Ascii`] (dns.log), or nowhere
/// ([`Unrendered`]) when only addresses and names matter. The wire is walked and checked the
/// same either way, so whether a message is `damaged` never depends on it.
trait Text: fmt::Write + Default {
    /// What a name read into this text becomes.
    type Name;
    /// An empty text for one name or answer.
    fn with_room() -> Self;
    /// A name is read from offset `at` into this text.
    fn mark_start(&mut self, _at: usize) {}
    /// The name's first label is at offset `at` (leading pointers followed).
    fn mark_first_label(&mut self, _at: usize) {}
    /// A pointer was followed after the name's first label.
    fn mark_pointer_after_label(&mut self) {}
    /// Append a name's label, after a `.` unless it is the name's first.
    fn push_label(&mut self, label: &[u8], first: bool);
    fn push_addr(&mut self, addr: IpAddr);
    /// Append a name read into another text.
    fn push_name(&mut self, name: &[u8]);
    fn clear(&mut self);
    /// Replace what was written with a placeholder: the name or data could not be read.
    fn unreadable(&mut self);
    fn as_bytes(&self) -> &[u8];
    fn into_string(self) -> String;
    fn into_name(self) -> Self::Name;
    /// The question name: NetBIOS-decoded when `netbios` and the text is kept.
    fn into_question(self, netbios: bool) -> Self::Name;
}

/// Text built as bytes (cheaper to push than chars). Only ASCII (escaped labels) and `&str`s
/// are written to it, so it is always UTF-8 and converts to a `String` without a copy.
#[derive(Default)]
struct Ascii(Vec<u8>);

impl Ascii {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Write for Ascii {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Text for Ascii {
    type Name = String;

    fn with_room() -> Self {
        // Room for a typical name or rendering up front instead of growing label by label.
        Ascii(Vec::with_capacity(NAME_CAPACITY))
    }

    fn push_label(&mut self, label: &[u8], first: bool) {
        if !first {
            self.0.push(b'.');
        }
        push_label(&mut self.0, label);
    }

    fn push_addr(&mut self, addr: IpAddr) {
        let mut buf = [0; ADDR_TEXT_MAX];
        self.0
            .extend_from_slice(addr_text(addr, &mut buf).as_bytes());
    }

    fn push_name(&mut self, name: &[u8]) {
        self.0.extend_from_slice(name);
    }

    fn clear(&mut self) {
        self.0.clear();
    }

    fn unreadable(&mut self) {
        self.0.clear();
        self.0.extend_from_slice(UNREADABLE_NAME.as_bytes());
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn into_string(self) -> String {
        String::from_utf8(self.0)
            .unwrap_or_else(|bytes| String::from_utf8_lossy(bytes.as_bytes()).into_owned())
    }

    fn into_name(self) -> String {
        self.into_string()
    }

    fn into_question(self, netbios: bool) -> String {
        let decoded = if netbios {
            decode_netbios_name(&self.0)
        } else {
            None
        };
        decoded.unwrap_or_else(|| self.into_string())
    }
}

/// Text nobody reads: nothing is formatted or allocated.
#[derive(Default)]
struct Unrendered;

impl fmt::Write for Unrendered {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Ok(())
    }

    fn write_fmt(&mut self, _: fmt::Arguments<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Text for Unrendered {
    type Name = String;

    fn with_room() -> Self {
        Unrendered
    }

    fn push_label(&mut self, _: &[u8], _: bool) {}

    fn push_addr(&mut self, _: IpAddr) {}

    fn push_name(&mut self, _: &[u8]) {}

    fn clear(&mut self) {}

    fn unreadable(&mut self) {}

    fn as_bytes(&self) -> &[u8] {
        &[]
    }

    fn into_string(self) -> String {
        String::new()
    }

    fn into_name(self) -> String {
        String::new()
    }

    fn into_question(self, _: bool) -> String {
        String::new()
    }
}

/// A name left where it is in the message: only its offset, its length, and whether it read
/// cleanly.
struct Located {
    at: usize,
    wire_len: usize,
    flat: bool,
    readable: bool,
}

impl Default for Located {
    fn default() -> Self {
        Located {
            at: 0,
            wire_len: 0,
            flat: true,
            readable: true,
        }
    }
}

impl fmt::Write for Located {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Ok(())
    }

    fn write_fmt(&mut self, _: fmt::Arguments<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Text for Located {
    type Name = NameAt;

    fn with_room() -> Self {
        Located::default()
    }

    fn mark_start(&mut self, at: usize) {
        self.at = at;
        self.wire_len = 0;
        self.flat = true;
        self.readable = true;
    }

    fn mark_first_label(&mut self, at: usize) {
        // Read from here the name is the same (the walk from `at` meets the same checks,
        // with fewer hops).
        self.at = at;
    }

    fn mark_pointer_after_label(&mut self) {
        self.flat = false;
    }

    fn push_label(&mut self, label: &[u8], _: bool) {
        self.wire_len += label.len() + 1;
    }

    fn push_addr(&mut self, _: IpAddr) {}

    fn push_name(&mut self, _: &[u8]) {}

    fn clear(&mut self) {
        self.readable = true;
    }

    fn unreadable(&mut self) {
        self.readable = false;
    }

    fn as_bytes(&self) -> &[u8] {
        &[]
    }

    fn into_string(self) -> String {
        String::new()
    }

    fn into_name(self) -> NameAt {
        if self.readable {
            NameAt::At {
                offset: self.at,
                wire_len: self.wire_len,
                flat: self.flat,
            }
        } else {
            NameAt::Unreadable
        }
    }

    fn into_question(self, _: bool) -> NameAt {
        self.into_name()
    }
}

/// NetBIOS first-level encoding (RFC 1001 14.1): 32 letters `A`..`P` encode 16 bytes; the
/// 16th is the suffix (service type), and names are padded with spaces. Zeek logs the name
/// without suffix and padding.
fn decode_netbios_name(encoded: &[u8]) -> Option<String> {
    let bytes = encoded.split(|&b| b == b'.').next()?;
    if bytes.len() != 32 {
        return None;
    }
    let mut decoded = String::with_capacity(16);
    for pair in bytes.chunks_exact(2).take(15) {
        let nibble = |c: u8| c.to_ascii_uppercase().checked_sub(b'A').filter(|v| *v < 16);
        let (hi, lo) = (nibble(pair[0])?, nibble(pair[1])?);
        let b = (hi << 4) | lo;
        if b.is_ascii_graphic() || b == b' ' {
            decoded.push(char::from(b));
        } else {
            let _ = write!(decoded, "\\x{b:02x}");
        }
    }
    Some(decoded.trim_end_matches(' ').to_string())
}

/// Where the name at `pos` ends on the wire, without following pointers: lets a record whose
/// name cannot be read (pointer loop, too long) still yield its data, as Wireshark does.
fn skip_name(msg: &[u8], mut pos: usize) -> Result<usize, WireError> {
    loop {
        let len = *msg.get(pos).ok_or(WireError::Truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xc0 => return Ok(pos + 2),
            _ => return Err(WireError::BadLabel),
        }
    }
}

/// Initial capacity of a rendered name or answer: most fit, longer ones grow as needed.
const NAME_CAPACITY: usize = 48;

/// Placeholder for a name that could not be read.
const UNREADABLE_NAME: &str = "<unreadable name>";

/// One record: the answer, the offset after it, and whether its names were all readable.
fn read_answer<N: Text, T: Text>(
    msg: &[u8],
    pos: usize,
) -> Result<(Answer<N::Name>, usize, bool), WireError> {
    let mut name = N::with_room();
    let mut names_ok = true;
    let pos = match walk_name(msg, pos, &mut name) {
        Ok(next) => next,
        Err(_) => {
            names_ok = false;
            name.unreadable();
            skip_name(msg, pos)?
        }
    };
    let rtype = be16(msg, pos).ok_or(WireError::Truncated)?;
    let ttl = be32(msg, pos + 4).ok_or(WireError::Truncated)?;
    let rdlen = usize::from(be16(msg, pos + 8).ok_or(WireError::Truncated)?);
    let rdata_start = pos + 10;
    let rdata_end = rdata_start + rdlen;
    let rdata = msg
        .get(rdata_start..rdata_end)
        .ok_or(WireError::Truncated)?;
    let mut answer = Answer {
        name: name.into_name(),
        rtype,
        ttl,
        rendered: String::new(),
        addr: None,
        cname_target: None,
        hints: Vec::new(),
    };
    let mut text = T::with_room();
    if render_rdata::<N, T>(msg, rdata_start, rdata, &mut answer, &mut text).is_err() {
        // The record's extent is known: keep going with a placeholder rendering.
        names_ok = false;
        text.unreadable();
        answer.addr = None;
        answer.cname_target = None;
    }
    answer.rendered = text.into_string();
    Ok((answer, rdata_end, names_ok))
}

/// Name inside rdata: must stay within the record (compression may point anywhere earlier).
fn rdata_name<T: Text>(msg: &[u8], at: usize, out: &mut T) -> Result<usize, WireError> {
    walk_name(msg, at, out)
}

/// Read a record's data into `answer` (address, CNAME target kept as an `N`, hints) and its
/// text into `out`.
fn render_rdata<N: Text, T: Text>(
    msg: &[u8],
    start: usize,
    rdata: &[u8],
    answer: &mut Answer<N::Name>,
    out: &mut T,
) -> Result<(), WireError> {
    match answer.rtype {
        rtype::A => {
            let b: [u8; 4] = rdata.try_into().map_err(|_| WireError::Truncated)?;
            let addr = IpAddr::V4(Ipv4Addr::from(b));
            out.push_addr(addr);
            answer.addr = Some(addr);
        }
        rtype::AAAA => {
            let b: [u8; 16] = rdata.try_into().map_err(|_| WireError::Truncated)?;
            let addr = IpAddr::V6(Ipv6Addr::from(b));
            out.push_addr(addr);
            answer.addr = Some(addr);
        }
        rtype::CNAME => {
            // The target is a name (resolutions follow it) besides being text.
            let mut target = N::with_room();
            rdata_name(msg, start, &mut target)?;
            out.push_name(target.as_bytes());
            answer.cname_target = Some(target.into_name());
        }
        rtype::NS | rtype::PTR | rtype::DNAME => {
            rdata_name(msg, start, out)?;
        }
        rtype::MX => {
            rdata_name(msg, start + 2, out)?;
        }
        rtype::SRV => {
            rdata_name(msg, start + 6, out)?;
        }
        rtype::SOA => {
            rdata_name(msg, start, out)?;
        }
        rtype::TXT | rtype::SPF => render_txt(rdata, out),
        rtype::RRSIG => {
            let covered = be16(rdata, 0).ok_or(WireError::Truncated)?;
            let _ = write!(out, "RRSIG {covered} ");
            rdata_name(msg, start + 18, out)?;
        }
        rtype::DNSKEY => {
            let algorithm = *rdata.get(3).ok_or(WireError::Truncated)?;
            let _ = write!(out, "DNSKEY {algorithm}");
        }
        rtype::DS => {
            let algorithm = *rdata.get(2).ok_or(WireError::Truncated)?;
            let digest_type = *rdata.get(3).ok_or(WireError::Truncated)?;
            let _ = write!(out, "DS {algorithm} {digest_type}");
        }
        rtype::NSEC => {
            let _ = write!(out, "NSEC ");
            rdata_name(msg, start, out)?;
        }
        rtype::SVCB | rtype::HTTPS => render_svcb(msg, start, rdata, answer, out)?,
        other => {
            let _ = write!(out, "<unknown type={other}>");
        }
    }
    Ok(())
}

/// Zeek: every character-string as `TXT <len> <text>`, joined by spaces.
fn render_txt(rdata: &[u8], out: &mut impl fmt::Write) {
    let mut pos = 0usize;
    while let Some(&len) = rdata.get(pos) {
        let len = usize::from(len);
        let end = (pos + 1 + len).min(rdata.len());
        let text = rdata.get(pos + 1..end).unwrap_or_default();
        if pos > 0 {
            let _ = out.write_char(' ');
        }
        let _ = write!(out, "TXT {len} ");
        for &b in text {
            if b.is_ascii_graphic() || b == b' ' {
                let _ = out.write_char(char::from(b));
            } else {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        pos = pos + 1 + len;
    }
}

/// SVCB/HTTPS (RFC 9460): `HTTPS <priority> <target>`, hints kept as addresses.
fn render_svcb<N, T: Text>(
    msg: &[u8],
    start: usize,
    rdata: &[u8],
    answer: &mut Answer<N>,
    out: &mut T,
) -> Result<(), WireError> {
    let priority = be16(rdata, 0).ok_or(WireError::Truncated)?;
    let label = if answer.rtype == rtype::HTTPS {
        "HTTPS"
    } else {
        "SVCB"
    };
    // Read into the same kind of text as `out`: nothing is built when nothing is rendered.
    let mut target = T::default();
    let after_target = rdata_name(msg, start + 2, &mut target)?;
    let _ = write!(out, "{label} {priority} ");
    if target.as_bytes().is_empty() {
        out.push_name(b".");
    } else {
        out.push_name(target.as_bytes());
    }
    let mut pos = after_target.saturating_sub(start);
    while let (Some(key), Some(len)) = (be16(rdata, pos), be16(rdata, pos + 2)) {
        let len = usize::from(len);
        let value = rdata
            .get(pos + 4..pos + 4 + len)
            .ok_or(WireError::Truncated)?;
        match key {
            4 => {
                for chunk in value.chunks_exact(4) {
                    if answer.hints.len() < MAX_HINTS {
                        let b: [u8; 4] = [chunk[0], chunk[1], chunk[2], chunk[3]];
                        answer.hints.push(IpAddr::V4(Ipv4Addr::from(b)));
                    }
                }
            }
            6 => {
                for chunk in value.chunks_exact(16) {
                    if answer.hints.len() < MAX_HINTS {
                        let mut b = [0u8; 16];
                        b.copy_from_slice(chunk);
                        answer.hints.push(IpAddr::V6(Ipv6Addr::from(b)));
                    }
                }
            }
            _ => {}
        }
        pos += 4 + len;
    }
    Ok(())
}

/// Zeek's `query_types` names for the common types; others as `query-<n>` like Zeek.
pub fn qtype_name(qtype: u16) -> String {
    let name = match qtype {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        29 => "LOC",
        32 => "NIMLOC",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        252 => "AXFR",
        255 => "*",
        257 => "CAA",
        _ => return format!("query-{qtype}"),
    };
    name.to_string()
}

/// Zeek's `classes` names.
pub fn qclass_name(qclass: u16) -> String {
    let name = match qclass {
        1 => "C_INTERNET",
        2 => "C_CSNET",
        3 => "C_CHAOS",
        4 => "C_HESIOD",
        254 => "C_NONE",
        255 => "C_ANY",
        _ => return format!("unknown-{qclass}"),
    };
    name.to_string()
}

/// Zeek's `base_errors` names.
pub fn rcode_name(rcode: u16) -> String {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSet",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => return format!("unknown-{rcode}"),
    };
    name.to_string()
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// A response for www.example.com: CNAME to web.example.net (compressed), A 192.0.2.7.
    pub fn sample_response() -> Vec<u8> {
        let mut m = vec![
            0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, // header
            3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
            0, 0, 1, 0, 1, // question
        ];
        // CNAME: owner = pointer to 12, target web.example.net
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 17]);
        let cname_at = m.len();
        m.extend_from_slice(&[
            3, b'w', b'e', b'b', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'n', b'e', b't',
            0,
        ]);
        // A: owner = pointer to the CNAME target
        m.extend_from_slice(&[
            0xc0,
            cname_at as u8,
            0,
            1,
            0,
            1,
            0,
            0,
            1,
            0,
            0,
            4,
            192,
            0,
            2,
            7,
        ]);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::sample_response;
    use super::*;

    #[test]
    fn parses_cname_chain_and_address() {
        let m = parse_message(&sample_response(), false).unwrap();
        assert!(!m.damaged);
        assert_eq!(m.header.id, 0x1234);
        assert!(m.header.is_response && m.header.rd && m.header.ra);
        let q = m.question.unwrap();
        assert_eq!(
            (q.name.as_str(), q.qtype, q.qclass),
            ("www.example.com", 1, 1)
        );
        assert_eq!(m.answers.len(), 2);
        assert_eq!(m.answers[0].rendered, "web.example.net");
        assert_eq!(
            m.answers[0].cname_target.as_deref(),
            Some("web.example.net")
        );
        assert_eq!(m.answers[1].name, "web.example.net");
        assert_eq!(m.answers[1].rendered, "192.0.2.7");
        assert_eq!(m.answers[1].ttl, 256);
    }

    #[test]
    fn truncation_at_every_length_never_panics() {
        let full = sample_response();
        for cut in 0..full.len() {
            let m = parse_message(&full[..cut], false);
            if cut < HEADER_LEN {
                assert!(m.is_none());
            } else {
                assert!(m.unwrap().damaged, "cut at {cut} must be damaged");
            }
        }
    }

    #[test]
    fn compression_loop_is_rejected() {
        // Question name is a pointer to itself.
        let m = [0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
        let parsed = parse_message(&m, false).unwrap();
        assert!(parsed.damaged);
        assert_eq!(parsed.question.unwrap().name, UNREADABLE_NAME);
        let mut s = String::new();
        assert_eq!(read_name(&m, 12, &mut s), Err(WireError::BadPointer));
        // Forward pointer.
        let fwd = [0xc0u8, 2, 0];
        assert_eq!(read_name(&fwd, 0, &mut s), Err(WireError::BadPointer));
    }

    #[test]
    fn two_pointers_ping_pong_is_rejected() {
        // offset 12: label "a" then pointer to 16; offset 16: pointer to 12.
        let m = [
            0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 0xc0, 16, 0xc0, 12,
        ];
        let mut s = String::new();
        assert!(read_name(&m, 16, &mut s).is_err());
        s.clear();
        assert!(read_name(&m, 12, &mut s).is_err());
    }

    #[test]
    fn bad_label_type_and_long_names() {
        let mut s = String::new();
        assert_eq!(read_name(&[0x40, 0], 0, &mut s), Err(WireError::BadLabel));
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'x'; 63]);
        }
        long.push(0);
        s.clear();
        assert_eq!(read_name(&long, 0, &mut s), Err(WireError::BadLabel));
    }

    #[test]
    fn unprintable_label_bytes_are_escaped() {
        let mut s = String::new();
        read_name(&[3, b'a', 0, b'.', 0], 0, &mut s).unwrap();
        assert_eq!(s, "a\\x00\\x2e");
    }

    #[test]
    fn names_append_without_leading_dot_and_lowercased() {
        let mut s = String::from("RRSIG 5 ");
        read_name(&[3, b'C', b'm', b'U', 3, b'e', b'd', b'u', 0], 0, &mut s).unwrap();
        assert_eq!(s, "RRSIG 5 cmu.edu");
    }

    #[test]
    fn txt_rendering_matches_zeek() {
        let mut out = String::new();
        render_txt(&[5, b'h', b'e', b'l', b'l', b'o', 2, b'a', b'b'], &mut out);
        assert_eq!(out, "TXT 5 hello TXT 2 ab");
    }

    #[test]
    fn https_record_hints_and_unknown_types() {
        let mut m = vec![0, 1, 0x81, 0x80, 0, 0, 0, 2, 0, 0, 0, 0];
        // HTTPS, root owner, priority 1, target ".", alpn h2, ipv4hint 192.0.2.1
        let rdata = [
            0, 1, 0, // priority, target root
            0, 1, 0, 3, 2, b'h', b'2', // alpn
            0, 4, 0, 4, 192, 0, 2, 1, // ipv4hint
        ];
        m.extend_from_slice(&[0, 0, 65, 0, 1, 0, 0, 0, 5, 0, rdata.len() as u8]);
        m.extend_from_slice(&rdata);
        m.extend_from_slice(&[0, 0xff, 0x00, 0, 1, 0, 0, 0, 5, 0, 2, 9, 9]);
        let parsed = parse_message(&m, false).unwrap();
        assert!(!parsed.damaged);
        assert_eq!(parsed.answers[0].rendered, "HTTPS 1 .");
        assert_eq!(
            parsed.answers[0].hints,
            vec!["192.0.2.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(parsed.answers[1].rendered, "<unknown type=65280>");
    }

    /// Unrendered and checked read the same: only the answers' text (and for checked, the
    /// question and answers) are missing.
    #[test]
    fn unrendered_and_checked_read_what_rendered_reads() {
        let mut https = vec![0, 1, 0x81, 0x80, 0, 0, 0, 2, 0, 0, 0, 0];
        https.extend_from_slice(&[0, 0, 65, 0, 1, 0, 0, 0, 5, 0, 13]);
        https.extend_from_slice(&[0, 1, 0, 0, 4, 0, 4, 192, 0, 2, 1, 0, 6]);
        https.extend_from_slice(&[0, 0, 16, 0, 1, 0, 0, 0, 5, 0, 3, 2, b'h', b'i']);
        for full in [sample_response(), https] {
            for cut in 0..=full.len() {
                let rendered = parse_message(&full[..cut], false).map(|mut m| {
                    m.answers.iter_mut().for_each(|a| a.rendered.clear());
                    m
                });
                let checked = rendered.as_ref().map(|m| (m.header, m.damaged));
                assert_eq!(rendered, parse_message_unrendered(&full[..cut], false));
                let read = check_message(&full[..cut]);
                assert_eq!(checked, read.as_ref().map(|m| (m.header, m.damaged)));
                assert!(read.is_none_or(|m| m.question.is_none() && m.answers.is_empty()));
            }
        }
    }

    /// Every name of a message, rendered: the question's, then each answer's owner and CNAME
    /// target (`None` when absent).
    fn all_names<N>(m: &Message<N>, text: impl Fn(&N) -> String) -> Vec<Option<String>> {
        let mut names = vec![m.question.as_ref().map(|q| text(&q.name))];
        for a in &m.answers {
            names.push(Some(text(&a.name)));
            names.push(a.cname_target.as_ref().map(&text));
        }
        names
    }

    /// Located names render as the unrendered reader's names, and compare as those compare.
    #[test]
    fn located_names_read_render_and_compare_like_rendered_ones() {
        let mut upper = sample_response();
        // A second answer whose owner is spelled out, in capitals, instead of compressed.
        upper[7] = 3;
        upper.extend_from_slice(b"\x03WEB\x07Example\x03NET\x00");
        upper.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 192, 0, 2, 8]);
        let mut looping = upper.clone();
        // The first answer's owner pointer made forward: unreadable.
        looping[33] = 0xc0;
        looping[34] = 200;
        // A third answer whose owner is a label then a pointer (to the CNAME target's
        // `example.net`, at 49): compared label by label with the others.
        let mut mixed = upper.clone();
        mixed[7] = 4;
        mixed.extend_from_slice(&[3, b'w', b'E', b'b', 0xc0, 49]);
        mixed.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 192, 0, 2, 9]);
        for full in [sample_response(), upper, looping, mixed] {
            for cut in 0..=full.len() {
                let msg = &full[..cut];
                let rendered = parse_message_unrendered(msg, false);
                let located = parse_message_located(msg);
                assert_eq!(
                    rendered
                        .as_ref()
                        .map(|m| (m.header, m.damaged, m.answers.len())),
                    located
                        .as_ref()
                        .map(|m| (m.header, m.damaged, m.answers.len()))
                );
                let (Some(rendered), Some(located)) = (rendered, located) else {
                    continue;
                };
                for (r, l) in rendered.answers.iter().zip(&located.answers) {
                    assert_eq!((r.ttl, r.addr, &r.hints), (l.ttl, l.addr, &l.hints));
                }
                let texts = all_names(&rendered, |n| n.clone());
                assert_eq!(texts, all_names(&located, |n| name_text(msg, *n)));
                let names: Vec<NameAt> = located
                    .question
                    .iter()
                    .map(|q| q.name)
                    .chain(
                        located
                            .answers
                            .iter()
                            .flat_map(|a| std::iter::once(a.name).chain(a.cname_target)),
                    )
                    .collect();
                for a in &names {
                    for b in &names {
                        let (ta, tb) = (name_text(msg, *a), name_text(msg, *b));
                        assert_eq!(same_name(msg, *a, *b), ta.eq_ignore_ascii_case(&tb));
                    }
                }
            }
        }
    }

    #[test]
    fn netbios_names_are_decoded() {
        // "FRED" padded with spaces, suffix 0x20.
        let mut enc = String::new();
        let mut raw = *b"FRED            ";
        raw[15] = 0x20;
        for b in raw {
            enc.push(char::from(b'A' + (b >> 4)));
            enc.push(char::from(b'A' + (b & 0x0f)));
        }
        assert_eq!(decode_netbios_name(enc.as_bytes()).as_deref(), Some("FRED"));
        assert_eq!(decode_netbios_name(b"short"), None);
    }
}
