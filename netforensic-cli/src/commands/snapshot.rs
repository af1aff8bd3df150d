//! `netforensic snapshot`: this machine's process-socket table in the netforensic JSON
//! snapshot format (`netforensic_core::sockets::native_json`): one JSON line per snapshot,
//! flushed as soon as it is written, so a snapshot loop killed at any moment leaves whole
//! lines. Each line has `taken_at` (epoch seconds, a float, as Zeek's `ts`) and
//! `taken_at_rfc3339` (the same instant for humans), `host` and `os`.
//!
//! `--count N` takes N snapshots, `--interval SECS` apart (default 1 s); `--interval`
//! without `--count` runs until interrupted, for use alongside a running capture. What the
//! collector could not see (other users' processes without root) is said on stderr, once.

use crate::args::SnapshotArgs;
use crate::output;
use anyhow::{bail, Context};
use netforensic_core::sockets::{self, native_json};
use std::io::Write;
use std::time::{Duration, Instant};

/// Longest interval accepted (a day): longer is almost surely a unit mistake.
const MAX_INTERVAL_SECS: f64 = 86_400.0;
/// Interval when `--count` is given without `--interval`.
const DEFAULT_INTERVAL_SECS: f64 = 1.0;

pub fn run(args: SnapshotArgs) -> anyhow::Result<u8> {
    let interval_secs = args.interval.unwrap_or(DEFAULT_INTERVAL_SECS);
    if !(interval_secs.is_finite() && interval_secs > 0.0 && interval_secs <= MAX_INTERVAL_SECS) {
        bail!("--interval must be a number of seconds above 0 and at most {MAX_INTERVAL_SECS}");
    }
    let count = match (args.count, args.interval) {
        (Some(0), _) => bail!("--count must be at least 1"),
        (Some(n), _) => Some(n),
        (None, Some(_)) => None,
        (None, None) => Some(1),
    };
    let interval = Duration::from_secs_f64(interval_secs);
    let mut out = output::open(args.output.output.as_deref())?;
    let start = Instant::now();
    let mut warned = false;
    let mut taken: u32 = 0;
    loop {
        let collected = sockets::collect().context("cannot take a socket snapshot")?;
        if !warned {
            for warning in &collected.warnings {
                eprintln!(
                    "netforensic: {}",
                    netforensic_core::escape::terminal(warning)
                );
            }
            warned = true;
        }
        let line = native_json::to_line(&collected.snapshot)?;
        writeln!(out, "{line}")?;
        out.flush()?;
        taken = taken.saturating_add(1);
        if count.is_some_and(|n| taken >= n) {
            break;
        }
        // Sleep to the next tick of a fixed schedule, so snapshots do not drift.
        let next = interval.saturating_mul(taken);
        if let Some(wait) = next.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    Ok(crate::EXIT_OK)
}
