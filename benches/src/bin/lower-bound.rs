//! `lower-bound CAPTURE THREADS [--check]`: the lower bound for `flows` on a file
//! (byte-range split, record walk, decode, 5-tuple hash map; see
//! `netforensic_benches::lower_bound`). Prints packets, decoded packets, distinct 5-tuples and
//! seconds as one JSON line on stdout. With `--check`, the counts are then compared with a
//! sequential walk (outside the timed part), and a difference in packets exits 1.

use netforensic_benches::lower_bound::{walk_ranges, walk_sequential};
use netforensic_core::capture::CaptureSource;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    args.retain(|a| a != "--check");
    let [path, threads] = args.as_slice() else {
        eprintln!("usage: lower-bound CAPTURE THREADS [--check]");
        return ExitCode::from(2);
    };
    let Some(threads) = threads.parse::<usize>().ok().filter(|&n| n > 0) else {
        eprintln!("lower-bound: bad thread count {threads:?}");
        return ExitCode::from(2);
    };
    let path = PathBuf::from(path);
    let len = match std::fs::metadata(&path) {
        Ok(meta) => meta.len(),
        Err(err) => {
            eprintln!("lower-bound: {}: {err}", path.display());
            return ExitCode::from(2);
        }
    };
    let source = || CaptureSource::File(path.clone());

    let start = Instant::now();
    let ranges = match walk_ranges(&source, len, threads) {
        Ok(walk) => walk,
        Err(err) => {
            eprintln!("lower-bound: {err}");
            return ExitCode::from(2);
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"threads\":{threads},\"packets\":{},\"decoded\":{},\"tuples\":{},\"seconds\":{seconds:.3}}}",
        ranges.packets,
        ranges.decoded,
        ranges.tuples.len()
    );
    if !check {
        return ExitCode::SUCCESS;
    }

    let sequential = match walk_sequential(source()) {
        Ok(walk) => walk,
        Err(err) => {
            eprintln!("lower-bound: {err}");
            return ExitCode::from(2);
        }
    };
    if sequential.packets != ranges.packets {
        eprintln!(
            "lower-bound: {threads} byte ranges read {} packets, the sequential reader {}",
            ranges.packets, sequential.packets
        );
        return ExitCode::from(1);
    }
    // Fragments split across ranges are not reassembled there (see the module): a note,
    // not a failure.
    if sequential.tuples != ranges.tuples {
        eprintln!(
            "lower-bound: note: {} distinct 5-tuples over byte ranges, {} sequentially \
             (IP fragments split across ranges?)",
            ranges.tuples.len(),
            sequential.tuples.len()
        );
    }
    eprintln!("lower-bound: check passed: {} packets", ranges.packets);
    ExitCode::SUCCESS
}
