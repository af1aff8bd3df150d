//! The capture reader: detects the format, walks records or blocks, turns damage into
//! [`Damage`] entries and resynchronises, and lends out one [`Frame`] at a time.

use super::endian::ByteOrder;
use super::input::{Input, SharedInput, StreamChunk, GZIP_MAGIC};
use super::limits::{
    MAX_DAMAGE_ENTRIES, MAX_DARWIN_PROCESSES, MAX_INTERFACES_PER_SECTION, MAX_NAME_RECORDS,
    MAX_RECORD_LEN, STREAM_CHUNK,
};
use super::pcap::{self, PcapLayout, Scan};
use super::pcapng::{self, Interface};
use super::{
    CaptureFormat, CaptureSource, CaptureSummary, Damage, DarwinProcess, Frame, FrameMeta, LinkType,
};
use crate::time::Timestamp;
use crate::{Error, ErrorKind};
use std::path::{Path, PathBuf};

mod range;

/// Where the next frame lies (absolute offsets), decoupled from the window so the reader can
/// refill between frames.
struct FrameLoc {
    data_at: u64,
    data_len: usize,
    offset: u64,
    ts: i64,
    /// False for Simple Packet Blocks, which carry no time (`ts` repeats the previous one).
    has_ts: bool,
    interface: u32,
    link_type: LinkType,
    orig_len: u32,
    meta: Option<Box<FrameMeta>>,
}

/// What the container walk is doing.
#[derive(Clone, Copy)]
enum State {
    Pcap(PcapLayout),
    Pcapng,
    Done,
}

/// The current pcapng section.
#[derive(Default)]
struct Section {
    order: Option<ByteOrder>,
    index: u32,
    interfaces: Vec<Interface>,
    darwin_entries: u32,
}

enum Step {
    Frame(FrameLoc),
    Continue,
    End,
}

/// A problem with a file or section header: where and what.
type HeaderProblem = (u64, String);

/// The capture reader. Open it, then call [`CaptureReader::next_frame`] until `None`.
pub struct CaptureReader {
    path: Option<PathBuf>,
    input: Input,
    pos: u64,
    state: State,
    section: Section,
    sections_seen: u32,
    interfaces_seen: u32,
    pcap_headers_seen: u32,
    /// Timestamp of the last good record: resynchronisation looks for records near it.
    last_ts: Option<i64>,
    /// The next frame, read ahead by `open` to tell "nothing readable" from "partly readable".
    pending: Option<FrameLoc>,
    /// Records starting at or after this offset belong to the next byte range.
    end_limit: u64,
    summary: CaptureSummary,
}

impl CaptureReader {
    /// Open a file (memory-mapped). Fails only when nothing can be read (not a capture, I/O).
    pub fn open(path: &Path) -> Result<Self, Error> {
        Self::from_source(CaptureSource::File(path.to_path_buf()))
    }

    pub fn from_source(source: CaptureSource) -> Result<Self, Error> {
        let (path, input) = input_for(source)?;
        Self::start(path, input)
    }

    fn new(path: Option<PathBuf>, input: Input) -> Self {
        CaptureReader {
            path,
            input,
            pos: 0,
            state: State::Done,
            section: Section::default(),
            sections_seen: 0,
            interfaces_seen: 0,
            pcap_headers_seen: 0,
            last_ts: None,
            pending: None,
            end_limit: u64::MAX,
            summary: CaptureSummary::default(),
        }
    }

    fn start(path: Option<PathBuf>, input: Input) -> Result<Self, Error> {
        let mut reader = Self::new(path, input);
        reader.read_file_header()?;
        reader.pending = reader.advance();
        if reader.pending.is_none() && reader.summary.packets == 0 {
            if let Some(first) = reader.summary.damage.first() {
                let err =
                    Error::new(ErrorKind::Corrupt, first.reason.clone()).at_offset(first.offset);
                return Err(reader.located(err));
            }
        }
        Ok(reader)
    }

