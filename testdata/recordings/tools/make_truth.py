#!/usr/bin/env python3
"""Turn what the recorded programs said about themselves into ground-truth TSV files.

Inputs (per recording directory): programs.jsonl, written by the programs during
the recording (their own pid, local address/port, times; curl's own -w report),
and for the attribution recording the snapshot files.
Nothing here reads the capture: the capture is what the analyser will be
checked on, so the truth must come from elsewhere.

The expected DNS answers are the records configured in naming/dnsmasq.conf
(hand-transcribed below); the expected names per flow are the hand-written
rules in EXPECTED_NAMES, documented in naming/README.md.

Usage: make_truth.py naming|attribution|dualstack
"""

import json
import os
import re
import sys
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDINGS = os.path.dirname(HERE)

TRUTH_COLUMNS = ["proto", "client_addr", "client_port", "server_addr", "server_port",
                 "start_epoch", "pid", "program", "name_asked", "notes"]
DNS_COLUMNS = ["transport", "client_addr", "query_epoch", "pid", "program",
               "name_asked", "qtype", "rcode", "answers", "notes"]

# The client's only IPv4 address: glibc and dig ask the resolver 192.0.2.53 from it.
CLIENT_V4 = "192.0.2.10"
CLIENT_V6 = "2001:db8:2::10"

# What dnsmasq.conf makes the server answer (name, qtype) -> (rcode, answers in
# answer-section order, CNAME targets included, as Zeek's dns.log `answers`).
DNS_ANSWERS = {
    ("cdn-a.test", "A"): ("NOERROR", ["198.51.100.20"]),
    ("cdn-a.test", "AAAA"): ("NOERROR", []),
    ("cdn-b.test", "A"): ("NOERROR", ["198.51.100.20"]),
    ("cdn-b.test", "AAAA"): ("NOERROR", []),
    ("a.chain.test", "A"): ("NOERROR", ["b.chain.test", "c.chain.test", "198.51.100.30"]),
    ("a.chain.test", "AAAA"): ("NOERROR", ["b.chain.test", "c.chain.test"]),
    ("v6only.test", "A"): ("NOERROR", []),
    ("v6only.test", "AAAA"): ("NOERROR", ["2001:db8:66::80"]),
    ("secure.test", "A"): ("NOERROR", ["198.51.100.43"]),
    ("secure.test", "AAAA"): ("NOERROR", []),
    ("mail.secure.test", "A"): ("NOERROR", ["198.51.100.43"]),
    ("mail.secure.test", "AAAA"): ("NOERROR", []),
    ("www.shop.test", "A"): ("NOERROR", ["198.51.100.80"]),
    ("www.shop.test", "AAAA"): ("NOERROR", []),
    ("c2.badguy.test", "A"): ("NOERROR", ["203.0.113.66"]),
    ("c2.badguy.test", "AAAA"): ("NOERROR", []),
    ("c2.badguy.test", "TXT"): ("NOERROR", ["v=beacon1 interval=60"]),
    ("updates.vendor.test", "A"): ("NOERROR", ["198.51.100.80"]),  # attribution recording
    ("updates.vendor.test", "AAAA"): ("NOERROR", []),
    ("xkqjzv3a.badguy.test", "A"): ("NXDOMAIN", []),
    ("xkqjzv3a.badguy.test", "AAAA"): ("NXDOMAIN", []),
}

