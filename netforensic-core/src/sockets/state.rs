//! TCP state words as the tools print them (several spellings, several languages) mapped to
//! one vocabulary: the Linux/netstat names below.
//!
//! Localised words come from real outputs: German Windows `netstat` (`ABHÖREN`,
//! `HERGESTELLT`, `WARTEND`, `SCHLIESSEN_WARTEN`, `FIN_WARTEN_2`, `SYN_GESENDET`,
//! `SCHLIESSEND`); Spanish Linux `net-tools` (`ESCUCHAR`, `ESTABLECIDO`). French and Spanish
//! Windows print the English words (only the headers are translated).

pub const LISTEN: &str = "LISTEN";
pub const ESTABLISHED: &str = "ESTABLISHED";
pub const SYN_SENT: &str = "SYN_SENT";
pub const SYN_RECV: &str = "SYN_RECV";
pub const FIN_WAIT1: &str = "FIN_WAIT1";
pub const FIN_WAIT2: &str = "FIN_WAIT2";
pub const TIME_WAIT: &str = "TIME_WAIT";
pub const CLOSE: &str = "CLOSE";
pub const CLOSE_WAIT: &str = "CLOSE_WAIT";
pub const LAST_ACK: &str = "LAST_ACK";
pub const CLOSING: &str = "CLOSING";
pub const BOUND: &str = "BOUND";
pub const DELETE_TCB: &str = "DELETE_TCB";

/// Longest state word we try to recognise (longer words are not states).
const MAX_STATE_WORD: usize = 32;

/// The canonical name of a state word, or `None` when no table knows it.
pub fn normalize(word: &str) -> Option<&'static str> {
    if word.is_empty() || word.len() > MAX_STATE_WORD {
        return None;
    }
    let upper: String = word
        .chars()
        .map(|c| if c == '-' { '_' } else { c })
        .flat_map(char::to_uppercase)
        .collect();
    let known = match upper.as_str() {
        "LISTEN" | "LISTENING" | "ABHÖREN" | "ESCUCHAR" | "ESCUCHANDO" => LISTEN,
        "ESTAB" | "ESTABLISHED" | "HERGESTELLT" | "ESTABLECIDO" => ESTABLISHED,
        "SYN_SENT" | "SYN_SEND" | "SYN_GESENDET" => SYN_SENT,
        "SYN_RECV" | "SYN_RECEIVED" => SYN_RECV,
        "FIN_WAIT1" | "FIN_WAIT_1" | "FIN_WARTEN_1" => FIN_WAIT1,
        "FIN_WAIT2" | "FIN_WAIT_2" | "FIN_WARTEN_2" => FIN_WAIT2,
        "TIME_WAIT" | "TIMEWAIT" | "WARTEND" => TIME_WAIT,
        "CLOSE" | "CLOSED" => CLOSE,
        "CLOSE_WAIT" | "SCHLIESSEN_WARTEN" => CLOSE_WAIT,
        "LAST_ACK" => LAST_ACK,
        "CLOSING" | "SCHLIESSEND" => CLOSING,
        "BOUND" => BOUND,
        "DELETE_TCB" => DELETE_TCB,
        // `ABHÖREN` read in the wrong code page: `ABH™REN` (CP850 read as CP1252),
        // `ABH\u{fffd}REN` (lossy UTF-8), `ABH?REN`.
        other if other.starts_with("ABH") && other.ends_with("REN") && other.len() <= 10 => LISTEN,
        _ => return None,
    };
    Some(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_and_languages() {
        assert_eq!(normalize("ESTAB"), Some(ESTABLISHED));
        assert_eq!(normalize("TIME-WAIT"), Some(TIME_WAIT));
        assert_eq!(normalize("LISTENING"), Some(LISTEN));
        assert_eq!(normalize("ABHÖREN"), Some(LISTEN));
        assert_eq!(normalize("ABH™REN"), Some(LISTEN));
        assert_eq!(normalize("HERGESTELLT"), Some(ESTABLISHED));
        assert_eq!(normalize("SCHLIESSEN_WARTEN"), Some(CLOSE_WAIT));
        assert_eq!(normalize("FIN_WARTEN_2"), Some(FIN_WAIT2));
        assert_eq!(normalize("ESCUCHAR"), Some(LISTEN));
        assert_eq!(normalize("FIN_WAIT_1"), Some(FIN_WAIT1));
        assert_eq!(normalize("UNCONN"), None);
        assert_eq!(normalize("12345"), None);
    }
}
