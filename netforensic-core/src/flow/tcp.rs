//! The TCP side of a connection with Zeek's exact semantics: per-endpoint states, relative
//! sequence numbers, payload sizes from sequence/ack numbers, history letters and the
//! `conn_state` summary (`TCPSessionAdapter::Process`, `TCP_Endpoint`, `conn/main.zeek`).
//!
//! The two endpoints are stored by physical slot (0 = the first packet's sender); `orig`
//! says which slot is the originator, so flipping roles mid-packet, as Zeek does for a
//! SYN/SYN-ACK reversal, never moves an endpoint that is being updated.

use super::history::{History, ScaledCounter};
use super::ConnState;
use crate::decode::TcpFlags;

/// Sequence jumps above this are not trusted for SYN/RST packets (Zeek's
/// `TOO_LARGE_SEQ_DELTA`).
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// History kinds (Zeek's `TCP_Endpoint::HistoryMasks`); responder kinds are shifted by 16.
const HIST_SYN: u32 = 0x1;
const HIST_FIN: u32 = 0x2;
const HIST_RST: u32 = 0x4;
const HIST_FIN_RST: u32 = 0x8;
const HIST_DATA: u32 = 0x10;
const HIST_ACK: u32 = 0x20;
const HIST_MULTI_FLAG: u32 = 0x40;
const RESP_SHIFT: u32 = 16;

/// Zeek's `EndpointState`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

impl EndpointState {
    fn is_handshake(self) -> bool {
        matches!(
            self,
            EndpointState::Inactive | EndpointState::SynSent | EndpointState::SynAckSent
        )
    }

    /// `TCP_INACTIVE` or `TCP_PARTIAL`, as `conn_state` groups them.
    fn is_inactive_or_partial(self) -> bool {
        matches!(self, EndpointState::Inactive | EndpointState::Partial)
    }
}

/// One side of a TCP connection: 64 bytes, so that a connection's two fill two cache
/// lines (every segment reads both), hence the bit flags and 32-bit initial sequence number.
#[derive(Clone, Debug, Default)]
pub struct Endpoint {
    pub state: EndpointState,
    prev_state: EndpointState,
    /// [`DID_CLOSE`], [`SENT_FIN`] and (slot 0 only) [`FLIPPED`] bits.
    flags: u8,
    /// Initial sequence number (host order; Zeek keeps it as a signed 64-bit value, always
    /// a 32-bit one widened).
    start_seq: u32,
    /// One past the highest sequence number sent.
    last_seq: u32,
    /// Highest acknowledgement the peer sent for this endpoint's data.
    ack_seq: u32,
    seq_wraps: u32,
    ack_wraps: u32,
    hist_last_syn: u64,
    hist_last_fin: u64,
    hist_last_rst: u64,
    retransmissions: ScaledCounter,
    zero_windows: ScaledCounter,
}

/// [`Endpoint::flags`]: the endpoint closed (Zeek's `did_close`).
const DID_CLOSE: u8 = 1;
/// The endpoint sent a FIN (Zeek's `FIN_cnt > 0`, all that is asked of the count).
const SENT_FIN: u8 = 2;
/// In slot 0: the roles are flipped, slot 1 is the originator.
const FLIPPED: u8 = 4;

fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn full_seq(seq: u32, wraps: u32) -> u64 {
    (u64::from(wraps) << 32).wrapping_add(u64::from(seq))
}

impl Endpoint {
    fn start_seq32(&self) -> u32 {
        self.start_seq
    }

    pub fn did_close(&self) -> bool {
        self.flags & DID_CLOSE != 0
    }

    fn init_seqs(&mut self, start: u32, last: u32) {
        self.start_seq = start;
        self.ack_seq = start;
        self.last_seq = last;
    }

    fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = seq;
    }

    fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps = self.ack_wraps.wrapping_add(1);
        }
        self.ack_seq = seq;
    }

    fn no_data_acked(&self) -> bool {
        let ack = full_seq(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq);
        ack == start || ack == start.wrapping_add(1)
    }

    /// Zeek's relative sequence number of `seq` (wrapping like Zeek's unsigned result) and
    /// whether it lies before the initial sequence number.
    fn relative_seq(&self, seq: u32, last: u32, wraps: u32) -> (u64, bool) {
        let mut wraps = wraps;
        let delta = seq_delta(seq, last);
        if delta < 0 {
            if wraps > 0 && seq > last {
                wraps -= 1;
            }
        } else if delta > 0 && seq < last {
            wraps = wraps.wrapping_add(1);
        }
        if wraps == 0 {
            let d = seq_delta(seq, self.start_seq32());
            return (i64::from(d) as u64, d < 0);
        }
        (
            full_seq(seq, wraps).wrapping_sub(u64::from(self.start_seq)),
            false,
        )
    }

    /// Payload bytes this endpoint sent, from its sequence space (`TCP_Endpoint::Size`).
    fn size(&self, peer_state: EndpointState) -> u64 {
        if self.prev_state == EndpointState::SynSent
            && self.state == EndpointState::Reset
            && peer_state == EndpointState::Inactive
            && !self.no_data_acked()
        {
            return 0;
        }
        let last = full_seq(self.last_seq, self.seq_wraps);
        let ack = full_seq(self.ack_seq, self.ack_wraps);
        let mut size = last.max(ack).wrapping_sub(u64::from(self.start_seq));
        size = size.saturating_sub(1); // the SYN octet
        if self.flags & SENT_FIN != 0 && size != 0 {
            size -= 1; // the FIN octet
        }
        size
    }
}

/// What one packet did to the connection as a whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpEffects {
    /// The roles were flipped (SYN/SYN-ACK reversal).
    pub flipped: bool,
    /// Both sides are closed, or one reset: Zeek removes the connection after
    /// `tcp_close_delay`.
    pub close_complete: bool,
    /// The originator's first SYN: Zeek's attempt timer starts.
    pub attempt_started: bool,
    /// The handshake phase ended: the TCP inactivity timeout now applies.
    pub handshake_done: bool,
    /// The packet counts for the connection's last-activity time.
    pub touches_last_time: bool,
}

/// One TCP segment's header fields, as the state machine needs them.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// Payload length as the IP and TCP headers say.
    pub len: u32,
}

/// The TCP state of one connection.
#[derive(Clone, Debug, Default)]
pub struct TcpConn {
    /// The slot of the originator is [`TcpConn::orig_slot`] (a bit of slot 0: a separate
    /// field would take the state past two cache lines).
    slots: [Endpoint; 2],
}

impl TcpConn {
    /// Slot of the current originator.
    #[inline]
    pub fn orig_slot(&self) -> usize {
        usize::from(self.slots[0].flags & FLIPPED != 0)
    }

    /// Swap originator and responder (Zeek's `FlipRoles`).
    pub fn flip(&mut self) {
        self.slots[0].flags ^= FLIPPED;
    }

    pub fn orig(&self) -> &Endpoint {
        &self.slots[self.orig_slot()]
    }

    pub fn resp(&self) -> &Endpoint {
        &self.slots[self.orig_slot() ^ 1]
    }

