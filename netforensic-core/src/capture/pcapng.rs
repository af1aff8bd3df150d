//! pcapng framing: blocks, sections (each with its own byte order), interfaces with their
//! timestamp resolution and offset, packet blocks (EPB, SPB, obsolete PB), Name Resolution and
//! Darwin Process Information blocks, and the rules to find the next block after damage.

use super::endian::ByteOrder;
use super::limits::{MAX_COMMENTS_PER_FRAME, MAX_NAMES_PER_RECORD, MAX_RECORD_LEN, MAX_TEXT_LEN};
use super::pcap::Scan;
use super::{FrameMeta, LinkType, NameRecord};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Section Header Block type: a palindrome, so it reads the same in both byte orders.
pub const SHB: u32 = 0x0A0D_0D0A;
pub const IDB: u32 = 1;
/// Obsolete Packet Block.
pub const PB: u32 = 2;
pub const SPB: u32 = 3;
pub const NRB: u32 = 4;
pub const ISB: u32 = 5;
pub const EPB: u32 = 6;
const SYSTEMD_JOURNAL: u32 = 9;
const DSB: u32 = 0x0A;
const CUSTOM: u32 = 0x0BAD;
const CUSTOM_NOCOPY: u32 = 0x4000_0BAD;
/// Apple's Darwin Process Information Block (macOS `tcpdump -k`, iOS pcapd).
pub const DARWIN_PROCESS: u32 = 0x8000_0001;

/// Block type, total length, and the trailing total length.
pub const BLOCK_MIN_LEN: usize = 12;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Option codes (pcapng draft; Apple's from its libpcap and Wireshark's pcapng dissector,
/// checked against the corpus's `process/` files with tshark's MIME file-format reader).
const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;
const OPT_EPB_FLAGS: u16 = 2;
const OPT_EPB_PROCESSID_THREADID: u16 = 8;
const OPT_DARWIN_DPEB_ID: u16 = 0x8001;
const OPT_DARWIN_EFFECTIVE_DPEB_ID: u16 = 0x8003;
const OPT_DARWIN_PROCESS_NAME: u16 = 2;
const OPT_DARWIN_PROCESS_UUID: u16 = 4;
const NRB_END: u16 = 0;
const NRB_IPV4: u16 = 1;
const NRB_IPV6: u16 = 2;

/// Byte order of a Section Header Block at the start of `bytes`, from its byte-order magic.
pub fn shb_byte_order(bytes: &[u8]) -> Option<ByteOrder> {
    if ByteOrder::Little.u32(bytes, 0)? != SHB {
        return None;
    }
    match ByteOrder::Little.u32(bytes, 8)? {
        BYTE_ORDER_MAGIC => Some(ByteOrder::Little),
        m if m.swap_bytes() == BYTE_ORDER_MAGIC => Some(ByteOrder::Big),
        _ => None,
    }
}

/// Check a whole Section Header Block (`block` = exactly its bytes). Err: offset within the
/// block and what was wrong.
pub fn check_shb(block: &[u8], order: ByteOrder) -> Result<(), (usize, String)> {
    let major = order
        .u16(block, 12)
        .ok_or((12, "the Section Header Block is too short".to_string()))?;
    let minor = order
        .u16(block, 14)
        .ok_or((14, "the Section Header Block is too short".to_string()))?;
    if !(major == 1 && minor <= 2) {
        return Err((
            12,
            format!("pcapng version {major}.{minor} is not supported (expected 1.0)"),
        ));
    }
    let options = block
        .get(24..block.len().saturating_sub(4))
        .unwrap_or_default();
    for_each_option(options, order, |_, _| {}).map_err(|(at, why)| (24 + at, why))
}

/// Call `f(code, value)` for each option in `bytes` until the end-of-options marker. Err names
/// the offset of an option that runs past the end (what was read before it was delivered).
pub fn for_each_option(
    bytes: &[u8],
    order: ByteOrder,
    mut f: impl FnMut(u16, &[u8]),
) -> Result<(), (usize, String)> {
    let mut at = 0usize;
    while at < bytes.len() {
        let (Some(code), Some(len)) = (order.u16(bytes, at), order.u16(bytes, at + 2)) else {
            return Err((
                at,
                "an option header is cut off by the end of its block".to_string(),
            ));
        };
        if code == OPT_END {
            return Ok(());
        }
        let start = at + 4;
        let end = start + usize::from(len);
        let Some(value) = bytes.get(start..end) else {
            return Err((
                at,
                format!(
                    "option {code} claims {len} bytes but only {} remain in its block",
                    bytes.len().saturating_sub(start)
                ),
            ));
        };
        f(code, value);
        // Values are padded to 32 bits.
        at = end + (4 - end % 4) % 4;
    }
    Ok(())
}

/// How an interface's 64-bit timestamps map to nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TsResolution {
    /// `if_tsresol` as stored: bit 7 clear = 10^-n seconds, set = 2^-n seconds.
    raw: u8,
}

