#!/usr/bin/env bash
# Per-packet process expectations for the attribution tests, from Wireshark (tshark), not from
# netforensic: for every frame its addresses, ports, direction and the process the capture
# names (PKTAP header fields, Darwin process blocks via the pcapng file-format dissector,
# ptcpdump's PID/Cmd comments).
#
# Output: testdata/expected/correlate/<capture>.packets.tsv with the columns
#   frame proto src sport dst dport direction pid name effective_pid effective_name
# (`-` for absent values; direction `out`, `in` or `-`).
# Usage: testdata/scripts/correlate-expected.sh   (needs tshark and python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=testdata/expected/correlate
mkdir -p "$out"

frames() {
    tshark -r "$1" -T fields -E separator=/t -E occurrence=f \
        -e frame.number -e ip.proto -e ipv6.nxt -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
        -e tcp.srcport -e udp.srcport -e tcp.dstport -e udp.dstport -e frame.p2p_dir \
        -e pktap.pid -e pktap.cmdname -e pktap.epid -e pktap.ecmdname -e pktap.flags \
        -e frame.comment 2>/dev/null
}

blocks() {
    tshark -r "$1" -X read_format:"MIME Files Format" -V 2>/dev/null
}

for capture in testdata/captures/ptcpdump_*.pcapng testdata/captures/apple-tcpdump_*.pcapng \
    testdata/captures/tcpdump_*PKTAP*.pcap; do
    [ -e "$capture" ] || continue
    name=$(basename "$capture")
    case "$name" in
        *.pcapng) blocks "$capture" >"/tmp/nf-blocks.$$" ;;
        *) : >"/tmp/nf-blocks.$$" ;;
    esac
    frames "$capture" | python3 -c '
import re, sys
blocks = open(sys.argv[1]).read().splitlines()
# Darwin process table and per-EPB process indexes, in file order (one section here).
pibs, epbs, cur = [], [], None
for line in blocks:
    s = line.strip()
    if s.startswith("Block: "):
        cur = {"kind": s}
        if "Darwin Process Event Block" in s:
            pibs.append(cur)
        elif "Enhanced Packet Block" in s:
            epbs.append(cur)
        continue
    if cur is None:
        continue
    m = re.match(r"Darwin Process ID: (\d+)", s)
    if m: cur["pid"] = m.group(1)
    m = re.match(r"Darwin Process Name: (.*)", s)
    if m: cur["name"] = m.group(1)
    m = re.match(r"DPEB ID: (\d+)", s)
    if m: cur["dpeb"] = int(m.group(1))
    m = re.match(r"Effective DPED ID: (\d+)", s)
    if m: cur["edpeb"] = int(m.group(1))
def proc(i):
    if i is None or i >= len(pibs): return ("-", "-")
    return (pibs[i].get("pid", "-"), pibs[i].get("name", "-") or "-")
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    (num, ipp, nxt, s4, s6, d4, d6, ts, us, td, ud, p2p, kpid, kcomm, kepid, kecomm, kflags, comment) = f
    proto = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmp"}.get(ipp or nxt, "-")
    src, dst = s4 or s6 or "-", d4 or d6 or "-"
    sport, dport = ts or us or "-", td or ud or "-"
    direction = {"0": "out", "1": "in"}.get(p2p, "-")
    pid = name = epid = ename = "-"
    if kpid:
        flags = int(kflags, 16) if kflags else 0
        direction = "out" if flags & 2 else ("in" if flags & 1 else "-")
        if int(kpid) < 2**31: pid, name = kpid, kcomm or "-"
        if kepid and int(kepid) < 2**31: epid, ename = kepid, kecomm or "-"
    elif comment and "PID: " in comment:
        pid = re.search(r"PID: (\d+)", comment).group(1)
        cmd = re.search(r"Cmd: ([^\\,]*)", comment)
        name = cmd.group(1).rsplit("/", 1)[-1] if cmd else "-"
    else:
        n = int(num) - 1
        if n < len(epbs) and "dpeb" in epbs[n]:
            pid, name = proc(epbs[n]["dpeb"])
            if "edpeb" in epbs[n]:
                epid, ename = proc(epbs[n]["edpeb"])
    print("\t".join([num, proto, src, sport, dst, dport, direction, pid, name, epid, ename]))
' "/tmp/nf-blocks.$$" >"$out/$name.packets.tsv"
    echo "$out/$name.packets.tsv: $(wc -l <"$out/$name.packets.tsv") frames"
done
rm -f "/tmp/nf-blocks.$$"
