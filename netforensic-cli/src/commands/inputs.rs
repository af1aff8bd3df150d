//! Shared input handling: capture names to sources, threads, exit status from damage.

use netforensic_core::capture::CaptureSource;

#[allow(dead_code)] // used as the commands land
pub fn set_threads(threads: usize) -> anyhow::Result<()> {
    let _ = threads;
    Ok(())
}

/// `-` is standard input; anything else a file path.
#[allow(dead_code)] // used as the commands land
pub fn source_for(name: &str) -> CaptureSource {
    if name == "-" {
        CaptureSource::Stream {
            name: "-".to_string(),
            reader: Box::new(std::io::stdin()),
        }
    } else {
        CaptureSource::File(name.into())
    }
}
