//! Sysmon events as XML: event 3 (network connection) and 22 (DNS query), one `<Event>` or
//! many as `wevtutil qe ... /f:xml` prints them (no root element), Get-WinEvent `ToXml()`
//! exports, a root-wrapped `/e:Events` export, or Sysmon for Linux lines in syslog (text
//! before each `<Event>`). Read with quick-xml, a streaming reader that accepts several
//! top-level elements and text between them, which a DOM parser would reject.
//!
//! Each event becomes its own [`Snapshot`] at its `UtcTime`: Sysmon observes one connection
//! or lookup at one moment, not a table. Event 3's `Initiated=false` means the destination
//! is the local side (OSSEM's sample: inbound, `DestinationHostname` = the computer).

use super::text::{bounded, civil_to_timestamp, fraction_nanos, non_empty, ImportLog, Imported};
use super::{DnsQueryEvent, Snapshot, SnapshotSource, SocketEntry, SocketOwner, TimeOrigin};
use crate::flow::Proto;
use crate::time::Timestamp;
use crate::{Error, ErrorKind};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;
use std::net::IpAddr;

/// Longest field value kept (command lines and query results are the long ones).
const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Most `<Data>` fields read per event (Sysmon events have about 20).
const MAX_FIELDS_PER_EVENT: usize = 64;
/// Most answers read from one QueryResults value.
const MAX_ANSWERS: usize = 256;

/// True when the text holds a Sysmon-looking event.
pub fn looks_like(text: &str) -> bool {
    text.contains("<Event") && text.contains("<EventID") && text.contains("<Data Name=")
}

/// One `<Event>`'s fields.
#[derive(Default)]
struct RawEvent {
    event_id: Option<u32>,
    computer: Option<String>,
    linux: bool,
    data: HashMap<String, String>,
}

/// The element whose text is being read.
enum Field {
    /// `<Data Name="...">`.
    Data(String),
    EventId,
    Computer,
}

pub fn parse(text: &str) -> Result<Imported, Error> {
    let mut log = ImportLog::default();
    let mut snapshots = Vec::new();
    let mut other_ids = 0u64;
    let mut events = 0u64;
    for_each_event(text, &mut log, |raw, log| {
        events += 1;
        match raw.event_id {
            Some(3) => match network_event(&raw) {
                Some(s) => snapshots.push(s),
                None => log.warn(format!(
                    "event {events}: Sysmon event 3 without usable addresses"
                )),
            },
            Some(22) => match dns_event(&raw) {
                Some(s) => snapshots.push(s),
                None => log.warn(format!("event {events}: Sysmon event 22 without QueryName")),
            },
            _ => other_ids += 1,
        }
    });
    if other_ids > 0 {
        log.warn(format!(
            "{other_ids} events other than Sysmon 3 and 22 ignored"
        ));
    }
    if events == 0 {
        return Err(Error::new(
            ErrorKind::UnknownFormat,
            "line 1: no <Event> element found",
        ));
    }
    Ok(log.finish(snapshots))
}

