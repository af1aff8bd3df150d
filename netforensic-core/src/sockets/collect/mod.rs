//! Collectors: this machine's process-socket table, now. The OS switch lives here only;
//! each OS module exposes the same `collect()`.

use super::Snapshot;
use crate::Error;

#[cfg(target_os = "linux")]
mod linux;

/// A snapshot of this machine and what the collector could not see.
#[derive(Clone, Debug, PartialEq)]
pub struct Collected {
    pub snapshot: Snapshot,
    pub warnings: Vec<String>,
}

/// Take a snapshot of this machine's sockets and their owners.
#[cfg(target_os = "linux")]
pub fn collect() -> Result<Collected, Error> {
    linux::collect()
}

/// Take a snapshot of this machine's sockets and their owners.
#[cfg(not(target_os = "linux"))]
pub fn collect() -> Result<Collected, Error> {
    Err(Error::new(
        crate::ErrorKind::InvalidArgument,
        unsupported_message(),
    ))
}

/// What to run instead where no collector exists; the outputs import with `--sockets`.
pub fn unsupported_message() -> &'static str {
    if cfg!(target_os = "macos") {
        "no collector for macOS yet: run `sudo lsof -i -n -P +c 0 > sockets.txt` (repeat with \
         `# taken_at:` lines for periodic snapshots) and pass it with --sockets"
    } else if cfg!(target_os = "windows") {
        "no collector for Windows yet: run `netstat -anob > sockets.txt` (as Administrator) or \
         `netstat -ano > sockets.txt` and `tasklist /fo csv >> sockets.txt`, and pass it with \
         --sockets"
    } else {
        "no collector for this operating system: export its socket table with lsof or netstat \
         and pass it with --sockets"
    }
}
