//! SHA-256 of inputs, for chain-of-custody lines in `info` and the report: of a file's bytes,
//! or of the bytes a stream delivered while the reader consumed it.

use crate::Error;
use ring::digest::{Context, SHA256};
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Lowercase hex SHA-256 of a file's bytes, read in bounded chunks.
pub fn sha256_file(path: &Path) -> Result<String, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, &e))?;
    let mut hasher = Context::new(&SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, &e)),
        }
    }
    Ok(hex(hasher.finish().as_ref()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest a [`HashingReader`] feeds; read it when the reader is done.
#[derive(Clone)]
pub struct Sha256Handle(Arc<Mutex<Context>>);

impl Default for Sha256Handle {
    fn default() -> Self {
        Sha256Handle(Arc::new(Mutex::new(Context::new(&SHA256))))
    }
}

impl Sha256Handle {
    /// Lowercase hex of everything hashed so far.
    pub fn hex(&self) -> Option<String> {
        let guard = self.0.lock().ok()?;
        Some(hex(guard.clone().finish().as_ref()))
    }
}

/// A reader that hashes every byte it passes on (for standard input, which cannot be read
/// twice).
pub struct HashingReader<R> {
    inner: R,
    digest: Sha256Handle,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> (Self, Sha256Handle) {
        let digest = Sha256Handle::default();
        (
            HashingReader {
                inner,
                digest: digest.clone(),
            },
            digest,
        )
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let (Ok(mut hasher), Some(read)) = (self.digest.0.lock(), buf.get(..n)) {
            hasher.update(read);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        let (mut reader, digest) = HashingReader::new(&b"abc"[..]);
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        assert_eq!(
            digest.hex().unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
