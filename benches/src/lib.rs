//! Deterministic capture generator for benchmarks (see `generator`).
#![forbid(unsafe_code)]
