//! Importers over outputs recorded on a real Linux machine (testdata/snapshots/, see
//! testdata/provenance/sockets.tsv). Ground truth: `ps` at recording time
//! (linux-ground-truth-ps.txt): 13836 = `python3 -m http.server 8765 --bind 127.0.0.1`,
//! 13916 = a python3 client holding 127.0.0.1:58666->8765, UDP [::]:56603 and a connected
//! UDP 127.0.0.1:60198->127.0.0.1:9; 14340 = a client renamed "evil beacon" (prctl).
//! Three independent tools (ss, netstat, lsof) must agree with it and with each other.

use netforensic_core::flow::Proto;
use netforensic_core::sockets::detect::{detect, import, Format};
use netforensic_core::sockets::{load, Snapshot, SnapshotSource, TimeOrigin, TimeShift};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/snapshots")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn one(name: &str) -> Snapshot {
    let imported = import(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    match <[Snapshot; 1]>::try_from(imported.snapshots) {
        Ok([snapshot]) => snapshot,
        Err(all) => panic!("{name}: {} snapshots, expected 1", all.len()),
    }
}

/// (proto, local port, remote port, pid) of every owned socket.
fn owned(s: &Snapshot) -> BTreeSet<(Proto, u16, Option<u16>, u32)> {
    s.sockets
        .iter()
        .filter_map(|e| e.pid.map(|pid| (e.proto, e.local_port, e.remote_port, pid)))
        .collect()
}

fn truth() -> BTreeSet<(Proto, u16, Option<u16>, u32)> {
    [
        (Proto::Tcp, 8765, None, 13836),
        (Proto::Tcp, 8765, Some(58666), 13836),
        (Proto::Tcp, 58666, Some(8765), 13916),
        (Proto::Udp, 56603, None, 13916),
        (Proto::Udp, 60198, Some(9), 13916),
    ]
    .into_iter()
    .collect()
}

#[test]
fn formats_are_recognised_by_content() {
    for (name, format) in [
        ("linux-ss-tunap.txt", Format::Ss),
        ("linux-ss-tunape.txt", Format::Ss),
        ("linux-ss-tnap-no-netid-space-name.txt", Format::Ss),
        ("linux-netstat-tunap.txt", Format::NetstatLinux),
        ("linux-netstat-anope.txt", Format::NetstatLinux),
        ("linux-netstat-tunap-nonroot.txt", Format::NetstatLinux),
        ("linux-lsof-i-n-P.txt", Format::Lsof),
        ("linux-lsof-i-n-P-c0.txt", Format::Lsof),
    ] {
        assert_eq!(detect(&read(name)), Some(format), "{name}");
    }
    assert_eq!(detect(&read("linux-ground-truth-ps.txt")), None);
}

#[test]
fn ss_netstat_and_lsof_agree_with_ground_truth() {
    for name in [
        "linux-ss-tunap.txt",
        "linux-ss-tunape.txt",
        "linux-netstat-tunap.txt",
        "linux-netstat-anope.txt",
        "linux-lsof-i-n-P.txt",
        "linux-lsof-i-n-P-c0.txt",
    ] {
        assert_eq!(owned(&one(name)), truth(), "{name}");
    }
}

#[test]
fn ss_details() {
    let s = one("linux-ss-tunape.txt");
    assert_eq!(s.source, SnapshotSource::Ss);
    assert_eq!(s.sockets.len(), 7);
    // Sockets nobody visible owns: the listener on 2024 (another namespace) and TIME-WAIT.
    let unowned: Vec<(u16, Option<&str>)> = s
        .sockets
        .iter()
        .filter(|e| e.pid.is_none())
        .map(|e| (e.local_port, e.state.as_deref()))
        .collect();
    assert_eq!(
        unowned,
        vec![(2024, Some("LISTEN")), (8765, Some("TIME_WAIT"))]
    );
    let dual_stack = s.sockets.iter().find(|e| e.local_port == 56603).unwrap();
    assert_eq!(dual_stack.local_addr, None); // `*`
    assert_eq!(dual_stack.inode, Some(24489));
    // Inodes agree with the kernel's table recorded at the same moment.
    let kernel = read("linux-proc-net-tcp.txt");
    for e in s.sockets.iter().filter(|e| e.proto == Proto::Tcp) {
        if let Some(inode) = e.inode {
            assert!(kernel.contains(&format!(" {inode} ")), "inode {inode}");
        }
    }
}

