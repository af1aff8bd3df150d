//! Byte-range readers: one worker's share of a capture split for parallel reading (issue 5),
//! and the boundary rules that make adjacent shares meet exactly.

use super::{input_for, scan_pcap_or_header, CaptureReader, Section, State};
use crate::capture::endian::ByteOrder;
use crate::capture::limits::MAX_RECORD_LEN;
use crate::capture::pcap::{self, PcapLayout, Scan};
use crate::capture::pcapng;
use crate::capture::CaptureSource;
use crate::{Error, ErrorKind};

impl CaptureReader {
    /// Read only the records of a file or in-memory capture that belong to the byte range
    /// `range`: one worker's share when a capture is split by byte ranges (issue 5).
    ///
    /// Readers over adjacent ranges together yield every record exactly once, in order:
    /// each starts at the first record boundary at or after its range's start and stops
    /// before the boundary at or after its range's end, both found the same way (classic pcap:
    /// [`pcap::find_record_boundary`]; pcapng: a walk over block lengths from the file start,
    /// which also rebuilds the section's interface table). `Frame::index` counts from 0 in
    /// each range; damage is reported by the range in which it starts. Streams (standard
    /// input, gzip) cannot be split: they give `ErrorKind::InvalidArgument`.
    pub fn from_range(source: CaptureSource, range: std::ops::Range<u64>) -> Result<Self, Error> {
        let (path, input) = input_for(source)?;
        if !input.is_complete() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a stream (standard input, compressed input) cannot be split into byte ranges",
            ));
        }
        let mut reader = Self::new(path, input);
        reader.read_file_header()?;
        let end = reader.boundary_at(range.end);
        let start = reader.boundary_at(range.start);
        reader.seek(start);
        reader.end_limit = end;
        Ok(reader)
    }

    /// The record boundary a byte-range reader uses for `offset`: the first record (pcap) or
    /// block (pcapng) starting at or after it. Does not move the reader.
    fn boundary_at(&mut self, offset: u64) -> u64 {
        if offset <= self.pos {
            return self.pos;
        }
        match self.state {
            State::Pcap(layout) => self.pcap_boundary(&layout, offset),
            State::Pcapng => self.walk_blocks(offset, false),
            State::Done => self.input.end(),
        }
    }

    /// Move a freshly opened reader to `target`, a boundary from [`Self::boundary_at`],
    /// rebuilding the pcapng section state on the way.
    fn seek(&mut self, target: u64) {
        if target <= self.pos {
            return;
        }
        match self.state {
            State::Pcapng => {
                self.walk_blocks(target, true);
            }
            State::Pcap(_) | State::Done => self.pos = target,
        }
    }

    /// Walk pcapng blocks from `pos` to the first block starting at or after `target` and
    /// return its offset. With `apply`, sections and interfaces met become the reader's state
    /// (and the reader ends up there); without, the reader is left as it was.
    fn walk_blocks(&mut self, target: u64, apply: bool) -> u64 {
        let saved = (
            self.pos,
            self.state,
            std::mem::take(&mut self.section),
            self.sections_seen,
            self.interfaces_seen,
            self.pcap_headers_seen,
            self.summary.clone(),
            self.last_ts,
        );
        let section_copy = Section {
            order: saved.2.order,
            index: saved.2.index,
            interfaces: saved.2.interfaces.clone(),
            darwin_entries: saved.2.darwin_entries,
        };
        self.section = section_copy;
        while self.pos < target {
            let State::Pcapng = self.state else {
                // A classic pcap follows (concatenation): its records are found by scanning.
                if let State::Pcap(layout) = self.state {
                    self.pos = self.pcap_boundary(&layout, target);
                }
                break;
            };
            let rest = self.input.from(self.pos);
            if rest.len() < pcapng::BLOCK_MIN_LEN {
                self.pos = self.input.end();
                break;
            }
            if pcapng::shb_byte_order(rest).is_some()
                || (pcap::magic(rest).is_some() && matches!(pcap::parse_header(rest), Ok(Some(_))))
            {
                let pcapng_next = pcapng::shb_byte_order(rest).is_some();
                let ok = if pcapng_next {
                    self.begin_section().is_ok()
                } else {
                    self.begin_pcap().is_ok()
                };
                if !ok {
                    self.skip_damage_in_walk();
                }
                continue;
            }
            let order = self.section.order.unwrap_or(ByteOrder::Little);
            let block_type = order.u32(rest, 0).unwrap_or(0);
            let len = order.u32(rest, 4).unwrap_or(0) as usize;
            let framed = len >= pcapng::BLOCK_MIN_LEN
                && len % 4 == 0
                && len <= MAX_RECORD_LEN
                && self
                    .input
                    .slice(self.pos, len)
                    .and_then(|b| order.u32(b, len - 4))
                    == Some(len as u32);
            if !framed {
                self.skip_damage_in_walk();
                continue;
            }
            match block_type {
                pcapng::IDB => {
                    let at = self.pos;
                    let _ = self.block(at, len, block_type, order);
                }
                pcapng::DARWIN_PROCESS => {
                    self.section.darwin_entries = self.section.darwin_entries.saturating_add(1);
                }
                pcapng::EPB | pcapng::PB => {
                    // A Simple Packet Block takes the previous packet's time: keep it so a
                    // range reader agrees with the sequential one.
                    let ts = self.input.slice(self.pos, len).and_then(|block| {
                        let p = pcapng::parse_packet_block(block, order, block_type, 0).ok()?;
                        let interface = self.section.interfaces.get(p.interface)?;
                        Some(
                            interface
                                .resolution
                                .to_nanos(p.ts_units?, interface.offset_secs),
                        )
                    });
                    if ts.is_some() {
                        self.last_ts = ts;
                    }
                }
                _ => {}
            }
            self.pos += len as u64;
        }
        let reached = self.pos;
        if !apply {
            self.pos = saved.0;
            self.state = saved.1;
            self.section = saved.2;
            self.sections_seen = saved.3;
            self.interfaces_seen = saved.4;
            self.pcap_headers_seen = saved.5;
            self.summary = saved.6;
            self.last_ts = saved.7;
        } else {
            // Only what the range itself contains belongs in its summary.
            self.summary.damage = saved.6.damage;
        }
        reached
    }

    /// During a walk: continue at the next block boundary, as resynchronisation would.
    fn skip_damage_in_walk(&mut self) {
        let order = self.section.order.unwrap_or(ByteOrder::Little);
        let window = self.input.window();
        let from = usize::try_from(self.pos + 1)
            .unwrap_or(usize::MAX)
            .min(window.len());
        self.pos = match pcapng::scan(window, from, order, true) {
            Scan::Found(at) => at as u64,
            Scan::NeedMore(_) | Scan::NotFound => self.input.end(),
        };
    }

    /// The first plausible pcap record (or file header) at or after `offset`.
    fn pcap_boundary(&self, layout: &PcapLayout, offset: u64) -> u64 {
        let window = self.input.window();
        let from = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(window.len());
        match scan_pcap_or_header(window, from, layout, None, true) {
            Scan::Found(at) => at as u64,
            Scan::NeedMore(_) | Scan::NotFound => self.input.end(),
        }
    }
}
