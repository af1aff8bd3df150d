//! Classic pcap framing: the 24-byte file header (usec, nsec and Kuznetzov-modified magic, both
//! byte orders) and packet records, with the plausibility rules used to detect damage and to
//! find the next record boundary after it.

use super::endian::ByteOrder;
use super::limits::{DEFAULT_MAX_SNAPLEN, MAX_RECORD_LEN, RESYNC_CHAIN, RESYNC_MAX_TS_DISTANCE_NS};
use super::{CaptureFormat, LinkType};

/// Length of the classic pcap file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a standard record header (ts_sec, ts_subsec, caplen, orig_len).
pub const RECORD_HEADER_LEN: usize = 16;
/// Kuznetzov's modified record header adds ifindex (4), protocol (2), pkt_type (1), pad (1).
pub const MODIFIED_RECORD_HEADER_LEN: usize = 24;

const MAGIC_USEC: u32 = 0xa1b2_c3d4;
const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// libpcap's `LT_RESERVED1`: bits of the link-type field that must be zero (sf-pcap.c rejects
/// the file otherwise, and so does Wireshark).
const LINKTYPE_RESERVED_MASK: u32 = 0x03FF_0000;
/// libpcap's `LT_LINKTYPE`: the link type proper; the upper bits carry FCS information.
const LINKTYPE_MASK: u32 = 0x0000_FFFF;
/// libpcap's `LT_FCS_LENGTH_PRESENT` and `LT_FCS_LENGTH` (in 16-bit words).
const FCS_PRESENT_BIT: u32 = 0x0400_0000;
const FCS_LENGTH_SHIFT: u32 = 28;

/// Everything the file header says about how to read the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcapLayout {
    pub order: ByteOrder,
    pub format: CaptureFormat,
    /// 16, or 24 for the modified format.
    pub record_header_len: usize,
    /// Nanoseconds per unit of the sub-second field (1000 for usec, 1 for nsec).
    pub subsec_unit: u32,
    pub snaplen: u32,
    pub link_type: LinkType,
    /// FCS length in bytes announced by the link-type field's upper bits, if any.
    pub fcs_len: Option<u8>,
}

impl PcapLayout {
    /// Largest captured length a record may have while reading normally.
    pub fn max_caplen(&self) -> u32 {
        let cap = self.snaplen.max(DEFAULT_MAX_SNAPLEN);
        cap.min(MAX_RECORD_LEN as u32)
    }

    /// Largest captured length accepted while resynchronising (stricter: the snaplen itself
    /// when the header gives a sane one).
    fn resync_max_caplen(&self) -> u32 {
        if self.snaplen == 0 || self.snaplen > DEFAULT_MAX_SNAPLEN {
            DEFAULT_MAX_SNAPLEN
        } else {
            self.snaplen
        }
    }

    fn subsec_limit(&self) -> u32 {
        if self.subsec_unit == 1 {
            1_000_000_000
        } else {
            1_000_000
        }
    }
}

/// Byte order and variant if `bytes` starts with a classic pcap magic number.
pub fn magic(bytes: &[u8]) -> Option<(ByteOrder, CaptureFormat)> {
    let raw = ByteOrder::Little.u32(bytes, 0)?;
    let variant = |m: u32| match m {
        MAGIC_USEC => Some(CaptureFormat::Pcap),
        MAGIC_NSEC => Some(CaptureFormat::Nsecpcap),
        MAGIC_MODIFIED => Some(CaptureFormat::Modpcap),
        _ => None,
    };
    if let Some(format) = variant(raw) {
        return Some((ByteOrder::Little, format));
    }
    variant(raw.swap_bytes()).map(|format| (ByteOrder::Big, format))
}

/// Parse the file header. `Ok(None)`: not a pcap file; `Err`: a pcap header we must reject,
/// with the reason (the byte offset within the header is the second value).
pub fn parse_header(bytes: &[u8]) -> Result<Option<PcapLayout>, (usize, String)> {
    let Some((order, format)) = magic(bytes) else {
        return Ok(None);
    };
    let field = |at: usize| {
        order.u32(bytes, at).ok_or_else(|| {
            (
                bytes.len(),
                format!(
                    "the pcap file header is cut short ({} of {FILE_HEADER_LEN} bytes)",
                    bytes.len()
                ),
            )
        })
    };
    let versions = field(4)?;
    let (major, minor) = match order {
        ByteOrder::Little => (versions & 0xFFFF, versions >> 16),
        ByteOrder::Big => (versions >> 16, versions & 0xFFFF),
    };
    if major != 2 {
        return Err((
            4,
            format!("pcap major version {major}.{minor} is not supported (expected 2.x)"),
        ));
    }
    let snaplen = field(16)?;
    let raw_link = field(20)?;
    if raw_link & LINKTYPE_RESERVED_MASK != 0 {
        return Err((
            20,
            format!(
                "the pcap link-type field has reserved bits set (0x{raw_link:08x}); \
                 expected 0 in mask 0x{LINKTYPE_RESERVED_MASK:08x}"
            ),
        ));
    }
    let fcs_len = (raw_link & FCS_PRESENT_BIT != 0)
        .then(|| ((raw_link >> FCS_LENGTH_SHIFT) as u8).saturating_mul(2));
    Ok(Some(PcapLayout {
        order,
        format,
        record_header_len: if format == CaptureFormat::Modpcap {
            MODIFIED_RECORD_HEADER_LEN
        } else {
            RECORD_HEADER_LEN
        },
        subsec_unit: if format == CaptureFormat::Nsecpcap {
            1
        } else {
            1000
        },
        snaplen,
        link_type: LinkType(raw_link & LINKTYPE_MASK),
        fcs_len,
    }))
}

