#!/usr/bin/env bash
# Regenerate the independent expected outputs of the flow tests from tshark:
# testdata/expected/flow/tshark/<capture>.tsv for every capture in testdata/captures
# that tshark reads (see flows_tshark.py for the format).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/testdata/expected/flow/tshark"
mkdir -p "$out"
for f in "$root"/testdata/captures/*; do
    name="$(basename "$f")"
    if capinfos "$f" >/dev/null 2>&1; then
        python3 "$root/testdata/scripts/flows_tshark.py" tshark "$f" >"$out/$name.tsv"
    fi
done

# Community IDs as Wireshark's postdissector computes them (one line per distinct ID), for the
# captures without tunnels (tshark hashes a tunnelled packet's outer header, we the inner).
cid="$root/testdata/expected/flow/community_id"
mkdir -p "$cid"
for name in zeek_get.pcap zeek_wikipedia.pcap zeek_icmp-ping.pcap zeek_icmp6-ping.pcap \
    zeek_icmp.pcap zeek_bro.org.pcap zeek_irc-starttls.pcap zeek_pcapng-multi-interface.pcapng \
    zeek_radiotap.pcap zeek_wlanmon.pcap zeek_long-connection.pcap; do
    tshark --enable-protocol communityid -n -r "$root/testdata/captures/$name" \
        -T fields -e communityid 2>/dev/null | grep -v '^$' | sort -u >"$cid/$name.txt"
done