#[test]
fn netstat_reads_udp6_wildcard_and_extended_columns() {
    let s = one("linux-netstat-anope.txt");
    let udp6 = s.sockets.iter().find(|e| e.local_port == 56603).unwrap();
    assert_eq!(udp6.local_addr, Some("::".parse::<IpAddr>().unwrap()));
    assert_eq!(udp6.user.as_deref(), Some("0"));
    assert_eq!(udp6.inode, Some(24489));
    let listener = s.sockets.iter().find(|e| e.inode == Some(24383)).unwrap();
    assert_eq!(listener.process.as_deref(), Some("python3"));
}

#[test]
fn names_with_spaces() {
    let ss = one("linux-ss-tnap-no-netid-space-name.txt");
    let beacon = ss.sockets.iter().find(|e| e.pid == Some(14340)).unwrap();
    assert_eq!(beacon.process.as_deref(), Some("evil beacon"));
    assert_eq!(beacon.proto, Proto::Tcp);
    let full = one("linux-lsof-c0-space-name.txt");
    let beacon = full.sockets.iter().find(|e| e.pid == Some(14340)).unwrap();
    assert_eq!(beacon.process.as_deref(), Some("evil beacon"));
    let truncated = one("linux-lsof-space-name.txt");
    let beacon = truncated
        .sockets
        .iter()
        .find(|e| e.pid == Some(14340))
        .unwrap();
    assert_eq!(beacon.process.as_deref(), Some("evil b"));
}

#[test]
fn without_root_nothing_is_owned_and_it_is_said() {
    let imported = import(&read("linux-netstat-tunap-nonroot.txt")).unwrap();
    assert!(owned(&imported.snapshots[0]).is_empty());
    assert_eq!(imported.snapshots[0].sockets.len(), 9);
    assert!(imported.warnings.iter().any(|w| w.contains("root")));
    let ss = one("linux-ss-tunap-nonroot.txt");
    assert!(owned(&ss).is_empty());
    assert_eq!(ss.sockets.len(), 9);
}

#[test]
fn snapshot_time_rule_and_shift() {
    let file = path("linux-ss-tunap.txt");
    let spec = format!("{}@2026-11-24T22:47:50Z", file.display());
    let loaded = load(&spec, TimeShift::from_secs_f64(-2.0).unwrap()).unwrap();
    let s = &loaded.snapshots[0];
    assert_eq!(s.time_origin, Some(TimeOrigin::User));
    // 2026-11-24T22:47:50Z = 1795560470 (`date -u -d ... +%s`), minus the 2 s shift.
    assert_eq!(s.taken_at.map(|t| t.secs()), Some(1_795_560_468));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let loaded = load(file.to_str().unwrap(), TimeShift::ZERO).unwrap();
    assert_eq!(loaded.snapshots[0].time_origin, Some(TimeOrigin::FileMtime));
    assert!(loaded
        .warnings
        .iter()
        .any(|w| w.contains("modification time")));
    assert_eq!(loaded.snapshots[0].origin.as_deref(), file.to_str());
}

#[test]
fn missing_file_and_unknown_format_name_the_file() {
    let err = load("/nonexistent/ss.txt", TimeShift::ZERO).unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/ss.txt: "));
    let ps = path("linux-ground-truth-ps.txt");
    let err = load(ps.to_str().unwrap(), TimeShift::ZERO).unwrap_err();
    assert!(err.to_string().contains("linux-ground-truth-ps.txt: "));
}

