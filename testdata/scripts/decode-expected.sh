#!/usr/bin/env bash
# Expected decoder output, from tshark (an independent decoder), for every corpus file tshark
# reads. For each packet record: the innermost transport as tshark dissects it, with its IP addresses
# and ports, classified the way netforensic decodes (tunnels removed, fragments reassembled,
# ICMP errors are ICMP: the packet an ICMP error quotes does not count).
#
# Usage: testdata/scripts/decode-expected.sh [CORPUS_DIR]   (default: ../shared/corpus)
# Writes testdata/expected/decode/counts.tsv (per file: frames as tcp, udp, icmp, none) and
# testdata/expected/decode/frames/<file with / as __>.tsv (per frame) for files up to
# MAX_FRAMES_LISTED frames.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="${1:-$here/../shared/corpus}"
out="$here/testdata/expected/decode"
export MAX_FRAMES_LISTED=10000
command -v tshark >/dev/null || { echo "tshark is required" >&2; exit 1; }
mkdir -p "$out/frames"
tshark --version | head -1 > "$out/TSHARK_VERSION"
printf 'file\ttcp\tudp\ticmp\tnone\n' > "$out/counts.tsv"
tail -n +2 "$corpus/MANIFEST.tsv" | cut -f1,6 | while IFS=$'\t' read -r file format; do
  case "$format" in unreadable*) continue ;; esac
  tshark -n -r "$corpus/$file" -T fields -E separator='|' -E occurrence=a -E aggregator=, \
    -e frame.number -e frame.encap_type -e frame.protocols -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
    -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null |
  python3 -c '
import os, sys
file, out = sys.argv[1], sys.argv[2]
TUNNEL_AFTER_UDP = {"teredo", "vxlan"}
rows, counts = [], {"tcp": 0, "udp": 0, "icmp": 0, "none": 0}
number = 0
for line in sys.stdin:
    f = line.rstrip("\n").split("|")
    # tshark 4 lists pcapng custom blocks as frames without an encapsulation: they are not
    # packet records (capinfos does not count them), so they are skipped and frames renumbered.
    if not f[1]:
        continue
    number += 1
    protocols = f[2].split(":")
    lists = [x.split(",") if x else [] for x in f[3:]]
    ip_src, ip_dst, ip6_src, ip6_dst, tsp, tdp, usp, udp_ = lists
    seen = {"ip": 0, "ipv6": 0, "tcp": 0, "udp": 0}
    last_ip = None
    cls = "none"; src = dst = sport = dport = "-"
    for i, p in enumerate(protocols):
        if p in ("ip", "ipv6"):
            last_ip = (p, seen[p]); seen[p] += 1
        elif p in ("icmp", "icmpv6", "tcp", "udp"):
            nxt = protocols[i + 1] if i + 1 < len(protocols) else ""
            if p == "udp" and nxt in TUNNEL_AFTER_UDP:
                seen["udp"] += 1
                continue
            cls = "icmp" if p.startswith("icmp") else p
            if last_ip:
                kind, k = last_ip
                s, d = (ip_src, ip_dst) if kind == "ip" else (ip6_src, ip6_dst)
                src = s[k] if k < len(s) else "-"
                dst = d[k] if k < len(d) else "-"
            if p in ("tcp", "udp"):
                sp, dp = (tsp, tdp) if p == "tcp" else (usp, udp_)
                k = seen[p]
                sport = sp[k] if k < len(sp) else "-"
                dport = dp[k] if k < len(dp) else "-"
            break
    counts[cls] += 1
    rows.append("\t".join([str(number), cls, src, dst, sport, dport]))
print("\t".join([file] + [str(counts[c]) for c in ("tcp", "udp", "icmp", "none")]))
if len(rows) <= int(os.environ["MAX_FRAMES_LISTED"]):
    with open(os.path.join(out, "frames", file.replace("/", "__") + ".tsv"), "w") as w:
        w.write("frame\tclass\tsrc\tdst\tsport\tdport\n")
        w.write("\n".join(rows) + ("\n" if rows else ""))
' "$file" "$out" >> "$out/counts.tsv"
done
echo "wrote $out/counts.tsv" >&2
