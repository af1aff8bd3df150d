#!/usr/bin/env bash
# Records `netforensic snapshot` taken on this machine during a loopback capture, for the test
# that feeds the snapshot back into `analyze` (issue 4: "netforensic snapshot run here during a
# capture and fed back in attributes the capture's flows").
#
# Two distinctively named programs (python started through symlinks, so /proc/PID/comm shows the
# link's name): a server on 127.0.0.1:18081 and a client that makes three connections, each held
# for 2.5 s (longer than the 1 s snapshot interval), and prints its own pid and local port per
# connection: that output is the ground truth (truth.jsonl), independent of the capture.
# Needs root (tcpdump on lo). Every loop is bounded; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=testdata/recordings/snapshot-selftest
nf=target/release/netforensic
[ -x "$nf" ] || cargo build --release -q -p netforensic-cli
py=$(python3 -c 'import sys; print(sys.executable)')
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
ln -s "$py" "$tmp/selftest-server"
ln -s "$py" "$tmp/selftest-client"

tcpdump -i lo -U -w "$out/capture.pcap" 'tcp port 18081' 2>/dev/null & pids+=($!)
sleep 1
"$tmp/selftest-server" - <<'PY' & pids+=($!)
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18081)); s.listen(8); s.settimeout(15)
deadline = time.time() + 15
while time.time() < deadline:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.settimeout(5)
    data = c.recv(4096)
    c.sendall(b"pong:" + data)
    c.recv(16)  # wait for the client to close
    c.close()
PY
sleep 0.5
"$nf" snapshot --interval 1 --count 10 --output "$out/sockets.jsonl" & snap=$!
sleep 1.2
"$tmp/selftest-client" - > "$out/truth.jsonl" <<'PY'
import json, os, socket, time
for i in range(3):
    c = socket.create_connection(("127.0.0.1", 18081), timeout=5)
    local = c.getsockname()
    start = time.time()
    c.sendall(b"ping %d" % i)
    c.recv(4096)
    time.sleep(2.5)
    c.close()
    print(json.dumps({"pid": os.getpid(), "program": open("/proc/self/comm").read().strip(),
                      "local_port": local[1], "server_port": 18081, "start_epoch": start}))
    time.sleep(0.5)
PY
wait "$snap"
sleep 1
echo "server pid: ${pids[1]}" > "$out/server.txt"