impl Default for TsResolution {
    /// Microseconds, the pcapng default.
    fn default() -> Self {
        TsResolution { raw: 6 }
    }
}

/// Nanoseconds per unit of the resolutions 10^-0 .. 10^-9 s, by exponent.
const NANOS_PER_DECIMAL_UNIT: [u64; 10] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

impl TsResolution {
    /// Nanoseconds for `units` of this resolution, plus `offset_secs`, saturated to i64.
    pub fn to_nanos(self, units: u64, offset_secs: i64) -> i64 {
        // The common case, once per packet: a power of ten of a nanosecond or coarser, no
        // offset, and a time that fits (one multiplication instead of 128-bit arithmetic).
        if offset_secs == 0 {
            let scale = NANOS_PER_DECIMAL_UNIT.get(usize::from(self.raw));
            if let Some(n) = scale.and_then(|&scale| units.checked_mul(scale)) {
                if let Ok(n) = i64::try_from(n) {
                    return n;
                }
            }
        }
        self.to_nanos_exact(units, offset_secs)
    }

    /// [`TsResolution::to_nanos`] for any resolution, offset and count.
    fn to_nanos_exact(self, units: u64, offset_secs: i64) -> i64 {
        let units = i128::from(units);
        let exp = u32::from(self.raw & 0x7F);
        let nanos: i128 = if self.raw & 0x80 == 0 {
            if exp <= 9 {
                units * 10i128.pow(9 - exp)
            } else {
                // Finer than a nanosecond: truncate; 10^39 exceeds any 64-bit count.
                10i128.checked_pow(exp - 9).map_or(0, |div| units / div)
            }
        } else {
            // 2^-exp seconds: exact, units * 1e9 fits in i128 for any 64-bit count.
            (units * 1_000_000_000).checked_shr(exp).unwrap_or(0)
        };
        let total = nanos.saturating_add(i128::from(offset_secs) * 1_000_000_000);
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// One interface of a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Id across the whole input, in order of appearance.
    pub global_id: u32,
    pub link_type: LinkType,
    pub snaplen: u32,
    pub resolution: TsResolution,
    pub offset_secs: i64,
}

/// Parse an Interface Description Block (`block` = exactly its bytes).
pub fn parse_idb(block: &[u8], order: ByteOrder, global_id: u32) -> Result<Interface, String> {
    let (Some(link), Some(snaplen)) = (order.u16(block, 8), order.u32(block, 12)) else {
        return Err("the Interface Description Block is shorter than its fixed fields".into());
    };
    let mut interface = Interface {
        global_id,
        link_type: LinkType(u32::from(link)),
        snaplen,
        resolution: TsResolution::default(),
        offset_secs: 0,
    };
    let options = block
        .get(16..block.len().saturating_sub(4))
        .unwrap_or_default();
    // A broken option list keeps what was read before it: the interface itself is usable.
    let _ = for_each_option(options, order, |code, value| match code {
        OPT_IF_TSRESOL => {
            if let Some(&raw) = value.first() {
                interface.resolution = TsResolution { raw };
            }
        }
        OPT_IF_TSOFFSET => {
            if let Some(secs) = order.i64(value, 0) {
                interface.offset_secs = secs;
            }
        }
        _ => {}
    });
    Ok(interface)
}

/// A packet found in a packet block, positions relative to the block start.
#[derive(Debug)]
pub struct BlockPacket {
    pub interface: usize,
    pub data_start: usize,
    pub data_len: usize,
    pub orig_len: u32,
    /// Timestamp in interface units (`None`: SPB, which has none).
    pub ts_units: Option<u64>,
    pub meta: Option<Box<FrameMeta>>,
}

/// A block's total length as the format allows it: a multiple of 4, at least a block header
/// and trailer, at most [`MAX_RECORD_LEN`].
pub fn is_valid_block_len(len: usize) -> bool {
    (BLOCK_MIN_LEN..=MAX_RECORD_LEN).contains(&len) && len % 4 == 0
}

/// Parse an Enhanced Packet Block or obsolete Packet Block.
pub fn parse_packet_block(
    block: &[u8],
    order: ByteOrder,
    block_type: u32,
    section: u32,
) -> Result<BlockPacket, String> {
    let short = || "the packet block is shorter than its fixed fields".to_string();
    let interface = if block_type == PB {
        order.u16(block, 8).map(usize::from).ok_or_else(short)?
    } else {
        order.u32(block, 8).ok_or_else(short)? as usize
    };
    let ts_high = order.u32(block, 12).ok_or_else(short)?;
    let ts_low = order.u32(block, 16).ok_or_else(short)?;
    let caplen = order.u32(block, 20).ok_or_else(short)?;
    let orig_len = order.u32(block, 24).ok_or_else(short)?;
    let data_start = 28usize;
    let data_end = data_start
        .checked_add(caplen as usize)
        .filter(|&end| end.saturating_add(4) <= block.len())
        .ok_or_else(|| {
            format!(
                "the packet block claims {caplen} captured bytes but holds only {}",
                block.len().saturating_sub(data_start + 4)
            )
        })?;
    let options_start = data_end + (4 - data_end % 4) % 4;
    let options = block
        .get(options_start..block.len().saturating_sub(4))
        .unwrap_or_default();
    let meta = packet_meta(options, order, section);
    Ok(BlockPacket {
        interface,
        data_start,
        data_len: caplen as usize,
        orig_len,
        ts_units: Some((u64::from(ts_high) << 32) | u64::from(ts_low)),
        meta,
    })
}

/// Parse a Simple Packet Block: interface 0; captured length from the block and the snaplen.
pub fn parse_simple_packet_block(
    block: &[u8],
    order: ByteOrder,
    snaplen: u32,
) -> Result<BlockPacket, String> {
    let orig_len = order
        .u32(block, 8)
        .ok_or("the Simple Packet Block is shorter than its fixed fields")?;
    let room = block.len().saturating_sub(16);
    let mut caplen = (orig_len as usize).min(room);
    if snaplen != 0 {
        caplen = caplen.min(snaplen as usize);
    }
    Ok(BlockPacket {
        interface: 0,
        data_start: 12,
        data_len: caplen,
        orig_len,
        ts_units: None,
        meta: None,
    })
}

/// Text from an option, lossily decoded and bounded.
fn text(value: &[u8]) -> String {
    let value = value.get(..MAX_TEXT_LEN).unwrap_or(value);
    let value = value.strip_suffix(&[0]).unwrap_or(value);
    String::from_utf8_lossy(value).into_owned()
}

/// Per-packet options we keep; allocates only when one is present.
fn packet_meta(options: &[u8], order: ByteOrder, section: u32) -> Option<Box<FrameMeta>> {
    let mut meta: Option<Box<FrameMeta>> = None;
    let _ = for_each_option(options, order, |code, value| {
        let entry = || {
            Box::new(FrameMeta {
                section,
                ..FrameMeta::default()
            })
        };
        match code {
            OPT_COMMENT => {
                let m = meta.get_or_insert_with(entry);
                if m.comments.len() < MAX_COMMENTS_PER_FRAME {
                    m.comments.push(text(value));
                }
            }
            OPT_EPB_FLAGS => {
                if let Some(flags) = order.u32(value, 0) {
                    meta.get_or_insert_with(entry).epb_flags = Some(flags);
                }
            }
            OPT_EPB_PROCESSID_THREADID => {
                if let (Some(pid), Some(tid)) = (order.u32(value, 0), order.u32(value, 4)) {
                    let m = meta.get_or_insert_with(entry);
                    m.process_id = Some(pid);
                    m.thread_id = Some(tid);
                }
            }
            OPT_DARWIN_DPEB_ID => {
                if let Some(id) = order.u32(value, 0) {
                    meta.get_or_insert_with(entry).darwin_process_index = Some(id);
                }
            }
            OPT_DARWIN_EFFECTIVE_DPEB_ID => {
                if let Some(id) = order.u32(value, 0) {
                    meta.get_or_insert_with(entry)
                        .darwin_effective_process_index = Some(id);
                }
            }
            _ => {}
        }
    });
    meta
}

/// Parse a Name Resolution Block's records into `out` (at most `room` entries).
pub fn parse_nrb(block: &[u8], order: ByteOrder, out: &mut Vec<NameRecord>, room: usize) {
    let body = block
        .get(8..block.len().saturating_sub(4))
        .unwrap_or_default();
    let mut at = 0usize;
    while out.len() < room {
        let (Some(kind), Some(len)) = (order.u16(body, at), order.u16(body, at + 2)) else {
            return;
        };
        if kind == NRB_END {
            return;
        }
        let start = at + 4;
        let end = start + usize::from(len);
        let Some(value) = body.get(start..end) else {
            return;
        };
        let (addr, names) = match kind {
            NRB_IPV4 if value.len() >= 4 => {
                let octets: [u8; 4] = [value[0], value[1], value[2], value[3]];
                (IpAddr::V4(Ipv4Addr::from(octets)), &value[4..])
            }
            NRB_IPV6 if value.len() >= 16 => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&value[..16]);
                (IpAddr::V6(Ipv6Addr::from(octets)), &value[16..])
            }
            _ => {
                at = end + (4 - end % 4) % 4;
                continue;
            }
        };
        let names: Vec<String> = names
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .take(MAX_NAMES_PER_RECORD)
            .map(text)
            .collect();
        if !names.is_empty() {
            out.push(NameRecord { addr, names });
        }
        at = end + (4 - end % 4) % 4;
    }
}

