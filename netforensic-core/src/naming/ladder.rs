//! The naming ladder: each flow's responder named the way its client knew it.
//!
//! 1. a name the client sent inside the flow (SNI, QUIC/DTLS SNI, HTTP Host);
//! 2. the DNS answers this client received for the responder's address before the flow began
//!    (the question name it asked; CNAME chain into `names`);
//! 3. pcapng Name Resolution Block entries;
//! 4. DNS answers seen by other clients (`dns_other_client`).
//!
//! Several different question names that are all still fresh for the address are equally good:
//! all are listed, `name_ambiguous` is set and `server_name` stays empty. Capture time only.

use super::{InFlowName, NameSource};
use crate::capture::NameRecord;
use crate::dns::Resolution;
use crate::flow::FlowId;
use crate::report::FlowRecord;
use crate::time::Timestamp;
use ahash::AHashMap;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::net::IpAddr;

/// An answer counts as fresh for at least this long even with a tiny TTL: programs connect
/// right after the lookup, and TTL 0 answers are used once.
const MIN_FRESH_NANOS: i64 = 30 * Timestamp::NANOS_PER_SEC;
/// ...and for at most a day, whatever the TTL says.
const MAX_FRESH_NANOS: i64 = 86_400 * Timestamp::NANOS_PER_SEC;
/// Earlier answers examined per flow when looking for competing names (bounds the work on a
/// capture that resolves one address thousands of times).
const MAX_CANDIDATES: usize = 64;

/// Fill `server_name`, `name_source`, `names`, `name_ambiguous` (and `service` where an
/// in-flow name reveals it) of every flow, from the whole capture's resolutions.
pub fn assign_names(
    flows: &mut [FlowRecord],
    in_flow: &[(FlowId, InFlowName)],
    resolutions: &[Resolution],
    nrb: &[NameRecord],
) {
    let mut index = NameIndex::default();
    index.add_resolutions(resolutions.to_vec());
    index.add_name_records(nrb);
    let by_flow: AHashMap<FlowId, &InFlowName> = in_flow.iter().map(|(id, n)| (*id, n)).collect();
    for flow in flows.iter_mut() {
        let name = by_flow.get(&flow.conn.id).map(|n| (*n).clone());
        index.name(flow, name);
    }
}

/// What the ladder looks names up in: resolutions (per client and address, and per address,
/// by time) and NRB entries. Built once for a whole capture, or grown as a streamed analysis
/// learns more (adding costs the same whenever it happens: no global re-sort); naming a flow
/// only reads it, so flows can be named in parallel.
#[derive(Default)]
pub struct NameIndex {
    resolutions: Chunked,
    /// Indexes into `resolutions` per (client, addr), by ts; ties in arrival order.
    per_client: AHashMap<(IpAddr, IpAddr), Group>,
    /// Indexes into `resolutions` per addr, by ts; ties in arrival order.
    per_addr: AHashMap<IpAddr, Group>,
    nrb: AHashMap<IpAddr, Vec<String>>,
}

/// Every resolution in arrival order, in chunks of fixed capacity: the index grows for the
/// whole run, and a single vector would be copied (and its memory touched anew) at every
/// doubling.
#[derive(Default)]
struct Chunked {
    chunks: Vec<Vec<Resolution>>,
    len: usize,
}

/// Resolutions per chunk (a few hundred KiB).
const CHUNK_LEN: usize = 4096;

impl Chunked {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Option<&Resolution> {
        self.chunks.get(index / CHUNK_LEN)?.get(index % CHUNK_LEN)
    }

    fn push(&mut self, resolution: Resolution) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK_LEN => chunk.push(resolution),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK_LEN);
                chunk.push(resolution);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// Keep the resolutions whose index is marked in `keep`, in their order.
    fn keep_marked(&mut self, keep: &[bool]) {
        let mut kept = Chunked::default();
        let all = std::mem::take(&mut self.chunks).into_iter().flatten();
        for (resolution, _) in all.zip(keep).filter(|(_, k)| **k) {
            kept.push(resolution);
        }
        *self = kept;
    }
}

