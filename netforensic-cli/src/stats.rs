//! What a run costs, for people watching big inputs: `--stats` prints packets, bytes, records,
//! elapsed time, throughput and peak memory to stderr at the end; a progress bar on stderr
//! shows bytes consumed, only when stderr is a terminal and only once a run has lasted a while
//! (short runs and pipes stay silent).

use indicatif::{ProgressBar, ProgressStyle};
use netforensic_core::capture::CaptureSummary;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A run shorter than this never shows a bar: it would only flicker.
const PROGRESS_DELAY: Duration = Duration::from_secs(1);
/// How often the bar reads the byte counter.
const PROGRESS_TICK: Duration = Duration::from_millis(100);

/// Totals over every input of one command.
pub struct RunStats {
    enabled: bool,
    started: Instant,
    packets: u64,
    bytes: u64,
    records: u64,
    /// What the records are called (`flows`, `DNS records`); empty when a command has none.
    noun: &'static str,
}

impl RunStats {
    pub fn new(enabled: bool) -> Self {
        RunStats {
            enabled,
            started: Instant::now(),
            packets: 0,
            bytes: 0,
            records: 0,
            noun: "",
        }
    }

    /// Account one input: its reader's summary and how many result records it gave.
    pub fn add_input(&mut self, summary: &CaptureSummary, records: u64, noun: &'static str) {
        self.packets += summary.packets;
        self.bytes += summary.bytes;
        self.records += records;
        self.noun = noun;
    }

    /// With `--stats`, one line on stderr.
    pub fn print(&self) {
        if !self.enabled {
            return;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let mb = self.bytes as f64 / 1e6;
        let rate = if elapsed > 0.0 { mb / elapsed } else { 0.0 };
        let memory = peak_memory_kib().map_or_else(
            || "unknown".to_string(),
            |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
        );
        let records = if self.noun.is_empty() {
            String::new()
        } else {
            format!("{} {}, ", self.records, self.noun)
        };
        eprintln!(
            "netforensic: stats: {} packets, {} bytes, {records}{elapsed:.3} s, {rate:.1} MB/s, \
             peak memory {memory}",
            self.packets, self.bytes
        );
    }
}

/// Peak resident memory of this process (`VmHWM` in `/proc/self/status`), on Linux.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A progress display for one input, fed by the analysis' byte counter. Dropping it removes
/// the bar.
pub struct Progress {
    counter: Option<Arc<AtomicU64>>,
    done: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// A bar for the input `name` (its size as the total when it is a file), or nothing when
    /// stderr is not a terminal.
    pub fn start(name: &str) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Progress {
                counter: None,
                done,
                ticker: None,
            };
        }
        let total = (name != "-")
            .then(|| std::fs::metadata(name).ok().map(|m| m.len()))
            .flatten();
        let counter = Arc::new(AtomicU64::new(0));
        let ticker = {
            let counter = Arc::clone(&counter);
            let done = Arc::clone(&done);
            std::thread::spawn(move || tick(&counter, &done, total))
        };
        Progress {
            counter: Some(counter),
            done,
            ticker: Some(ticker),
        }
    }

    /// The counter to hand to `AnalysisOptions::progress`.
    pub fn counter(&self) -> Option<Arc<AtomicU64>> {
        self.counter.clone()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

fn tick(counter: &AtomicU64, done: &AtomicBool, total: Option<u64>) {
    let started = Instant::now();
    let mut bar: Option<ProgressBar> = None;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(PROGRESS_TICK);
        if bar.is_none() && started.elapsed() >= PROGRESS_DELAY {
            let fresh = new_bar(total);
            // Start the rate estimate from here, not from a jump out of zero.
            fresh.set_position(counter.load(Ordering::Relaxed));
            fresh.reset_eta();
            bar = Some(fresh);
        }
        if let Some(bar) = &bar {
            bar.set_position(counter.load(Ordering::Relaxed));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

fn new_bar(total: Option<u64>) -> ProgressBar {
    match total {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {bytes} read, {binary_bytes_per_sec}")
            {
                bar.set_style(style);
            }
            bar
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_peak_memory_from_proc_status() {
        let status =
            "Name:\tnetforensic\nVmPeak:\t  200 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(12345));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }
}
