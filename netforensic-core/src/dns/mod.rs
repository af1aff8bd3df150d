//! DNS transactions (Zeek dns.log) over UDP and TCP, mDNS, LLMNR, NetBIOS-NS, and the
//! resolution index that tells which name a client asked for before it connected to an address.
//!
//! [`wire`] reads messages, [`reassembly`] rebuilds TCP streams, [`tracker`] pairs queries with
//! responses per connection the way Zeek's dns.log does and derives [`Resolution`]s.

pub mod reassembly;
mod tracker;
pub mod wire;

pub use tracker::{DnsSlot, DnsTracker};

use crate::flow::Proto;
use crate::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

/// One dns.log row: a query and its response (either may be missing).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DnsRecord {
    pub ts: Timestamp,
    /// uid of the connection (flow) that carried it.
    pub uid: String,
    pub orig_h: IpAddr,
    pub orig_p: u16,
    pub resp_h: IpAddr,
    pub resp_p: u16,
    pub proto: Proto,
    pub trans_id: u16,
    /// Round-trip time (response ts - query ts) in nanoseconds.
    pub rtt_nanos: Option<i64>,
    pub query: Option<String>,
    pub qclass: Option<u16>,
    pub qclass_name: Option<String>,
    pub qtype: Option<u16>,
    pub qtype_name: Option<String>,
    pub rcode: Option<u16>,
    pub rcode_name: Option<String>,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub ra: bool,
    pub z: u8,
    /// Answer section values as Zeek prints them: addresses, CNAME/PTR/NS targets, TXT text...
    pub answers: Vec<String>,
    /// TTLs in seconds, parallel to `answers`.
    pub ttls: Vec<u32>,
    pub rejected: bool,
}

/// One thing learned from DNS: `client` asked `query` and was told `addr` (possibly through a
/// CNAME `chain`) at `ts`, valid for `ttl` seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub ts: Timestamp,
    pub client: IpAddr,
    pub query: String,
    /// CNAME targets from the question name to the address, in order.
    pub chain: Vec<String>,
    pub addr: IpAddr,
    pub ttl: u32,
}

/// Anomalies counted, never fatal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DnsStats {
    /// DNS messages read (queries and responses).
    pub messages: u64,
    /// Messages that could not be read completely (what was read is kept).
    pub malformed: u64,
    /// TCP segments dropped because a reassembly bound was reached.
    pub tcp_buffer_overflows: u64,
    /// Queries dropped because a connection had too many outstanding (logged unanswered).
    pub pending_overflows: u64,
}