# Per program of the naming recording: what a correct analyser must say about the
# flow that program made. (server_name, name_source, names that must be among
# `names`, ambiguity, note). ambiguity: "no" = must not be flagged ambiguous and
# server_name must equal the value given; "yes" = must be flagged ambiguous (any
# of the listed names may stand as server_name, or none); "allowed" = either the
# given server_name unflagged, or flagged ambiguous with the listed names.
# name_source may list accepted alternatives separated by "|".
EXPECTED_NAMES = {
    "news-reader": ("cdn-a.test", "http_host", ["cdn-a.test"], "no",
                    "Host header names the flow; cdn-b.test shares the IP"),
    "tracker-sync": ("cdn-b.test", "http_host", ["cdn-b.test"], "no",
                     "Host header names the flow; cdn-a.test shares the IP"),
    "chat-relay": ("cdn-a.test", "dns", ["cdn-a.test", "cdn-b.test"], "allowed",
                   "no name in the flow; this client's latest answer for the IP was cdn-a.test, but cdn-b.test was also answered to it before"),
    "metrics-push": ("cdn-b.test", "dns", ["cdn-a.test", "cdn-b.test"], "yes",
                     "program asked cdn-b.test, but update-check's lookup of cdn-a.test came later: the latest answer is the wrong name; from the capture alone the name is ambiguous"),
    "update-check": ("cdn-a.test", "dns", ["cdn-a.test", "cdn-b.test"], "allowed",
                     "latest answer for the IP before this flow is its own cdn-a.test lookup"),
    "photo-sync": ("a.chain.test", "http_host", ["a.chain.test"], "no",
                   "Host header; DNS gave the chain a.chain.test -> b.chain.test -> c.chain.test -> 198.51.100.30"),
    "blob-uploader": ("a.chain.test", "dns", ["a.chain.test", "b.chain.test", "c.chain.test"], "no",
                      "CNAME chain: the name asked is a.chain.test, the chain goes into names"),
    "v6-fetch": ("v6only.test", "http_host", ["v6only.test"], "no",
                 "AAAA-only name; flow over IPv6"),
    "v6-probe": ("v6only.test", "dns|dns_other_client", ["v6only.test"], "no",
                 "lookup went over IPv4 (192.0.2.10 -> 192.0.2.53) but the flow is from 2001:db8:2::10: same host, other client address; a same-address-only match finds it only via answers for other clients (flagged as such)"),
    "raw-dialer": ("-", "-", [], "no",
                   "raw IP, no lookup, no name anywhere: server_name must be absent"),
    "implant": ("c2.badguy.test", "http_host", ["c2.badguy.test"], "no",
                "Host: c2.badguy.test:8443 (port not part of the name); its own lookups went over DNS-over-TCP"),
    "secure-mail": ("secure.test", "sni", ["secure.test"], "no",
                    "TLS SNI; mail.secure.test shares the IP"),
    "mail-sync": ("mail.secure.test", "sni", ["mail.secure.test"], "no",
                  "TLS SNI; secure.test shares the IP"),
    "shop-client": ("storefront.shop.test", "http_host", ["storefront.shop.test", "www.shop.test"], "no",
                    "Host header differs from the name looked up (www.shop.test): the Host wins"),
}