#[test]
fn windows_encodings_from_files() {
    let dir = std::env::temp_dir().join(format!("nf-sockets-enc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // PowerShell `netstat -ano > f` writes UTF-16LE with a BOM.
    let text = "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n  TCP    127.0.0.1:1031         127.0.0.1:1032         ESTABLISHED     10644\r\n";
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let f = dir.join("ps-redirect.txt");
    std::fs::write(&f, utf16).unwrap();
    let spec = format!("{}@2026-01-01T00:00:00Z", f.display());
    let loaded = load(&spec, TimeShift::ZERO).unwrap();
    assert_eq!(loaded.snapshots[0].sockets[0].pid, Some(10644));
    // cmd on German Windows writes code page 850: 0x99 is Ö.
    let mut cp850 =
        b"  Proto  Lokale Adresse         Remoteadresse          Status           PID\r\n".to_vec();
    cp850.extend_from_slice(
        b"  TCP    0.0.0.0:135            0.0.0.0:0              ABH\x99REN         1128\r\n",
    );
    let f = dir.join("cmd-redirect.txt");
    std::fs::write(&f, cp850).unwrap();
    let spec = format!("{}@2026-01-01T00:00:00Z", f.display());
    let loaded = load(&spec, TimeShift::ZERO).unwrap();
    assert_eq!(
        loaded.snapshots[0].sockets[0].state.as_deref(),
        Some("LISTEN")
    );
    assert!(loaded.warnings.iter().any(|w| w.contains("code page 850")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_at_every_length_never_panics() {
    for name in [
        "linux-ss-tunape.txt",
        "linux-netstat-anope.txt",
        "linux-lsof-i-n-P-c0.txt",
        "linux-ss-tnap-no-netid-space-name.txt",
    ] {
        let text = read(name);
        for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let _ = import(&text[..end]);
        }
    }
}

#[test]
fn periodic_listings_with_markers() {
    // Ground truth (recorded with the file): http.server = pid 2896, "shortlived" = pid 2981,
    // which connected after the first listing.
    let file = path("linux-ss-periodic.txt");
    let loaded = load(file.to_str().unwrap(), TimeShift::ZERO).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let s = &loaded.snapshots;
    assert_eq!(s.len(), 3);
    assert!(s[0].sockets.is_empty());
    for snapshot in &s[1..] {
        let client = snapshot
            .sockets
            .iter()
            .find(|e| e.local_port == 59902)
            .unwrap();
        assert_eq!(client.pid, Some(2981));
        assert_eq!(client.process.as_deref(), Some("shortlived"));
        assert_eq!(snapshot.time_origin, Some(TimeOrigin::Format));
    }
    // 2026-11-24T23:02:15.425076744Z: 1795561335 s (`date -u -d ... +%s`).
    assert_eq!(s[1].taken_at.map(|t| t.secs()), Some(1_795_561_335));
    assert_eq!(s[1].taken_at.map(|t| t.subsec_nanos()), Some(425_076_744));
}

#[test]
fn tasklist_file_names_netstat_file_pids() {
    let dir = std::env::temp_dir().join(format!("nf-sockets-join-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let netstat = dir.join("netstat.txt");
    std::fs::write(
        &netstat,
        "  Proto  Local Address          Foreign Address        State           PID\r\n  TCP    192.168.31.221:1053    66.102.1.188:5228      ESTABLISHED     19692\r\n",
    )
    .unwrap();
    let tasks = dir.join("tasklist.csv");
    std::fs::write(
        &tasks,
        "\"chrome.exe\",\"19692\",\"Console\",\"1\",\"301.112 K\"\r\n",
    )
    .unwrap();
    let specs = [
        format!("{}@2026-01-01T00:00:00Z", netstat.display()),
        format!("{}@2026-01-01T00:00:01Z", tasks.display()),
    ];
    let loaded = netforensic_core::sockets::load_all(&specs, TimeShift::ZERO).unwrap();
    let socket = &loaded.snapshots[0].sockets[0];
    assert_eq!(socket.process.as_deref(), Some("chrome.exe"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn windows_netstat_anob_excerpt() {
    // Expected counts from grep over the file (independent of the parser): 23 rows
    // (`^  (TCP|UDP) `), 19 `[image]` lines, 7 component lines, 2 rows with PID 0, 9
    // LISTENING, 4 UDP.
    let imported = import(&read("windows10-netstat-anob-excerpt.txt")).unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let s = &imported.snapshots[0];
    assert_eq!(s.source, SnapshotSource::NetstatWindows);
    assert_eq!(s.sockets.len(), 23);
    assert_eq!(s.sockets.iter().filter(|e| e.process.is_some()).count(), 19);
    assert_eq!(s.sockets.iter().filter(|e| e.module.is_some()).count(), 7);
    assert_eq!(s.sockets.iter().filter(|e| e.pid.is_none()).count(), 2);
    let listen = s
        .sockets
        .iter()
        .filter(|e| e.state.as_deref() == Some("LISTEN"))
        .count();
    assert_eq!(listen, 9);
    assert_eq!(
        s.sockets.iter().filter(|e| e.proto == Proto::Udp).count(),
        4
    );
    let helper = s.sockets.iter().find(|e| e.local_port == 29802).unwrap();
    assert_eq!(helper.process.as_deref(), Some("NVIDIA Web Helper.exe"));
    let wpn = s.sockets.iter().find(|e| e.local_port == 49472).unwrap();
    assert_eq!(
        (wpn.pid, wpn.module.as_deref(), wpn.process.as_deref()),
        (Some(7920), Some("WpnService"), Some("svchost.exe"))
    );
}