/// A Darwin Process Information Block: pid, name, uuid.
pub fn parse_darwin_process(
    block: &[u8],
    order: ByteOrder,
) -> Option<(u32, String, Option<String>)> {
    let pid = order.u32(block, 8)?;
    let mut name = String::new();
    let mut uuid = None;
    let options = block
        .get(12..block.len().saturating_sub(4))
        .unwrap_or_default();
    let _ = for_each_option(options, order, |code, value| match code {
        OPT_DARWIN_PROCESS_NAME => name = text(value),
        OPT_DARWIN_PROCESS_UUID if value.len() == 16 => {
            let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
            uuid = Some(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ));
        }
        _ => {}
    });
    Some((pid, name, uuid))
}

fn is_known_block_type(block_type: u32) -> bool {
    matches!(
        block_type,
        IDB | PB
            | SPB
            | NRB
            | ISB
            | EPB
            | SYSTEMD_JOURNAL
            | DSB
            | CUSTOM
            | CUSTOM_NOCOPY
            | DARWIN_PROCESS
    )
}

/// Length of a well-formed block of a known type at `at` (leading and trailing lengths
/// agree, aligned size, within bounds). `Err(())`: cannot judge without more bytes.
fn well_formed_block(
    bytes: &[u8],
    at: usize,
    order: ByteOrder,
    complete: bool,
) -> Result<Option<usize>, ()> {
    let more = if complete { Ok(None) } else { Err(()) };
    let Some(le_type) = ByteOrder::Little.u32(bytes, at) else {
        return more;
    };
    let (order, block_type) = if le_type == SHB {
        match bytes.get(at..).and_then(shb_byte_order) {
            Some(o) => (o, SHB),
            None if bytes.len() < at + BLOCK_MIN_LEN => return more,
            None => return Ok(None),
        }
    } else {
        (order, order.u32(bytes, at).unwrap_or(0))
    };
    if block_type != SHB && !is_known_block_type(block_type) {
        return Ok(None);
    }
    let Some(len) = order.u32(bytes, at + 4).map(|l| l as usize) else {
        return more;
    };
    if !is_valid_block_len(len) {
        return Ok(None);
    }
    match order.u32(bytes, at + len - 4) {
        None => more,
        Some(trailing) if trailing as usize == len => Ok(Some(len)),
        Some(_) => Ok(None),
    }
}

