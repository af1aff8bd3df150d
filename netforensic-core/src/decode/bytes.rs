//! Checked big/little-endian readers over untrusted bytes: every read is bounds-checked and
//! returns `None` past the end, so header views built on them cannot panic.

/// `N` bytes at `at`, or `None` if the slice is too short.
pub(crate) fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub(crate) fn u8_at(bytes: &[u8], at: usize) -> Option<u8> {
    bytes.get(at).copied()
}

pub(crate) fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    array(bytes, at).map(u16::from_be_bytes)
}

pub(crate) fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    array(bytes, at).map(u16::from_le_bytes)
}

pub(crate) fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    array(bytes, at).map(u32::from_be_bytes)
}

pub(crate) fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    array(bytes, at).map(u32::from_le_bytes)
}

/// The bytes from `at` to the end (empty when `at` is past the end).
pub(crate) fn rest(bytes: &[u8], at: usize) -> &[u8] {
    bytes.get(at..).unwrap_or(&[])
}

/// A fixed-size text field trimmed at its first NUL (C `char[N]`).
pub(crate) fn c_string(field: &[u8]) -> &[u8] {
    match field.iter().position(|&b| b == 0) {
        Some(end) => field.get(..end).unwrap_or(field),
        None => field,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let b = [1u8, 2, 3];
        assert_eq!(be16(&b, 1), Some(0x0203));
        assert_eq!(le16(&b, 0), Some(0x0201));
        assert_eq!(be16(&b, 2), None);
        assert_eq!(be32(&b, 0), None);
        assert_eq!(be16(&b, usize::MAX), None);
        assert_eq!(rest(&b, 5), &[] as &[u8]);
        assert_eq!(c_string(b"en0\0\0x"), b"en0");
        assert_eq!(c_string(b"abc"), b"abc");
    }
}
