//! Names for the responder of each connection, the way its client named it: TLS/DTLS/QUIC SNI
//! and HTTP Host inside the connection, then DNS answers that client received before, then
//! pcapng Name Resolution Blocks, then answers seen by other clients.
//!
//! [`NameSniffer`] finds names inside connections ([`tls`], [`http`], [`quic`], [`dtls`]); [`ladder`]
//! combines them with DNS resolutions and NRB entries into each flow's name.

pub mod dtls;
pub mod http;
pub mod ladder;
pub mod quic;
mod sniffer;
pub mod tls;

pub use ladder::{assign_names, NameIndex};
pub use sniffer::{NameSniffer, SniffSlot};

use serde::Serialize;

/// Where a name came from, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    Sni,
    QuicSni,
    DtlsSni,
    HttpHost,
    Dns,
    Nrb,
    DnsOtherClient,
}

impl NameSource {
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::Sni => "sni",
            NameSource::QuicSni => "quic_sni",
            NameSource::DtlsSni => "dtls_sni",
            NameSource::HttpHost => "http_host",
            NameSource::Dns => "dns",
            NameSource::Nrb => "nrb",
            NameSource::DnsOtherClient => "dns_other_client",
        }
    }
}

/// A name the client put inside the connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InFlowName {
    pub name: String,
    pub source: NameSource,
    /// Application protocol this revealed (`ssl`, `http`, `quic`, `dtls`), for `service`.
    pub service: &'static str,
}
