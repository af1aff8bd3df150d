#!/usr/bin/env bash
# How the linux-*.txt snapshots here were recorded (as root, on a Linux VM with ss, net-tools
# netstat and lsof). Ground truth is the PIDs printed by this script (and saved by `ps`):
# re-running it gives new PIDs and ports, so the tests' expected values would change with it.
set -euo pipefail
D="$(dirname "$0")"

python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 & HTTPD=$!
sleep 1
# A client holding a TCP connection, a dual-stack UDP socket and a connected UDP socket.
python3 -c "
import socket,time
s=socket.create_connection(('127.0.0.1',8765)); s2=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s2.bind(('::',0)); u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.connect(('127.0.0.1',9)); time.sleep(60)" & CLIENT=$!
sleep 1
curl -s -o /dev/null http://127.0.0.1:8765/   # leaves a TIME-WAIT socket
ss -tunap > "$D/linux-ss-tunap.txt"
ss -tunape > "$D/linux-ss-tunape.txt"
netstat -tunap > "$D/linux-netstat-tunap.txt" 2>&1
netstat -anope --inet --inet6 > "$D/linux-netstat-anope.txt" 2>&1
lsof -i -n -P > "$D/linux-lsof-i-n-P.txt" 2>&1
lsof -i -n -P +c 0 > "$D/linux-lsof-i-n-P-c0.txt" 2>&1
cat /proc/net/tcp > "$D/linux-proc-net-tcp.txt"
cat /proc/net/udp6 > "$D/linux-proc-net-udp6.txt"
date -u +%FT%TZ > "$D/recorded-at.txt"
ps -o pid,comm,args -p "$HTTPD,$CLIENT" > "$D/linux-ground-truth-ps.txt"

# A process whose name contains a space (prctl PR_SET_NAME = 15).
python3 -c "
import ctypes,socket,time
ctypes.CDLL(None).prctl(15, b'evil beacon', 0,0,0)
s=socket.create_connection(('127.0.0.1',8765)); time.sleep(30)" & BEACON=$!
sleep 1
ss -tnap "( dport = :8765 or sport = :8765 )" > "$D/linux-ss-tnap-no-netid-space-name.txt"
lsof -i TCP:8765 -n -P +c 0 > "$D/linux-lsof-c0-space-name.txt"
lsof -i TCP:8765 -n -P > "$D/linux-lsof-space-name.txt"
su nobody -s /bin/sh -c "netstat -tunap" > "$D/linux-netstat-tunap-nonroot.txt" 2>&1
su nobody -s /bin/sh -c "ss -tunap" > "$D/linux-ss-tunap-nonroot.txt" 2>&1
echo "beacon pid $BEACON" >> "$D/linux-ground-truth-ps.txt"
kill "$HTTPD" "$CLIENT" "$BEACON"

# Periodic listings with `# taken_at:` markers; a client named "shortlived" connects after
# the first listing.
python3 -m http.server 8766 --bind 127.0.0.1 >/dev/null 2>&1 & HTTPD2=$!
for i in 1 2 3; do
    echo "# taken_at: $(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"
    ss -tunap "( sport = :8766 or dport = :8766 )"
    if [ "$i" = 1 ]; then
        python3 -c "
import ctypes,socket,time
ctypes.CDLL(None).prctl(15, b'shortlived', 0,0,0)
s=socket.create_connection(('127.0.0.1',8766)); time.sleep(0.8)" &
        sleep 0.3
    fi
    sleep 0.5
done > "$D/linux-ss-periodic.txt"
kill "$HTTPD2"
