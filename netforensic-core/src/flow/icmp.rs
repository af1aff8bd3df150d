//! ICMP "ports", as Zeek and Community ID define them: the originator's port is the message
//! type, the responder's is the counterpart type for request/reply pairs (so that an echo
//! request and its reply land in one connection), else the code (a one-way message).

/// The responder-side "port" of an ICMP message and whether the message is one-way.
pub fn counterpart(v6: bool, icmp_type: u8, code: u8) -> (u16, bool) {
    let pair: Option<u8> = if v6 {
        match icmp_type {
            128 => Some(129), // echo request / reply
            129 => Some(128),
            133 => Some(134), // router solicitation / advertisement
            134 => Some(133),
            135 => Some(136), // neighbor solicitation / advertisement
            136 => Some(135),
            130 => Some(131), // MLD query / report
            131 => Some(130),
            139 => Some(140), // node information query / response
            140 => Some(139),
            144 => Some(145), // home agent address discovery request / reply
            145 => Some(144),
            _ => None,
        }
    } else {
        match icmp_type {
            8 => Some(0), // echo / echo reply
            0 => Some(8),
            13 => Some(14), // timestamp / reply
            14 => Some(13),
            15 => Some(16), // information request / reply
            16 => Some(15),
            10 => Some(9), // router solicitation / advertisement
            9 => Some(10),
            17 => Some(18), // address mask request / reply
            18 => Some(17),
            _ => None,
        }
    };
    match pair {
        Some(t) => (u16::from(t), false),
        None => (u16::from(code), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_pairs_and_one_way_messages() {
        assert_eq!(counterpart(false, 8, 0), (0, false));
        assert_eq!(counterpart(false, 0, 0), (8, false));
        assert_eq!(counterpart(false, 3, 3), (3, true));
        assert_eq!(counterpart(true, 128, 0), (129, false));
        assert_eq!(counterpart(true, 143, 0), (0, true));
        assert_eq!(counterpart(true, 1, 4), (4, true));
    }
}