/// Indexes into `resolutions` of one group. Most groups hold a single answer: it is kept in
/// place of the vector (the enum is no larger), so a group costs no allocation of its own.
enum Group {
    One(u32),
    Many(Vec<u32>),
}

impl Group {
    fn as_slice(&self) -> &[u32] {
        match self {
            Group::One(id) => std::slice::from_ref(id),
            Group::Many(ids) => ids,
        }
    }

    /// Insert `id` at `at` (at most the length).
    fn insert(&mut self, at: usize, id: u32) {
        match self {
            Group::One(first) => {
                let mut ids = vec![*first];
                ids.insert(at.min(1), id);
                *self = Group::Many(ids);
            }
            Group::Many(ids) => ids.insert(at.min(ids.len()), id),
        }
    }
}

impl NameIndex {
    /// Add resolutions (in the order the capture gave them); existing entries keep their
    /// place before new ones with equal keys.
    pub fn add_resolutions(&mut self, new: Vec<Resolution>) {
        for resolution in new {
            // Bounded by the capture's DNS answers; u32 indexes keep the groups compact.
            let Ok(id) = u32::try_from(self.resolutions.len()) else {
                return;
            };
            let (client, addr, ts) = (resolution.client, resolution.addr, resolution.ts);
            self.resolutions.push(resolution);
            let all = &self.resolutions;
            let by_time = |group: &mut Group| {
                let ids = group.as_slice();
                let after = |i: &u32| all.get(*i as usize).is_some_and(|r| r.ts <= ts);
                // Answers arrive almost in time order: this is nearly always a push.
                let at = if ids.last().is_some_and(after) {
                    ids.len()
                } else {
                    ids.partition_point(after)
                };
                group.insert(at, id);
            };
            match self.per_client.entry((client, addr)) {
                Entry::Occupied(mut group) => by_time(group.get_mut()),
                Entry::Vacant(slot) => {
                    slot.insert(Group::One(id));
                }
            }
            match self.per_addr.entry(addr) {
                Entry::Occupied(mut group) => by_time(group.get_mut()),
                Entry::Vacant(slot) => {
                    slot.insert(Group::One(id));
                }
            }
        }
    }

    pub fn add_name_records(&mut self, records: &[NameRecord]) {
        for entry in records {
            let names = self.nrb.entry(entry.addr).or_default();
            names.extend(entry.names.iter().cloned());
        }
    }

    /// Resolutions held.
    pub fn resolution_count(&self) -> usize {
        self.resolutions.len()
    }

