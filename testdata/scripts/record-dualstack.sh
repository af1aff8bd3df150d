#!/usr/bin/env bash
# Recording 3, "dual stack" (issue 4, snapshot importers and correlation): IPv6
# and the address forms snapshots print for it: a dual-stack listener that shows
# an IPv4 loopback peer as [::ffff:127.0.0.1], a global IPv6 connection, a
# link-local connection to a scoped address (fe80::1%nfc0), an unconnected IPv6
# UDP socket ([::]:port / *:port), and one TCP socket held by two processes
# (parent and forked child). ss/netstat/lsof every second as in record-attribution.sh.
#
# Output: testdata/recordings/dualstack/{capture.pcap (tcpdump -i any, SLL2),
# capture.pcapng (dumpcap, veth + lo), snapshots/, programs.jsonl}
# then `make_truth.py dualstack` writes the truth and expected files.
#
# Run as root from the repository root: bash testdata/scripts/record-dualstack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/testdata/recordings/dualstack
TOOLS=$REPO/testdata/recordings/tools
# shellcheck source=record-common.sh
. "$REPO/testdata/scripts/record-common.sh"
trap cleanup EXIT

LOG=$OUT/programs.jsonl
SNAPS=$OUT/snapshots
mkdir -p "$OUT"
: >"$LOG"
rm -rf "$SNAPS"
mkdir -p "$SNAPS"
# Snapshot loop bounds: one round per second, at most this many rounds.
SNAPSHOT_ROUNDS=20

setup_namespaces 1
add_link_local

# --- servers (server namespace): dual-stack TCP line service and UDP sink -----
bg_in "$SERVER_NS" "$PYTHON" "$TOOLS/nettool.py" tcp-server --bind :: --port 7000 --lifetime 60 >/dev/null
bg_in "$SERVER_NS" "$PYTHON" "$TOOLS/nettool.py" udp-sink --bind :: --port 5140 --lifetime 60
sleep 2

for p in cache-server cache-client v6-agent ll-agent shared-sock v6-shipper; do
    make_py_program "$p"
done
nt() { # program, nettool arguments... (runs in the client namespace, logs JSON)
    local p=$1
    shift
    ip netns exec "$CLIENT_NS" "$BIN/$p" "$TOOLS/nettool.py" "$@" >>"$LOG"
}

write_snapshot_commands
start_captures "$OUT/capture.pcap" "$OUT/capture.pcapng" any "$CLIENT_IF" lo
snapshot_loop &
SNAP_LOOP=$!
BG_PIDS+=("$SNAP_LOOP")
sleep 1.5

# A dual-stack local listener (:: with IPV6_V6ONLY off) and an IPv4 loopback client:
# the server's socket is listed as [::ffff:127.0.0.1]:6379, the client's as 127.0.0.1.
bg_in "$CLIENT_NS" "$BIN/cache-server" "$TOOLS/nettool.py" tcp-server --bind :: --port 6379 --lifetime 20 >>"$LOG"
CACHE_SERVER=$!
sleep 0.3
nt cache-client tcp --addr 127.0.0.1 --port 6379 --lines 4 --interval 1 --send get &
A=$!
# Global IPv6.
nt v6-agent tcp --addr 2001:db8:66::80 --port 7000 --lines 4 --interval 1 --send v6 &
B=$!
# Link-local, scoped to the veth.
nt ll-agent tcp --addr "fe80::1%$CLIENT_IF" --port 7000 --lines 4 --interval 1 --send ll &
C=$!
# One socket, two processes: the child keeps the connection 1.5 s beyond the parent's talk.
nt shared-sock tcp --addr 198.51.100.80 --port 7000 --lines 3 --interval 1 --fork-hold 4.5 --send shared &
D=$!
# Unconnected IPv6 UDP.
nt v6-shipper udp-send --addr 2001:db8:66::80 --port 5140 --count 5 --interval 0.8 --hold 0.5 &
E=$!
wait "$A" "$B" "$C" "$D" "$E"
sleep 1.5
touch "$WORK/stop-snapshots"
wait "$SNAP_LOOP" || true
stop_captures
kill "$CACHE_SERVER" 2>/dev/null || true
"$PYTHON" "$TOOLS/make_truth.py" dualstack
bash "$REPO/testdata/scripts/record-tshark-views.sh" "$OUT" >/dev/null
"$PYTHON" "$TOOLS/crosscheck.py" "$OUT" | tail -1
log "done: $(capinfos -c -M "$OUT/capture.pcap" | tail -1)"
