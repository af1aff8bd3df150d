"""Ground truth for the attribution recording (called by make_truth.py).

truth.tsv / truth-dns.tsv: from the programs' own reports (programs.jsonl).
expected-attribution.tsv: for every connection in truth.tsv, which pid a correct
analyser must name, decided from the ss snapshots alone: a connection is
attributable when some `ss -tunap` snapshot taken during its lifetime lists its
socket with the program's pid; otherwise it must stay unattributed. This file's
small ss parser is independent of netforensic's importer (it reads only what is
needed here), so the expected file does not come from the code under test.
"""

import glob
import os
import re
from datetime import datetime, timezone

# ss prints "users:(("name",pid=123,fd=4),...)"; one socket may list several.
USERS_RE = re.compile(r'\("([^"]*)",pid=(\d+),fd=\d+\)')
TAKEN_AT_RE = re.compile(r"^# taken_at: (\S+)$")
# Lookups are followed by their program's connection within this window.
DNS_FOLLOWUP_WINDOW_S = 2.0
# curl runs with --max-time 5 (record-common.sh): the latest it can end.
CURL_MAX_TIME_S = 5.0

EXPECTED_COLUMNS = ["proto", "orig_addr", "orig_port", "resp_addr", "resp_port",
                    "start_epoch", "end_epoch", "truth_pid", "expected_pid", "expected_program",
                    "expected_quality", "resp_expected_pid", "resp_expected_program",
                    "dns_followup_pid", "seen_in_ss_snapshots", "seen_in_netstat_snapshots",
                    "seen_in_lsof_snapshots", "reason"]


def parse_rfc3339_ns(text):
    """'2026-11-24T23:10:01.123456789Z' -> epoch float (microsecond precision is enough here)."""
    date, frac = text.rstrip("Z").split(".")
    base = datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return base.timestamp() + float("0." + frac)


def normalise_addr(addr):
    """Brackets and %scope off; IPv4-mapped IPv6 (::ffff:127.0.0.1) to plain IPv4."""
    addr = addr.replace("[", "").replace("]", "").split("%", 1)[0]
    if addr.lower().startswith("::ffff:") and "." in addr:
        addr = addr[len("::ffff:"):]
    return addr


def split_endpoint(text):
    """'127.0.0.1:5432', '[::1]:53', '[fe80::1]%nfc0:7000', '0.0.0.0:*', '*:*' -> (addr, port)."""
    addr, _, port = text.rpartition(":")
    return normalise_addr(addr), port


def parse_ss_line(cols, line):
    """`ss -tunap`: Netid State Recv-Q Send-Q Local Peer Process."""
    if len(cols) < 6 or cols[0] not in ("tcp", "udp"):
        return None
    owners = [(int(pid), name) for name, pid in USERS_RE.findall(line)]
    return cols[0], cols[1], split_endpoint(cols[4]), split_endpoint(cols[5]), owners


def parse_netstat_line(cols, _line):
    """`netstat -tunap`: Proto Recv-Q Send-Q Local Foreign [State] PID/Program ('-' when unknown)."""
    if len(cols) < 6 or cols[0] not in ("tcp", "udp", "tcp6", "udp6"):
        return None
    owner = re.match(r"^(\d+)/(.*)$", cols[-1])
    owners = [(int(owner.group(1)), owner.group(2))] if owner else []
    state = cols[5] if len(cols) >= 7 else ""
    return cols[0].rstrip("6"), state, split_endpoint(cols[3]), split_endpoint(cols[4]), owners


def parse_lsof_line(cols, _line):
    """`lsof -i -n -P +c 0`: COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME [(STATE)]."""
    if len(cols) < 9 or cols[7] not in ("TCP", "UDP") or not cols[1].isdigit():
        return None
    local, _, peer = cols[8].partition("->")
    state = cols[9].strip("()") if len(cols) > 9 else ""
    return cols[7].lower(), state, split_endpoint(local), \
        split_endpoint(peer) if peer else ("*", "*"), [(int(cols[1]), cols[0])]


PARSERS = {"ss": parse_ss_line, "netstat": parse_netstat_line, "lsof": parse_lsof_line}