    fn located(&self, err: Error) -> Error {
        match &self.path {
            Some(path) => err.with_path(path),
            None => err,
        }
    }

    /// Detect the format from the first bytes and read its header; any failure is fatal.
    fn read_file_header(&mut self) -> Result<(), Error> {
        let held = self.input.fill(0, pcapng::BLOCK_MIN_LEN);
        if held == 0 {
            let err = match self.input.read_error.clone() {
                Some(why) => Error::new(ErrorKind::Io, why),
                None => Error::new(
                    ErrorKind::UnknownFormat,
                    "the input is empty, not a capture",
                ),
            };
            return Err(self.located(err.at_offset(0)));
        }
        let head = self.input.from(0);
        let result = if pcap::magic(head).is_some() {
            self.begin_pcap()
        } else if ByteOrder::Little.u32(head, 0) == Some(pcapng::SHB) {
            self.begin_section()
        } else {
            let shown: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
            Err((
                0,
                format!(
                    "not a capture: the input starts with {}, expected a pcap magic number \
                     (a1b2c3d4, a1b23c4d, a1b2cd34 in either byte order) or a pcapng \
                     Section Header Block (0a0d0d0a)",
                    shown.join(" ")
                ),
            ))
        };
        result.map_err(|(offset, why)| {
            let kind = if offset == 0 && self.summary.format.is_none() {
                ErrorKind::UnknownFormat
            } else {
                ErrorKind::Corrupt
            };
            self.located(Error::new(kind, why).at_offset(offset))
        })
    }

