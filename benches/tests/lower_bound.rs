//! The lower-bound walk (byte ranges on threads, decode, 5-tuple map) counts what the
//! sequential reader counts, for any number of ranges: otherwise compare.sh's "lower bound"
//! would time a different amount of work. Not a timing test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the report

use netforensic_benches::generator::{generate, Format, GeneratorConfig};
use netforensic_benches::lower_bound::{walk_ranges, walk_sequential};
use netforensic_core::capture::CaptureSource;

#[test]
fn byte_ranges_count_what_the_sequential_reader_counts() {
    for format in [Format::Pcap, Format::Pcapng] {
        let path = std::env::temp_dir().join(format!(
            "netforensic-lower-bound-{}-{format:?}",
            std::process::id()
        ));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        // ~3 MB: a few thousand packets, so that each of 3 ranges holds many records.
        let generated = generate(&GeneratorConfig::new(3_000_000, format), &mut file).unwrap();
        drop(file);
        let source = || CaptureSource::File(path.clone());

        let sequential = walk_sequential(source()).unwrap();
        assert_eq!(sequential.packets, generated.packets, "{format:?}");
        assert!(sequential.tuples.len() > 100, "{format:?}");
        for threads in [1, 2, 3] {
            let ranges = walk_ranges(&source, generated.bytes, threads).unwrap();
            assert_eq!(ranges.packets, sequential.packets, "{format:?} {threads}");
            assert_eq!(ranges.decoded, sequential.decoded, "{format:?} {threads}");
            assert_eq!(
                ranges.tuples.len(),
                sequential.tuples.len(),
                "{format:?} {threads}"
            );
            // The same packets per tuple, not just as many tuples.
            assert!(ranges.tuples == sequential.tuples, "{format:?} {threads}");
        }
        std::fs::remove_file(&path).unwrap();
    }
}
