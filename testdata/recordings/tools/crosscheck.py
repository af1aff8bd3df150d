#!/usr/bin/env python3
"""Check a recording's truth files against tshark's independent view of its capture.

The truth files come from the programs themselves; the tshark-*.txt files come
from the capture (record-tshark-views.sh). Every connection and lookup in the
truth must be visible in the capture, at a time consistent with the program's
own clock reading. Prints one line per check and a closing count.

Usage: crosscheck.py testdata/recordings/NAME
"""

import csv
import os
import sys

# A program's clock reading precedes its first packet; curl's launch time can
# precede its SYN by the time to start and resolve (bounded here).
MAX_LAUNCH_TO_PACKET_S = 2.0
# Clock readings taken just before connect()/sendto() may be a hair after the
# kernel stamped the packet; allow this much earlier.
CLOCK_SLACK_S = 0.01

QTYPE_NUMBERS = {"A": "1", "AAAA": "28", "TXT": "16", "CNAME": "5"}
RCODE_NUMBERS = {"NOERROR": "0", "NXDOMAIN": "3"}


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_view(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def pick(v4, v6):
    return v4 or v6


def main():
    directory = sys.argv[1]
    ok = bad = 0

    def report(good, what):
        nonlocal ok, bad
        if good:
            ok += 1
        else:
            bad += 1
        print(("ok   " if good else "FAIL ") + what)

    syns = [(float(r[0]), pick(r[1], r[2]), r[3], pick(r[4], r[5]), r[6])
            for r in read_view(os.path.join(directory, "tshark-tcp-syn.txt"))]
    udp_path = os.path.join(directory, "tshark-udp.txt")
    udps = [(float(r[0]), pick(r[1], r[2]), r[3], pick(r[4], r[5]), r[6])
            for r in read_view(udp_path)] if os.path.exists(udp_path) else []
    for t in read_tsv(os.path.join(directory, "truth.tsv")):
        start = float(t["start_epoch"])
        key = (t["client_addr"], t["client_port"], t["server_addr"], t["server_port"])
        packets = syns if t["proto"] == "tcp" else udps
        times = [p[0] for p in packets if p[1:] == key]
        hit = [x for x in times if start - CLOCK_SLACK_S <= x <= start + MAX_LAUNCH_TO_PACKET_S]
        # Same 4-tuple twice (port reuse) is told apart by time: the earliest in the window.
        report(bool(hit), f"{t['program']} pid {t['pid']} {t['proto']} {' '.join(key)}: "
                          + (f"first packet at {min(hit):.6f}" if hit else "no first packet in the time window"))

    dns_path = os.path.join(directory, "truth-dns.tsv")
    responses = []
    for r in read_view(os.path.join(directory, "tshark-dns.txt")):
        r += [""] * (13 - len(r))
        transport = "udp" if r[3] else "tcp"
        answers = [a for a in (r[9].split(",") + r[10].split(",") + r[11].split(",") + [r[12]]) if a]
        responses.append((float(r[0]), transport, r[2], r[6], r[7], r[8], answers))
    for d in read_tsv(dns_path):
        start = float(d["query_epoch"])
        want = [] if d["answers"] == "-" else d["answers"].split(",")
        hits = [r for r in responses
                if r[1] == d["transport"] and r[2] == d["client_addr"] and r[4] == d["name_asked"]
                and r[5] == QTYPE_NUMBERS[d["qtype"]]
                and start - CLOCK_SLACK_S <= r[0] <= start + MAX_LAUNCH_TO_PACKET_S]
        # Lookups of the same name by later programs may fall in the window: the
        # program's own response is the earliest one after its clock reading.
        first = min(hits, key=lambda r: r[0]) if hits else None
        good = first is not None and first[3] == RCODE_NUMBERS[d["rcode"]] and sorted(first[6]) == sorted(want)
        report(good, f"{d['program']} pid {d['pid']} {d['transport']} {d['name_asked']} {d['qtype']} "
                     f"-> {d['rcode']} {d['answers']}: "
                     + (f"response at {first[0]:.6f}" if first else "no response in the time window"))
    print(f"crosscheck: {ok} passed, {bad} failed")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