    fn pair(&mut self, slot: usize) -> (&mut Endpoint, &mut Endpoint) {
        let [a, b] = &mut self.slots;
        if slot & 1 == 0 {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// Payload bytes of originator and responder.
    pub fn sizes(&self) -> (u64, u64) {
        (
            self.orig().size(self.resp().state),
            self.resp().size(self.orig().state),
        )
    }

    /// Zeek's `IsReuse`: a SYN that starts a new connection on this 5-tuple.
    pub fn is_reuse(&self, flags: TcpFlags, seq: u32) -> bool {
        if !flags.syn() {
            return false;
        }
        let (orig, resp) = (self.orig(), self.resp());
        let mut conn_orig = orig;
        if flags.ack() {
            if orig.state != EndpointState::Inactive {
                return false; // not a half connection
            }
            conn_orig = resp;
        }
        let closed = orig.did_close() || resp.did_close();
        if !closed {
            if seq == conn_orig.start_seq32() {
                return false;
            }
            // A flipped SYN / SYN-ACK pair (e.g. two interfaces): not a reuse.
            if !flags.ack()
                && conn_orig.state == EndpointState::SynAckSent
                && resp.state == EndpointState::Inactive
                && seq == resp.start_seq32()
            {
                return false;
            }
        }
        true
    }

    /// Is the connection still an unanswered attempt (Zeek's `AttemptTimer` condition)?
    pub fn is_unanswered_attempt(&self) -> bool {
        matches!(
            self.orig().state,
            EndpointState::SynSent | EndpointState::SynAckSent
        ) && self.resp().state == EndpointState::Inactive
    }

    /// Process one segment sent from `slot`, updating `history`.
    pub fn process(&mut self, slot: usize, seg: Segment, history: &mut History) -> TcpEffects {
        let mut fx = TcpEffects::default();
        let flags = seg.flags;
        let is_orig = slot == self.orig_slot();
        let len = seg.len;
        let mut seg_len = len;
        if flags.syn() {
            seg_len = seg_len.wrapping_add(1);
        }
        if flags.fin() {
            seg_len = seg_len.wrapping_add(1);
        }
        if flags.rst() {
            seg_len = seg_len.wrapping_sub(len);
        }
        let seq_one_past = seg.seq.wrapping_add(seg_len);

        let both_closed_before = self.slots[0].did_close() && self.slots[1].did_close();
        let (ep, peer) = self.pair(slot);
        init_endpoint(ep, flags, seg.seq, seq_one_past);
        let (rel_seq, _underflow) = ep.relative_seq(seg.seq, ep.last_seq, ep.seq_wraps);
        update_history(flags, ep, is_orig, rel_seq, len, history);

        // Zero-window advertisements (`update_window`): scaling cannot turn a non-zero
        // 16-bit window into zero, so the raw value decides.
        if seg.window == 0
            && !flags.rst()
            && peer.state != EndpointState::Closed
            && ep.state != EndpointState::Reset
            && ep.zero_windows.hit()
        {
            history.add(if is_orig { b'W' } else { b'w' });
        }
        fx.touches_last_time = !both_closed_before;
        if flags.fin() {
            ep.flags |= SENT_FIN;
        }
        if flags.ack() {
            if peer.state == EndpointState::Inactive {
                // Number the peer as though its SYN had been seen.
                let start = seg.ack.wrapping_sub(1);
                peer.init_seqs(start, start);
            } else {
                let (_, ack_underflow) = peer.relative_seq(seg.ack, peer.ack_seq, peer.ack_wraps);
                if !ack_underflow && !flags.rst() {
                    let delta = seq_delta(seg.ack, peer.ack_seq);
                    let broken_ack = seg.ack == 0 && delta > TOO_LARGE_SEQ_DELTA;
                    if !broken_ack && delta > 0 {
                        peer.update_ack_seq(seg.ack);
                    }
                }
            }
        }
        update_last_seq(ep, seq_one_past, flags, len, is_orig, history);

        let do_close = self.update_state_machine(slot, seg, is_orig, history, &mut fx);
        if do_close {
            let (ep, peer) = self.pair(slot);
            if !ep.did_close() {
                ep.flags |= DID_CLOSE;
                fx.close_complete = ep.state == EndpointState::Reset
                    || peer.did_close()
                    || peer.state == EndpointState::Inactive;
            }
        }
        fx
    }

    /// [`TcpConn::process`] for the common segment: ACK without SYN, FIN or RST, both
    /// endpoints established or partial. Such a segment cannot change a state, a timer or
    /// the roles, so only `touches_last_time` is returned; `None` (nothing changed) for any
    /// other segment, which must go through `process`. Same steps in the same order as
    /// `process`, minus the ones these conditions make no-ops.
    #[inline]
    pub fn process_established(
        &mut self,
        slot: usize,
        seg: Segment,
        history: &mut History,
    ) -> Option<bool> {
        use EndpointState as E;
        let control = TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST | TcpFlags::ACK;
        if seg.flags.0 & control != TcpFlags::ACK {
            return None;
        }
        let is_orig = slot == self.orig_slot();
        let both_closed_before = self.slots[0].did_close() && self.slots[1].did_close();
        let (ep, peer) = self.pair(slot);
        if !matches!(ep.state, E::Established | E::Partial)
            || !matches!(peer.state, E::Established | E::Partial)
        {
            return None;
        }
        let len = seg.len;
        // `update_history` without SYN/FIN/RST (the relative sequence is not needed).
        let shift = if is_orig { 0 } else { RESP_SHIFT };
        if len > 0 {
            history.check(HIST_DATA << shift, if is_orig { b'D' } else { b'd' });
        } else {
            history.check(HIST_ACK << shift, if is_orig { b'A' } else { b'a' });
        }
        // Peer not closed, endpoint not reset: only the window decides.
        if seg.window == 0 && ep.zero_windows.hit() {
            history.add(if is_orig { b'W' } else { b'w' });
        }
        // The peer is not inactive and there is no RST.
        let (_, ack_underflow) = peer.relative_seq(seg.ack, peer.ack_seq, peer.ack_wraps);
        if !ack_underflow {
            let delta = seq_delta(seg.ack, peer.ack_seq);
            let broken_ack = seg.ack == 0 && delta > TOO_LARGE_SEQ_DELTA;
            if !broken_ack && delta > 0 {
                peer.update_ack_seq(seg.ack);
            }
        }
        // `update_last_seq` without SYN/FIN/RST and not reset.
        let seq_one_past = seg.seq.wrapping_add(len);
        if seq_delta(seq_one_past, ep.last_seq) > 0 {
            ep.update_last_seq(seq_one_past);
        } else if len > 0 && ep.retransmissions.hit() {
            history.add(if is_orig { b'T' } else { b't' });
        }
        Some(!both_closed_before)
    }

    /// Set the state of the endpoint in `slot` (Zeek's `TCP_Endpoint::SetState`).
    fn set_state(&mut self, slot: usize, new: EndpointState, fx: &mut TcpEffects) {
        let (ep, peer) = self.pair(slot);
        if new == ep.state {
            return;
        }
        if !new.is_handshake() && ep.state.is_handshake() && peer.state.is_handshake() {
            fx.handshake_done = true;
        }
        ep.prev_state = ep.state;
        ep.state = new;
    }

    /// `UpdateStateMachine`; returns Zeek's `do_close`.
    fn update_state_machine(
        &mut self,
        slot: usize,
        seg: Segment,
        is_orig: bool,
        history: &mut History,
        fx: &mut TcpEffects,
    ) -> bool {
        let flags = seg.flags;
        let peer_slot = slot ^ 1;
        let state = |s: &Self, i: usize| s.slots[i & 1].state;
        let mut do_close = false;
        match state(self, slot) {
            EndpointState::Inactive => {
                if flags.syn() {
                    if is_orig {
                        let new = if flags.ack() {
                            EndpointState::SynAckSent
                        } else {
                            EndpointState::SynSent
                        };
                        self.set_state(slot, new, fx);
                        fx.attempt_started = true;
                    } else {
                        let start = self.slots[slot & 1].start_seq32();
                        if !flags.ack()
                            && state(self, peer_slot) == EndpointState::SynAckSent
                            && seg.seq == start
                        {
                            // SYN/SYN-ACK reversal: the SYN-ACK was seen first.
                            self.flip();
                            history.add(b'^');
                            fx.flipped = true;
                            self.set_state(peer_slot, EndpointState::Established, fx);
                        }
                        if state(self, peer_slot) == EndpointState::SynSent {
                            self.set_state(peer_slot, EndpointState::Established, fx);
                        }
                        self.set_state(slot, EndpointState::Established, fx);
                    }
                }
                if flags.fin() {
                    self.set_state(slot, EndpointState::Closed, fx);
                    do_close = true;
                }
                if flags.rst() {
                    self.set_state(slot, EndpointState::Reset, fx);
                    do_close = true;
                }
                if state(self, slot) == EndpointState::Inactive {
                    let orig_state = state(self, self.orig_slot());
                    if !is_orig && seg.len == 0 && orig_state == EndpointState::SynSent {
                        // An ACK of the SYN before the SYN-ACK: not a partial connection.
                    } else if flags.ack() && state(self, peer_slot) == EndpointState::Established {
                        // Missed the SYN, saw the SYN-ACK and now the ACK.
                        self.set_state(slot, EndpointState::Established, fx);
                    } else {
                        self.set_state(slot, EndpointState::Partial, fx);
                    }
                }
            }
            EndpointState::SynSent | EndpointState::SynAckSent => {
                if flags.fin() {
                    self.set_state(slot, EndpointState::Closed, fx);
                    do_close = true;
                }
                if flags.rst() {
                    self.set_state(slot, EndpointState::Reset, fx);
                    do_close = true;
                }
            }
            EndpointState::Established | EndpointState::Partial => {
                if flags.syn()
                    && state(self, slot) == EndpointState::Partial
                    && state(self, peer_slot) == EndpointState::Inactive
                    && !flags.ack()
                {
                    self.set_state(slot, EndpointState::SynSent, fx);
                }
                if flags.fin() && !flags.rst() {
                    self.set_state(slot, EndpointState::Closed, fx);
                    let peer = &self.slots[peer_slot & 1];
                    if peer.state == EndpointState::Reset
                        && peer.prev_state == EndpointState::Closed
                    {
                        // FIN then RST from the peer was a normal close after all.
                        self.set_state(peer_slot, EndpointState::Closed, fx);
                    }
                    do_close = true;
                }
                if flags.rst() {
                    self.set_state(slot, EndpointState::Reset, fx);
                    do_close = true;
                }
            }
            EndpointState::Closed => {
                if flags.rst() && state(self, peer_slot) != EndpointState::Closed {
                    self.set_state(slot, EndpointState::Reset, fx);
                    if !self.slots[slot & 1].did_close() {
                        do_close = true;
                    }
                }
            }
            EndpointState::Reset => {}
        }
        do_close
    }

    /// Zeek's `conn_state` for a TCP connection with history `history`.
    pub fn conn_state(&self, history: &str) -> ConnState {
        use EndpointState as E;
        let (o, r) = (self.orig(), self.resp());
        let (os, rs) = (o.state, r.state);
        let o_inactive = os.is_inactive_or_partial();
        let r_inactive = rs.is_inactive_or_partial();
        if rs == E::Reset {
            let (osize, rsize) = self.sizes();
            if os == E::SynSent
                || os == E::SynAckSent
                || (os == E::Reset && osize == 0 && rsize == 0)
            {
                ConnState::REJ
            } else if o_inactive {
                ConnState::RSTRH
            } else {
                ConnState::RSTR
            }
        } else if os == E::Reset {
            if r_inactive {
                if history_is_syn_then_reset(history) {
                    ConnState::RSTOS0
                } else {
                    ConnState::OTH
                }
            } else {
                ConnState::RSTO
            }
        } else if rs == E::Closed && os == E::Closed {
            ConnState::SF
        } else if os == E::Closed {
            if r_inactive {
                ConnState::SH
            } else {
                ConnState::S2
            }
        } else if rs == E::Closed {
            if o_inactive {
                ConnState::SHR
            } else {
                ConnState::S3
            }
        } else if os == E::SynSent && rs == E::Inactive {
            ConnState::S0
        } else if os == E::Established && rs == E::Established {
            ConnState::S1
        } else {
            ConnState::OTH
        }
    }
}

/// Zeek's pattern `/\^?S[^HAFGIQ]*R.*/` (matched against the whole history).
fn history_is_syn_then_reset(history: &str) -> bool {
    let rest = history.strip_prefix('^').unwrap_or(history);
    let Some(rest) = rest.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        match c {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

/// `init_endpoint`: (re)initialise sequence numbers from the endpoint's packet.
fn init_endpoint(ep: &mut Endpoint, flags: TcpFlags, first_seq: u32, last_seq: u32) {
    match ep.state {
        EndpointState::Inactive => {
            if flags.syn() {
                ep.init_seqs(first_seq, last_seq);
            } else {
                // Partial connection: number as though a SYN had been seen, and make sure
                // the first packet does not count as a retransmission.
                ep.init_seqs(first_seq.wrapping_sub(1), first_seq);
            }
        }
        EndpointState::SynSent | EndpointState::SynAckSent => {
            if flags.syn() && first_seq != ep.start_seq32() {
                ep.init_seqs(first_seq, last_seq);
            }
        }
        EndpointState::Established | EndpointState::Partial => {
            if flags.syn() {
                ep.init_seqs(first_seq, last_seq);
            }
        }
        EndpointState::Reset => {
            if flags.syn() && ep.prev_state == EndpointState::Inactive {
                ep.init_seqs(first_seq, last_seq);
            }
        }
        EndpointState::Closed => {}
    }
}

/// `update_history`: the S/H/F/R/I/Q/D/A letters.
fn update_history(
    flags: TcpFlags,
    ep: &mut Endpoint,
    is_orig: bool,
    rel_seq: u64,
    len: u32,
    history: &mut History,
) {
    let shift = if is_orig { 0 } else { RESP_SHIFT };
    let letter = |c: u8| if is_orig { c } else { c.to_ascii_lowercase() };
    let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
    if bits > 1 {
        if flags.fin() && flags.rst() {
            history.check(HIST_FIN_RST << shift, letter(b'I'));
        } else {
            history.check(HIST_MULTI_FLAG << shift, letter(b'Q'));
        }
    } else if bits == 1 {
        if flags.syn() {
            let code = letter(if flags.ack() { b'H' } else { b'S' });
            if history.check(HIST_SYN << shift, code) && rel_seq != ep.hist_last_syn {
                history.add(code);
            }
            ep.hist_last_syn = rel_seq;
        }
        if flags.fin() {
            // A FIN's sequence number is at the end of its data.
            let fin_seq = rel_seq.wrapping_add(u64::from(len));
            if history.check(HIST_FIN << shift, letter(b'F')) && fin_seq != ep.hist_last_fin {
                history.add(letter(b'F'));
            }
            ep.hist_last_fin = fin_seq;
        }
        if flags.rst() {
            if history.check(HIST_RST << shift, letter(b'R')) && rel_seq != ep.hist_last_rst {
                history.add(letter(b'R'));
            }
            ep.hist_last_rst = rel_seq;
        }
    } else if len > 0 {
        history.check(HIST_DATA << shift, letter(b'D'));
    } else if flags.ack() {
        history.check(HIST_ACK << shift, letter(b'A'));
    }
}

/// `update_last_seq`: advance the highest sequence number, or count a retransmission.
fn update_last_seq(
    ep: &mut Endpoint,
    last_seq: u32,
    flags: TcpFlags,
    len: u32,
    is_orig: bool,
    history: &mut History,
) {
    let delta = seq_delta(last_seq, ep.last_seq);
    if (flags.syn() || flags.rst())
        && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta)
    {
        // Untrusted jump.
    } else if flags.fin() && ep.last_seq == ep.start_seq32().wrapping_add(1) {
        // Only the SYN and now the FIN seen: trust the FIN even backwards (> 2 GB flows).
        ep.update_last_seq(last_seq);
    } else if ep.state == EndpointState::Reset {
        // Nothing after a RST is trusted.
    } else if delta > 0 {
        ep.update_last_seq(last_seq);
    } else if len > 0 && ep.retransmissions.hit() {
        history.add(if is_orig { b'T' } else { b't' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstos0_pattern() {
        assert!(history_is_syn_then_reset("SR"));
        assert!(history_is_syn_then_reset("^SdR"));
        // Zeek's pattern is case-sensitive: a responder 'h' does not stop the match.
        assert!(history_is_syn_then_reset("ShR"));
        assert!(!history_is_syn_then_reset("SAR"));
        assert!(!history_is_syn_then_reset("R"));
    }

    /// `process_established` must do exactly what `process` does on every segment it takes.
    #[test]
    fn established_fast_path_matches_process() {
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut fast_taken = 0;
        for round in 0..200 {
            let mut tcp = TcpConn::default();
            let mut history = History::default();
            let seg = |flags: u8, seq: u32, ack: u32, len: u32| Segment {
                flags: TcpFlags(flags),
                seq,
                ack,
                window: 100,
                len,
            };
            let (a, b) = (next() as u32, next() as u32);
            if round % 2 == 0 {
                // Full handshake.
                tcp.process(0, seg(TcpFlags::SYN, a, 0, 0), &mut history);
                let synack = TcpFlags::SYN | TcpFlags::ACK;
                tcp.process(1, seg(synack, b, a.wrapping_add(1), 0), &mut history);
                let ack = a.wrapping_add(1);
                tcp.process(
                    0,
                    seg(TcpFlags::ACK, ack, b.wrapping_add(1), 0),
                    &mut history,
                );
            } else {
                // Partial connection (handshake missed).
                tcp.process(0, seg(TcpFlags::ACK, a, b, 10), &mut history);
                tcp.process(
                    1,
                    seg(TcpFlags::ACK, b, a.wrapping_add(10), 10),
                    &mut history,
                );
            }
            let mut seqs = [a.wrapping_add(1), b.wrapping_add(1)];
            for _ in 0..300 {
                let r = next();
                let slot = (r & 1) as usize;
                let flags = match (r >> 1) % 256 {
                    0 => TcpFlags::ACK | TcpFlags::FIN,
                    1 => TcpFlags::RST,
                    2 => 0,
                    3..=128 => TcpFlags::ACK,
                    _ => TcpFlags::ACK | 0x08, // PSH
                };
                let len = match (r >> 5) % 4 {
                    0 => 0,
                    1 => (r >> 8) as u32 % 3000,
                    _ => (r >> 8) as u32 % 100,
                };
                let jump = match (r >> 20) % 8 {
                    0 => (r >> 24) as u32,           // anywhere (wraps, underflows)
                    1 => 0u32.wrapping_sub(len + 5), // backwards
                    2 => 0,                          // retransmission
                    _ => len,
                };
                let seq = seqs[slot].wrapping_add(jump);
                seqs[slot] = seq;
                let ack = match (r >> 40) % 6 {
                    0 => (r >> 44) as u32,
                    1 => 0,
                    _ => seqs[slot ^ 1],
                };
                let window = if (r >> 50) % 5 == 0 { 0 } else { 512 };
                let s = Segment {
                    flags: TcpFlags(flags),
                    seq,
                    ack,
                    window,
                    len,
                };
                let before = format!("{tcp:?}");
                let (mut fast, mut fast_history) = (tcp.clone(), history.clone());
                let taken = fast.process_established(slot, s, &mut fast_history);
                if taken.is_none() {
                    // Declined: nothing changed.
                    assert_eq!(format!("{fast:?}"), before);
                    assert_eq!(fast_history, history);
                }
                let fx = tcp.process(slot, s, &mut history);
                if let Some(touches_last_time) = taken {
                    fast_taken += 1;
                    let expected = TcpEffects {
                        touches_last_time,
                        ..TcpEffects::default()
                    };
                    assert_eq!(fx, expected);
                    assert_eq!(fast_history, history);
                    assert_eq!(format!("{fast:?}"), format!("{tcp:?}"));
                }
            }
        }
        assert!(fast_taken > 5_000, "fast path taken {fast_taken} times");
    }

    /// Every segment reads both endpoints: they must fit two 64-byte cache lines.
    #[test]
    fn a_connection_fits_two_cache_lines() {
        assert_eq!(std::mem::size_of::<TcpConn>(), 128);
    }
}
