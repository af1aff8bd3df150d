//! Socket snapshots indexed for matching: sorted by time, each snapshot's sockets by
//! (protocol, local port), so that one flow costs a few hash look-ups, not a scan.

use crate::flow::Proto;
use crate::sockets::{Snapshot, SnapshotSource, SocketEntry};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::net::IpAddr;

/// How a socket matched a flow's local end, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchRule {
    /// Same protocol, local address and port, remote address and port.
    Exact,
    /// An unconnected socket (no remote) bound to the local port on the flow's address or on
    /// the wildcard address (`0.0.0.0`, `::`): typical for UDP.
    WildcardLocal,
    /// A listening TCP socket on the port of the flow's local responder.
    Listener,
}

/// The flow end to look up, with addresses already canonical (IPv4-mapped IPv6 unwrapped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalEnd {
    pub proto: Proto,
    pub local_addr: IpAddr,
    pub local_port: u16,
    pub remote_addr: IpAddr,
    pub remote_port: u16,
    /// The local end is the flow's responder (only then can a listener own it).
    pub local_is_responder: bool,
}

/// One snapshot with its sockets indexed.
pub struct IndexedSnapshot<'a> {
    pub snapshot: &'a Snapshot,
    /// Capture-clock time (snapshot time + time shift); `None` when the snapshot has none.
    pub at: Option<Timestamp>,
    by_port: HashMap<(Proto, u16), Vec<&'a SocketEntry>>,
}

impl<'a> IndexedSnapshot<'a> {
    fn new(snapshot: &'a Snapshot, shift_nanos: i64) -> Self {
        let mut by_port: HashMap<(Proto, u16), Vec<&'a SocketEntry>> = HashMap::new();
        for socket in &snapshot.sockets {
            by_port
                .entry((socket.proto, socket.local_port))
                .or_default()
                .push(socket);
        }
        IndexedSnapshot {
            snapshot,
            at: snapshot
                .taken_at
                .map(|t| t.saturating_add_nanos(shift_nanos)),
            by_port,
        }
    }

    pub fn source(&self) -> SnapshotSource {
        self.snapshot.source
    }

    /// Sockets of this snapshot that match `end` by `rule`.
    pub fn matches(&self, end: &LocalEnd, rule: MatchRule, out: &mut Vec<&'a SocketEntry>) {
        let Some(sockets) = self.by_port.get(&(end.proto, end.local_port)) else {
            return;
        };
        out.extend(
            sockets
                .iter()
                .copied()
                .filter(|s| matches_rule(s, end, rule)),
        );
    }
}

fn canonical(addr: Option<IpAddr>) -> Option<IpAddr> {
    addr.map(|a| a.to_canonical())
}

/// An address slot that is absent or `0.0.0.0`/`::`/`*`: "any".
fn is_wildcard(addr: Option<IpAddr>) -> bool {
    addr.is_none_or(|a| a.is_unspecified())
}

/// The socket's local address covers the flow's: same address, or bound to any address
/// (a `::` socket also takes IPv4 unless IPV6_V6ONLY, so it covers both families).
fn local_covers(socket: &SocketEntry, addr: IpAddr) -> bool {
    match canonical(socket.local_addr) {
        None => true,
        Some(bound) if bound.is_unspecified() => bound.is_ipv6() || addr.is_ipv4(),
        Some(bound) => bound == addr,
    }
}

fn is_listen_state(socket: &SocketEntry) -> bool {
    socket
        .state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("LISTEN") || s.eq_ignore_ascii_case("LISTENING"))
}

fn matches_rule(socket: &SocketEntry, end: &LocalEnd, rule: MatchRule) -> bool {
    match rule {
        MatchRule::Exact => {
            canonical(socket.local_addr) == Some(end.local_addr)
                && canonical(socket.remote_addr) == Some(end.remote_addr)
                && socket.remote_port == Some(end.remote_port)
        }
        MatchRule::WildcardLocal => {
            !is_listen_state(socket)
                && is_wildcard(socket.remote_addr)
                && socket.remote_port.is_none_or(|p| p == 0)
                && local_covers(socket, end.local_addr)
        }
        MatchRule::Listener => {
            end.proto == Proto::Tcp
                && end.local_is_responder
                && is_listen_state(socket)
                && local_covers(socket, end.local_addr)
        }
    }
}

