//! Any bytes as a capture through the whole analysis (flows, DNS, naming, report records),
//! on one thread so a failure reproduces; then through the streamed analysis with tiny epochs
//! (connections written as they end, named and attributed epoch by epoch).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netforensic_core::analysis::{
    analyze_capture, analyze_capture_streamed, AnalysisOptions, StreamOutput,
};
use netforensic_core::correlate::CorrelateOptions;
use netforensic_core::capture::CaptureSource;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let options = AnalysisOptions {
        threads: Some(1),
        ..AnalysisOptions::default()
    };
    let source = CaptureSource::Bytes {
        name: "fuzz".into(),
        bytes: Arc::from(data),
    };
    let _ = analyze_capture("fuzz", source, &options);

    let options = AnalysisOptions {
        epoch_packets: 5,
        ..options
    };
    let source = CaptureSource::Bytes {
        name: "fuzz".into(),
        bytes: Arc::from(data),
    };
    let correlate = CorrelateOptions::default();
    let mut sink = |_: &[netforensic_core::report::FlowRecord]| Ok(());
    let output = StreamOutput {
        snapshots: &[],
        correlate: &correlate,
        sink: &mut sink,
    };
    let _ = analyze_capture_streamed("fuzz", source, &options, output);
});