/// One record header, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Nanoseconds since the epoch, the sub-second field kept as given even when out of range.
    pub ts_nanos: i64,
    pub subsec: u32,
    pub caplen: u32,
    pub orig_len: u32,
}

/// The record header at `at`, if all of it is present.
pub fn record_header(bytes: &[u8], at: usize, layout: &PcapLayout) -> Option<RecordHeader> {
    let end = at.checked_add(layout.record_header_len)?;
    let header = bytes.get(at..end)?;
    let order = layout.order;
    let secs = order.u32(header, 0)?;
    let subsec = order.u32(header, 4)?;
    let caplen = order.u32(header, 8)?;
    let orig_len = order.u32(header, 12)?;
    // u32 seconds (libpcap treats them as unsigned) and a u32 sub-second field always fit.
    let ts_nanos =
        i64::from(secs) * 1_000_000_000 + i64::from(subsec) * i64::from(layout.subsec_unit);
    Some(RecordHeader {
        ts_nanos,
        subsec,
        caplen,
        orig_len,
    })
}

/// How a record header read in sequence looks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Good,
    /// Odd but written by some tools (original length 0, more captured than on the wire):
    /// the reader keeps it only when its time and the next header agree.
    Doubtful(String),
    /// Cannot be a record.
    Bad(String),
}

impl Verdict {
    /// What is wrong, unless nothing is.
    pub fn into_problem(self) -> Option<String> {
        match self {
            Verdict::Good => None,
            Verdict::Doubtful(problem) | Verdict::Bad(problem) => Some(problem),
        }
    }
}

/// Whether a record header met in sequence is [`Verdict::Good`], without building the
/// verdict (the walk's common case).
pub fn is_good_record(header: &RecordHeader, layout: &PcapLayout) -> bool {
    header.caplen <= layout.max_caplen() && header.orig_len != 0 && header.caplen <= header.orig_len
}

/// Judge a record header met in sequence.
pub fn record_verdict(header: &RecordHeader, layout: &PcapLayout) -> Verdict {
    if is_good_record(header, layout) {
        return Verdict::Good;
    }
    let max = layout.max_caplen();
    if header.caplen > max {
        return Verdict::Bad(format!(
            "a record claims {} captured bytes, more than the maximum of {max}",
            header.caplen
        ));
    }
    if header.orig_len == 0 {
        // What a zeroed or overwritten header looks like.
        return Verdict::Doubtful("a record header has an original length of 0".to_string());
    }
    if header.caplen > header.orig_len {
        return Verdict::Doubtful(format!(
            "a record claims more captured bytes ({}) than were on the wire ({})",
            header.caplen, header.orig_len
        ));
    }
    Verdict::Good
}

/// Whether a doubtful record is kept: a real time near the last good one, and a following
/// header (if any) that can be a record.
pub(crate) fn doubtful_is_kept(
    header: &RecordHeader,
    layout: &PcapLayout,
    anchor: Option<i64>,
    next: Option<&RecordHeader>,
) -> bool {
    header.ts_nanos >= 1_000_000_000
        && anchor.is_none_or(|a| header.ts_nanos.abs_diff(a) <= RESYNC_MAX_TS_DISTANCE_NS as u64)
        && next.is_none_or(|n| !matches!(record_verdict(n, layout), Verdict::Bad(_)))
}

/// Stricter test used to find where records resume after damage: the header must look like
/// one a capture tool wrote, near `anchor` in time.
fn plausible(header: &RecordHeader, layout: &PcapLayout, anchor: Option<i64>) -> bool {
    header.caplen <= layout.resync_max_caplen()
        && header.caplen <= header.orig_len
        && header.orig_len > 0
        && header.orig_len as usize <= MAX_RECORD_LEN
        && header.subsec < layout.subsec_limit()
        && anchor.is_none_or(|a| header.ts_nanos.abs_diff(a) <= RESYNC_MAX_TS_DISTANCE_NS as u64)
}

/// The outcome of a boundary scan over a window of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// A trustworthy record starts at this position.
    Found(usize),
    /// The candidate at this position could not be judged: more bytes are needed.
    NeedMore(usize),
    /// No record boundary in the window.
    NotFound,
}