def load_snapshots(directory, tool):
    snaps = []
    for path in sorted(glob.glob(os.path.join(directory, "snapshots", f"{tool}-*.txt"))):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        m = TAKEN_AT_RE.match(lines[0]) if lines else None
        if not m:
            raise SystemExit(f"{path}: first line is not '# taken_at: ...'")
        entries = []
        for line in lines[1:]:
            parsed = PARSERS[tool](line.split(), line)
            if parsed:
                proto, state, local, peer, owners = parsed
                entries.append({"proto": proto, "state": state, "local": local, "peer": peer,
                                "owners": owners, "pids": {pid for pid, _ in owners}})
        snaps.append({"file": os.path.basename(path), "taken_at": parse_rfc3339_ns(m.group(1)),
                      "entries": entries})
    return snaps


WILDCARD_ADDRS = ("0.0.0.0", "*", "::", "")


def matching_entries(snaps, proto, local, peer, start, end):
    """(file, pids) of every snapshot entry during [start, end] for this socket."""
    found = []
    for s in snaps:
        if not start <= s["taken_at"] <= end:
            continue
        for e in s["entries"]:
            if e["proto"] != proto or e["local"][1] != str(local[1]):
                continue
            if proto == "udp" and e["peer"][1] in ("*", ""):
                # Unconnected UDP: bound to the wildcard (or the address), no peer.
                if e["local"][0] in WILDCARD_ADDRS + (local[0],):
                    found.append((s["file"], e["pids"]))
            elif e["local"] == (local[0], str(local[1])) and e["peer"] == (peer[0], str(peer[1])):
                found.append((s["file"], e["pids"]))
    return found


def seen_by(snaps, proto, local, peer, pid, start, end):
    """Snapshots during [start, end] listing this socket with this pid."""
    hits = []
    for file, pids in matching_entries(snaps, proto, local, peer, start, end):
        if pid in pids and file not in hits:
            hits.append(file)
    return hits


def owners_during(snaps, proto, local, peer, start, end):
    """Every pid any snapshot lists for this socket during [start, end]."""
    pids = set()
    for _, found in matching_entries(snaps, proto, local, peer, start, end):
        pids |= found
    return pids


def is_loopback(addr):
    return addr.startswith("127.") or addr == "::1"


def write_snapshot_entries(directory, by_tool, write_tsv):
    """Every socket line of every snapshot file, as parsed here: expected output for
    the snapshot importers' tests (review by eye against the files themselves)."""
    rows = []
    for tool in ("ss", "netstat", "lsof"):
        for snap in by_tool[tool]:
            for e in snap["entries"]:
                owners = e["owners"] or [("-", "-")]
                for pid, name in owners:
                    rows.append({"file": snap["file"], "taken_at_epoch": f"{snap['taken_at']:.6f}",
                                 "proto": e["proto"], "state": e["state"] or "-",
                                 "local_addr": e["local"][0], "local_port": e["local"][1],
                                 "remote_addr": e["peer"][0], "remote_port": e["peer"][1],
                                 "pid": pid, "program": name})
    write_tsv(os.path.join(directory, "expected-snapshot-entries.tsv"),
              ["file", "taken_at_epoch", "proto", "state", "local_addr", "local_port",
               "remote_addr", "remote_port", "pid", "program"], rows)