/// All snapshots, sorted by capture-clock time (untimed ones kept apart).
pub struct SnapshotIndex<'a> {
    timed: Vec<IndexedSnapshot<'a>>,
    untimed: Vec<IndexedSnapshot<'a>>,
}

/// How close in time a snapshot is to a flow, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Nearness {
    /// Taken while the flow was alive.
    During,
    /// Taken within the slack before the first or after the last packet.
    Slack,
    /// The snapshot has no time at all.
    Untimed,
}

impl<'a> SnapshotIndex<'a> {
    /// `shift_nanos` is added to every snapshot time to put it on the capture's clock.
    pub fn new(snapshots: &'a [Snapshot], shift_nanos: i64) -> Self {
        let mut timed = Vec::new();
        let mut untimed = Vec::new();
        for snapshot in snapshots {
            let indexed = IndexedSnapshot::new(snapshot, shift_nanos);
            if indexed.at.is_some() {
                timed.push(indexed);
            } else {
                untimed.push(indexed);
            }
        }
        timed.sort_by_key(|s| s.at);
        SnapshotIndex { timed, untimed }
    }

    pub fn is_empty(&self) -> bool {
        self.timed.is_empty() && self.untimed.is_empty()
    }

    /// Snapshots that can speak for a flow alive from `first` to `last`, grouped by
    /// nearness (best group first; empty groups omitted).
    pub fn covering(
        &self,
        first: Timestamp,
        last: Timestamp,
        slack_nanos: i64,
    ) -> Vec<(Nearness, Vec<&IndexedSnapshot<'a>>)> {
        let from = first.saturating_add_nanos(slack_nanos.saturating_neg());
        let to = last.saturating_add_nanos(slack_nanos);
        let start = self.timed.partition_point(|s| s.at < Some(from));
        let mut during = Vec::new();
        let mut slack = Vec::new();
        for s in self.timed.get(start..).unwrap_or(&[]) {
            let Some(at) = s.at else { continue };
            if at > to {
                break;
            }
            if at >= first && at <= last {
                during.push(s);
            } else {
                slack.push(s);
            }
        }
        let untimed: Vec<&IndexedSnapshot<'a>> = self.untimed.iter().collect();
        [
            (Nearness::During, during),
            (Nearness::Slack, slack),
            (Nearness::Untimed, untimed),
        ]
        .into_iter()
        .filter(|(_, group)| !group.is_empty())
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Built through serde so the test does not depend on every field of the socket model.
    fn socket(proto: Proto, local: &str, remote: Option<&str>, state: Option<&str>) -> SocketEntry {
        let split = |s: &str| {
            let (a, p) = s.rsplit_once(':').unwrap();
            (
                a.trim_matches(|c| c == '[' || c == ']').to_string(),
                p.parse::<u16>().unwrap(),
            )
        };
        let (la, lp) = split(local);
        let remote = remote.map(split);
        serde_json::from_value(serde_json::json!({
            "proto": proto,
            "local_addr": la,
            "local_port": lp,
            "remote_addr": remote.as_ref().map(|r| r.0.clone()),
            "remote_port": remote.as_ref().map(|r| r.1),
            "state": state,
            "pid": 1,
        }))
        .unwrap()
    }

    fn end(proto: Proto, local: &str, lp: u16, remote: &str, rp: u16, resp: bool) -> LocalEnd {
        LocalEnd {
            proto,
            local_addr: ip(local),
            local_port: lp,
            remote_addr: ip(remote),
            remote_port: rp,
            local_is_responder: resp,
        }
    }

    #[test]
    fn exact_needs_the_whole_tuple_and_normalises_v4_mapped() {
        let s = socket(
            Proto::Tcp,
            "[::ffff:10.0.0.5]:5000",
            Some("[::ffff:1.2.3.4]:443"),
            Some("ESTABLISHED"),
        );
        let e = end(Proto::Tcp, "10.0.0.5", 5000, "1.2.3.4", 443, false);
        assert!(matches_rule(&s, &e, MatchRule::Exact));
        let other_remote = end(Proto::Tcp, "10.0.0.5", 5000, "1.2.3.5", 443, false);
        assert!(!matches_rule(&s, &other_remote, MatchRule::Exact));
    }

    #[test]
    fn wildcard_udp() {
        let any4 = socket(Proto::Udp, "0.0.0.0:5353", None, None);
        let any6 = socket(Proto::Udp, "[::]:5353", None, Some("UNCONN"));
        let bound = socket(Proto::Udp, "10.0.0.5:5353", Some("0.0.0.0:0"), None);
        let e4 = end(Proto::Udp, "10.0.0.5", 5353, "224.0.0.251", 5353, false);
        let e6 = end(Proto::Udp, "fe80::1", 5353, "ff02::fb", 5353, false);
        assert!(matches_rule(&any4, &e4, MatchRule::WildcardLocal));
        assert!(!matches_rule(&any4, &e6, MatchRule::WildcardLocal));
        assert!(matches_rule(&any6, &e4, MatchRule::WildcardLocal));
        assert!(matches_rule(&any6, &e6, MatchRule::WildcardLocal));
        assert!(matches_rule(&bound, &e4, MatchRule::WildcardLocal));
        assert!(!matches_rule(&bound, &e6, MatchRule::WildcardLocal));
    }

    #[test]
    fn listener_only_for_local_responder() {
        let l = socket(Proto::Tcp, "0.0.0.0:22", None, Some("LISTEN"));
        let server = end(Proto::Tcp, "10.0.0.5", 22, "1.2.3.4", 50000, true);
        let client = end(Proto::Tcp, "10.0.0.5", 22, "1.2.3.4", 50000, false);
        assert!(matches_rule(&l, &server, MatchRule::Listener));
        assert!(!matches_rule(&l, &client, MatchRule::Listener));
        assert!(!matches_rule(&l, &server, MatchRule::WildcardLocal));
        let windows = socket(Proto::Tcp, "[::]:135", Some("[::]:0"), Some("LISTENING"));
        assert!(matches_rule(&windows, &server_on(135), MatchRule::Listener));
    }

    fn server_on(port: u16) -> LocalEnd {
        end(Proto::Tcp, "10.0.0.5", port, "1.2.3.4", 50000, true)
    }

    fn snap(at: Option<i64>) -> Snapshot {
        serde_json::from_value(serde_json::json!({
            "source": "ss",
            "taken_at": at.map(|s| s as f64),
            "sockets": [],
        }))
        .unwrap()
    }

    #[test]
    fn covering_groups_by_nearness() {
        let snaps = vec![
            snap(Some(100)),
            snap(Some(5)),
            snap(Some(12)),
            snap(None),
            snap(Some(9)),
        ];
        let index = SnapshotIndex::new(&snaps, 0);
        let t = |s| Timestamp::from_secs_nanos(s, 0);
        let groups = index.covering(t(10), t(11), 2 * Timestamp::NANOS_PER_SEC);
        let kinds: Vec<Nearness> = groups.iter().map(|(n, _)| *n).collect();
        assert_eq!(kinds, vec![Nearness::Slack, Nearness::Untimed]);
        assert_eq!(groups[0].1.len(), 2); // 9 and 12
        let groups = index.covering(t(0), t(200), 0);
        assert_eq!(groups[0].0, Nearness::During);
        assert_eq!(groups[0].1.len(), 4);
        // time shift moves snapshots onto the capture clock
        let shifted = SnapshotIndex::new(&snaps, 90 * Timestamp::NANOS_PER_SEC);
        let groups = shifted.covering(t(95), t(95), 0);
        assert_eq!(groups[0].0, Nearness::During); // 5 + 90
    }
}
