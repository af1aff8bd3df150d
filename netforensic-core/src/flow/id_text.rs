//! The text of a flow identifier (uid, Community ID), kept inline: a connection carries no
//! heap string for them, so making, moving and dropping one (often on another thread than
//! the one that made it) costs no allocation.

use serde::{Serialize, Serializer};
use std::fmt;
use std::ops::Deref;

/// Up to `N` bytes of printable ASCII other than `"` and `\`: the characters of base62 and
/// base64 (and `:`). JSON and CSV writers copy it without escaping.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdText<const N: usize> {
    /// Bytes past `len` are zero, so the derived comparisons compare the text.
    bytes: [u8; N],
    len: u8,
}

/// A connection's uid: `C` and at most 17 base62 digits (96 bits).
pub type Uid = IdText<18>;

/// A Community ID v1: `1:` and the base64 of a SHA-1 digest (28 characters).
pub type CommunityId = IdText<30>;

impl<const N: usize> IdText<N> {
    /// `text` if it fits and has only the characters allowed (else `None`).
    pub fn new(text: &str) -> Option<Self> {
        Self::from_ascii(text.as_bytes())
    }

    fn from_ascii(text: &[u8]) -> Option<Self> {
        let len = u8::try_from(text.len()).ok()?;
        let mut bytes = [0u8; N];
        bytes.get_mut(..text.len())?.copy_from_slice(text);
        text.iter()
            .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
            .then_some(IdText { bytes, len })
    }

    /// The first `len` of `bytes`, which the caller (the uid and Community ID encoders) fills
    /// from their digit alphabets only: no check per byte for one per connection.
    pub(super) fn from_digits(mut bytes: [u8; N], len: usize) -> Self {
        let len = len.min(N).min(usize::from(u8::MAX));
        if let Some(rest) = bytes.get_mut(len..) {
            rest.fill(0);
        }
        IdText {
            bytes,
            len: len as u8,
        }
    }

    /// The text followed by zeros up to `N`: a fixed-size copy of it, cut to the text's length
    /// after, spares writers a variable-length one.
    pub(crate) fn padded(&self) -> &[u8; N] {
        &self.bytes
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII (see `from_ascii`): the check cannot fail.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl<const N: usize> Default for IdText<N> {
    fn default() -> Self {
        IdText {
            bytes: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> Deref for IdText<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<str> for IdText<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> PartialEq<str> for IdText<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<&str> for IdText<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> fmt::Display for IdText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for IdText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> Serialize for IdText<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_plain_text_only() {
        let uid = Uid::new("CabC").unwrap();
        assert_eq!(uid, "CabC");
        assert_eq!(uid.as_str(), "CabC");
        assert_eq!(format!("{uid} {uid:?}"), "CabC \"CabC\"");
        assert_eq!(serde_json::to_string(&uid).unwrap(), "\"CabC\"");
        assert_eq!(Uid::new(""), Some(Uid::default()));
        assert!(Uid::new("C12345678901234567").is_some());
        assert!(Uid::new("C123456789012345678").is_none());
        for bad in ["a b", "a\"", "a\\", "é", "a\u{0}", "\t"] {
            assert!(CommunityId::new(bad).is_none(), "{bad:?}");
        }
        let cid = CommunityId::new("1:LQU9qZlK+B5F3KDmev6m5PMibrg=").unwrap();
        assert_eq!(cid.len(), 30);
        assert_ne!(
            cid,
            CommunityId::new("1:LQU9qZlK+B5F3KDmev6m5PMibrg").unwrap()
        );
    }
}
