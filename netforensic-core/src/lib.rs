//! netforensic-core: read packet captures, rebuild flows and DNS resolutions, name every remote
//! host the way the local program named it, and tie flows to the programs that owned them.
//!
//! Data flow (one concept per module):
//! [`capture`] (pcap/pcapng framing) -> [`decode`] (link, IP, transport, tunnels, fragments)
//! -> [`flow`] (Zeek-style connection table) and [`dns`] (transactions, resolution index) and
//! [`naming`] (SNI, HTTP Host, QUIC, NRB) -> [`sockets`] (snapshots) -> [`correlate`]
//! (flows x sockets x in-capture process metadata) -> [`report`] (aggregation and writers).
//! Parallelism lives only in [`analysis`], the driver.
#![deny(unsafe_code)]

pub mod analysis;
pub mod capture;
pub mod correlate;
pub mod decode;
pub mod dns;
pub mod error;
pub mod escape;
pub mod flow;
pub mod naming;
pub mod report;
pub mod sockets;
pub mod time;

pub use error::{Error, ErrorKind};
pub use time::Timestamp;
