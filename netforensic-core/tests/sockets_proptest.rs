//! Hostile input: every importer on random text, on random lines mixed into real headers,
//! and on real samples with random bytes spliced in, returns (Ok or Err) and never panics.

use netforensic_core::sockets::{
    detect, lsof, native_json, netstat_linux, netstat_windows, ss, sysmon, tasklist, tcpview,
};
use proptest::prelude::*;

type Parser = fn(&str) -> Result<netforensic_core::sockets::Imported, netforensic_core::Error>;

const PARSERS: [Parser; 9] = [
    detect::import,
    ss::parse,
    netstat_linux::parse,
    netstat_windows::parse,
    lsof::parse,
    tasklist::parse,
    tcpview::parse,
    sysmon::parse,
    native_json::parse,
];

/// Headers (and a first row) of every format, so random rows reach the row parsers.
const HEADERS: [&str; 9] = [
    "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n",
    "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n",
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name     Timer\n",
    "  Proto  Local Address          Foreign Address        State           PID\n",
    "COMMAND   PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n",
    "\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\"\n",
    "svchost.exe,5124,TCP,Established,192.168.18.198,49710,23.194.99.73,443,10/4/2025 7:53:23 PM,W,,,,\n",
    "<Event><System><EventID>22</EventID></System><EventData><Data Name=\"QueryName\">a</Data>",
    "{\"format\":\"netforensic-sockets\",\"version\":1,\"sockets\":[]}\n",
];

/// Pieces that look like the formats' fields, to build nearly-valid rows.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("tcp".to_string()),
        Just("UDP".to_string()),
        Just("ESTAB".to_string()),
        Just("users:((\"a\",pid=1,fd=3),(\"".to_string()),
        Just("[::ffff:1.2.3.4]:80".to_string()),
        Just("*:*".to_string()),
        Just("127.0.0.53%lo:53".to_string()),
        Just("1/x".to_string()),
        Just("(ESTABLISHED)".to_string()),
        Just("IPv4".to_string()),
        Just("->".to_string()),
        Just("\"".to_string()),
        Just(",".to_string()),
        Just("type: 5 x;::ffff:1.2.3.4;".to_string()),
        Just("<Data Name=\"ProcessId\">".to_string()),
        Just("</Event>".to_string()),
        Just("&#x0;&amp;".to_string()),
        Just("# taken_at: 2026-11-24T10:00:00Z\n".to_string()),
        "[0-9]{1,12}".prop_map(|s| s),
        "\\PC{0,12}".prop_map(|s| s),
    ]
}

fn line() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..12).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        for parse in PARSERS {
            let _ = parse(&text);
        }
    }

    #[test]
    fn random_rows_under_real_headers_never_panic(
        header in 0..HEADERS.len(),
        lines in prop::collection::vec(line(), 0..20),
    ) {
        let text = format!("{}{}\n", HEADERS[header], lines.join("\n"));
        for parse in PARSERS {
            let _ = parse(&text);
        }
    }
}