    /// Forget the answers that cannot name any flow beginning at or after `horizon(addr)`
    /// (for a flow to `addr`); returns how many are kept. A streamed analysis calls this as
    /// it goes, so that what it holds follows the addresses and the recent answers, not the
    /// capture's length. Per group (client and address, and address), a flow beginning at or
    /// after the horizon only ever uses the answers after it and, of those at or before it,
    /// the newest [`MAX_CANDIDATES`] (see [`NameIndex::fresh_candidates`]); of these, only
    /// the newest if the others were already stale at the horizon. An answer is kept if
    /// either of its groups needs it, and answers keep their order.
    pub fn forget_unreachable(&mut self, horizon: impl Fn(IpAddr) -> Timestamp) -> usize {
        let all = &self.resolutions;
        let mut keep = vec![false; all.len()];
        let mut mark = |group: &Group, horizon: Timestamp| {
            let ids = group.as_slice();
            let ts = |i: &u32| all.get(*i as usize).map(|r| r.ts);
            let reached = ids.partition_point(|i| ts(i).is_some_and(|t| t <= horizon));
            let (before, after) = ids.split_at(reached);
            let newest_first = before.iter().rev().take(MAX_CANDIDATES).enumerate();
            for (n, i) in newest_first {
                // Older than the longest freshness: never a candidate but as the newest.
                if n > 0 && ts(i).is_some_and(|t| horizon.nanos_since(t) > MAX_FRESH_NANOS) {
                    break;
                }
                if let Some(k) = keep.get_mut(*i as usize) {
                    *k = true;
                }
            }
            for i in after {
                if let Some(k) = keep.get_mut(*i as usize) {
                    *k = true;
                }
            }
        };
        for ((_, addr), group) in &self.per_client {
            mark(group, horizon(*addr));
        }
        for (addr, group) in &self.per_addr {
            mark(group, horizon(*addr));
        }
        // New indexes of the kept answers (u32::MAX: forgotten).
        let mut renumbered = Vec::with_capacity(keep.len());
        let mut next = 0u32;
        for &kept in &keep {
            renumbered.push(if kept { next } else { u32::MAX });
            next += u32::from(kept);
        }
        self.resolutions.keep_marked(&keep);
        let renumber = |group: &mut Group| -> bool {
            let ids: Vec<u32> = group
                .as_slice()
                .iter()
                .filter_map(|i| renumbered.get(*i as usize).copied())
                .filter(|i| *i != u32::MAX)
                .collect();
            *group = match ids.as_slice() {
                [] => return false,
                [one] => Group::One(*one),
                _ => Group::Many(ids),
            };
            true
        };
        self.per_client.retain(|_, group| renumber(group));
        self.per_addr.retain(|_, group| renumber(group));
        self.resolutions.len()
    }

    /// Name one flow; `in_flow` is the name its client sent inside it, if any (moved into
    /// the flow's `server_name`: a copy would be one more allocation, and one more free of
    /// a string another thread allocated).
    pub fn name(&self, flow: &mut FlowRecord, in_flow: Option<InFlowName>) {
        let conn = &flow.conn;
        let (client, addr, start) = (conn.orig_h, conn.resp_h, conn.ts);
        // Every answer is in both maps: an address nobody resolved needs no client lookup.
        let by_addr = self.per_addr.get(&addr);
        let by_client = by_addr.and_then(|_| self.per_client.get(&(client, addr)));
        let own = self.fresh_candidates(by_client, start);
        let mut names: Vec<String> = Vec::new();
        let mut chosen: Option<(String, NameSource)> = None;
        let mut ambiguous = false;

        if let Some(name) = in_flow {
            push_unique(&mut names, &name.name);
            chosen = Some((name.name, name.source));
            if flow.conn.service.is_none() {
                flow.conn.service = Some(Cow::Borrowed(name.service));
            }
        }
        let dns_queries = push_answers(&mut names, own);
        if chosen.is_none() {
            ambiguous = dns_queries.settle(NameSource::Dns, &mut chosen, flow);
        }
        if let Some(nrb_names) = self.nrb.get(&addr) {
            for n in nrb_names {
                push_unique(&mut names, n);
            }
            if chosen.is_none() && !ambiguous {
                if let Some(first) = nrb_names.first() {
                    chosen = Some((first.to_string(), NameSource::Nrb));
                }
            }
        }
        if chosen.is_none() && !ambiguous {
            let others = self.fresh_candidates(by_addr, start);
            let queries = push_answers(&mut names, others);
            ambiguous = queries.settle(NameSource::DnsOtherClient, &mut chosen, flow);
        }
        if let Some((name, source)) = chosen {
            flow.server_name = Some(name);
            flow.name_source = Some(source);
        }
        flow.names = names;
        flow.name_ambiguous = ambiguous;
    }

