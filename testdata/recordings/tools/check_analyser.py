#!/usr/bin/env python3
"""Compare netforensic's output on a recording with the recording's expected files.

  check_analyser.py naming FLOWS.jsonl [DNS.jsonl]
  check_analyser.py attribution|dualstack FLOWS.jsonl

FLOWS.jsonl: `netforensic flows --format jsonl` on the recording's capture (for
attribution with `--sockets` the snapshot files of one tool); DNS.jsonl:
`netforensic dns --format jsonl`. Field names as in shared DESIGN.md 4.2/4.3.
Prints one line per check and closes with "N passed, M failed"; exit 1 on any failure.
"""

import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDINGS = os.path.dirname(HERE)
# A flow's first packet follows the program's clock reading by at most this
# (curl's launch to its SYN; a lookup's call to its query).
MAX_START_DELAY_S = 2.0
# The program read its clock just before connect(); the kernel may stamp the SYN
# a hair earlier on another CPU clock path.
CLOCK_SLACK_S = 0.01


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, good, what):
        if good:
            self.passed += 1
        else:
            self.failed += 1
        print(("ok   " if good else "FAIL ") + what)

    def close(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def zeek_answer_to_plain(answer):
    """Zeek's dns.log writes a TXT answer as 'TXT <length> <text>'; the truth has the text."""
    parts = answer.split(" ", 2)
    if len(parts) == 3 and parts[0] == "TXT" and parts[1].isdigit():
        return parts[2]
    return answer


def is_ambiguous(f):
    """DESIGN.md names no field for it yet: accept the names in use or proposed."""
    return bool(f.get("name_ambiguous") or f.get("ambiguous")
                or str(f.get("name_source", "")).endswith("ambiguous"))


def flow_key(f):
    return (f.get("proto"), str(f.get("id.orig_h")), str(f.get("id.orig_p")),
            str(f.get("id.resp_h")), str(f.get("id.resp_p")))


def find_flows(flows, proto, orig_h, orig_p, resp_h, resp_p, start):
    """Flows with this key (orig_p '-' = any) whose first packet follows `start`."""
    hits = []
    for f in flows:
        k = flow_key(f)
        if k[0] != proto or k[1] != orig_h or k[3] != resp_h or k[4] != str(resp_p):
            continue
        if orig_p != "-" and k[2] != str(orig_p):
            continue
        ts = float(f.get("ts", 0))
        if start - CLOCK_SLACK_S <= ts <= start + MAX_START_DELAY_S:
            hits.append(f)
    return sorted(hits, key=lambda f: float(f.get("ts", 0)))


def check_naming(flows_path, dns_path):
    directory = os.path.join(RECORDINGS, "naming")
    flows = read_jsonl(flows_path)
    truth = {(t["proto"], t["client_addr"], t["client_port"]): t
             for t in read_tsv(os.path.join(directory, "truth.tsv"))}
    c = Checks()
    for e in read_tsv(os.path.join(directory, "expected-names.tsv")):
        t = truth[(e["proto"], e["client_addr"], e["client_port"])]
        found = find_flows(flows, e["proto"], e["client_addr"], e["client_port"],
                           e["server_addr"], e["server_port"], float(t["start_epoch"]))
        label = f"{e['program']} {e['client_addr']}:{e['client_port']} -> {e['server_addr']}:{e['server_port']}"
        if len(found) != 1:
            c.check(False, f"{label}: {len(found)} flows found, expected 1")
            continue
        f = found[0]
        name, source = f.get("server_name"), f.get("name_source")
        names = f.get("names") or []
        ambiguous = is_ambiguous(f)
        must = [] if e["names_include"] == "-" else e["names_include"].split(",")
        sources = e["name_source"].split("|")
        missing = [n for n in must if n not in names]
        if e["server_name"] == "-":
            good = not name and not names and not ambiguous
            why = f"server_name={name!r} names={names}"
        elif e["ambiguous"] == "no":
            good = name == e["server_name"] and source in sources and not ambiguous and not missing
            why = f"server_name={name!r} name_source={source!r} ambiguous={ambiguous} missing names={missing}"
        elif e["ambiguous"] == "yes":
            good = ambiguous and (not name or name in must) and not missing
            why = f"ambiguous={ambiguous} server_name={name!r} missing names={missing}"
        else:  # allowed
            unflagged_ok = not ambiguous and name == e["server_name"] and source in sources
            flagged_ok = ambiguous and (not name or name in must)
            good = (unflagged_ok or flagged_ok) and not missing
            why = f"server_name={name!r} name_source={source!r} ambiguous={ambiguous} missing names={missing}"
        c.check(good, f"{label}: expected {e['server_name']} ({e['name_source']}, ambiguous {e['ambiguous']}); got {why}")

    if dns_path:
        records = read_jsonl(dns_path)
        for d in read_tsv(os.path.join(directory, "truth-dns.tsv")):
            start = float(d["query_epoch"])
            hits = sorted((r for r in records
                           if r.get("proto") == d["transport"] and r.get("id.orig_h") == d["client_addr"]
                           and r.get("query") == d["name_asked"] and r.get("qtype_name") == d["qtype"]
                           and start - CLOCK_SLACK_S <= float(r.get("ts", 0)) <= start + MAX_START_DELAY_S),
                          key=lambda r: float(r.get("ts", 0)))
            want = [] if d["answers"] == "-" else d["answers"].split(",")
            label = f"dns {d['program']} {d['transport']} {d['name_asked']} {d['qtype']}"
            if not hits:
                c.check(False, f"{label}: no DNS record")
                continue
            r = hits[0]
            got = [zeek_answer_to_plain(a) for a in (r.get("answers") or [])]
            c.check(r.get("rcode_name") == d["rcode"] and got == want,
                    f"{label}: rcode {r.get('rcode_name')} answers {got}, expected {d['rcode']} {want}")
    return c.close()


def check_attribution(flows_path, name):
    directory = os.path.join(RECORDINGS, name)
    flows = read_jsonl(flows_path)
    c = Checks()
    matched = set()
    for e in read_tsv(os.path.join(directory, "expected-attribution.tsv")):
        found = find_flows(flows, e["proto"], e["orig_addr"], e["orig_port"],
                           e["resp_addr"], e["resp_port"], float(e["start_epoch"]))
        label = f"{e['proto']} {e['orig_addr']}:{e['orig_port']} -> {e['resp_addr']}:{e['resp_port']} @{e['start_epoch']}"
        if not found:
            c.check(False, f"{label}: flow not found")
            continue
        f = found[0]
        matched.add(id(f))
        proc = f.get("process") or {}
        pid, quality = proc.get("pid"), proc.get("quality")
        if e["expected_pid"] != "-":
            good = str(pid) == e["expected_pid"] and proc.get("name") == e["expected_program"] \
                and quality == e["expected_quality"]
            c.check(good, f"{label}: expected {e['expected_program']} pid {e['expected_pid']} "
                          f"({e['expected_quality']}); got pid {pid} {proc.get('name')!r} ({quality})")
        elif e["dns_followup_pid"] != "-":
            good = pid is None or (str(pid) == e["dns_followup_pid"] and quality == "dns_followup")
            c.check(good, f"{label}: expected unattributed or pid {e['dns_followup_pid']} (dns_followup); "
                          f"got pid {pid} ({quality})")
        elif e["reason"].startswith("ambiguous"):
            good = pid is None or str(pid) == e["truth_pid"]
            c.check(good, f"{label}: expected unattributed (ambiguous) or pid {e['truth_pid']}; got pid {pid}")
        else:
            c.check(pid is None, f"{label}: expected unattributed ({e['reason'][:60]}...); got pid {pid}")
        if e["resp_expected_pid"] != "-":
            resp = f.get("resp_process") or {}
            c.check(str(resp.get("pid")) == e["resp_expected_pid"],
                    f"{label}: responder expected {e['resp_expected_program']} pid {e['resp_expected_pid']}; "
                    f"got {resp.get('pid')}")
    # Zero wrong attributions anywhere: every other attributed flow is a failure.
    for f in flows:
        if id(f) not in matched and (f.get("process") or f.get("resp_process")):
            c.check(False, f"unexpected attribution on {flow_key(f)}: {f.get('process') or f.get('resp_process')}")
    return c.close()


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("naming", "attribution", "dualstack"):
        sys.stderr.write(__doc__)
        return 2
    if sys.argv[1] == "naming":
        return check_naming(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    return check_attribution(sys.argv[2], sys.argv[1])


if __name__ == "__main__":
    sys.exit(main())
