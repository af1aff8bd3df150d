//! Capture framing: classic pcap (all variants) and pcapng, from a memory-mapped file or a
//! stream, yielding [`Frame`]s with exact timestamps and their link type. Damage does not stop
//! the reader: it is recorded as a [`Damage`] region, the reader resynchronises and goes on.
//!
//! The reader is a lending iterator: `while let Some(frame) = reader.next_frame() { .. }`.
//!
//! - Fatal (`Err` from `open`/`from_source`): not a capture, a header we must reject (pcap major
//!   version other than 2, reserved link-type bits, pcapng version other than 1.x, a broken
//!   first Section Header Block), or nothing readable after the header.
//! - Partial: [`CaptureSummary::damage`] lists each skipped region; everything else is read.
//! - Sources: files are memory-mapped; standard input and gzip input (detected by content) are
//!   read through a bounded buffer ([`limits::STREAM_BUFFER_MAX`]), gzip decompressed a few
//!   chunks ahead on a thread of its own (`read_ahead`, beside the walk); `Bytes` from memory.
//! - Parallel reading: [`CaptureReader::from_range`] reads one byte range of a file; adjacent
//!   ranges yield every record once. [`pcap::find_record_boundary`] and
//!   [`pcapng::find_block_boundary`] are the boundary rules it (and resynchronisation) uses.
//! - Every bound on input-derived sizes is a named constant in [`limits`].

mod digest;
mod endian;
mod input;
pub mod limits;
pub mod pcap;
pub mod pcapng;
mod read_ahead;
mod reader;

pub use digest::{sha256_file, HashingReader, Sha256Handle};
pub use endian::ByteOrder;
pub use input::SharedInput;
pub(crate) use input::StreamChunk;
pub use reader::CaptureReader;

use crate::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

/// A LINKTYPE_ value (<https://www.tcpdump.org/linktypes.html>).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const PPP: LinkType = LinkType(9);
    pub const RAW_12: LinkType = LinkType(12);
    pub const RAW_14: LinkType = LinkType(14);
    pub const PPP_HDLC: LinkType = LinkType(50);
    pub const PPP_ETHER: LinkType = LinkType(51);
    pub const RAW: LinkType = LinkType(101);
    pub const IEEE802_11: LinkType = LinkType(105);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const PKTAP_149: LinkType = LinkType(149);
    pub const IEEE802_11_PRISM: LinkType = LinkType(119);
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const NFLOG: LinkType = LinkType(239);
    pub const PKTAP: LinkType = LinkType(258);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Short name as tcpdump/Wireshark print it, or `LINKTYPE_<n>`.
    pub fn name(self) -> String {
        let known = match self.0 {
            0 => "NULL",
            1 => "ETHERNET",
            9 => "PPP",
            12 | 14 | 101 => "RAW",
            50 => "PPP_HDLC",
            51 => "PPP_ETHER",
            105 => "IEEE802_11",
            108 => "LOOP",
            113 => "LINUX_SLL",
            119 => "IEEE802_11_PRISM",
            127 => "IEEE802_11_RADIOTAP",
            149 | 258 => "PKTAP",
            228 => "IPV4",
            229 => "IPV6",
            239 => "NFLOG",
            276 => "LINUX_SLL2",
            _ => return format!("LINKTYPE_{}", self.0),
        };
        known.to_string()
    }
}

/// The container format of an input, as `capinfos` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureFormat {
    /// Classic pcap, microsecond timestamps.
    Pcap,
    /// Classic pcap, nanosecond timestamps (magic a1b23c4d).
    Nsecpcap,
    /// Kuznetzov's modified pcap (magic a1b2cd34, longer record header).
    Modpcap,
    /// pcapng (any number of sections, each with its own byte order).
    Pcapng,
}

impl CaptureFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::Nsecpcap => "nsecpcap",
            CaptureFormat::Modpcap => "modpcap",
            CaptureFormat::Pcapng => "pcapng",
        }
    }
}

