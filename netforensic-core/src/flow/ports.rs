//! Zeek's `likely_server_ports`: the ports whose owner is probably the server. Zeek uses them
//! to orient a connection whose handshake it did not see (`TCPAnalyzer::WantConnection`,
//! `UDPAnalyzer::WantConnection`).
//!
//! The set is the union of the `redef likely_server_ports += { ... }` lines in Zeek's default
//! (non-bare) script set: the base protocol analyzers and the tunnel framework.

/// TCP ports, sorted (binary search).
const TCP: &[u16] = &[
    21, 22, 25, 79, 80, 81, 88, 102, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614,
    631, 636, 989, 990, 992, 993, 995, 1080, 1433, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222,
    5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
];

/// UDP ports, sorted (binary search).
const UDP: &[u16] = &[
    53, 67, 88, 123, 137, 161, 162, 389, 443, 514, 1194, 1812, 2123, 2152, 3544, 4789, 5060, 5072,
    5353, 5355, 6081, 20000,
];

/// UDP ports on which Zeek's DNS analyzer runs (`DNS::ports`); it ends such a connection
/// after `dns_session_timeout` of inactivity instead of the UDP timeout.
const DNS_UDP: &[u16] = &[53, 137, 5353, 5355];

/// Does Zeek attach its DNS analyzer (and its shorter timeout) to UDP traffic to `resp_port`?
pub fn is_dns_udp_port(resp_port: u16) -> bool {
    DNS_UDP.contains(&resp_port)
}

/// Is `port` a likely server port for TCP (`tcp == true`) or UDP?
pub fn is_likely_server_port(tcp: bool, port: u16) -> bool {
    let table = if tcp { TCP } else { UDP };
    table.binary_search(&port).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(TCP.windows(2).all(|w| w[0] < w[1]));
        assert!(UDP.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn known_ports() {
        assert!(is_likely_server_port(true, 80));
        assert!(is_likely_server_port(true, 443));
        assert!(is_likely_server_port(false, 53));
        assert!(is_likely_server_port(false, 3544));
        assert!(!is_likely_server_port(false, 80));
        assert!(!is_likely_server_port(true, 50000));
    }
}