    /// Answers of `group` (ordered by ts) received at or before `start`, newest first: the
    /// newest always, and every other one still fresh at `start`. An iterator rather than a
    /// list: naming a flow allocates nothing for it.
    fn fresh_candidates<'s>(
        &'s self,
        group: Option<&'s Group>,
        start: Timestamp,
    ) -> impl Iterator<Item = &'s Resolution> + 's {
        let at = |i: &u32| self.resolutions.get(*i as usize);
        let group = group.map(Group::as_slice).unwrap_or_default();
        let before = group.partition_point(|i| at(i).is_some_and(|r| r.ts <= start));
        let newest_first = group.get(..before).unwrap_or_default().iter().rev();
        newest_first
            .filter_map(at)
            .take(MAX_CANDIDATES)
            .enumerate()
            .filter(move |(n, r)| {
                let fresh_for = i64::from(r.ttl)
                    .saturating_mul(Timestamp::NANOS_PER_SEC)
                    .clamp(MIN_FRESH_NANOS, MAX_FRESH_NANOS);
                *n == 0 || start.nanos_since(r.ts) <= fresh_for
            })
            .map(|(_, r)| r)
    }
}

/// The question names of some candidates, compared ignoring case: what naming needs of them.
enum Queries<'a> {
    None,
    /// All candidates asked this name (the newest's spelling).
    One(&'a str),
    Several,
}

impl Queries<'_> {
    /// What these question names make of `flow`'s name at rung `source`: one names it
    /// (`chosen`), several make it ambiguous (true, and the rung is its `name_source`).
    fn settle(
        self,
        source: NameSource,
        chosen: &mut Option<(String, NameSource)>,
        flow: &mut FlowRecord,
    ) -> bool {
        match self {
            Queries::None => false,
            Queries::One(query) => {
                *chosen = Some((query.to_string(), source));
                false
            }
            Queries::Several => {
                flow.name_source = Some(source);
                true
            }
        }
    }
}

/// Each answer's question name and CNAME chain, into `names` (once each); returns their
/// distinct question names (`answers` newest first). One walk for both: each walk looks the
/// candidates up again.
fn push_answers<'a>(
    names: &mut Vec<String>,
    answers: impl Iterator<Item = &'a Resolution>,
) -> Queries<'a> {
    let mut queries = Queries::None;
    for r in answers {
        queries = match queries {
            Queries::None => Queries::One(&r.query),
            Queries::One(query) if !query.eq_ignore_ascii_case(&r.query) => Queries::Several,
            same => same,
        };
        push_unique(names, &r.query);
        for link in &r.chain {
            push_unique(names, link);
        }
    }
    queries
}

