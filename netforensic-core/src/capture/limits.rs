//! Every bound the capture reader applies to attacker-controlled lengths, in one place.

/// Largest packet record or pcapng block we accept (bytes). Wireshark's largest per-encapsulation
/// limit is 16 MiB (D-Bus, USB); anything longer is damage, never an allocation.
pub const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

/// libpcap's and Wireshark's default maximum snapshot length: a pcap record may legitimately
/// carry this much even when the file header announces a smaller snaplen (some writers lie).
pub const DEFAULT_MAX_SNAPLEN: u32 = 262_144;

/// How many consecutive plausible record headers (or blocks) make a resynchronisation point
/// trustworthy; fewer are accepted only when the chain ends exactly at the end of input.
pub const RESYNC_CHAIN: usize = 4;

/// During resynchronisation a record's timestamp must lie within this distance of the last
/// good one and of its neighbours (nanoseconds): one day covers any real capture gap while
/// rejecting random bytes, whose "seconds" field is almost never that close.
pub const RESYNC_MAX_TS_DISTANCE_NS: i64 = 24 * 3600 * 1_000_000_000;

/// Stream reads are done in chunks of this size (bytes).
pub const STREAM_CHUNK: usize = 1024 * 1024;

/// The stream buffer never grows beyond this (bytes): one maximal record plus read-ahead for
/// resynchronisation.
pub const STREAM_BUFFER_MAX: usize = MAX_RECORD_LEN + 4 * STREAM_CHUNK;

/// Names, comments and process names longer than this are cut (bytes): they are shown to
/// people, and a hostile capture must not make us hold megabytes per packet.
pub const MAX_TEXT_LEN: usize = 4096;

/// At most this many comments are kept per packet.
pub const MAX_COMMENTS_PER_FRAME: usize = 16;

/// At most this many Name Resolution entries and Darwin process entries are kept per input.
pub const MAX_NAME_RECORDS: usize = 1_000_000;
pub const MAX_DARWIN_PROCESSES: usize = 1_000_000;

/// At most this many names per Name Resolution entry.
pub const MAX_NAMES_PER_RECORD: usize = 64;

/// At most this many interfaces per pcapng section (each costs a small table entry).
pub const MAX_INTERFACES_PER_SECTION: usize = 65_536;

/// At most this many damage regions are listed; later ones are merged into the last.
pub const MAX_DAMAGE_ENTRIES: usize = 10_000;
