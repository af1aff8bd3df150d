//! DNS lookups the host itself attributed to a process (Sysmon event 22, `DnsQueryEvent` in
//! the snapshot model): a captured DNS transaction for the same name at the same time, from
//! the examined machine, was that process's (quality `dns_query_event`). Two processes asking
//! the same name at the same moment: ambiguous.

use super::{Quality, UnattributedReason};
use crate::dns::DnsRecord;
use crate::report::{FlowRecord, LocalSide, ProcessRef};
use crate::sockets::{DnsQueryEvent, Snapshot, SnapshotSource};
use crate::time::Timestamp;
use std::collections::HashMap;

/// A query name as compared: lowercase, without the root dot.
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Attribute DNS flows from host-side query events. `slack_nanos` is how far apart the event
/// and the captured query may be; `shift_nanos` moves event times onto the capture's clock.
/// Returns how many flows were attributed.
pub fn attribute_from_events(
    flows: &mut [FlowRecord],
    dns: &[DnsRecord],
    snapshots: &[Snapshot],
    slack_nanos: i64,
    shift_nanos: i64,
) -> u64 {
    let mut events: HashMap<String, Vec<(Timestamp, &DnsQueryEvent, SnapshotSource)>> =
        HashMap::new();
    for snapshot in snapshots {
        for event in &snapshot.dns_queries {
            let Some(time) = event.time else { continue };
            if event.pid.is_none() && event.process.is_none() {
                continue;
            }
            events.entry(normalise(&event.query)).or_default().push((
                time.saturating_add_nanos(shift_nanos),
                event,
                snapshot.source,
            ));
        }
    }
    if events.is_empty() {
        return 0;
    }
    // Sorted by time, so each captured query visits only the events inside its window.
    for list in events.values_mut() {
        list.sort_by_key(|(time, _, _)| *time);
    }
    let by_uid: HashMap<&str, usize> = flows
        .iter()
        .enumerate()
        .map(|(i, f)| (f.conn.uid.as_str(), i))
        .collect();
    // Verdict per DNS flow: the one process whose events match all its queries, or a conflict.
    let mut verdicts: HashMap<usize, Option<ProcessRef>> = HashMap::new();
    for record in dns {
        let Some(query) = &record.query else { continue };
        let Some(&i) = by_uid.get(record.uid.as_str()) else {
            continue;
        };
        let Some(candidates) = events.get(&normalise(query)) else {
            continue;
        };
        let from = record.ts.saturating_add_nanos(slack_nanos.saturating_neg());
        let to = record.ts.saturating_add_nanos(slack_nanos);
        let first = candidates.partition_point(|(time, _, _)| *time < from);
        for (time, event, source) in candidates.get(first..).unwrap_or(&[]) {
            if *time > to {
                break;
            }
            let process = ProcessRef {
                pid: event.pid,
                name: event.process.clone(),
                exe: event.exe.clone(),
                cmdline: None,
                user: event.user.clone(),
                evidence: format!("snapshot:{}", source.as_str()),
                quality: Quality::DnsQueryEvent.as_str().to_string(),
            };
            let verdict = verdicts.entry(i).or_insert_with(|| Some(process.clone()));
            if verdict
                .as_ref()
                .is_some_and(|v| v.pid != process.pid || v.name != process.name)
            {
                *verdict = None;
            }
        }
    }
    let mut attributed = 0;
    for (i, verdict) in verdicts {
        let Some(flow) = flows.get_mut(i) else {
            continue;
        };
        // Only lookups from the examined machine, and never over direct socket evidence.
        if flow.process.is_some() || flow.local_side != Some(LocalSide::Orig) {
            continue;
        }
        match verdict {
            Some(process) => {
                flow.process = Some(Box::new(process));
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
