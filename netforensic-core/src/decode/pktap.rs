//! Apple PKTAP header (link types 149 = USER2 on old macOS, 258 = PKTAP): which interface,
//! process and effective (delegated) process a packet belonged to, then the packet in its own
//! link type. Fields are in the capturing host's byte order, which is little-endian on every
//! Apple platform. Layout from `struct pktap_header` (xnu `bsd/net/pktap.h`).

use super::bytes::{c_string, le32};
use super::PktapInfo;
use crate::capture::LinkType;

/// The shortest header that holds every field we read (up to `pth_ecomm`), as older macOS
/// versions write it; newer ones append flow id, protocol, timestamp and UUIDs.
pub const MIN_HEADER_LEN: usize = 108;
/// `pth_type_next` value for "a packet follows".
const RECORD_TYPE_PACKET: u32 = 1;
/// Byte offsets of the fields (`char` arrays: interface name 24, command names 17 bytes).
pub(crate) mod field {
    use std::ops::Range;
    pub const LENGTH: usize = 0;
    pub const TYPE_NEXT: usize = 4;
    pub const DLT: usize = 8;
    pub const IFNAME: Range<usize> = 12..36;
    pub const FLAGS: usize = 36;
    pub const PID: usize = 52;
    pub const COMM: Range<usize> = 56..73;
    pub const SVC: usize = 76;
    pub const EPID: usize = 84;
    pub const ECOMM: Range<usize> = 88..105;
}

/// Parse the header; returns the fields, the inner link type and the inner frame. `None` when
/// the header is cut short, claims a length outside the frame, or is not a packet record.
pub(crate) fn decode(frame: &[u8]) -> Option<(PktapInfo<'_>, LinkType, &[u8])> {
    let length = usize::try_from(le32(frame, field::LENGTH)?).ok()?;
    if length < MIN_HEADER_LEN || length > frame.len() {
        return None;
    }
    if le32(frame, field::TYPE_NEXT)? != RECORD_TYPE_PACKET {
        return None;
    }
    let dlt = le32(frame, field::DLT)?;
    let info = PktapInfo::new(frame.get(..MIN_HEADER_LEN)?)?;
    Some((info, LinkType(dlt), frame.get(length..)?))
}

/// The little-endian 32-bit field at `at` of a header of [`MIN_HEADER_LEN`] bytes or more.
pub(crate) fn field_i32(header: &[u8], at: usize) -> i32 {
    le32(header, at).unwrap_or(0) as i32
}

/// The NUL-trimmed `char` array at `range` of a header of [`MIN_HEADER_LEN`] bytes or more.
pub(crate) fn field_text(header: &[u8], range: std::ops::Range<usize>) -> &[u8] {
    header.get(range).map(c_string).unwrap_or_default()
}

/// A PKTAP header's fields, for building one in tests.
#[cfg(test)]
pub(crate) struct TestHeader<'t> {
    pub pid: i32,
    pub comm: &'t [u8],
    pub effective_pid: i32,
    pub effective_comm: &'t [u8],
    pub flags: u32,
    pub interface: &'t [u8],
    pub service_class: u32,
    pub dlt: u32,
}

#[cfg(test)]
impl TestHeader<'_> {
    /// The header's bytes (a packet record of [`MIN_HEADER_LEN`] bytes).
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut h = vec![0u8; MIN_HEADER_LEN];
        let mut put = |at: usize, v: u32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(field::LENGTH, MIN_HEADER_LEN as u32);
        put(field::TYPE_NEXT, RECORD_TYPE_PACKET);
        put(field::DLT, self.dlt);
        put(field::FLAGS, self.flags);
        put(field::PID, self.pid as u32);
        put(field::SVC, self.service_class);
        put(field::EPID, self.effective_pid as u32);
        for (range, text) in [
            (field::IFNAME, self.interface),
            (field::COMM, self.comm),
            (field::ECOMM, self.effective_comm),
        ] {
            let n = text.len().min(range.len());
            h[range.start..range.start + n].copy_from_slice(&text[..n]);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame 1 of `tcpdump_LINKTYPE_PKTAP.pcap`, header only (checked against tshark -V:
    /// length 108, DLT 1, en0, flags 2, pid 512, effective pid -1).
    fn header() -> Vec<u8> {
        let mut h = vec![0u8; 108];
        h[0] = 108;
        h[4] = 1;
        h[8] = 1;
        h[12..15].copy_from_slice(b"en0");
        h[36] = 2;
        h[40] = 2;
        h[44] = 14;
        h[52..56].copy_from_slice(&512i32.to_le_bytes());
        h[84..88].copy_from_slice(&(-1i32).to_le_bytes());
        h
    }

    #[test]
    fn parses_fields_and_inner_frame() {
        let mut f = header();
        f.extend_from_slice(b"ETHERNET...");
        let (info, dlt, inner) = decode(&f).unwrap();
        assert_eq!(dlt, LinkType::ETHERNET);
        assert_eq!(inner, b"ETHERNET...");
        assert_eq!(info.pid(), 512);
        assert_eq!(info.effective_pid(), -1);
        assert_eq!(info.interface(), b"en0");
        assert_eq!(info.comm(), b"");
        assert_eq!(info.flags(), 2);
        assert_eq!(info.dlt(), 1);
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut f = header();
        f[0] = 200;
        assert!(decode(&f).is_none());
        f[0] = 20;
        assert!(decode(&f).is_none());
        assert!(decode(&header()[..50]).is_none());
        let mut f = header();
        f[4] = 2;
        assert!(decode(&f).is_none());
    }
}
