//! Zeek's connection `history` string: one letter per kind of event, upper case for the
//! originator, lower case for the responder (`Session::CheckHistory`, `AddHistory`,
//! `Connection::ScaledHistoryEntry`).

/// Longest history kept. Zeek has no bound, but repeated SYN/FIN/RST packets with fresh
/// sequence numbers each add a letter, so an attacker could grow it without end.
pub const MAX_HISTORY_LEN: usize = 64;

/// How fast the thresholds of the logarithmic letters (`t`, `w`, `c`, `g`) grow: the second
/// letter means 10 events, the third 100, ...
const SCALING_BASE: u32 = 10;

/// The letters seen so far and which "once only" kinds are already recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    letters: String,
    /// Bit set of the kinds recorded (responder kinds shifted by 16 for TCP).
    seen: u32,
}

impl History {
    /// Append a letter (bounded by [`MAX_HISTORY_LEN`]).
    pub fn add(&mut self, letter: u8) {
        if self.letters.len() < MAX_HISTORY_LEN && letter.is_ascii_graphic() {
            self.letters.push(char::from(letter));
        }
    }

    /// Zeek's `CheckHistory`: record `letter` the first time the kind `mask` happens.
    /// Returns true when the kind had been seen before (and nothing was added).
    pub fn check(&mut self, mask: u32, letter: u8) -> bool {
        if self.seen & mask == 0 {
            self.seen |= mask;
            self.add(letter);
            false
        } else {
            true
        }
    }

    pub fn as_str(&self) -> &str {
        &self.letters
    }

    /// The letters, for the finished connection (moved, not copied).
    pub fn into_string(self) -> String {
        self.letters
    }
}

/// A logarithmic history letter: recorded on the 1st, 10th, 100th, ... event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaledCounter {
    count: u32,
    threshold: u32,
}

impl Default for ScaledCounter {
    fn default() -> Self {
        ScaledCounter {
            count: 0,
            threshold: 1,
        }
    }
}

impl ScaledCounter {
    /// Count one event; true when its letter should be added now.
    pub fn hit(&mut self) -> bool {
        self.count = self.count.saturating_add(1);
        if self.count != self.threshold {
            return false;
        }
        match self.threshold.checked_mul(SCALING_BASE) {
            Some(next) => self.threshold = next,
            // Zeek resets the counter when the threshold would wrap.
            None => self.count = 0,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_adds_once() {
        let mut h = History::default();
        assert!(!h.check(0x10, b'D'));
        assert!(h.check(0x10, b'D'));
        assert!(!h.check(0x10 << 16, b'd'));
        assert_eq!(h.as_str(), "Dd");
    }

    #[test]
    fn scaled_counter_is_logarithmic() {
        let mut c = ScaledCounter::default();
        let hits: Vec<u32> = (1..=1000).filter(|_| c.hit()).collect();
        assert_eq!(hits.len(), 4); // 1, 10, 100, 1000
    }

    #[test]
    fn history_is_bounded() {
        let mut h = History::default();
        for _ in 0..1000 {
            h.add(b'R');
        }
        assert_eq!(h.as_str().len(), MAX_HISTORY_LEN);
    }
}