    /// The next packet record, or `None` at the end of input. Damage met on the way is
    /// recorded in [`CaptureReader::summary`] and skipped.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        self.next_with(Self::frame_at)
    }

    /// [`CaptureReader::next_frame`], with the stream buffer the frame's bytes are in (none
    /// for a file or bytes held whole): packets handed to other threads can hold it rather
    /// than copy their bytes.
    pub(crate) fn next_frame_in_chunk(&mut self) -> Option<(Frame<'_>, Option<&StreamChunk>)> {
        self.next_with(|reader, loc| (reader.frame_at(loc), reader.input.stream_chunk()))
    }

    /// Find the next packet record (counting it) and make `what` of it, or `None` at the end
    /// of input. One body for both callers, in this shape: returning the location as an
    /// `Option` to them cost ~30 instructions per packet (its copies).
    #[inline(always)]
    fn next_with<'s, T>(&'s mut self, what: impl FnOnce(&'s Self, FrameLoc) -> T) -> Option<T> {
        let short_way = match (&self.pending, self.state) {
            (None, State::Pcap(layout)) => self.whole_pcap_record(&layout),
            (None, State::Pcapng) => self.whole_enhanced_packet(),
            _ => None,
        };
        let loc = match short_way {
            Some(loc) => loc,
            None => match self.pending.take() {
                Some(loc) => loc,
                None => self.advance()?,
            },
        };
        Some(what(self, loc))
    }

    /// The frame at `loc`, just found by [`CaptureReader::next_with`].
    #[inline(always)]
    fn frame_at(&self, loc: FrameLoc) -> Frame<'_> {
        let index = self.summary.packets.saturating_sub(1);
        let data = self
            .input
            .slice(loc.data_at, loc.data_len)
            .unwrap_or_default();
        Frame {
            index,
            offset: loc.offset,
            ts: Timestamp(loc.ts),
            interface: loc.interface,
            link_type: loc.link_type,
            orig_len: loc.orig_len,
            data,
            meta: loc.meta,
        }
    }

    /// The pcap record at the current position when it is the common case: a good header and
    /// the whole record held (always for a mapped file; for a stream, unless the record
    /// straddles the buffer's end). Anything else (damage, a concatenated capture, a refill,
    /// the end) is left to [`CaptureReader::advance`], which handles it as before; this path
    /// only skips its steps for what needs none of them.
    #[inline(always)]
    fn whole_pcap_record(&mut self, layout: &PcapLayout) -> Option<FrameLoc> {
        if self.pos >= self.end_limit {
            return None;
        }
        let held = self.input.from(self.pos);
        let header = pcap::record_header(held, 0, layout)?;
        let total = layout
            .record_header_len
            .checked_add(header.caplen as usize)?;
        if !pcap::is_good_record(&header, layout) || total > held.len() {
            return None;
        }
        let loc = self.pcap_loc(&header, layout);
        Some(self.taken(loc, total))
    }

    /// Where a pcap record read at `pos` lies, and what it says.
    fn pcap_loc(&self, header: &pcap::RecordHeader, layout: &PcapLayout) -> FrameLoc {
        FrameLoc {
            data_at: self.pos + layout.record_header_len as u64,
            data_len: header.caplen as usize,
            offset: self.pos,
            ts: header.ts_nanos,
            has_ts: true,
            interface: self.pcap_headers_seen.saturating_sub(1),
            link_type: layout.link_type,
            orig_len: header.orig_len,
            meta: None,
        }
    }

    /// Step over the `len` bytes of a frame found by a short way and count it, as
    /// [`CaptureReader::advance`] does for the frames it finds.
    #[inline(always)]
    fn taken(&mut self, loc: FrameLoc, len: usize) -> FrameLoc {
        self.input.prefetch_ahead(self.pos);
        self.pos += len as u64;
        self.count(&loc);
        loc
    }

    /// The pcapng block at the current position when it is the common case: a well-framed
    /// Enhanced Packet Block, held whole (see [`CaptureReader::whole_pcap_record`]), that
    /// parses and names an interface of the section.
    /// Anything else is left to [`CaptureReader::advance`] (which also reports damage).
    fn whole_enhanced_packet(&mut self) -> Option<FrameLoc> {
        if self.pos >= self.end_limit {
            return None;
        }
        let order = self.section.order?;
        let held = self.input.from(self.pos);
        if order.u32(held, 0)? != pcapng::EPB {
            return None;
        }
        let len = order.u32(held, 4)? as usize;
        if !pcapng::is_valid_block_len(len) {
            return None;
        }
        let block = held.get(..len)?;
        if order.u32(block, len - 4)? as usize != len {
            return None;
        }
        let packet =
            pcapng::parse_packet_block(block, order, pcapng::EPB, self.section.index).ok()?;
        let interface = *self.section.interfaces.get(packet.interface)?;
        let loc = self.packet_loc(self.pos, packet, interface);
        Some(self.taken(loc, len))
    }

    /// Where a packet of a packet block at `at` lies, and what it says. Inlined: the short way
    /// calls it once per packet (out of line it cost ~24 more instructions per packet).
    #[inline(always)]
    fn packet_loc(&self, at: u64, p: pcapng::BlockPacket, interface: Interface) -> FrameLoc {
        let ts = match p.ts_units {
            Some(units) => interface.resolution.to_nanos(units, interface.offset_secs),
            // SPB carries no time: keep the previous packet's.
            None => self.last_ts.unwrap_or(0),
        };
        FrameLoc {
            data_at: at + p.data_start as u64,
            data_len: p.data_len,
            offset: at,
            ts,
            has_ts: p.ts_units.is_some(),
            interface: interface.global_id,
            link_type: interface.link_type,
            orig_len: p.orig_len,
            meta: p.meta,
        }
    }

    /// The whole input, when it is held in memory at once (a mapped file, in-memory bytes):
    /// every frame's data is then a slice of it.
    pub fn shared_input(&self) -> Option<SharedInput> {
        self.input.shared()
    }

    /// Let go of the input's bytes: the reader reads nothing more (the summary stays). Returns
    /// the whole input if it was held in memory, so that the caller decides where a mapped
    /// file is unmapped (tearing down the page tables of a large map takes a while).
    pub fn release_input(&mut self) -> Option<SharedInput> {
        let shared = self.input.shared();
        self.input = Input::empty();
        self.pending = None;
        self.state = State::Done;
        shared
    }

    pub fn summary(&self) -> &CaptureSummary {
        &self.summary
    }

    pub fn into_summary(self) -> CaptureSummary {
        self.summary
    }

    /// Walk until the next frame (counting it), or the end.
    fn advance(&mut self) -> Option<FrameLoc> {
        // The frame read ahead by `open` is counted already; frames are counted when found.
        loop {
            if self.pos >= self.end_limit {
                self.state = State::Done;
                return None;
            }
            self.input.prefetch_ahead(self.pos);
            let step = match self.state {
                State::Pcap(layout) => self.step_pcap(layout),
                State::Pcapng => self.step_pcapng(),
                State::Done => return None,
            };
            match step {
                Step::Frame(loc) => {
                    self.count(&loc);
                    return Some(loc);
                }
                Step::Continue => {}
                Step::End => {
                    if let Some(why) = self.input.read_error.take() {
                        self.damage(self.pos, 0, format!("reading the input failed: {why}"));
                    }
                    self.summary.bytes = self.pos;
                    self.state = State::Done;
                    return None;
                }
            }
        }
    }

    fn count(&mut self, loc: &FrameLoc) {
        let s = &mut self.summary;
        s.packets += 1;
        s.bytes = self.pos;
        if loc.has_ts {
            // Earliest and latest, as capinfos reports them (records may be out of order).
            let ts = Timestamp(loc.ts);
            s.first_ts = Some(s.first_ts.map_or(ts, |t| t.min(ts)));
            s.last_ts = Some(s.last_ts.map_or(ts, |t| t.max(ts)));
            self.last_ts = Some(loc.ts);
        }
    }

    fn add_link_type(&mut self, link_type: LinkType) {
        if !self.summary.link_types.contains(&link_type) {
            self.summary.link_types.push(link_type);
        }
    }

    fn damage(&mut self, offset: u64, length: u64, reason: String) {
        let list = &mut self.summary.damage;
        if list.len() >= MAX_DAMAGE_ENTRIES {
            if let Some(last) = list.last_mut() {
                last.length = (offset + length).saturating_sub(last.offset);
            }
            return;
        }
        list.push(Damage {
            offset,
            length,
            reason,
        });
    }

    /// A truncated tail: record it and stop.
    fn truncated(&mut self, held: usize, what: String) -> Step {
        self.damage(self.pos, held as u64, what);
        self.pos += held as u64;
        Step::End
    }

    /// Read a classic pcap file header at `pos`.
    fn begin_pcap(&mut self) -> Result<(), HeaderProblem> {
        let at = self.pos;
        self.input.fill(at, pcap::FILE_HEADER_LEN);
        let layout = match pcap::parse_header(self.input.from(at)) {
            Ok(Some(layout)) => layout,
            Ok(None) => return Err((at, "expected a pcap file header".to_string())),
            Err((rel, why)) => return Err((at + rel as u64, why)),
        };
        if self.input.from(at).len() < pcap::FILE_HEADER_LEN {
            return Err((at, "the pcap file header is cut short".to_string()));
        }
        self.summary.format.get_or_insert(layout.format);
        self.add_link_type(layout.link_type);
        self.pcap_headers_seen += 1;
        self.pos = at + pcap::FILE_HEADER_LEN as u64;
        self.state = State::Pcap(layout);
        Ok(())
    }

    /// Read a pcapng Section Header Block at `pos`.
    fn begin_section(&mut self) -> Result<(), HeaderProblem> {
        let at = self.pos;
        self.input.fill(at, pcapng::BLOCK_MIN_LEN);
        let Some(order) = pcapng::shb_byte_order(self.input.from(at)) else {
            return Err((
                at + 8,
                "the Section Header Block has no valid byte-order magic (1a2b3c4d)".to_string(),
            ));
        };
        let len = order.u32(self.input.from(at), 4).unwrap_or(0) as usize;
        if len < 28 || len % 4 != 0 || len > MAX_RECORD_LEN {
            return Err((
                at + 4,
                format!("the Section Header Block length {len} is invalid"),
            ));
        }
        let held = self.input.fill(at, len);
        let Some(block) = self.input.slice(at, len) else {
            return Err((
                at,
                format!("the Section Header Block is cut off ({held} of {len} bytes)"),
            ));
        };
        let trailing = order.u32(block, len - 4).unwrap_or(0);
        if trailing as usize != len {
            return Err((
                at + len as u64 - 4,
                format!("the Section Header Block's lengths differ (leading {len}, trailing {trailing})"),
            ));
        }
        pcapng::check_shb(block, order).map_err(|(rel, why)| (at + rel as u64, why))?;
        self.summary.format.get_or_insert(CaptureFormat::Pcapng);
        self.section = Section {
            order: Some(order),
            index: self.sections_seen,
            interfaces: Vec::new(),
            darwin_entries: 0,
        };
        self.sections_seen += 1;
        self.pos = at + len as u64;
        self.state = State::Pcapng;
        Ok(())
    }

    /// A new file header (concatenated captures) at `pos`: switch to it, or treat a bad one
    /// as damage.
    fn switch_header(&mut self) -> Step {
        let pcapng_next = pcapng::shb_byte_order(self.input.from(self.pos)).is_some();
        let result = if pcapng_next {
            self.begin_section()
        } else {
            self.begin_pcap()
        };
        if let Err((_, why)) = result {
            self.resync(why);
        }
        Step::Continue
    }

    fn step_pcap(&mut self, layout: PcapLayout) -> Step {
        let header_len = layout.record_header_len;
        // Fast path: header and body already held (always, for a mapped file).
        let mut held_now = self.input.from(self.pos).len();
        let header = match pcap::record_header(self.input.from(self.pos), 0, &layout) {
            Some(header) => header,
            None => {
                let held = self.input.fill(self.pos, header_len);
                if held == 0 {
                    return Step::End;
                }
                match pcap::record_header(self.input.from(self.pos), 0, &layout) {
                    Some(header) => header,
                    None => {
                        if self.at_file_header() {
                            return self.switch_header();
                        }
                        return self.truncated(
                            held,
                            format!(
                                "the input ends inside a record header \
                                 ({held} of {header_len} bytes)"
                            ),
                        );
                    }
                }
            }
        };
        let total = header_len + header.caplen as usize;
        match pcap::record_verdict(&header, &layout) {
            pcap::Verdict::Good => {}
            verdict => {
                // A file header parses as a record with original length 0 (its sigfigs
                // field): concatenated captures are found here, off the hot path.
                if self.at_file_header() {
                    return self.switch_header();
                }
                let keep = match &verdict {
                    pcap::Verdict::Doubtful(_) => {
                        self.input.fill(self.pos, total + header_len);
                        let next_at = usize::try_from(self.pos - self.input.base())
                            .ok()
                            .and_then(|rel| rel.checked_add(total));
                        let next = next_at
                            .and_then(|at| pcap::record_header(self.input.window(), at, &layout));
                        pcap::doubtful_is_kept(&header, &layout, self.last_ts, next.as_ref())
                    }
                    _ => false,
                };
                if !keep {
                    self.resync(verdict.into_problem().unwrap_or_default());
                    return Step::Continue;
                }
            }
        }
        held_now = held_now.max(self.input.from(self.pos).len());
        if held_now < total {
            let held = self.input.fill(self.pos, total);
            if held < total {
                return self.beyond_end(
                    total,
                    format!("the last record is cut off ({held} of {total} bytes present)"),
                );
            }
        }
        let loc = self.pcap_loc(&header, &layout);
        self.pos += total as u64;
        Step::Frame(loc)
    }

    /// A valid pcap file header or pcapng Section Header Block starts at `pos`.
    fn at_file_header(&mut self) -> bool {
        self.input.fill(self.pos, pcap::FILE_HEADER_LEN);
        let rest = self.input.from(self.pos);
        pcapng::shb_byte_order(rest).is_some() || matches!(pcap::parse_header(rest), Ok(Some(_)))
    }

    fn step_pcapng(&mut self) -> Step {
        let mut held = self.input.from(self.pos).len();
        if held < pcapng::BLOCK_MIN_LEN {
            held = self.input.fill(self.pos, pcapng::BLOCK_MIN_LEN);
            if held == 0 {
                return Step::End;
            }
        }
        let rest = self.input.from(self.pos);
        let order = self.section.order.unwrap_or(ByteOrder::Little);
        let block_type = order.u32(rest, 0).unwrap_or(0);
        // A new section, or a classic pcap header (concatenation); checked only for block
        // types that are not packets, to keep the common path short.
        if !matches!(block_type, pcapng::EPB | pcapng::SPB)
            && (pcapng::shb_byte_order(rest).is_some()
                || (pcap::magic(rest).is_some() && matches!(pcap::parse_header(rest), Ok(Some(_)))))
        {
            return self.switch_header();
        }
        if held < pcapng::BLOCK_MIN_LEN {
            return self.truncated(
                held,
                format!("the input ends inside a block header ({held} of 12 bytes)"),
            );
        }
        let len = order.u32(rest, 4).unwrap_or(0) as usize;
        if !pcapng::is_valid_block_len(len) {
            self.resync(format!(
                "block type 0x{block_type:08x} has an invalid total length {len} \
                 (expected a multiple of 4 between 12 and {MAX_RECORD_LEN})"
            ));
            return Step::Continue;
        }
        if held < len {
            held = self.input.fill(self.pos, len);
        }
        let Some(block) = self.input.slice(self.pos, len) else {
            return self.beyond_end(
                len,
                format!("the last block is cut off ({held} of {len} bytes present)"),
            );
        };
        let trailing = order.u32(block, len - 4).unwrap_or(0);
        if trailing as usize != len {
            self.resync(format!(
                "block type 0x{block_type:08x}: total lengths differ (leading {len}, trailing {trailing})"
            ));
            return Step::Continue;
        }
        let at = self.pos;
        let step = self.block(at, len, block_type, order);
        self.pos = at + len as u64;
        step
    }

    /// Interpret one well-framed block at `at`.
    fn block(&mut self, at: u64, len: usize, block_type: u32, order: ByteOrder) -> Step {
        let Some(block) = self.input.slice(at, len) else {
            return Step::Continue;
        };
        match block_type {
            pcapng::IDB => {
                if self.section.interfaces.len() >= MAX_INTERFACES_PER_SECTION {
                    return Step::Continue;
                }
                match pcapng::parse_idb(block, order, self.interfaces_seen) {
                    Ok(interface) => {
                        self.interfaces_seen += 1;
                        self.section.interfaces.push(interface);
                        self.add_link_type(interface.link_type);
                    }
                    Err(why) => self.damage(at, len as u64, why),
                }
                Step::Continue
            }
            pcapng::EPB | pcapng::PB | pcapng::SPB => {
                let parsed = if block_type == pcapng::SPB {
                    match self.section.interfaces.first() {
                        Some(i) => pcapng::parse_simple_packet_block(block, order, i.snaplen),
                        None => Err("a Simple Packet Block appears before any interface".into()),
                    }
                } else {
                    pcapng::parse_packet_block(block, order, block_type, self.section.index)
                };
                let packet = parsed.and_then(|p| match self.section.interfaces.get(p.interface) {
                    Some(interface) => Ok((p, *interface)),
                    None => Err(format!(
                        "a packet refers to interface {} but the section has {}",
                        p.interface,
                        self.section.interfaces.len()
                    )),
                });
                match packet {
                    Ok((p, interface)) => Step::Frame(self.packet_loc(at, p, interface)),
                    Err(why) => {
                        self.damage(at, len as u64, why);
                        Step::Continue
                    }
                }
            }
            pcapng::NRB => {
                let room = MAX_NAME_RECORDS;
                pcapng::parse_nrb(block, order, &mut self.summary.name_records, room);
                Step::Continue
            }
            pcapng::DARWIN_PROCESS => {
                if let Some((pid, name, uuid)) = pcapng::parse_darwin_process(block, order) {
                    if self.summary.darwin_processes.len() < MAX_DARWIN_PROCESSES {
                        self.summary.darwin_processes.push(DarwinProcess {
                            section: self.section.index,
                            index: self.section.darwin_entries,
                            pid,
                            name,
                            uuid,
                        });
                    }
                }
                self.section.darwin_entries = self.section.darwin_entries.saturating_add(1);
                Step::Continue
            }
            // Statistics, custom, decryption secrets and unknown blocks: nothing to keep.
            _ => Step::Continue,
        }
    }

    /// Damage at `pos`: find where trustworthy records resume, record the skipped region with
    /// `problem` as its reason, and continue there (or end).
    fn resync(&mut self, problem: String) {
        self.resync_or(problem, None);
    }

    /// A record or block reaching past the end of input: a cut-off tail if nothing readable
    /// follows (`truncated` is the reason then), else a corrupt length to skip over.
    fn beyond_end(&mut self, claimed: usize, truncated: String) -> Step {
        self.resync_or(
            format!("a record claims {claimed} bytes, more than remain in the input"),
            Some(truncated),
        );
        Step::Continue
    }

    fn resync_or(&mut self, problem: String, if_nothing_follows: Option<String>) {
        let start = self.pos;
        let state = self.state;
        let anchor = self.last_ts;
        let order = self.section.order.unwrap_or(ByteOrder::Little);
        let found = self.scan_forward(start + 1, |window, from, complete| match state {
            State::Pcap(layout) => scan_pcap_or_header(window, from, &layout, anchor, complete),
            State::Pcapng | State::Done => pcapng::scan(window, from, order, complete),
        });
        match found {
            Some(resume) => {
                self.damage(
                    start,
                    resume - start,
                    format!("{problem}; records resume at byte {resume}"),
                );
                self.pos = resume;
            }
            None => {
                let end = self.input.end();
                let reason = if_nothing_follows
                    .unwrap_or_else(|| format!("{problem}; no readable record follows"));
                self.damage(start, end - start, reason);
                self.pos = end;
                self.state = State::Done;
            }
        }
    }

    /// Run `scan` over the window from `from`, refilling a stream as the scan asks, until it
    /// finds a boundary (absolute offset) or the input ends.
    fn scan_forward(
        &mut self,
        mut from: u64,
        scan: impl Fn(&[u8], usize, bool) -> Scan,
    ) -> Option<u64> {
        loop {
            if from > self.input.end() {
                return None;
            }
            let complete = self.input.is_complete();
            let base = self.input.base();
            let rel = usize::try_from(from - base).ok()?;
            let held = self.input.window().len();
            match scan(self.input.window(), rel, complete) {
                Scan::Found(r) => return Some(base + r as u64),
                Scan::NotFound if complete => return None,
                Scan::NotFound => {
                    from = self.input.end();
                    if self.input.fill(from, STREAM_CHUNK) == 0 && self.input.is_complete() {
                        return None;
                    }
                }
                Scan::NeedMore(r) => {
                    let candidate = base + r as u64;
                    let have = held - r;
                    let got = self.input.fill(candidate, have + STREAM_CHUNK);
                    from = candidate;
                    if got <= have && !self.input.is_complete() {
                        // The buffer cannot grow: this candidate cannot be judged, skip it.
                        from = candidate + 1;
                    }
                }
            }
        }
    }
}

