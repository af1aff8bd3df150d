//! Which process made a DNS lookup: lookup sockets live too briefly for any snapshot, but the
//! connection that follows does not. When, shortly after a response, the same host connects
//! to an answered address and that connection is attributed to process P, the lookup was
//! most likely P's (quality `dns_followup`). Different followers: ambiguous.

use super::{Quality, UnattributedReason};
use crate::dns::DnsRecord;
use crate::report::{FlowRecord, LocalSide, ProcessRef};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::net::IpAddr;

/// How soon after the response the follow-up connection must start.
pub const DEFAULT_WINDOW_NANOS: i64 = 5 * Timestamp::NANOS_PER_SEC;

/// Attribute unattributed DNS flows to the process of the connection that followed.
/// Returns how many flows were attributed this way.
pub fn attribute_lookups(flows: &mut [FlowRecord], dns: &[DnsRecord], window_nanos: i64) -> u64 {
    // Nothing to follow (the common case without snapshots or in-capture metadata): skip
    // indexing every flow.
    if dns.is_empty() || !flows.iter().any(|f| is_primary(f.process.as_deref())) {
        return 0;
    }
    // (client, server) -> flows that client opened to that server, attributed by other means.
    let mut followers: HashMap<(IpAddr, IpAddr), Vec<usize>> = HashMap::new();
    let mut by_uid: HashMap<&str, usize> = HashMap::new();
    for (i, flow) in flows.iter().enumerate() {
        by_uid.insert(flow.conn.uid.as_str(), i);
        if flow.local_side == Some(LocalSide::Orig) && is_primary(flow.process.as_deref()) {
            followers
                .entry((
                    flow.conn.orig_h.to_canonical(),
                    flow.conn.resp_h.to_canonical(),
                ))
                .or_default()
                .push(i);
        }
    }
    // Sorted by start time, so each lookup visits only the connections inside its window.
    for list in followers.values_mut() {
        list.sort_by_key(|&i| flows.get(i).map(|f| f.conn.ts));
    }
    // Verdict per DNS flow: the one process all its lookups were followed by, or a conflict.
    let mut verdicts: HashMap<usize, Option<ProcessRef>> = HashMap::new();
    for record in dns {
        let Some(&dns_flow) = by_uid.get(record.uid.as_str()) else {
            continue;
        };
        let Some(rtt) = record.rtt_nanos else {
            continue;
        };
        let answered = record.ts.saturating_add_nanos(rtt);
        let until = answered.saturating_add_nanos(window_nanos);
        let client = record.orig_h.to_canonical();
        for answer in &record.answers {
            let Ok(addr) = answer.parse::<IpAddr>() else {
                continue;
            };
            let Some(candidates) = followers.get(&(client, addr.to_canonical())) else {
                continue;
            };
            let start_of = |i: &usize| flows.get(*i).map(|f| f.conn.ts);
            let first = candidates.partition_point(|i| start_of(i) < Some(answered));
            for &i in candidates.get(first..).unwrap_or(&[]) {
                let Some(follower) = flows.get(i) else {
                    continue;
                };
                if follower.conn.ts > until {
                    break;
                }
                let Some(process) = &follower.process else {
                    continue;
                };
                let verdict = verdicts
                    .entry(dns_flow)
                    .or_insert_with(|| Some(ProcessRef::clone(process)));
                if verdict.as_ref().is_some_and(|v| !same_process(v, process)) {
                    *verdict = None;
                }
            }
        }
    }
    let mut attributed = 0;
    for (i, verdict) in verdicts {
        let Some(flow) = flows.get_mut(i) else {
            continue;
        };
        if flow.process.is_some() || flow.local_side == Some(LocalSide::Resp) {
            continue;
        }
        match verdict {
            Some(mut process) => {
                process.quality = Quality::DnsFollowup.as_str().to_string();
                flow.process = Some(Box::new(process));
                flow.local_side = Some(LocalSide::Orig);
                flow.unattributed_reason = None;
                attributed += 1;
            }
            None => {
                flow.unattributed_reason = Some(UnattributedReason::Ambiguous.as_str());
            }
        }
    }
    attributed
}

/// Only attributions made from direct evidence can vouch for a lookup (no chains).
fn is_primary(process: Option<&ProcessRef>) -> bool {
    process.is_some_and(|p| p.quality != Quality::DnsFollowup.as_str())
}

fn same_process(a: &ProcessRef, b: &ProcessRef) -> bool {
    a.pid == b.pid && a.name == b.name
}
