//! The core's one error type: a kind plus the context needed to act on it (which file, which
//! packet, which byte), rendered as a full sentence.

use std::fmt;
use std::path::PathBuf;

/// What went wrong, coarsely: callers branch on this, humans read [`Error`]'s message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be opened, mapped or read.
    Io,
    /// The input is not a capture (or snapshot) format we know, or its header is invalid.
    UnknownFormat,
    /// The input's structure is broken where nothing after it can be trusted.
    Corrupt,
    /// A caller passed an invalid argument (bad time, bad CIDR, ...).
    InvalidArgument,
    /// Writing output failed.
    Output,
}

/// An error with its context. `Display` gives one line: path, packet index and byte offset
/// where known, then what was wrong and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub path: Option<PathBuf>,
    pub frame_index: Option<u64>,
    pub offset: Option<u64>,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            path: None,
            frame_index: None,
            offset: None,
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        Error::new(ErrorKind::Io, err.to_string()).with_path(path)
    }

    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn at_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    pub fn at_frame(mut self, index: u64) -> Self {
        self.frame_index = Some(index);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", crate::escape::terminal(&path.to_string_lossy()))?;
        }
        if let Some(index) = self.frame_index {
            write!(f, "packet {}: ", index + 1)?;
        }
        if let Some(offset) = self.offset {
            write!(f, "byte offset {offset}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}
