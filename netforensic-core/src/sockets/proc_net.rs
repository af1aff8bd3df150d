//! `/proc/net/{tcp,tcp6,udp,udp6}`: the kernel's socket tables, as the Linux collector reads
//! them. Addresses are hex words in the host's byte order (`0100007F:223D` = 127.0.0.1:8765
//! on little-endian machines); states are hex (`0A` = LISTEN).

use super::{state, SocketEntry};
use crate::flow::Proto;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A socket row and the kernel identities the collector joins on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcSocket {
    pub entry: SocketEntry,
    pub uid: Option<u32>,
    /// 0 for sockets without an inode (TIME_WAIT).
    pub inode: u64,
}

/// Parse one table. `v6` selects the 32-hex-digit address form; `proto` comes from the file
/// name. Unreadable rows are skipped and counted in the second value.
pub fn parse_table(text: &str, proto: Proto) -> (Vec<ProcSocket>, usize) {
    let mut rows = Vec::new();
    let mut bad = 0;
    for line in text.lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(line, proto) {
            Some(row) => rows.push(row),
            None => bad += 1,
        }
    }
    (rows, bad)
}

fn parse_row(line: &str, proto: Proto) -> Option<ProcSocket> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (local_addr, local_port) = hex_endpoint(words.get(1)?)?;
    let (remote_addr, remote_port) = hex_endpoint(words.get(2)?)?;
    let st = u8::from_str_radix(words.get(3)?, 16).ok()?;
    let uid = words.get(7).and_then(|u| u.parse::<u32>().ok());
    let inode = words.get(9)?.parse::<u64>().ok()?;
    let mut entry = SocketEntry::new(proto, Some(local_addr), local_port);
    entry.set_remote(Some(remote_addr), Some(remote_port));
    if proto == Proto::Tcp {
        entry.state = tcp_state(st).map(str::to_string);
    }
    entry.inode = (inode != 0).then_some(inode);
    Some(ProcSocket { entry, uid, inode })
}

/// Linux `include/net/tcp_states.h` numbering.
fn tcp_state(st: u8) -> Option<&'static str> {
    Some(match st {
        0x01 => state::ESTABLISHED,
        0x02 => state::SYN_SENT,
        0x03 => state::SYN_RECV,
        0x04 => state::FIN_WAIT1,
        0x05 => state::FIN_WAIT2,
        0x06 => state::TIME_WAIT,
        0x07 => state::CLOSE,
        0x08 => state::CLOSE_WAIT,
        0x09 => state::LAST_ACK,
        0x0A => state::LISTEN,
        0x0B => state::CLOSING,
        _ => return None,
    })
}

/// `0100007F:223D` or 32 hex digits + `:port`.
fn hex_endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let addr = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(addr, 16).ok()?.to_ne_bytes(),
        )),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                let word = addr.get(i * 8..i * 8 + 8)?;
                chunk.copy_from_slice(&u32::from_str_radix(word, 16).ok()?.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((addr.to_canonical(), port))
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn public_and_recorded_rows() {
        // SNAPSHOT-FORMATS.md section 6 (jc linux-proc/net_tcp).
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 34000 1 0000000000000000 100 0 0 10 5\n";
        let (rows, bad) = parse_table(text, Proto::Tcp);
        assert_eq!(bad, 0);
        let r = &rows[0];
        assert_eq!(r.entry.local_addr, Some("127.0.0.53".parse().unwrap()));
        assert_eq!(r.entry.local_port, 53);
        assert_eq!(r.entry.remote_addr, None);
        assert_eq!(r.entry.state.as_deref(), Some("LISTEN"));
        assert_eq!((r.uid, r.inode), (Some(101), 34000));
        // Recorded here (testdata/snapshots/linux-proc-net-udp6.txt): `[::]:56603`.
        let text = include_str!("../../../testdata/snapshots/linux-proc-net-udp6.txt");
        let (rows, bad) = parse_table(text, Proto::Udp);
        assert_eq!((rows.len(), bad), (1, 0));
        assert_eq!(rows[0].entry.local_addr, Some("::".parse().unwrap()));
        assert_eq!(rows[0].entry.local_port, 56603);
        assert_eq!(rows[0].inode, 24489);
    }
}