/// The bytes behind a source, and the name to put in errors.
fn input_for(source: CaptureSource) -> Result<(Option<PathBuf>, Input), Error> {
    match source {
        CaptureSource::File(path) => {
            let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, &e))?;
            let len = file.metadata().map_err(|e| Error::io(&path, &e))?.len();
            if len == 0 {
                return Ok((Some(path), Input::empty()));
            }
            let map = map_file(&file).map_err(|e| Error::io(&path, &e))?;
            let input = if map.get(..2) == Some(&GZIP_MAGIC[..]) {
                drop(map);
                let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, &e))?;
                Input::stream_read_ahead(Box::new(flate2::read::MultiGzDecoder::new(
                    std::io::BufReader::new(file),
                )))
            } else {
                Input::mapped(map)
            };
            Ok((Some(path), input))
        }
        CaptureSource::Bytes { name, bytes } => {
            let input = if bytes.get(..2) == Some(&GZIP_MAGIC[..]) {
                let cursor = std::io::Cursor::new(ArcBytes(bytes));
                Input::stream_read_ahead(Box::new(flate2::read::MultiGzDecoder::new(cursor)))
            } else {
                Input::in_memory(bytes)
            };
            Ok((Some(PathBuf::from(name)), input))
        }
        CaptureSource::Stream { name, reader } => {
            let mut input = Input::stream(reader);
            input.fill(0, 2);
            if input.slice(0, 2) == Some(&GZIP_MAGIC[..]) {
                // Hand the bytes already read to the decompressor, then the rest.
                let head = input.from(0).to_vec();
                let rest = input.into_reader();
                let chained = std::io::Read::chain(std::io::Cursor::new(head), rest);
                input =
                    Input::stream_read_ahead(Box::new(flate2::read::MultiGzDecoder::new(chained)));
            }
            Ok((Some(PathBuf::from(name)), input))
        }
    }
}