fn push_unique(names: &mut Vec<String>, name: &str) {
    if !name.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        names.push(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Connection, Proto};

    fn flow(id: FlowId, client: &str, server: &str, ts_secs: i64) -> FlowRecord {
        FlowRecord::new(
            Connection::for_test(
                id,
                Proto::Tcp,
                (client, 50000),
                (server, 443),
                Timestamp::from_secs_nanos(ts_secs, 0),
                Timestamp::from_secs_nanos(ts_secs, 0),
            ),
            "x.pcap".into(),
        )
    }

    fn res(
        ts_secs: i64,
        client: &str,
        query: &str,
        chain: &[&str],
        addr: &str,
        ttl: u32,
    ) -> Resolution {
        Resolution {
            ts: Timestamp::from_secs_nanos(ts_secs, 0),
            client: client.parse().unwrap(),
            query: query.into(),
            chain: chain.iter().map(|s| s.to_string()).collect(),
            addr: addr.parse().unwrap(),
            ttl,
        }
    }

    /// Forgetting what a horizon makes unreachable changes no name of a flow beginning at or
    /// after it: many answers per group, ties, stale and fresh ones, tiny and huge TTLs.
    #[test]
    fn forgetting_unreachable_answers_names_later_flows_alike() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        let clients = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
        let servers = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::7"];
        let queries = ["a.example", "b.example", "A.EXAMPLE", "c.example"];
        let day = 86_400;
        let mut answers = Vec::new();
        for _ in 0..4000 {
            let ts = next(3 * day) as i64;
            let client = clients[next(3) as usize];
            let server = servers[next(4) as usize];
            let query = queries[next(4) as usize];
            let ttl = [0, 60, 3600, 200_000][next(4) as usize];
            let chain: &[&str] = if next(3) == 0 {
                &["edge.cdn.example"]
            } else {
                &[]
            };
            answers.push(res(ts, client, query, chain, server, ttl));
        }
        let horizons: Vec<i64> = servers.iter().map(|_| (day + next(day)) as i64).collect();
        let horizon_of = |addr: IpAddr| {
            let at = servers
                .iter()
                .position(|s| s.parse::<IpAddr>().unwrap() == addr);
            Timestamp::from_secs_nanos(horizons[at.unwrap()], 0)
        };
        let mut whole = NameIndex::default();
        whole.add_resolutions(answers.clone());
        let after = answers.iter().filter(|r| r.ts > horizon_of(r.addr)).count();
        let mut pruned = NameIndex::default();
        pruned.add_resolutions(answers);
        let kept = pruned.forget_unreachable(horizon_of);
        // At most MAX_CANDIDATES at or before the horizon per group (12 client groups, 4
        // address groups), far fewer than the ~2000 there were.
        assert!(
            kept <= after + 16 * MAX_CANDIDATES,
            "kept {kept}, {after} after"
        );
        assert!(
            kept > after,
            "the newest answers before the horizons are kept"
        );
        assert_eq!(kept, pruned.resolution_count());
        let mut compared = 0;
        for (s, server) in servers.iter().enumerate() {
            for client in clients {
                for _ in 0..40 {
                    let start = horizons[s]
                        + [0, 1, 30, 3600, day][next(5) as usize] as i64
                        + next(2 * day) as i64 * i64::from(next(3) == 0);
                    let (mut a, mut b) = (
                        flow(1, client, server, start),
                        flow(1, client, server, start),
                    );
                    whole.name(&mut a, None);
                    pruned.name(&mut b, None);
                    let naming = |f: &FlowRecord| {
                        (
                            f.server_name.clone(),
                            f.name_source,
                            f.names.clone(),
                            f.name_ambiguous,
                        )
                    };
                    assert_eq!(naming(&a), naming(&b), "{client} -> {server} at {start}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 4 * 3 * 40);
        // Forgetting again with the same horizons keeps everything it kept.
        assert_eq!(pruned.forget_unreachable(horizon_of), kept);
    }

    #[test]
    fn ladder_order_and_ambiguity() {
        let mut flows = vec![
            flow(1, "10.0.0.1", "192.0.2.1", 100), // SNI wins over DNS
            flow(2, "10.0.0.1", "192.0.2.2", 100), // DNS via CNAME
            flow(3, "10.0.0.1", "192.0.2.3", 100), // two names fresh: ambiguous
            flow(4, "10.0.0.1", "192.0.2.4", 100), // NRB
            flow(5, "10.0.0.9", "192.0.2.2", 100), // other client's answer
            flow(6, "10.0.0.1", "192.0.2.5", 100), // answer came after the flow: none
        ];
        let in_flow = vec![(
            1,
            InFlowName {
                name: "sni.example".into(),
                source: NameSource::Sni,
                service: "ssl",
            },
        )];
        let resolutions = vec![
            res(90, "10.0.0.1", "cdn.example", &[], "192.0.2.1", 300),
            res(
                95,
                "10.0.0.1",
                "www.example",
                &["www.cdn.example"],
                "192.0.2.2",
                300,
            ),
            res(50, "10.0.0.1", "a.example", &[], "192.0.2.3", 300),
            res(99, "10.0.0.1", "b.example", &[], "192.0.2.3", 300),
            res(101, "10.0.0.1", "late.example", &[], "192.0.2.5", 300),
        ];
        let nrb = vec![NameRecord {
            addr: "192.0.2.4".parse().unwrap(),
            names: vec!["nrb.example".into()],
        }];
        assign_names(&mut flows, &in_flow, &resolutions, &nrb);
        assert_eq!(flows[0].server_name.as_deref(), Some("sni.example"));
        assert_eq!(flows[0].names, vec!["sni.example", "cdn.example"]);
        assert_eq!(flows[0].conn.service.as_deref(), Some("ssl"));
        assert_eq!(flows[1].server_name.as_deref(), Some("www.example"));
        assert_eq!(flows[1].name_source, Some(NameSource::Dns));
        assert_eq!(flows[1].names, vec!["www.example", "www.cdn.example"]);
        assert!(flows[2].name_ambiguous);
        assert_eq!(flows[2].server_name, None);
        assert_eq!(flows[2].names, vec!["b.example", "a.example"]);
        assert_eq!(flows[3].server_name.as_deref(), Some("nrb.example"));
        assert_eq!(flows[3].name_source, Some(NameSource::Nrb));
        assert_eq!(flows[4].server_name.as_deref(), Some("www.example"));
        assert_eq!(flows[4].name_source, Some(NameSource::DnsOtherClient));
        assert_eq!(flows[5].server_name, None);
        assert!(flows[5].names.is_empty());
    }

    #[test]
    fn answers_added_out_of_order_are_kept_by_time() {
        let mut index = NameIndex::default();
        let one = |r: Resolution| vec![r];
        index.add_resolutions(one(res(
            100,
            "10.0.0.1",
            "b.example",
            &[],
            "192.0.2.3",
            300,
        )));
        index.add_resolutions(one(res(50, "10.0.0.1", "a.example", &[], "192.0.2.3", 300)));
        index.add_resolutions(one(res(
            100,
            "10.0.0.1",
            "c.example",
            &[],
            "192.0.2.3",
            300,
        )));
        index.add_resolutions(one(res(
            200,
            "10.0.0.1",
            "late.example",
            &[],
            "192.0.2.3",
            1,
        )));
        let mut f = flow(1, "10.0.0.1", "192.0.2.3", 120);
        index.name(&mut f, None);
        assert!(f.name_ambiguous);
        assert_eq!(f.names, vec!["c.example", "b.example", "a.example"]);
        let mut f = flow(2, "10.0.0.9", "192.0.2.3", 60);
        index.name(&mut f, None);
        assert_eq!(f.server_name.as_deref(), Some("a.example"));
        assert_eq!(f.name_source, Some(NameSource::DnsOtherClient));
    }

    #[test]
    fn answers_past_the_first_chunk_are_found() {
        let mut index = NameIndex::default();
        let many: Vec<Resolution> = (0..CHUNK_LEN + 2)
            .map(|i| {
                res(
                    10,
                    "10.0.0.1",
                    &format!("n{i}.example"),
                    &[],
                    "192.0.2.1",
                    300,
                )
            })
            .collect();
        index.add_resolutions(many);
        index.add_resolutions(vec![res(
            20,
            "10.0.0.2",
            "last.example",
            &[],
            "192.0.2.9",
            300,
        )]);
        assert_eq!(index.resolution_count(), CHUNK_LEN + 3);
        let mut f = flow(1, "10.0.0.2", "192.0.2.9", 30);
        index.name(&mut f, None);
        assert_eq!(f.server_name.as_deref(), Some("last.example"));
        let mut f = flow(2, "10.0.0.1", "192.0.2.1", 30);
        index.name(&mut f, None);
        assert!(f.name_ambiguous);
        assert_eq!(f.names.first().map(String::as_str), Some("n4097.example"));
    }

    #[test]
    fn stale_older_answer_does_not_make_it_ambiguous() {
        let mut flows = vec![flow(1, "10.0.0.1", "192.0.2.3", 10_000)];
        let resolutions = vec![
            res(50, "10.0.0.1", "old.example", &[], "192.0.2.3", 60),
            res(9_990, "10.0.0.1", "new.example", &[], "192.0.2.3", 60),
        ];
        assign_names(&mut flows, &[], &resolutions, &[]);
        assert_eq!(flows[0].server_name.as_deref(), Some("new.example"));
        assert!(!flows[0].name_ambiguous);
    }
}