/// One region of the input that could not be read as records and was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Damage {
    /// Byte offset of the first unreadable byte.
    pub offset: u64,
    /// Bytes skipped until the next record the reader could trust (to end of input if none).
    pub length: u64,
    /// What was wrong and what was expected, as a sentence.
    pub reason: String,
}

/// A pcapng Name Resolution Block entry: an address and the names the capturing host knew it by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameRecord {
    pub addr: IpAddr,
    pub names: Vec<String>,
}

/// A Darwin Process Information Block (macOS `tcpdump -k`, iOS pcapd): the per-section process
/// table that Enhanced Packet Blocks refer to by index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DarwinProcess {
    /// Section number (0-based) the block appeared in.
    pub section: u32,
    /// Index of this entry in the section's process table (what `dpeb_id` refers to).
    pub index: u32,
    pub pid: u32,
    pub name: String,
    pub uuid: Option<String>,
}

/// Per-packet metadata carried by the container, beside the packet bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameMeta {
    /// pcapng `opt_comment` values (ptcpdump stores `PID: .. Cmd: ..` here).
    pub comments: Vec<String>,
    /// Darwin `dpeb_id` / effective `dpeb_id`: indexes into the section's [`DarwinProcess`]
    /// table (first = process, second = effective/delegated process).
    pub darwin_process_index: Option<u32>,
    pub darwin_effective_process_index: Option<u32>,
    /// pcapng `epb_processid_threadid` (option 7, pcapng draft): process and thread id.
    pub process_id: Option<u32>,
    pub thread_id: Option<u32>,
    /// pcapng `epb_flags` (direction in bits 0-1: 1 inbound, 2 outbound).
    pub epb_flags: Option<u32>,
    /// Section the frame belongs to (0-based), to resolve Darwin process indexes.
    pub section: u32,
}

impl FrameMeta {
    pub fn is_empty(&self) -> bool {
        self.comments.is_empty()
            && self.darwin_process_index.is_none()
            && self.darwin_effective_process_index.is_none()
            && self.process_id.is_none()
            && self.epb_flags.is_none()
    }
}

/// One captured packet as the container holds it.
#[derive(Clone, Debug)]
pub struct Frame<'a> {
    /// 0-based index of the packet record in the input (damaged regions skipped).
    pub index: u64,
    /// Byte offset of the record (its header) in the input.
    pub offset: u64,
    /// Capture time. A pcapng Simple Packet Block has none: it gets the previous packet's time
    /// (0 if none) and does not count towards the summary's time span.
    pub ts: Timestamp,
    /// Interface id (pcapng: global across sections, in order of appearance; pcap: 0).
    pub interface: u32,
    pub link_type: LinkType,
    /// Length of the packet on the wire (may exceed `data.len()` when snaplen cut it).
    pub orig_len: u32,
    pub data: &'a [u8],
    /// Container metadata; `None` for the common case of none, so no allocation per packet.
    pub meta: Option<Box<FrameMeta>>,
}

/// Everything the reader learned about an input besides its packets.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureSummary {
    pub format: Option<CaptureFormat>,
    /// Distinct link types in order of first appearance.
    pub link_types: Vec<LinkType>,
    /// Packet records read.
    pub packets: u64,
    /// Earliest and latest packet time (as capinfos reports them); `None` without timed packets.
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub damage: Vec<Damage>,
    pub name_records: Vec<NameRecord>,
    pub darwin_processes: Vec<DarwinProcess>,
    /// Bytes of input consumed.
    pub bytes: u64,
}

impl CaptureSummary {
    pub fn complete(&self) -> bool {
        self.damage.is_empty()
    }
}

/// Where the bytes come from.
pub enum CaptureSource {
    /// A file, memory-mapped read-only.
    File(std::path::PathBuf),
    /// A byte stream (standard input, a decompressor), read with bounded memory.
    Stream {
        name: String,
        reader: Box<dyn std::io::Read + Send>,
    },
    /// Bytes already in memory (tests, embedding).
    Bytes {
        name: String,
        bytes: std::sync::Arc<[u8]>,
    },
}

#[cfg(test)]
mod tests;