/// Scan for pcap records and, before the first one found, for a new file header
/// (concatenated captures): whichever comes first.
fn scan_pcap_or_header(
    window: &[u8],
    from: usize,
    layout: &PcapLayout,
    anchor: Option<i64>,
    complete: bool,
) -> Scan {
    let scan = pcap::scan(window, from, layout, anchor, complete);
    let limit = match scan {
        Scan::Found(at) | Scan::NeedMore(at) => at,
        Scan::NotFound => window.len(),
    };
    match next_file_header(window, from, limit) {
        Some(header) => Scan::Found(header),
        None => scan,
    }
}

/// The first position in `from..limit` where a valid pcap file header or pcapng Section
/// Header Block starts (concatenated captures).
fn next_file_header(window: &[u8], from: usize, limit: usize) -> Option<usize> {
    (from..limit.min(window.len())).find(|&at| {
        let rest = window.get(at..).unwrap_or_default();
        matches!(pcap::parse_header(rest), Ok(Some(_))) && rest.len() >= pcap::FILE_HEADER_LEN
            || pcapng::shb_byte_order(rest).is_some()
    })
}

/// `Arc<[u8]>` as `AsRef<[u8]>` for a cursor.
struct ArcBytes(std::sync::Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Map a capture file read-only.
///
/// One of the crate's two `unsafe` blocks (the other is `input::prefetch`): a memory map is
/// what makes multi-gigabyte captures readable at memory speed and splittable into byte ranges
/// for parallel workers (issue 5).
#[allow(unsafe_code)]
fn map_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and private; we never create a mutable view. The remaining
    // hazard is another process truncating the file while it is mapped (SIGBUS), the same
    // trade-off ripgrep makes; evidence files are not written while being examined.
    unsafe { memmap2::MmapOptions::new().map(file) }
}