/// Stream the XML, calling `found` for every complete `<Event>`. Broken XML ends the walk
/// with a warning; what was read is kept.
fn for_each_event(
    text: &str,
    log: &mut ImportLog,
    mut found: impl FnMut(RawEvent, &mut ImportLog),
) {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut current: Option<RawEvent> = None;
    // Which element's text we are collecting.
    let mut field: Option<Field> = None;
    let mut value = String::new();
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(err) => {
                let line = 1 + text
                    .get(..usize::try_from(reader.buffer_position()).unwrap_or(0))
                    .map_or(0, |t| t.matches('\n').count());
                log.warn(format!(
                    "line {line}: XML error, rest of file ignored: {err}"
                ));
                break;
            }
        };
        match event {
            Event::Start(e) | Event::Empty(e)
                if current.is_some() || e.local_name().as_ref() == b"Event" =>
            {
                match e.local_name().as_ref() {
                    b"Event" => current = Some(RawEvent::default()),
                    b"Data" => {
                        field = e
                            .try_get_attribute("Name")
                            .ok()
                            .flatten()
                            .and_then(|a| a.unescape_value().ok())
                            .map(|v| Field::Data(bounded(&v)));
                        value.clear();
                    }
                    b"EventID" => {
                        field = Some(Field::EventId);
                        value.clear();
                    }
                    b"Computer" => {
                        field = Some(Field::Computer);
                        value.clear();
                    }
                    b"Provider" => {
                        let linux = e
                            .try_get_attribute("Name")
                            .ok()
                            .flatten()
                            .and_then(|a| a.unescape_value().ok())
                            .is_some_and(|v| v.contains("Linux"));
                        if let Some(ev) = current.as_mut() {
                            ev.linux |= linux;
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) if field.is_some() => {
                if let Ok(s) = t.decode() {
                    push_bounded(&mut value, &s);
                }
            }
            Event::CData(t) if field.is_some() => {
                if let Ok(s) = t.decode() {
                    push_bounded(&mut value, &s);
                }
            }
            Event::GeneralRef(r) if field.is_some() => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.decode().as_deref() {
                        Ok("amp") => Some('&'),
                        Ok("lt") => Some('<'),
                        Ok("gt") => Some('>'),
                        Ok("quot") => Some('"'),
                        Ok("apos") => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = resolved {
                    push_bounded(&mut value, c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"Event" => {
                    if let Some(ev) = current.take() {
                        found(ev, log);
                    }
                    field = None;
                }
                b"Data" | b"EventID" | b"Computer" => {
                    if let (Some(which), Some(ev)) = (field.take(), current.as_mut()) {
                        let v = value.trim().to_string();
                        match which {
                            Field::EventId => ev.event_id = v.parse().ok(),
                            Field::Computer => ev.computer = non_empty(&v),
                            Field::Data(name) if ev.data.len() < MAX_FIELDS_PER_EVENT => {
                                ev.data.insert(name, v);
                            }
                            Field::Data(_) => {}
                        }
                    }
                    value.clear();
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
}

fn push_bounded(out: &mut String, s: &str) {
    for c in s.chars() {
        if out.len() + c.len_utf8() > MAX_VALUE_BYTES {
            return;
        }
        out.push(c);
    }
}

fn get<'a>(raw: &'a RawEvent, name: &str) -> Option<&'a str> {
    raw.data
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty() && *v != "-")
}

fn base_snapshot(raw: &RawEvent) -> Snapshot {
    let mut s = Snapshot::new(SnapshotSource::Sysmon);
    s.taken_at = get(raw, "UtcTime").and_then(parse_utc_time);
    s.time_origin = s.taken_at.map(|_| TimeOrigin::Format);
    s.host = raw.computer.clone();
    s.os = Some(if raw.linux { "linux" } else { "windows" }.to_string());
    s
}

fn owner(raw: &RawEvent) -> SocketOwner {
    let exe = get(raw, "Image").map(bounded);
    SocketOwner {
        pid: get(raw, "ProcessId").and_then(|p| p.parse().ok()),
        process: exe.as_deref().map(image_name),
        exe,
        cmdline: None,
        user: get(raw, "User").map(bounded),
    }
}

/// `C:\Windows\System32\svchost.exe` -> `svchost.exe` (and `/usr/bin/curl` -> `curl`).
fn image_name(exe: &str) -> String {
    exe.rsplit(['\\', '/']).next().unwrap_or(exe).to_string()
}

fn network_event(raw: &RawEvent) -> Option<Snapshot> {
    let proto = match get(raw, "Protocol")?.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let addr = |n: &str| {
        get(raw, n)
            .and_then(|a| a.parse::<IpAddr>().ok())
            .map(|a| a.to_canonical())
    };
    let port = |n: &str| get(raw, n).and_then(|p| p.parse::<u16>().ok());
    let initiated = get(raw, "Initiated").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (local, remote) = if initiated {
        ("Source", "Destination")
    } else {
        ("Destination", "Source")
    };
    let local_addr = addr(&format!("{local}Ip"))?;
    let mut entry = SocketEntry::new(proto, Some(local_addr), port(&format!("{local}Port"))?);
    entry.set_remote(addr(&format!("{remote}Ip")), port(&format!("{remote}Port")));
    if proto == Proto::Tcp {
        entry.state = Some(super::state::ESTABLISHED.to_string());
    }
    entry.add_owner(owner(raw));
    let mut s = base_snapshot(raw);
    s.sockets.push(entry);
    Some(s)
}

fn dns_event(raw: &RawEvent) -> Option<Snapshot> {
    let query = get(raw, "QueryName")?;
    let o = owner(raw);
    let (addrs, cnames) = parse_query_results(get(raw, "QueryResults").unwrap_or(""));
    let mut s = base_snapshot(raw);
    s.dns_queries.push(DnsQueryEvent {
        time: s.taken_at,
        pid: o.pid,
        process: o.process,
        exe: o.exe,
        user: o.user,
        query: bounded(query),
        status: get(raw, "QueryStatus").and_then(|v| v.parse().ok()),
        addrs,
        cnames,
    });
    Some(s)
}

/// `type: 5 www3.l.google.com;172.217.7.206;::ffff:37.252.253.104;` -> addresses
/// (canonical) and CNAME targets.
fn parse_query_results(results: &str) -> (Vec<IpAddr>, Vec<String>) {
    let mut addrs = Vec::new();
    let mut cnames = Vec::new();
    for item in results
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(MAX_ANSWERS)
    {
        if let Some(rest) = item.strip_prefix("type:") {
            // `type:  5 target`: record type number, then the target name.
            let mut words = rest.split_whitespace();
            let rtype = words.next();
            if let (Some("5"), Some(target)) = (rtype, words.next()) {
                cnames.push(bounded(target));
            }
        } else if let Ok(addr) = item.parse::<IpAddr>() {
            addrs.push(addr.to_canonical());
        }
    }
    (addrs, cnames)
}

/// `2018-04-11 05:29:35.394` (UTC).
fn parse_utc_time(s: &str) -> Option<Timestamp> {
    let (date, clock) = s.trim().split_once(' ')?;
    let mut d = date.split('-');
    let year = d.next()?.parse().ok()?;
    let month = d.next()?.parse().ok()?;
    let day = d.next()?.parse().ok()?;
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':');
    let hour = t.next()?.parse().ok()?;
    let minute = t.next()?.parse().ok()?;
    let second = t.next()?.parse().ok()?;
    let nanos = if frac.is_empty() {
        0
    } else {
        fraction_nanos(frac)?
    };
    civil_to_timestamp(year, month, day, hour, minute, second, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const EVENT3: &str = r#"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F-C22A-43E0-BF4C-06F5698FFBD9}'/><EventID>3</EventID><Computer>DESKTOP-WARDOG</Computer></System><EventData>
<Data Name="UtcTime">2018-04-11 05:29:35.394</Data>
<Data Name="ProcessGuid">{A98268C1-957F-5ACD-0000-0010EB030000}</Data>
<Data Name="ProcessId">4</Data>
<Data Name="Image">System</Data>
<Data Name="User">NT AUTHORITY\SYSTEM</Data>
<Data Name="Protocol">udp</Data>
<Data Name="Initiated">false</Data>
<Data Name="SourceIsIpv6">false</Data>
<Data Name="SourceIp">192.168.64.255</Data>
<Data Name="SourceHostname" />
<Data Name="SourcePort">138</Data>
<Data Name="SourcePortName">netbios-dgm</Data>
<Data Name="DestinationIsIpv6">false</Data>
<Data Name="DestinationIp">192.168.64.135</Data>
<Data Name="DestinationHostname">DESKTOP-WARDOG.localdomain</Data>
<Data Name="DestinationPort">138</Data>
<Data Name="DestinationPortName">netbios-dgm</Data>
</EventData></Event>"#;

    const EVENT22: &str = r#"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>22</EventID></System><EventData>
<Data Name="RuleName" />
<Data Name="UtcTime">2019-06-12 00:57:55.254</Data>
<Data Name="ProcessGuid">{A98268C1-4DDF-5D00-0000-00102D794100}</Data>
<Data Name="ProcessId">416</Data>
<Data Name="QueryName">chrome.google.com</Data>
<Data Name="QueryStatus">0</Data>
<Data Name="QueryResults">type: 5 www3.l.google.com;172.217.7.206;</Data>
<Data Name="Image">C:\Program Files (x86)\Google\Chrome\Application\chrome.exe</Data>
</EventData></Event>"#;

    #[test]
    fn event_3_inbound_udp() {
        // OSSEM event-3 sample (SNAPSHOT-FORMATS.md section 9).
        let imported = parse(EVENT3).unwrap();
        let snap = &imported.snapshots[0];
        let s = &snap.sockets[0];
        assert_eq!(s.proto, Proto::Udp);
        assert_eq!(
            s.local_addr,
            Some(IpAddr::V4(Ipv4Addr::new(192, 168, 64, 135)))
        );
        assert_eq!(
            s.remote_addr,
            Some(IpAddr::V4(Ipv4Addr::new(192, 168, 64, 255)))
        );
        assert_eq!(s.pid, Some(4));
        assert_eq!(s.user.as_deref(), Some("NT AUTHORITY\\SYSTEM"));
        assert_eq!(snap.host.as_deref(), Some("DESKTOP-WARDOG"));
        // 2018-04-11T05:29:35.394Z: 1523424575 (date -u -d 2018-04-11T05:29:35Z +%s).
        assert_eq!(snap.taken_at, Some(Timestamp(1_523_424_575_394_000_000)));
    }

    #[test]
    fn event_22_and_many_events_without_root() {
        let mapped = EVENT22.replace(
            "type: 5 www3.l.google.com;172.217.7.206;",
            "type:  5 routerpool7.rlb.teamviewer.com;::ffff:37.252.253.104;::ffff:188.172.198.137;",
        );
        let text = format!("<?xml version=\"1.0\"?>\n{EVENT22}\n{EVENT3}\n{mapped}");
        let imported = parse(&text).unwrap();
        assert_eq!(imported.snapshots.len(), 3);
        let q = &imported.snapshots[0].dns_queries[0];
        assert_eq!(q.query, "chrome.google.com");
        assert_eq!(q.pid, Some(416));
        assert_eq!(q.process.as_deref(), Some("chrome.exe"));
        assert_eq!(q.cnames, vec!["www3.l.google.com".to_string()]);
        assert_eq!(q.addrs, vec![IpAddr::V4(Ipv4Addr::new(172, 217, 7, 206))]);
        assert_eq!(q.status, Some(0));
        let q = &imported.snapshots[2].dns_queries[0];
        assert_eq!(q.addrs[0], IpAddr::V4(Ipv4Addr::new(37, 252, 253, 104)));
        assert_eq!(q.cnames, vec!["routerpool7.rlb.teamviewer.com".to_string()]);
    }

    #[test]
    fn single_quotes_rule_name_and_syslog_wrapping() {
        // Sysmon for Linux logs each event as one syslog line; wevtutil uses single quotes.
        let text = "Nov 24 10:00:00 host sysmon: <Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>3</EventID><Computer>box</Computer></System><EventData><Data Name='RuleName'>-</Data><Data Name='UtcTime'>2026-11-24 10:00:00.123</Data><Data Name='ProcessId'>777</Data><Data Name='Image'>/usr/bin/curl</Data><Data Name='User'>root</Data><Data Name='Protocol'>tcp</Data><Data Name='Initiated'>true</Data><Data Name='SourceIsIpv6'>true</Data><Data Name='SourceIp'>::ffff:10.0.0.5</Data><Data Name='SourcePort'>40000</Data><Data Name='DestinationIp'>93.184.216.34</Data><Data Name='DestinationPort'>443</Data></EventData></Event>\nNov 24 10:00:01 host other: text\n";
        let imported = parse(text).unwrap();
        let snap = &imported.snapshots[0];
        assert_eq!(snap.os.as_deref(), Some("linux"));
        let s = &snap.sockets[0];
        assert_eq!(s.local_addr, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))));
        assert_eq!((s.local_port, s.remote_port), (40000, Some(443)));
        assert_eq!(s.process.as_deref(), Some("curl"));
        assert_eq!(s.state.as_deref(), Some("ESTABLISHED"));
    }

    #[test]
    fn broken_xml_keeps_what_was_read() {
        let text = format!("{EVENT22}<Event><EventID>3</Even");
        let imported = parse(&text).unwrap();
        assert_eq!(imported.snapshots.len(), 1);
    }
}
