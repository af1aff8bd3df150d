//! Benchmark support for netforensic: a deterministic capture generator ([`generator`]) and the
//! byte-range lower bound for `flows` ([`lower_bound`]).
#![forbid(unsafe_code)]

pub mod flood;
pub mod generator;
pub mod lower_bound;

/// Parse a size like `1G`, `200M`, `64k` or `12345` (bytes, powers of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let factor = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("1G"), Some(1 << 30));
        assert_eq!(super::parse_size("64k"), Some(65536));
        assert_eq!(super::parse_size("12"), Some(12));
        assert_eq!(super::parse_size("x"), None);
    }
}
