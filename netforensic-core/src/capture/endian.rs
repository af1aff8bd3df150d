//! Byte-order aware field reads that never panic: a read past the end gives `None`.

/// Byte order of a capture's header and records (pcap) or of one pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    /// The `N` bytes at `at`, if present.
    fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
        let end = at.checked_add(N)?;
        bytes.get(at..end)?.try_into().ok()
    }

    pub fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw = Self::array::<2>(bytes, at)?;
        Some(match self {
            ByteOrder::Little => u16::from_le_bytes(raw),
            ByteOrder::Big => u16::from_be_bytes(raw),
        })
    }

    pub fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let raw = Self::array::<4>(bytes, at)?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(raw),
            ByteOrder::Big => u32::from_be_bytes(raw),
        })
    }

    pub fn u64(self, bytes: &[u8], at: usize) -> Option<u64> {
        let raw = Self::array::<8>(bytes, at)?;
        Some(match self {
            ByteOrder::Little => u64::from_le_bytes(raw),
            ByteOrder::Big => u64::from_be_bytes(raw),
        })
    }

    pub fn i64(self, bytes: &[u8], at: usize) -> Option<i64> {
        self.u64(bytes, at).map(|v| v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_orders_and_refuses_past_end() {
        let b = [1u8, 2, 3, 4];
        assert_eq!(ByteOrder::Little.u16(&b, 0), Some(0x0201));
        assert_eq!(ByteOrder::Big.u32(&b, 0), Some(0x0102_0304));
        assert_eq!(ByteOrder::Big.u16(&b, 3), None);
        assert_eq!(ByteOrder::Big.u32(&b, usize::MAX), None);
        assert_eq!(ByteOrder::Little.u64(&b, 0), None);
    }
}