/// Judge the chain of records starting at `start`.
fn chain_from(
    bytes: &[u8],
    start: usize,
    layout: &PcapLayout,
    anchor: Option<i64>,
    complete: bool,
) -> Option<bool> {
    let mut at = start;
    let mut previous = anchor;
    for _ in 0..RESYNC_CHAIN {
        if at == bytes.len() && complete && at != start {
            return Some(true);
        }
        let Some(header) = record_header(bytes, at, layout) else {
            return if complete { Some(false) } else { None };
        };
        if !plausible(&header, layout, previous) {
            return Some(false);
        }
        let next = at
            .checked_add(layout.record_header_len)?
            .checked_add(header.caplen as usize)?;
        if next > bytes.len() {
            return if complete { Some(false) } else { None };
        }
        previous = Some(header.ts_nanos);
        at = next;
    }
    Some(true)
}

/// Scan `bytes[from..]` for the first position where a run of plausible records begins.
/// `anchor` is the last good timestamp; `complete` says whether `bytes` ends the input.
pub(crate) fn scan(
    bytes: &[u8],
    from: usize,
    layout: &PcapLayout,
    anchor: Option<i64>,
    complete: bool,
) -> Scan {
    for start in from..bytes.len() {
        match chain_from(bytes, start, layout, anchor, complete) {
            Some(true) => return Scan::Found(start),
            Some(false) => {}
            None => return Scan::NeedMore(start),
        }
    }
    Scan::NotFound
}

/// The first position at or after `from` in a complete capture (a mapped file) where a run of
/// plausible records begins. Used after damage, and to split a file into byte ranges for
/// parallel workers: each worker starts at the boundary found from its range's start.
pub fn find_record_boundary(bytes: &[u8], from: usize, layout: &PcapLayout) -> Option<usize> {
    match scan(bytes, from, layout, None, true) {
        Scan::Found(at) => Some(at),
        Scan::NeedMore(_) | Scan::NotFound => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little-endian usec pcap with the given records (ts_sec, caplen, orig_len).
    pub(crate) fn build(records: &[(u32, u32, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC_USEC.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for &(secs, caplen, orig) in records {
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&500u32.to_le_bytes());
            out.extend_from_slice(&caplen.to_le_bytes());
            out.extend_from_slice(&orig.to_le_bytes());
            out.extend(std::iter::repeat_n(0xAB, caplen as usize));
        }
        out
    }

    #[test]
    fn header_variants() {
        let file = build(&[]);
        let layout = parse_header(&file).unwrap().unwrap();
        assert_eq!(layout.format, CaptureFormat::Pcap);
        assert_eq!(layout.order, ByteOrder::Little);
        assert_eq!(layout.link_type, LinkType::ETHERNET);
        let mut be = file.clone();
        be[..4].copy_from_slice(&MAGIC_NSEC.to_be_bytes());
        be[4..6].copy_from_slice(&2u16.to_be_bytes());
        be[20..24].copy_from_slice(&113u32.to_be_bytes());
        be[16..20].copy_from_slice(&100u32.to_be_bytes());
        let layout = parse_header(&be).unwrap().unwrap();
        assert_eq!(layout.format, CaptureFormat::Nsecpcap);
        assert_eq!(layout.order, ByteOrder::Big);
        assert_eq!(layout.link_type, LinkType::LINUX_SLL);
        assert_eq!(layout.snaplen, 100);
        let mut modified = file.clone();
        modified[..4].copy_from_slice(&MAGIC_MODIFIED.to_le_bytes());
        assert_eq!(
            parse_header(&modified).unwrap().unwrap().record_header_len,
            MODIFIED_RECORD_HEADER_LEN
        );
        assert_eq!(parse_header(b"not a capture at all....").unwrap(), None);
    }

    #[test]
    fn rejects_bad_version_and_reserved_link_bits() {
        let mut file = build(&[]);
        file[4] = 1;
        assert_eq!(parse_header(&file).unwrap_err().0, 4);
        let mut file = build(&[]);
        file[20..24].copy_from_slice(&0x0030_0000u32.to_le_bytes());
        assert_eq!(parse_header(&file).unwrap_err().0, 20);
        // FCS bits in the upper nibble are allowed and masked off.
        let mut file = build(&[]);
        file[20..24].copy_from_slice(&0x3000_0095u32.to_le_bytes());
        assert_eq!(
            parse_header(&file).unwrap().unwrap().link_type,
            LinkType(149)
        );
    }

    #[test]
    fn boundary_found_after_garbage() {
        let file = build(&[
            (1000, 60, 60),
            (1001, 70, 70),
            (1002, 60, 60),
            (1003, 60, 60),
        ]);
        let layout = parse_header(&file).unwrap().unwrap();
        assert_eq!(find_record_boundary(&file, 24, &layout), Some(24));
        // From inside the first record, the next boundary is the second record.
        assert_eq!(find_record_boundary(&file, 25, &layout), Some(24 + 16 + 60));
        assert_eq!(find_record_boundary(&file, file.len(), &layout), None);
    }

    #[test]
    fn truncated_header_never_panics() {
        let file = build(&[(1000, 60, 60)]);
        for len in 0..file.len() {
            let _ = parse_header(&file[..len]);
            if let Ok(Some(layout)) = parse_header(&file) {
                let _ = record_header(&file[..len], 24, &layout);
                let _ = find_record_boundary(&file[..len], 0, &layout);
            }
        }
    }
}
