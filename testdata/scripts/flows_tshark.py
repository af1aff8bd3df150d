#!/usr/bin/env python3
"""Per-5-tuple, per-direction packet counts of TCP and UDP flows, from tshark or from
netforensic, in one normalised TSV form so the two can be compared.

  flows_tshark.py tshark CAPTURE        tshark's `-z conv,tcp -z conv,udp`, normalised
  flows_tshark.py ours < FLOWS.jsonl    `netforensic flows --format jsonl`, normalised
  flows_tshark.py compare EXPECTED ACTUAL   differences; exit 1 if any

Normalised line: proto, low addr, low port, high addr, high port, packets low->high,
packets high->low (the endpoints ordered by address bytes then port). Rows with the same
5-tuple are summed (Zeek's timeouts and port reuse split what tshark may keep whole, and
the other way round).
"""
import ipaddress
import json
import subprocess
import sys
from collections import defaultdict


def endpoint(text):
    addr, _, port = text.rpartition(":")
    return ipaddress.ip_address(addr), int(port)


def order_key(ep):
    addr, port = ep
    return (addr.version, addr.packed, port)


def add(table, proto, a, b, a_to_b, b_to_a):
    if order_key(a) <= order_key(b):
        lo, hi, lo_hi, hi_lo = a, b, a_to_b, b_to_a
    else:
        lo, hi, lo_hi, hi_lo = b, a, b_to_a, a_to_b
    key = (proto, str(lo[0]), lo[1], str(hi[0]), hi[1])
    counts = table[key]
    counts[0] += lo_hi
    counts[1] += hi_lo


def from_tshark(path):
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-q", "-z", "conv,tcp", "-z", "conv,udp"],
        check=True, capture_output=True, text=True,
    ).stdout
    table = defaultdict(lambda: [0, 0])
    proto = None
    for line in out.splitlines():
        if line.startswith("TCP Conversations"):
            proto = "tcp"
        elif line.startswith("UDP Conversations"):
            proto = "udp"
        parts = line.split()
        if proto and len(parts) >= 6 and parts[1] == "<->":
            a, b = endpoint(parts[0]), endpoint(parts[2])
            # Columns: "<-" frames (b to a), bytes..., "->" frames (a to b), bytes...
            nums = [p for p in parts[3:]]
            b_to_a = int(nums[0])
            rest = nums[1:]
            # skip the byte count (number + unit)
            a_to_b = int(rest[2])
            add(table, proto, a, b, a_to_b, b_to_a)
    return table


def from_ours(stream):
    table = defaultdict(lambda: [0, 0])
    for line in stream:
        line = line.strip()
        if not line:
            continue
        rec = json.loads(line)
        if rec["proto"] not in ("tcp", "udp"):
            continue
        a = (ipaddress.ip_address(rec["id.orig_h"]), rec["id.orig_p"])
        b = (ipaddress.ip_address(rec["id.resp_h"]), rec["id.resp_p"])
        add(table, rec["proto"], a, b, rec["orig_pkts"], rec["resp_pkts"])
    return table


def dump(table):
    for key in sorted(table, key=lambda k: (k[0], order_key((ipaddress.ip_address(k[1]), k[2])),
                                            order_key((ipaddress.ip_address(k[3]), k[4])))):
        counts = table[key]
        print("\t".join(str(x) for x in (*key, counts[0], counts[1])))


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            p = line.rstrip("\n").split("\t")
            rows[tuple(p[:5])] = (int(p[5]), int(p[6]))
    return rows


def compare(expected_path, actual_path):
    exp, act = load(expected_path), load(actual_path)
    bad = 0
    for key in sorted(set(exp) | set(act)):
        e, a = exp.get(key), act.get(key)
        if e != a:
            bad += 1
            print(f"{' '.join(key)}: tshark {e} netforensic {a}")
    return bad


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "tshark":
        dump(from_tshark(sys.argv[2]))
    elif cmd == "ours":
        dump(from_ours(sys.stdin))
    elif cmd == "compare":
        sys.exit(1 if compare(sys.argv[2], sys.argv[3]) else 0)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
