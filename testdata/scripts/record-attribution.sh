#!/usr/bin/env bash
# Recording 2, "attribution" (issue 4): distinctively named programs in the client
# namespace, captured on the veth and on loopback, while `ss -tunap`,
# `netstat -tunap` and `lsof -i -n -P +c 0` snapshots are taken every second.
#
# Output: testdata/recordings/attribution/{capture.pcap (tcpdump -i any, SLL2),
# capture.pcapng (dumpcap, veth + lo), snapshots/, programs.jsonl}
# then `make_truth.py attribution` writes truth.tsv, truth-dns.tsv, expected-attribution.tsv.
#
# Run as root from the repository root: bash testdata/scripts/record-attribution.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/testdata/recordings/attribution
TOOLS=$REPO/testdata/recordings/tools
# shellcheck source=record-common.sh
. "$REPO/testdata/scripts/record-common.sh"
trap cleanup EXIT

LOG=$OUT/programs.jsonl
SNAPS=$OUT/snapshots
: >"$LOG"
rm -rf "$SNAPS"
mkdir -p "$SNAPS"

# Snapshot loop bounds: one round per second, at most this many rounds.
SNAPSHOT_ROUNDS=30

setup_namespaces 0

# --- servers (server namespace) ---------------------------------------------
cat >"$WORK/dnsmasq.conf" <<'EOF'
no-resolv
no-hosts
no-poll
local=/test/
listen-address=192.0.2.53
bind-interfaces
local-ttl=300
host-record=c2.badguy.test,203.0.113.66
host-record=updates.vendor.test,198.51.100.80
EOF
mkdir -p "$WORK/www"
printf 'hello\n' >"$WORK/www/index.html"
bg_in "$SERVER_NS" dnsmasq --keep-in-foreground --user=root --conf-file="$WORK/dnsmasq.conf" --pid-file="$WORK/dnsmasq.pid"
bg_in "$SERVER_NS" "$PYTHON" -m http.server --bind 198.51.100.80 --directory "$WORK/www" 80 >/dev/null 2>&1
for port in 443 8443 7000; do
    bg_in "$SERVER_NS" "$PYTHON" "$TOOLS/nettool.py" tcp-server --bind 0.0.0.0 --port "$port" --lifetime 120 >/dev/null
done
bg_in "$SERVER_NS" "$PYTHON" "$TOOLS/nettool.py" udp-sink --bind 0.0.0.0 --port 5140 --lifetime 120
sleep 2

# --- programs with distinctive names -------------------------------------------
for p in sync-daemon beacon-agent first-user second-user local-db local-app log-shipper; do
    make_py_program "$p"
done
make_curl_program quick-ping
make_curl_program update-check
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

# A local service and its local client (loopback, both ends in this namespace).
bg_in "$CLIENT_NS" "$BIN/local-db" "$TOOLS/nettool.py" tcp-server --bind 127.0.0.1 --port 5432 --lifetime 40 >>"$LOG"
LOCAL_DB=$!
sleep 0.3

# Long-lived connection: one TCP connection, a heartbeat every second for 16 s.
nt sync-daemon tcp --addr 203.0.113.66 --port 443 --lines 16 --interval 1 --send heartbeat &
SYNC=$!
sleep 0.5
# Beacon: resolves c2.badguy.test once, then a new connection every second (12x),
# each kept open 2 s, so every one overlaps at least one snapshot round.
nt beacon-agent beacon --name c2.badguy.test --port 8443 --count 12 --every 1 --hold 2 --send beacon &
BEACON=$!
sleep 0.5
nt local-app tcp --addr 127.0.0.1 --port 5432 --lines 4 --interval 1 --send query &
LOCAL_APP=$!

# Unconnected UDP sender: sendto() only, 5 datagrams 0.8 s apart.
nt log-shipper udp-send --addr 203.0.113.99 --port 5140 --count 5 --interval 0.8 --hold 0.5 &
SHIPPER=$!

# Same local port, two programs one after the other (same 5-tuple twice): the
# server closes first each time, so the client port is free at once.
nt first-user tcp --addr 198.51.100.80 --port 7000 --local-port 40000 --reuseaddr --lines 3 --interval 1 --server-close --send first
sleep 1.5
nt second-user tcp --addr 198.51.100.80 --port 7000 --local-port 40000 --reuseaddr --lines 3 --interval 1 --server-close --send second

# Short connections: started right after a snapshot round, over in milliseconds.
after_next_snapshot
run_curl "$LOG" quick-ping -- http://198.51.100.80/
sleep 1.2
after_next_snapshot
run_curl "$LOG" quick-ping -- http://198.51.100.80/index.html
# A short connection with a DNS lookup just before it (dns_followup case).
sleep 1.2
after_next_snapshot
run_curl "$LOG" update-check -- http://updates.vendor.test/

wait "$SYNC" "$BEACON" "$LOCAL_APP" "$SHIPPER"
sleep 1.5
touch "$WORK/stop-snapshots"
wait "$SNAP_LOOP" || true
stop_captures
kill "$LOCAL_DB" 2>/dev/null || true
"$PYTHON" "$TOOLS/make_truth.py" attribution
bash "$REPO/testdata/scripts/record-tshark-views.sh" "$OUT" >/dev/null
"$PYTHON" "$TOOLS/crosscheck.py" "$OUT" | tail -1
log "done: $(capinfos -c -M "$OUT/capture.pcap" | tail -1)"
