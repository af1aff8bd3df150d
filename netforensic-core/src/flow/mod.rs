//! Bidirectional connections with exactly the meaning of Zeek's conn.log: orientation,
//! `conn_state`, `history`, packet/byte counters, inactivity timeouts in capture time.
//!
//! [`FlowTable`] (table.rs) owns the live connections; tcp.rs is Zeek's TCP endpoint state
//! machine; history.rs the history letters; ports.rs `likely_server_ports`; icmp.rs the ICMP
//! "ports"; community_id.rs and uid.rs the two flow identifiers.

mod community_id;
mod history;
mod icmp;
mod id_text;
mod key;
mod ports;
mod table;
mod tcp;
mod uid;

pub use community_id::{community_id_v1, DEFAULT_SEED as COMMUNITY_ID_DEFAULT_SEED};
pub use icmp::counterpart as icmp_counterpart;
pub use id_text::{CommunityId, IdText, Uid};
pub use ports::is_likely_server_port;
pub use table::{ConnSlot, FlowStats, FlowTable};

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// Transport protocol of a connection, as conn.log's `proto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// Zeek's `conn_state` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ConnState {
    S0,
    S1,
    SF,
    REJ,
    S2,
    S3,
    RSTO,
    RSTR,
    RSTOS0,
    RSTRH,
    SH,
    SHR,
    OTH,
}

impl ConnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }
}

/// Sequence number of a connection within one capture, in order of creation (first packet).
/// Stable for the same input whatever the thread count; the `uid` is derived from it.
pub type FlowId = u64;

/// A finished connection: one conn.log row (without the naming and process fields, which
/// later stages add in [`crate::report::FlowRecord`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Connection {
    pub id: FlowId,
    /// Zeek-style `C...` identifier, derived deterministically from the input.
    pub uid: Uid,
    pub ts: Timestamp,
    /// Time of the last packet.
    pub last_ts: Timestamp,
    pub orig_h: IpAddr,
    /// For ICMP: the type (as Zeek: `orig_p` = type, `resp_p` = code).
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    pub proto: Proto,
    /// Application protocol detected (`dns`, `ssl`, `http`, `quic`, ...), if any: one of the
    /// analyzers' names as it is (no allocation per connection), or several joined.
    pub service: Option<Cow<'static, str>>,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub conn_state: ConnState,
    pub history: String,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
    /// Community ID v1 (`1:...`), seed 0.
    pub community_id: CommunityId,
}

#[cfg(test)]
impl Connection {
    /// A finished TCP/UDP/ICMP connection with this identity and these times, every counter
    /// zero: tests set the fields they are about with struct update syntax.
    pub(crate) fn for_test(
        id: FlowId,
        proto: Proto,
        orig: (&str, u16),
        resp: (&str, u16),
        ts: Timestamp,
        last_ts: Timestamp,
    ) -> Self {
        let addr = |text: &str| text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Connection {
            id,
            uid: Uid::new(&format!("C{id}")).unwrap_or_default(),
            ts,
            last_ts,
            orig_h: addr(orig.0),
            orig_p: orig.1,
            resp_h: addr(resp.0),
            resp_p: resp.1,
            proto,
            service: None,
            orig_bytes: 0,
            resp_bytes: 0,
            conn_state: ConnState::SF,
            history: String::new(),
            orig_pkts: 0,
            orig_ip_bytes: 0,
            resp_pkts: 0,
            resp_ip_bytes: 0,
            community_id: CommunityId::default(),
        }
    }
}

impl Connection {
    /// Duration in capture time (last packet - first packet).
    pub fn duration_nanos(&self) -> i64 {
        self.last_ts.nanos_since(self.ts)
    }

    /// Add an application protocol to `service` (Zeek joins the set, sorted, with `,`).
    pub fn add_service(&mut self, service: &str) {
        let service = service.to_ascii_lowercase();
        let mut all: Vec<&str> = self
            .service
            .as_deref()
            .map(|s| s.split(',').collect())
            .unwrap_or_default();
        if all.contains(&service.as_str()) {
            return;
        }
        all.push(&service);
        all.sort_unstable();
        self.service = Some(Cow::Owned(all.join(",")));
    }
}

/// What the flow table did with a packet, so that payload inspectors (DNS, naming, process
/// metadata) can attach their findings to the right connection and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowTouch {
    pub id: FlowId,
    /// The packet went from originator to responder.
    pub from_orig: bool,
    /// This packet created the connection.
    pub created: bool,
    pub proto: Proto,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
}

/// Timeouts (capture time, nanoseconds), Zeek's defaults.
#[derive(Clone, Copy, Debug)]
pub struct FlowConfig {
    /// `tcp_inactivity_timeout`, once the handshake phase is over (before it, Zeek applies
    /// `udp_inactivity_timeout` to TCP too).
    pub tcp_inactivity: i64,
    pub udp_inactivity: i64,
    pub icmp_inactivity: i64,
    /// `tcp_attempt_delay`: an unanswered SYN's connection ends this long after it.
    pub tcp_attempt_delay: i64,
    /// `tcp_close_delay`: a closed or reset connection ends this long after its last packet.
    pub tcp_close_delay: i64,
    /// `dns_session_timeout`: Zeek's DNS analyzer checks a UDP DNS connection this often and
    /// ends it when it was idle for this long minus a second.
    pub dns_session_timeout: i64,
    /// Most connections kept live at once (see [`table::MAX_LIVE_FLOWS`]).
    pub max_live_flows: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            tcp_inactivity: 300 * Timestamp::NANOS_PER_SEC,
            udp_inactivity: 60 * Timestamp::NANOS_PER_SEC,
            icmp_inactivity: 60 * Timestamp::NANOS_PER_SEC,
            tcp_attempt_delay: 5 * Timestamp::NANOS_PER_SEC,
            tcp_close_delay: 5 * Timestamp::NANOS_PER_SEC,
            dns_session_timeout: 10 * Timestamp::NANOS_PER_SEC,
            max_live_flows: table::MAX_LIVE_FLOWS,
        }
    }
}

#[cfg(test)]
mod tests;