def load_events(directory):
    events = []
    with open(os.path.join(directory, "programs.jsonl"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                events.append(json.loads(line))
    return events


def is_ip_literal(host):
    return bool(re.fullmatch(r"[0-9.]+", host)) or ":" in host


def fmt_epoch(value):
    return f"{float(value):.6f}"


def write_tsv(path, columns, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\t".join(columns) + "\n")
        for row in rows:
            cells = [str(row[c]) for c in columns]
            for cell in cells:
                assert "\t" not in cell and "\n" not in cell, cell
            f.write("\t".join(cells) + "\n")


def dns_rows(transport, epoch, pid, program, name, qtypes, note):
    rows = []
    for qtype in qtypes:
        rcode, answers = DNS_ANSWERS[(name, qtype)]
        rows.append({"transport": transport, "client_addr": CLIENT_V4,
                     "query_epoch": fmt_epoch(epoch), "pid": pid, "program": program,
                     "name_asked": name, "qtype": qtype, "rcode": rcode,
                     "answers": ",".join(answers) if answers else "-", "notes": note})
    return rows


def connection_rows(events, notes_by_program):
    """truth.tsv rows and truth-dns.tsv rows from the programs' own reports."""
    conns, lookups = [], []
    for ev in events:
        program, pid = ev.get("program"), ev.get("pid")
        note = notes_by_program.get(program, "")
        if ev["event"] == "curl":
            host = urlsplit(ev["url"]).hostname
            c = ev["curl"]
            asked = "-" if is_ip_literal(host) else host
            conns.append({"proto": "tcp", "client_addr": c["local_ip"], "client_port": c["local_port"],
                          "server_addr": c["remote_ip"], "server_port": c["remote_port"],
                          "start_epoch": fmt_epoch(ev["launch_epoch"]), "pid": pid, "program": program,
                          "name_asked": asked,
                          "notes": "curl " + ev["url"] + "; start_epoch = program launch" + (": " + note if note else "")})
            if asked != "-":
                transport = "tcp" if program in TCP_RESOLVER_PROGRAMS else "udp"
                lookups += dns_rows(transport, ev["launch_epoch"], pid, program, asked, ["A", "AAAA"],
                                    "glibc getaddrinfo (query_epoch = program launch)")
        elif ev["event"] == "exec" and program == "dig":
            lookups += dns_rows("tcp", ev["launch_epoch"], pid, program, "c2.badguy.test", ["A", "TXT"],
                                "dig +tcp +keepopen: both queries on one TCP connection (query_epoch = program launch)")
        elif ev["event"] == "resolve":
            qtypes = ev.get("qtypes", ["A", "AAAA"])
            lookups += dns_rows("udp", ev["resolve_epoch"], pid, program, ev["name_asked"], qtypes,
                                "glibc getaddrinfo (query_epoch = just before the call)")
        elif ev["event"] in ("tcp", "udp"):
            client_addr = ev["local_addr"]
            server_addr = ev["remote_addr"]
            if "%" in client_addr or "%" in server_addr:
                # Scoped link-local: the zone (%nfc0) is the host's, not the wire's.
                note = f"scoped addresses {client_addr} -> {server_addr}" + ("; " + note if note else "")
                client_addr = client_addr.split("%", 1)[0]
                server_addr = server_addr.split("%", 1)[0]
            if client_addr in ("0.0.0.0", "::"):
                # Unconnected UDP: getsockname() gives the wildcard; the kernel picked the
                # source address per datagram by routing: the client's only address.
                note = f"unconnected socket bound to {client_addr} (sendto without connect)" + ("; " + note if note else "")
                client_addr = CLIENT_V6 if client_addr == "::" else CLIENT_V4
            if ev.get("also_held_by_pid"):
                note = (f"socket also held by pid {ev['also_held_by_pid']} (forked child, same program name)"
                        + ("; " + note if note else ""))
            conns.append({"proto": ev["event"], "client_addr": client_addr, "client_port": ev["local_port"],
                          "server_addr": server_addr, "server_port": ev["remote_port"],
                          "start_epoch": fmt_epoch(ev["start_epoch"]), "pid": pid, "program": program,
                          "name_asked": ev["name_asked"],
                          "notes": f"ended {fmt_epoch(ev['end_epoch'])}" + ("; " + note if note else "")})
    return conns, lookups


# Programs whose own glibc lookups were forced onto TCP (RES_OPTIONS=use-vc).
TCP_RESOLVER_PROGRAMS = {"implant"}


def make_naming():
    directory = os.path.join(RECORDINGS, "naming")
    events = load_events(directory)
    conns, lookups = connection_rows(events, {})
    write_tsv(os.path.join(directory, "truth.tsv"), TRUTH_COLUMNS, conns)
    write_tsv(os.path.join(directory, "truth-dns.tsv"), DNS_COLUMNS, lookups)
    expected = []
    for c in conns:
        name, source, names, ambiguity, note = EXPECTED_NAMES[c["program"]]
        expected.append({"proto": c["proto"], "client_addr": c["client_addr"], "client_port": c["client_port"],
                         "server_addr": c["server_addr"], "server_port": c["server_port"],
                         "program": c["program"], "server_name": name, "name_source": source,
                         "names_include": ",".join(names) if names else "-", "ambiguous": ambiguity,
                         "notes": note})
    write_tsv(os.path.join(directory, "expected-names.tsv"),
              ["proto", "client_addr", "client_port", "server_addr", "server_port", "program",
               "server_name", "name_source", "names_include", "ambiguous", "notes"], expected)


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("naming", "attribution", "dualstack"):
        sys.stderr.write(__doc__)
        return 2
    if sys.argv[1] == "naming":
        make_naming()
    else:
        sys.dont_write_bytecode = True  # no __pycache__ inside testdata/
        import make_truth_attribution  # noqa: E402  (kept apart: snapshot parsing)
        make_truth_attribution.make(RECORDINGS, load_events, connection_rows, write_tsv,
                                    TRUTH_COLUMNS, DNS_COLUMNS, sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
