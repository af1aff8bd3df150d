//! Any bytes as a capture through the whole analysis (flows, DNS, naming, report records),
//! on one thread so a failure reproduces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netforensic_core::analysis::{analyze_capture, AnalysisOptions};
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
});
