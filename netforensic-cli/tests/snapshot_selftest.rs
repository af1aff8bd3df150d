//! `netforensic snapshot`, run on this machine during a loopback capture
//! (testdata/scripts/record-snapshot-selftest.sh), fed back into `flows --sockets`: every
//! connection is attributed to the client pid that the client program itself printed
//! (truth.jsonl), and the loopback server to the server's pid, both with `exact` quality.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failure should panic

use std::path::PathBuf;
use std::process::Command;

fn recording() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/recordings/snapshot-selftest")
}

#[test]
fn snapshot_taken_here_attributes_the_capture() {
    let dir = recording();
    let truth: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("truth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let server_pid: u64 = std::fs::read_to_string(dir.join("server.txt"))
        .unwrap()
        .trim()
        .trim_start_matches("server pid: ")
        .parse()
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_netforensic"))
        .args(["flows", "--format", "jsonl"])
        .arg(dir.join("capture.pcap"))
        .arg("--sockets")
        .arg(dir.join("sockets.jsonl"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let flows: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        flows.len(),
        truth.len(),
        "one flow per connection the client made"
    );
    for expected in &truth {
        let port = expected["local_port"].as_u64().unwrap();
        let flow = flows
            .iter()
            .find(|f| f["id.orig_p"].as_u64() == Some(port))
            .unwrap_or_else(|| panic!("no flow from client port {port}"));
        assert_eq!(flow["local_side"], "orig");
        assert_eq!(flow["process"]["pid"], expected["pid"]);
        assert_eq!(flow["process"]["name"], expected["program"]);
        assert_eq!(flow["process"]["evidence"], "snapshot:netforensic");
        assert_eq!(flow["process"]["quality"], "exact");
        assert_eq!(flow["resp_process"]["pid"].as_u64(), Some(server_pid));
        assert_eq!(flow["resp_process"]["name"], "selftest-server");
    }
}
