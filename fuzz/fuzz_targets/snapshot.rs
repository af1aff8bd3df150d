//! Any text through every socket-snapshot importer: format detection plus each parser
//! forced on the text (so a parser is reached even when detection would pick another), then
//! process naming over what was imported.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netforensic_core::sockets::{self, detect};

/// Header lines that make `detect` pick each text format, prepended to the input.
const HEADERS: [&str; 8] = [
    "{\"format\": \"netforensic-sockets\", \"version\": 1}\n",
    "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n",
    "Proto Recv-Q Send-Q Local Address Foreign Address State PID/Program name\n",
    "  Proto  Local Address          Foreign Address        State           PID\n",
    "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n",
    "\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\"\n",
    "Process Name,PID,Protocol,State,Local Address,Local Port,Remote Address,Remote Port\n",
    "<Events><Event><System><EventID>3</EventID></System><EventData><Data Name=\"Image\">\n",
];

fn import(text: &str) {
    if let Ok(mut imported) = detect::import(text) {
        sockets::name_processes(&mut imported.snapshots);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = detect::detect(&text);
    import(&text);
    // The first byte picks a header to force a format; the rest follows it.
    if let Some((&selector, rest)) = data.split_first() {
        if let Some(header) = HEADERS.get(usize::from(selector % 8)) {
            let mut forced = String::from(*header);
            forced.push_str(&String::from_utf8_lossy(rest));
            import(&forced);
        }
    }
});