/// Scan `bytes[from..]` for a block boundary: a well-formed block followed by another one
/// (or by the end of a complete input), or a classic pcap file header (concatenation).
pub(crate) fn scan(bytes: &[u8], from: usize, order: ByteOrder, complete: bool) -> Scan {
    for start in from..bytes.len() {
        let rest = &bytes[start..];
        if super::pcap::magic(rest).is_some()
            && matches!(super::pcap::parse_header(rest), Ok(Some(_)))
        {
            return Scan::Found(start);
        }
        match well_formed_block(bytes, start, order, complete) {
            Err(()) => return Scan::NeedMore(start),
            Ok(None) => {}
            Ok(Some(len)) => {
                let next = start + len;
                if next == bytes.len() && complete {
                    return Scan::Found(start);
                }
                match well_formed_block(bytes, next, order, complete) {
                    Err(()) => return Scan::NeedMore(start),
                    Ok(Some(_)) => return Scan::Found(start),
                    Ok(None) => {}
                }
            }
        }
    }
    Scan::NotFound
}

/// The first block boundary at or after `from` in a complete pcapng input (a mapped file),
/// reading lengths in `order` (a Section Header Block found carries its own). For resync after
/// damage, and to split a file into byte ranges for parallel workers.
pub fn find_block_boundary(bytes: &[u8], from: usize, order: ByteOrder) -> Option<usize> {
    match scan(bytes, from, order, true) {
        Scan::Found(at) => Some(at),
        Scan::NeedMore(_) | Scan::NotFound => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A block of `block_type` with `body`, padded, in little-endian order.
    pub(crate) fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&block_type.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(8 + padded, 0);
        out.extend_from_slice(&len.to_le_bytes());
        out
    }

    pub(crate) fn shb() -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        block(SHB, &body)
    }

    pub(crate) fn idb(link: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&link.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        if let Some(r) = tsresol {
            body.extend_from_slice(&OPT_IF_TSRESOL.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[r, 0, 0, 0]);
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(IDB, &body)
    }

    pub(crate) fn epb(interface: u32, ts: u64, data: &[u8], options: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&interface.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        body.extend_from_slice(options);
        block(EPB, &body)
    }

    pub(crate) fn option(code: u16, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&code.to_le_bytes());
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(value);
        out.resize(out.len().div_ceil(4) * 4, 0);
        out
    }

    #[test]
    fn resolutions() {
        let us = TsResolution::default();
        assert_eq!(us.to_nanos(1_500_000, 0), 1_500_000_000);
        assert_eq!(TsResolution { raw: 9 }.to_nanos(7, 0), 7);
        // The one-multiplication path agrees with the exact one, at the overflow edges too.
        for raw in [0u8, 1, 5, 6, 9, 10, 0x80, 0x86] {
            let r = TsResolution { raw };
            for units in [0, 1, 7, u64::MAX / 1_000_000_000, u64::MAX / 1000, u64::MAX] {
                for offset in [0, -1, 5] {
                    assert_eq!(
                        r.to_nanos(units, offset),
                        r.to_nanos_exact(units, offset),
                        "raw {raw} units {units} offset {offset}"
                    );
                }
            }
        }
        assert_eq!(
            TsResolution { raw: 0x80 | 10 }.to_nanos(1024, 0),
            1_000_000_000
        );
        assert_eq!(TsResolution { raw: 12 }.to_nanos(5_000, 1), 1_000_000_005);
        assert_eq!(TsResolution { raw: 0x7F }.to_nanos(u64::MAX, 0), 0);
        assert_eq!(TsResolution { raw: 0 }.to_nanos(u64::MAX, 0), i64::MAX);
        assert_eq!(TsResolution { raw: 0 }.to_nanos(0, i64::MIN), i64::MIN);
    }

    #[test]
    fn options_and_meta() {
        let mut opts = option(OPT_COMMENT, b"PID: 42 Cmd: curl");
        opts.extend(option(OPT_EPB_FLAGS, &2u32.to_le_bytes()));
        opts.extend(option(OPT_DARWIN_DPEB_ID, &3u32.to_le_bytes()));
        opts.extend(option(OPT_DARWIN_EFFECTIVE_DPEB_ID, &4u32.to_le_bytes()));
        let mut pidtid = 7u32.to_le_bytes().to_vec();
        pidtid.extend_from_slice(&8u32.to_le_bytes());
        opts.extend(option(OPT_EPB_PROCESSID_THREADID, &pidtid));
        opts.extend(option(OPT_END, &[]));
        let b = epb(0, 1, &[1, 2, 3], &opts);
        let p = parse_packet_block(&b, ByteOrder::Little, EPB, 2).unwrap();
        assert_eq!((p.data_start, p.data_len, p.orig_len), (28, 3, 3));
        let meta = p.meta.unwrap();
        assert_eq!(meta.comments, vec!["PID: 42 Cmd: curl".to_string()]);
        assert_eq!(meta.epb_flags, Some(2));
        assert_eq!(meta.darwin_process_index, Some(3));
        assert_eq!(meta.darwin_effective_process_index, Some(4));
        assert_eq!((meta.process_id, meta.thread_id), (Some(7), Some(8)));
        assert_eq!(meta.section, 2);
        let plain = epb(0, 1, &[1, 2, 3], &[]);
        assert!(parse_packet_block(&plain, ByteOrder::Little, EPB, 0)
            .unwrap()
            .meta
            .is_none());
    }

    #[test]
    fn option_overflow_is_reported() {
        let mut opts = option(OPT_COMMENT, b"abc");
        opts[2] = 200;
        assert!(for_each_option(&opts, ByteOrder::Little, |_, _| {}).is_err());
    }

    #[test]
    fn nrb_records() {
        let mut body = Vec::new();
        let mut v4 = vec![10, 0, 0, 1];
        v4.extend_from_slice(b"a.example\0b.example\0");
        body.extend(option(NRB_IPV4, &v4));
        let mut v6 = vec![0u8; 16];
        v6[15] = 1;
        v6.extend_from_slice(b"localhost\0");
        body.extend(option(NRB_IPV6, &v6));
        body.extend(option(NRB_END, &[]));
        let b = block(NRB, &body);
        let mut out = Vec::new();
        parse_nrb(&b, ByteOrder::Little, &mut out, 10);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].names, vec!["a.example", "b.example"]);
        assert_eq!(out[1].addr, "::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn darwin_process_block() {
        let mut body = 554u32.to_le_bytes().to_vec();
        body.extend(option(OPT_DARWIN_PROCESS_NAME, b"packetdrill"));
        body.extend(option(OPT_DARWIN_PROCESS_UUID, &[0x11; 16]));
        let b = block(DARWIN_PROCESS, &body);
        let (pid, name, uuid) = parse_darwin_process(&b, ByteOrder::Little).unwrap();
        assert_eq!((pid, name.as_str()), (554, "packetdrill"));
        assert_eq!(uuid.unwrap(), "11111111-1111-1111-1111-111111111111");
    }

    #[test]
    fn boundary_after_garbage() {
        let mut file = shb();
        file.extend(idb(1, None));
        let first_epb = file.len();
        file.extend(epb(0, 1, &[0; 20], &[]));
        file.extend(epb(0, 2, &[0; 20], &[]));
        assert_eq!(find_block_boundary(&file, 0, ByteOrder::Little), Some(0));
        assert_eq!(
            find_block_boundary(&file, first_epb - 3, ByteOrder::Little),
            Some(first_epb)
        );
        assert!(find_block_boundary(&file, first_epb + 1, ByteOrder::Little).is_some());
        for len in 0..file.len() {
            let _ = find_block_boundary(&file[..len], 0, ByteOrder::Little);
            let _ = scan(&file[..len], 0, ByteOrder::Little, false);
        }
    }
}
