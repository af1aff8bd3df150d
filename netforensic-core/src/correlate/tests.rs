//! Matching rules and pitfalls, one test each, on hand-made flows and snapshots.

use super::*;
use crate::capture::FrameMeta;
use crate::flow::{Connection, FlowTouch, Proto};
use crate::report::{FlowRecord, LocalSide};
use crate::sockets::SocketEntry;
use crate::time::Timestamp;
use std::net::IpAddr;

const HOST: &str = "10.0.0.5";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn t(secs: f64) -> Timestamp {
    Timestamp::from_secs_f64(secs)
}

fn flow(
    id: u64,
    proto: Proto,
    orig: (&str, u16),
    resp: (&str, u16),
    from: f64,
    to: f64,
) -> FlowRecord {
    FlowRecord::new(
        Connection {
            orig_pkts: 1,
            resp_pkts: 1,
            ..Connection::for_test(id, proto, orig, resp, t(from), t(to))
        },
        "test.pcap".into(),
    )
}

struct Sock {
    proto: Proto,
    local: (&'static str, u16),
    remote: Option<(&'static str, u16)>,
    state: Option<&'static str>,
    pid: Option<u32>,
    name: &'static str,
}

/// Built through serde so the test does not depend on every field of the socket model.
fn entry(s: &Sock) -> SocketEntry {
    serde_json::from_value(serde_json::json!({
        "proto": s.proto,
        "local_addr": s.local.0,
        "local_port": s.local.1,
        "remote_addr": s.remote.map(|r| r.0),
        "remote_port": s.remote.map(|r| r.1),
        "state": s.state,
        "pid": s.pid,
        "process": s.name,
    }))
    .unwrap()
}

fn snapshot(at: f64, sockets: &[Sock]) -> Snapshot {
    let sockets: Vec<SocketEntry> = sockets.iter().map(entry).collect();
    serde_json::from_value(serde_json::json!({
        "source": "ss",
        "taken_at": at,
        "sockets": sockets,
    }))
    .unwrap()
}

fn tcp(
    local: (&'static str, u16),
    remote: (&'static str, u16),
    pid: u32,
    name: &'static str,
) -> Sock {
    Sock {
        proto: Proto::Tcp,
        local,
        remote: Some(remote),
        state: Some("ESTABLISHED"),
        pid: Some(pid),
        name,
    }
}

fn run(flows: &mut [FlowRecord], snapshots: &[Snapshot]) {
    attribute(
        flows,
        snapshots,
        &CaptureEvidence::default(),
        &[],
        &CorrelateOptions::default(),
    );
}

fn pid_of(f: &FlowRecord) -> Option<u32> {
    f.process.as_ref().and_then(|p| p.pid)
}

#[test]
fn exact_five_tuple() {
    let mut flows = [flow(
        1,
        Proto::Tcp,
        (HOST, 50000),
        ("1.2.3.4", 443),
        10.0,
        20.0,
    )];
    let snaps = [snapshot(
        15.0,
        &[tcp((HOST, 50000), ("1.2.3.4", 443), 42, "beacon")],
    )];
    run(&mut flows, &snaps);
    let p = flows[0].process.as_ref().unwrap();
    assert_eq!(p.pid, Some(42));
    assert_eq!(p.name.as_deref(), Some("beacon"));
    assert_eq!(p.evidence, "snapshot:ss");
    assert_eq!(p.quality, "exact");
    assert_eq!(flows[0].local_side, Some(LocalSide::Orig));
    assert_eq!(flows[0].unattributed_reason, None);
}

#[test]
fn port_reused_later_by_another_process() {
    // Program A uses local port 40000 to the server from t=10 to 12; program B reuses the same
    // port to the same server from t=30 to 32. Each snapshot sees only its owner.
    let server = ("1.2.3.4", 443);
    let mut flows = [
        flow(1, Proto::Tcp, (HOST, 40000), server, 10.0, 12.0),
        flow(2, Proto::Tcp, (HOST, 40000), server, 30.0, 32.0),
    ];
    let snaps = [
        snapshot(11.0, &[tcp((HOST, 40000), server, 100, "first")]),
        snapshot(31.0, &[tcp((HOST, 40000), server, 200, "second")]),
        // Just after flow 1 ended the old socket is gone and nothing else uses the port.
        snapshot(13.0, &[]),
    ];
    run(&mut flows, &snaps);
    assert_eq!(pid_of(&flows[0]), Some(100));
    assert_eq!(pid_of(&flows[1]), Some(200));
}

#[test]
fn nearest_snapshot_in_slack_when_none_during() {
    let server = ("1.2.3.4", 443);
    let mut flows = [flow(1, Proto::Tcp, (HOST, 40000), server, 10.0, 10.5)];
    let snaps = [
        snapshot(11.5, &[tcp((HOST, 40000), server, 100, "a")]),
        // Far away in time: another process with the same tuple must not count.
        snapshot(60.0, &[tcp((HOST, 40000), server, 200, "b")]),
    ];
    run(&mut flows, &snaps);
    assert_eq!(pid_of(&flows[0]), Some(100));
}

#[test]
fn short_connection_between_snapshots_is_unattributed_with_reason() {
    // Snapshots every 10 s; the connection lived 0.2 s in between and no snapshot saw it.
    let server = ("1.2.3.4", 443);
    let mut flows = [flow(1, Proto::Tcp, (HOST, 40001), server, 15.0, 15.2)];
    let snaps = [
        snapshot(10.0, &[tcp((HOST, 39999), server, 100, "beacon")]),
        snapshot(20.0, &[tcp((HOST, 39999), server, 100, "beacon")]),
    ];
    run(&mut flows, &snaps);
    assert_eq!(flows[0].process, None);
    assert_eq!(
        flows[0].unattributed_reason,
        Some("no_snapshot_covers_flow")
    );
    // A snapshot during the flow that does not list it: no matching socket.
    let snaps = [snapshot(15.1, &[tcp((HOST, 39999), server, 100, "beacon")])];
    run(&mut flows, &snaps);
    assert_eq!(flows[0].unattributed_reason, Some("no_matching_socket"));
}

#[test]
fn wildcard_udp_socket() {
    let mut flows = [flow(
        1,
        Proto::Udp,
        (HOST, 5353),
        ("224.0.0.251", 5353),
        1.0,
        1.0,
    )];
    let snaps = [snapshot(
        1.0,
        &[Sock {
            proto: Proto::Udp,
            local: ("0.0.0.0", 5353),
            remote: None,
            state: Some("UNCONN"),
            pid: Some(7),
            name: "avahi-daemon",
        }],
    )];
    // The wildcard socket tells nothing about which address is local: the user says.
    let options = CorrelateOptions {
        local_nets: vec!["10.0.0.0/24".parse().unwrap()],
        ..CorrelateOptions::default()
    };
    attribute(
        &mut flows,
        &snaps,
        &CaptureEvidence::default(),
        &[],
        &options,
    );
    let p = flows[0].process.as_ref().unwrap();
    assert_eq!(p.pid, Some(7));
    assert_eq!(p.quality, "wildcard_local");
}

#[test]
fn listener_for_inbound_connection() {
    let mut flows = [flow(
        1,
        Proto::Tcp,
        ("1.2.3.4", 51000),
        (HOST, 22),
        1.0,
        9.0,
    )];
    let snaps = [snapshot(
        5.0,
        &[
            Sock {
                proto: Proto::Tcp,
                local: ("0.0.0.0", 22),
                remote: None,
                state: Some("LISTEN"),
                pid: Some(900),
                name: "sshd",
            },
            // Something that makes HOST known as local.
            tcp((HOST, 40000), ("9.9.9.9", 443), 5, "other"),
        ],
    )];
    run(&mut flows, &snaps);
    assert_eq!(flows[0].local_side, Some(LocalSide::Resp));
    let p = flows[0].process.as_ref().unwrap();
    assert_eq!((p.pid, p.quality.as_str()), (Some(900), "listener"));
}

#[test]
fn ipv4_mapped_ipv6_snapshot_addresses() {
    let mut flows = [flow(
        1,
        Proto::Tcp,
        (HOST, 50000),
        ("1.2.3.4", 443),
        1.0,
        2.0,
    )];
    let snaps = [snapshot(
        1.5,
        &[tcp(
            ("::ffff:10.0.0.5", 50000),
            ("::ffff:1.2.3.4", 443),
            3,
            "java",
        )],
    )];
    run(&mut flows, &snaps);
    assert_eq!(pid_of(&flows[0]), Some(3));
    assert_eq!(flows[0].process.as_ref().unwrap().quality, "exact");
}

#[test]
fn two_owners_are_ambiguous() {
    // lsof lists one socket under two pids (fork-inherited descriptor).
    let server = ("1.2.3.4", 443);
    let mut flows = [flow(1, Proto::Tcp, (HOST, 50000), server, 1.0, 2.0)];
    let snaps = [snapshot(
        1.5,
        &[
            tcp((HOST, 50000), server, 4314, "sshd"),
            tcp((HOST, 50000), server, 4318, "sshd"),
        ],
    )];
    run(&mut flows, &snaps);
    assert_eq!(flows[0].process, None);
    assert_eq!(flows[0].unattributed_reason, Some("ambiguous"));
}

#[test]
fn same_owner_in_several_snapshots_is_not_a_conflict() {
    let server = ("1.2.3.4", 443);
    let mut flows = [flow(1, Proto::Tcp, (HOST, 50000), server, 1.0, 10.0)];
    let snaps: Vec<Snapshot> = (1..10)
        .map(|s| snapshot(f64::from(s), &[tcp((HOST, 50000), server, 77, "beacon")]))
        .collect();
    run(&mut flows, &snaps);
    assert_eq!(pid_of(&flows[0]), Some(77));
}

#[test]
fn ownerless_socket_says_so() {
    let server = ("1.2.3.4", 443);
    let mut flows = [flow(1, Proto::Tcp, (HOST, 50000), server, 1.0, 2.0)];
    // `netstat -tunap` without root prints `-`: the importer keeps no owner.
    let mut snap = snapshot(1.5, &[]);
    snap.sockets.push(
        serde_json::from_value(serde_json::json!({
            "proto": "tcp", "local_addr": HOST, "local_port": 50000,
            "remote_addr": server.0, "remote_port": server.1, "state": "ESTABLISHED",
        }))
        .unwrap(),
    );
    run(&mut flows, &[snap]);
    assert_eq!(flows[0].unattributed_reason, Some("socket_owner_unknown"));
}

#[test]
fn loopback_attributes_client_and_server() {
    let mut flows = [flow(
        1,
        Proto::Tcp,
        ("127.0.0.1", 45000),
        ("127.0.0.1", 8000),
        1.0,
        2.0,
    )];
    let snaps = [snapshot(
        1.5,
        &[
            tcp(("127.0.0.1", 45000), ("127.0.0.1", 8000), 10, "curl"),
            tcp(("127.0.0.1", 8000), ("127.0.0.1", 45000), 20, "python3"),
        ],
    )];
    run(&mut flows, &snaps);
    assert_eq!(flows[0].local_side, Some(LocalSide::Orig));
    assert_eq!(pid_of(&flows[0]), Some(10));
    let server = flows[0].resp_process.as_ref().unwrap();
    assert_eq!((server.pid, server.quality.as_str()), (Some(20), "exact"));
}

#[test]
fn not_local_and_no_knowledge() {
    let mut flows = [flow(
        1,
        Proto::Tcp,
        ("192.0.2.1", 1),
        ("192.0.2.2", 2),
        1.0,
        2.0,
    )];
    run(&mut flows, &[]);
    assert_eq!(
        flows[0].unattributed_reason,
        Some("no_snapshot_covers_flow")
    );
    let snaps = [snapshot(1.5, &[tcp((HOST, 1), ("8.8.8.8", 2), 1, "x")])];
    run(&mut flows, &snaps);
    assert_eq!(flows[0].unattributed_reason, Some("not_local"));
    assert_eq!(flows[0].local_side, None);
}

#[test]
fn time_shift_aligns_snapshot_clock() {
    // The snapshot machine's clock was 100 s behind the capture's.
    let server = ("1.2.3.4", 443);
    let mut flows = [flow(1, Proto::Tcp, (HOST, 50000), server, 110.0, 111.0)];
    let snaps = [snapshot(10.5, &[tcp((HOST, 50000), server, 9, "x")])];
    run(&mut flows, &snaps);
    assert_eq!(pid_of(&flows[0]), None);
    let options = CorrelateOptions {
        time_shift_nanos: 100 * Timestamp::NANOS_PER_SEC,
        ..CorrelateOptions::default()
    };
    attribute(
        &mut flows,
        &snaps,
        &CaptureEvidence::default(),
        &[],
        &options,
    );
    assert_eq!(pid_of(&flows[0]), Some(9));
}

fn ptcpdump_evidence(flow: &FlowRecord, pid: u32) -> CaptureEvidence {
    let c = &flow.conn;
    let touch = FlowTouch {
        id: c.id,
        from_orig: true,
        created: true,
        proto: c.proto,
        orig_h: c.orig_h,
        orig_p: c.orig_p,
        resp_h: c.resp_h,
        resp_p: c.resp_p,
    };
    let meta = FrameMeta {
        comments: vec![format!("PID: {pid}\nCmd: /usr/bin/wget\nArgs: wget x")],
        epb_flags: Some(2),
        ..FrameMeta::default()
    };
    let mut ev = InCaptureEvidence::new();
    ev.observe(&touch, Some(&meta), None);
    ev.finish(&[])
}

#[test]
fn in_capture_evidence_outranks_snapshots_and_marks_local() {
    let server = ("1.2.3.4", 443);
    let mut flows = [flow(1, Proto::Tcp, (HOST, 50000), server, 1.0, 2.0)];
    let evidence = ptcpdump_evidence(&flows[0], 555);
    let snaps = [snapshot(1.5, &[tcp((HOST, 50000), server, 666, "other")])];
    attribute(
        &mut flows,
        &snaps,
        &evidence,
        &[],
        &CorrelateOptions::default(),
    );
    let p = flows[0].process.as_ref().unwrap();
    assert_eq!(p.pid, Some(555));
    assert_eq!(p.evidence, "ptcpdump_comment");
    assert_eq!(p.quality, "in_capture");
    assert_eq!(p.name.as_deref(), Some("wget"));
    // And without snapshots at all, the capture alone says which end is local.
    attribute(
        &mut flows,
        &[],
        &evidence,
        &[],
        &CorrelateOptions::default(),
    );
    assert_eq!(pid_of(&flows[0]), Some(555));
    assert_eq!(flows[0].local_side, Some(LocalSide::Orig));
}

fn dns_record(uid: &str, client: &str, at: f64, rtt: f64, answers: &[&str]) -> DnsRecord {
    DnsRecord {
        ts: t(at),
        uid: uid.to_string(),
        orig_h: ip(client),
        orig_p: 40000,
        resp_h: ip("10.0.0.1"),
        resp_p: 53,
        proto: Proto::Udp,
        trans_id: 1,
        rtt_nanos: Some((rtt * 1e9) as i64),
        query: Some("example.com".into()),
        qclass: None,
        qclass_name: None,
        qtype: None,
        qtype_name: None,
        rcode: None,
        rcode_name: None,
        aa: false,
        tc: false,
        rd: true,
        ra: true,
        z: 0,
        answers: answers.iter().map(|s| s.to_string()).collect(),
        ttls: vec![60; answers.len()],
        rejected: false,
    }
}

#[test]
fn dns_lookup_attributed_to_the_connection_that_followed() {
    let server = ("93.184.216.34", 443);
    let mut flows = [
        flow(1, Proto::Udp, (HOST, 40000), ("10.0.0.1", 53), 10.0, 10.05),
        flow(2, Proto::Tcp, (HOST, 50000), server, 10.1, 20.0),
        // A lookup whose answer nobody connected to stays unattributed.
        flow(3, Proto::Udp, (HOST, 40001), ("10.0.0.1", 53), 30.0, 30.05),
    ];
    let snaps = [snapshot(15.0, &[tcp((HOST, 50000), server, 31, "firefox")])];
    let dns = [
        dns_record(
            "C1",
            HOST,
            10.0,
            0.05,
            &["CNAME.example.net", "93.184.216.34"],
        ),
        dns_record("C3", HOST, 30.0, 0.05, &["198.51.100.1"]),
    ];
    let stats = attribute(
        &mut flows,
        &snaps,
        &CaptureEvidence::default(),
        &dns,
        &CorrelateOptions::default(),
    );
    let p = flows[0].process.as_ref().unwrap();
    assert_eq!((p.pid, p.quality.as_str()), (Some(31), "dns_followup"));
    assert_eq!(p.evidence, "snapshot:ss");
    assert_eq!(stats.dns_followup, 1);
    assert_eq!(flows[2].process, None);
}

#[test]
fn dns_followup_outside_window_or_conflicting_is_not_attributed() {
    let a = ("93.184.216.34", 443);
    let b = ("93.184.216.35", 443);
    let mut flows = [
        flow(1, Proto::Udp, (HOST, 40000), ("10.0.0.1", 53), 10.0, 10.05),
        flow(2, Proto::Tcp, (HOST, 50000), a, 10.1, 20.0),
        flow(3, Proto::Tcp, (HOST, 50001), b, 10.2, 20.0),
        flow(
            4,
            Proto::Udp,
            (HOST, 40002),
            ("10.0.0.1", 53),
            100.0,
            100.05,
        ),
    ];
    let snaps = [snapshot(
        15.0,
        &[
            tcp((HOST, 50000), a, 31, "firefox"),
            tcp((HOST, 50001), b, 32, "curl"),
        ],
    )];
    let dns = [
        dns_record("C1", HOST, 10.0, 0.05, &["93.184.216.34", "93.184.216.35"]),
        // The connection to this answer started 90 s before the lookup: not a follow-up.
        dns_record("C4", HOST, 100.0, 0.05, &["93.184.216.34"]),
    ];
    attribute(
        &mut flows,
        &snaps,
        &CaptureEvidence::default(),
        &dns,
        &CorrelateOptions::default(),
    );
    assert_eq!(flows[0].process, None);
    assert_eq!(flows[0].unattributed_reason, Some("ambiguous"));
    assert_eq!(flows[3].process, None);
}

#[test]
fn lan_given_as_local_net_picks_the_end_the_snapshot_knows() {
    // --local-net covers the whole LAN; the snapshot is of 10.0.0.5, which served 10.0.0.9.
    let mut flows = [flow(
        1,
        Proto::Tcp,
        ("10.0.0.9", 51000),
        (HOST, 445),
        1.0,
        2.0,
    )];
    let snaps = [snapshot(
        1.5,
        &[tcp((HOST, 445), ("10.0.0.9", 51000), 4, "System")],
    )];
    let options = CorrelateOptions {
        local_nets: vec!["10.0.0.0/24".parse().unwrap()],
        ..CorrelateOptions::default()
    };
    attribute(
        &mut flows,
        &snaps,
        &CaptureEvidence::default(),
        &[],
        &options,
    );
    assert_eq!(flows[0].local_side, Some(LocalSide::Resp));
    assert_eq!(pid_of(&flows[0]), Some(4));
    assert_eq!(flows[0].resp_process, None);
    assert_eq!(flows[0].unattributed_reason, None);
}

#[test]
fn undirected_capture_evidence_needs_a_known_local_end() {
    // A pid on packets without direction, between two addresses nothing marks as local.
    let mut flows = [flow(
        1,
        Proto::Tcp,
        ("192.0.2.1", 1000),
        ("198.51.100.1", 80),
        1.0,
        2.0,
    )];
    let c = &flows[0].conn;
    let touch = FlowTouch {
        id: c.id,
        from_orig: true,
        created: true,
        proto: c.proto,
        orig_h: c.orig_h,
        orig_p: c.orig_p,
        resp_h: c.resp_h,
        resp_p: c.resp_p,
    };
    let meta = FrameMeta {
        process_id: Some(321),
        ..FrameMeta::default()
    };
    let mut ev = InCaptureEvidence::new();
    ev.observe(&touch, Some(&meta), None);
    let evidence = ev.finish(&[]);
    attribute(
        &mut flows,
        &[],
        &evidence,
        &[],
        &CorrelateOptions::default(),
    );
    assert_eq!(flows[0].process, None);
    assert_eq!(flows[0].unattributed_reason, Some("local_side_unknown"));
    // Once the user says which network is local, the pid goes to that end.
    let options = CorrelateOptions {
        local_nets: vec!["192.0.2.0/24".parse().unwrap()],
        ..CorrelateOptions::default()
    };
    attribute(&mut flows, &[], &evidence, &[], &options);
    let p = flows[0].process.as_ref().unwrap();
    assert_eq!((p.pid, p.evidence.as_str()), (Some(321), "epb_pid"));
}

#[test]
fn socket_shared_by_several_processes_is_ambiguous() {
    // ss: `users:(("master",pid=1978854,fd=86),("smtpd",pid=320188,fd=6))` on a listener.
    let mut flows = [flow(
        1,
        Proto::Tcp,
        ("1.2.3.4", 51000),
        (HOST, 587),
        1.0,
        2.0,
    )];
    let listener: SocketEntry = serde_json::from_value(serde_json::json!({
        "proto": "tcp", "local_addr": "0.0.0.0", "local_port": 587, "state": "LISTEN",
        "pid": 1978854, "process": "master",
        "other_owners": [{"pid": 320188, "process": "smtpd"}],
    }))
    .unwrap();
    let mut snap = snapshot(1.5, &[tcp((HOST, 40000), ("9.9.9.9", 443), 5, "other")]);
    snap.sockets.push(listener);
    run(&mut flows, &[snap]);
    assert_eq!(flows[0].local_side, Some(LocalSide::Resp));
    assert_eq!(flows[0].process, None);
    assert_eq!(flows[0].unattributed_reason, Some("ambiguous"));
}

#[test]
fn sysmon_dns_query_event_attributes_the_lookup() {
    let mut flows = [
        flow(1, Proto::Udp, (HOST, 40000), ("10.0.0.1", 53), 10.0, 10.05),
        flow(2, Proto::Udp, (HOST, 40001), ("10.0.0.1", 53), 20.0, 20.05),
    ];
    let mut sysmon: Snapshot = serde_json::from_value(serde_json::json!({
        "source": "sysmon",
        "sockets": [],
        "dns_queries": [
            {"time": 10.2, "pid": 416, "process": "chrome.exe", "query": "Example.COM.",
             "addrs": ["93.184.216.34"]},
            {"time": 20.1, "pid": 416, "process": "chrome.exe", "query": "other.example"},
            {"time": 20.3, "pid": 999, "process": "svchost.exe", "query": "other.example"},
        ],
    }))
    .unwrap();
    // Something that makes HOST local.
    sysmon
        .sockets
        .push(entry(&tcp((HOST, 50000), ("1.2.3.4", 443), 1, "x")));
    let mut other = dns_record("C2", HOST, 20.0, 0.05, &[]);
    other.query = Some("other.example".into());
    let dns = [
        dns_record("C1", HOST, 10.0, 0.05, &["93.184.216.34"]),
        other,
    ];
    let stats = attribute(
        &mut flows,
        &[sysmon],
        &CaptureEvidence::default(),
        &dns,
        &CorrelateOptions::default(),
    );
    let p = flows[0].process.as_ref().unwrap();
    assert_eq!(p.pid, Some(416));
    assert_eq!(p.evidence, "snapshot:sysmon");
    assert_eq!(p.quality, "dns_query_event");
    assert_eq!(stats.dns_query_event, 1);
    assert_eq!(flows[1].process, None);
    assert_eq!(flows[1].unattributed_reason, Some("ambiguous"));
}
