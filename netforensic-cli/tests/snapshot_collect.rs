//! `netforensic snapshot` on this machine: a TCP connection this test opens on loopback must
//! appear with this test process's PID (the kernel's own bookkeeping is the ground truth).

use netforensic_core::sockets::{load, TimeShift};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;

fn netforensic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netforensic"))
}

#[cfg(target_os = "linux")]
#[test]
fn snapshot_shows_our_connection_with_our_pid() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let server_port = listener.local_addr().unwrap().port();
    let client = TcpStream::connect((Ipv4Addr::LOCALHOST, server_port)).unwrap();
    let (_accepted, _) = listener.accept().unwrap();
    let client_port = client.local_addr().unwrap().port();
    let me = std::process::id();

    let output = netforensic().arg("snapshot").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["format"], "netforensic-sockets");
    assert_eq!(line["version"], 1);
    assert_eq!(line["os"], "linux");
    assert!(line["taken_at"].as_f64().unwrap() > 1.7e9);
    assert!(line["taken_at_rfc3339"].as_str().unwrap().ends_with('Z'));
    let sockets = line["sockets"].as_array().unwrap();
    let ours = |local: u16, remote: u16| {
        sockets
            .iter()
            .find(|s| s["proto"] == "tcp" && s["local_port"] == local && s["remote_port"] == remote)
    };
    let client_side = ours(client_port, server_port).expect("client socket listed");
    assert_eq!(client_side["pid"], me);
    assert_eq!(client_side["state"], "ESTABLISHED");
    assert_eq!(client_side["local_addr"], "127.0.0.1");
    let server_side = ours(server_port, client_port).expect("accepted socket listed");
    assert_eq!(server_side["pid"], me);
    let listening = sockets
        .iter()
        .find(|s| s["local_port"] == server_port && s["state"] == "LISTEN")
        .expect("listener listed");
    assert_eq!(listening["pid"], me);
    assert!(listening["remote_addr"].is_null());
    // The exe is this test binary.
    let exe = std::env::current_exe().unwrap();
    assert_eq!(client_side["exe"], exe.to_string_lossy().as_ref());
}

#[cfg(target_os = "linux")]
#[test]
fn periodic_snapshots_to_a_file_read_back() {
    let dir = std::env::temp_dir().join(format!("nf-snapshot-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("snaps.jsonl");
    let status = netforensic()
        .args(["snapshot", "--count", "2", "--interval", "0.2", "--output"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let loaded = load(file.to_str().unwrap(), TimeShift::ZERO).unwrap();
    assert_eq!(loaded.snapshots.len(), 2);
    let (a, b) = (
        loaded.snapshots[0].taken_at.unwrap(),
        loaded.snapshots[1].taken_at.unwrap(),
    );
    let gap = b.nanos_since(a);
    assert!((150_000_000..2_000_000_000).contains(&gap), "gap {gap} ns");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    for args in [["--count", "0"], ["--interval=-1", "--count=2"]] {
        let output = netforensic().arg("snapshot").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).starts_with("netforensic: "));
    }
}