def make(recordings, load_events, connection_rows, write_tsv, truth_columns, dns_columns,
         name="attribution"):
    directory = os.path.join(recordings, name)
    events = load_events(directory)
    conns, lookups = connection_rows(events, {})
    listening = [(e["local_addr"], e["local_port"], e["pid"], e["program"])
                 for e in events if e["event"] == "listen"]

    def local_listener(addr, port):
        """The local program listening on addr:port (a wildcard bind covers every address)."""
        for l_addr, l_port, l_pid, l_program in listening:
            if l_port == port and (l_addr == addr or l_addr in WILDCARD_ADDRS):
                return l_pid, l_program
        return None
    ends = {}
    for e in events:
        if e["event"] in ("tcp", "udp"):
            ends[(e["event"], e["local_port"], e["start_epoch"])] = e["end_epoch"]

    # Loopback: the server side is a local program too; say so in the notes.
    for c in conns:
        srv = local_listener(c["server_addr"], c["server_port"]) if is_loopback(c["server_addr"]) else None
        if srv:
            c["notes"] += f"; server side is local too: {srv[1]} pid {srv[0]}"
    write_tsv(os.path.join(directory, "truth.tsv"), truth_columns, conns)
    write_tsv(os.path.join(directory, "truth-dns.tsv"), dns_columns, lookups)

    snaps = load_snapshots(directory, "ss")
    other_tools = {tool: load_snapshots(directory, tool) for tool in ("netstat", "lsof")}
    write_snapshot_entries(directory, {"ss": snaps, **other_tools}, write_tsv)
    rows = []
    for c in conns:
        start = float(c["start_epoch"])
        end = next((v for (p, port, s), v in ends.items()
                    if p == c["proto"] and port == c["client_port"]
                    and f"{float(s):.6f}" == c["start_epoch"]), None)
        if end is None:  # curl reports no end time; its --max-time 5 bounds it
            end = start + CURL_MAX_TIME_S
        pid = int(c["pid"])
        local = (c["client_addr"], c["client_port"])
        peer = (c["server_addr"], c["server_port"])
        hits = seen_by(snaps, c["proto"], local, peer, pid, start, end)
        row = {"proto": c["proto"], "orig_addr": c["client_addr"], "orig_port": c["client_port"],
               "resp_addr": c["server_addr"], "resp_port": c["server_port"],
               "start_epoch": c["start_epoch"], "end_epoch": f"{end:.6f}",
               "truth_pid": pid, "expected_pid": "-", "expected_program": "-", "expected_quality": "-",
               "resp_expected_pid": "-", "resp_expected_program": "-", "dns_followup_pid": "-",
               "seen_in_ss_snapshots": ",".join(hits) if hits else "-", "reason": ""}
        for tool, tool_snaps in other_tools.items():
            tool_hits = seen_by(tool_snaps, c["proto"], local, peer, pid, start, end)
            row[f"seen_in_{tool}_snapshots"] = ",".join(tool_hits) if tool_hits else "-"
        owners = owners_during(snaps, c["proto"], local, peer, start, end)
        if len(owners) > 1:
            row["reason"] = (f"ambiguous: the socket is listed with several pids {sorted(owners)} "
                             "(one socket held by two processes): unattributed with reason ambiguous; "
                             "truth_pid (the one that talked) is not wrong, any other pid is")
        elif hits:
            row["expected_pid"] = pid
            row["expected_program"] = c["program"]
            row["expected_quality"] = "wildcard_local" if c["proto"] == "udp" else "exact"
            row["reason"] = f"socket listed with pid {pid} in {len(hits)} ss snapshot(s) during the flow"
        else:
            row["reason"] = ("no ss snapshot was taken during its lifetime "
                             f"({start:.3f}..{end:.3f}, end bounded by curl --max-time where curl): "
                             "must be unattributed (no snapshot covered it)")
        srv = local_listener(c["server_addr"], c["server_port"]) if is_loopback(c["server_addr"]) else None
        if srv:
            srv_hits = seen_by(snaps, c["proto"], peer, local, srv[0], start, end)
            if srv_hits:
                row["resp_expected_pid"] = srv[0]
                row["resp_expected_program"] = srv[1]
                row["reason"] += f"; responder socket listed with pid {srv[0]} in {len(srv_hits)} snapshot(s)"
        # A DNS lookup by this program just before the connection: the lookup
        # flow may carry this pid with quality dns_followup.
        if c["name_asked"] != "-":
            row["reason"] += f"; preceded by its own lookup of {c['name_asked']}"
        rows.append(row)

    # The lookups themselves: UDP sockets alive for milliseconds, never in a
    # snapshot. Unattributed, or this pid with quality dns_followup; nothing else.
    for d in lookups:
        if d["qtype"] != "A":
            continue  # one row per lookup flow (glibc sends A and AAAA on one socket)
        rows.append({"proto": d["transport"], "orig_addr": d["client_addr"], "orig_port": "-",
                     "resp_addr": "192.0.2.53", "resp_port": 53,
                     "start_epoch": d["query_epoch"],
                     "end_epoch": f"{float(d['query_epoch']) + DNS_FOLLOWUP_WINDOW_S:.6f}",
                     "truth_pid": d["pid"], "expected_pid": "-", "expected_program": "-", "expected_quality": "-",
                     "resp_expected_pid": "-", "resp_expected_program": "-",
                     "dns_followup_pid": d["pid"], "seen_in_ss_snapshots": "-",
                     "seen_in_netstat_snapshots": "-", "seen_in_lsof_snapshots": "-",
                     "reason": f"DNS lookup of {d['name_asked']} by {d['program']} (match the flow to "
                               "192.0.2.53:53 from this client starting in the window; its port is not "
                               "known to the program): unattributed, or this pid with quality dns_followup"})
    write_tsv(os.path.join(directory, "expected-attribution.tsv"), EXPECTED_COLUMNS, rows)
