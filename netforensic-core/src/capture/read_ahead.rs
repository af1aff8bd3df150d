//! A byte stream read on a thread of its own, a few chunks ahead of its consumer: decompressing
//! gzip then runs beside the walk and decode of the bytes already read, instead of between
//! them.

use std::io::{self, Read};
use std::sync::mpsc;

/// Bytes per chunk handed over: a few pipe reads' worth, small enough that the chunks in
/// flight stay in cache and add little to a stream's memory (standard input is held to a
/// peak under 128 MiB).
const CHUNK: usize = 256 * 1024;
/// Chunks read and not yet consumed before the reading thread waits.
const CHUNKS_AHEAD: usize = 4;

/// The consuming end: reads what the thread read, in order, then its end or its error.
pub(crate) struct ReadAhead {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    /// Consumed chunks go back to the thread to be filled again (no allocation per chunk).
    spare: mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    /// Bytes of `current` already consumed.
    at: usize,
    /// The thread reported the end or an error: nothing more will come.
    done: bool,
}

impl ReadAhead {
    /// Read `inner` on a new thread. When no thread can be started, `inner` is handed back
    /// (the caller reads it directly, as it would without this).
    ///
    /// If the consumer is dropped early, the thread ends at its next chunk (a stream that
    /// never delivers keeps it waiting in `read` until it does or the process ends).
    pub(crate) fn start(inner: Box<dyn Read + Send>) -> Result<Self, Box<dyn Read + Send>> {
        let (handover, receive_inner) = mpsc::channel::<Box<dyn Read + Send>>();
        let (chunk_tx, chunks) = mpsc::sync_channel(CHUNKS_AHEAD);
        let (spare, spare_rx) = mpsc::channel();
        let started = std::thread::Builder::new()
            .name("netforensic-read".into())
            .spawn(move || {
                if let Ok(inner) = receive_inner.recv() {
                    read_chunks(inner, &chunk_tx, &spare_rx);
                }
            });
        if started.is_err() {
            return Err(inner);
        }
        // The thread waits for the stream: it is alive, so the send cannot fail.
        let _ = handover.send(inner);
        Ok(ReadAhead {
            chunks,
            spare,
            current: Vec::new(),
            at: 0,
            done: false,
        })
    }
}

/// The thread's loop: fill a chunk, send it, until the end, an error, or nobody listens.
fn read_chunks(
    mut inner: Box<dyn Read + Send>,
    chunks: &mpsc::SyncSender<io::Result<Vec<u8>>>,
    spare: &mpsc::Receiver<Vec<u8>>,
) {
    loop {
        let mut chunk = spare.try_recv().unwrap_or_default();
        // Only bytes past the previous length are written (a reused chunk is full length).
        chunk.resize(CHUNK, 0);
        let mut filled = 0;
        let mut failure = None;
        while filled < CHUNK {
            let space = chunk.get_mut(filled..).unwrap_or_default();
            // A panic in the stream (a decompressor's bug) must read as a failure after the
            // bytes before it, not as the end of the input: a cut capture would pass for whole.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.read(space)))
                .unwrap_or_else(|_| Err(io::Error::other("the stream's reader panicked")));
            match read {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let end = filled < CHUNK;
        chunk.truncate(filled);
        if filled > 0 && chunks.send(Ok(chunk)).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = chunks.send(Err(e));
            return;
        }
        if end {
            return;
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let left = self.current.get(self.at..).unwrap_or_default();
            if !left.is_empty() {
                let n = left.len().min(out.len());
                out.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(left.get(..n).unwrap_or_default());
                self.at += n;
                return Ok(n);
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            let used = std::mem::take(&mut self.current);
            if used.capacity() > 0 {
                let _ = self.spare.send(used);
            }
            self.at = 0;
            match self.chunks.recv() {
                Ok(Ok(chunk)) => self.current = chunk,
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread ended: the stream did.
                Err(_) => self.done = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out a few bytes per call, then fails if told to.
    struct Trickle {
        data: std::io::Cursor<Vec<u8>>,
        fail_at_end: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(7);
            let got = self.data.read(out.get_mut(..n).unwrap_or_default())?;
            if got == 0 && self.fail_at_end {
                return Err(io::Error::other("cable cut"));
            }
            Ok(got)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn reads_the_same_bytes_in_order() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let expected = data(len);
            let inner = Box::new(Trickle {
                data: std::io::Cursor::new(expected.clone()),
                fail_at_end: false,
            });
            let mut ahead = ReadAhead::start(inner).ok().expect("a thread");
            let mut got = Vec::new();
            ahead.read_to_end(&mut got).unwrap();
            assert_eq!(got, expected, "{len} bytes");
            assert_eq!(ahead.read(&mut [0; 4]).unwrap(), 0, "stays at its end");
        }
    }

    /// A stream that panics after its first bytes.
    struct Panicking(bool);

    impl Read for Panicking {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                panic!("decompressor bug");
            }
            out.fill(7);
            Ok(out.len().min(10))
        }
    }

    #[test]
    fn a_panicking_stream_ends_in_an_error() {
        let mut ahead = ReadAhead::start(Box::new(Panicking(false)))
            .ok()
            .expect("a thread");
        let mut got = Vec::new();
        let error = ahead.read_to_end(&mut got).unwrap_err();
        assert_eq!(got, [7; 10], "the bytes before the panic");
        assert_eq!(error.to_string(), "the stream's reader panicked");
    }

    #[test]
    fn an_error_comes_after_the_bytes_read_before_it() {
        let expected = data(CHUNK + 5);
        let inner = Box::new(Trickle {
            data: std::io::Cursor::new(expected.clone()),
            fail_at_end: true,
        });
        let mut ahead = ReadAhead::start(inner).ok().expect("a thread");
        let mut got = vec![0; expected.len() + 100];
        let mut filled = 0;
        let error = loop {
            match ahead.read(&mut got[filled..]) {
                Ok(0) => panic!("the error was lost"),
                Ok(n) => filled += n,
                Err(e) => break e,
            }
        };
        assert_eq!(&got[..filled], &expected[..]);
        assert_eq!(error.to_string(), "cable cut");
        assert_eq!(ahead.read(&mut got).unwrap(), 0, "then the end");
    }

    /// An endless stream that tells when it is dropped (with the thread that owns it): its
    /// field is only there to be counted.
    struct Endless(#[allow(dead_code)] std::sync::Arc<()>);

    impl Read for Endless {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            out.fill(1);
            Ok(out.len())
        }
    }

    #[test]
    fn dropping_the_consumer_ends_the_thread() {
        let alive = std::sync::Arc::new(());
        let inner = Box::new(Endless(std::sync::Arc::clone(&alive)));
        let mut ahead = ReadAhead::start(inner).ok().expect("a thread");
        let mut some = [0; 10];
        ahead.read_exact(&mut some).unwrap();
        assert_eq!(some, [1; 10]);
        drop(ahead);
        // The thread stops at its next send and drops the stream (bounded wait).
        for _ in 0..500 {
            if std::sync::Arc::strong_count(&alive) == 1 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the reading thread is still running");
    }
}
