# shellcheck shell=bash
# Shared helpers for the recording scripts (sourced, not run).
#
# Topology (no internet; documentation address ranges only):
#
#   client netns "nfrec-client"                      server netns "nfrec-server"
#   lo 127.0.0.1                                     lo: the service addresses below
#   nfc0 192.0.2.10/24  2001:db8:2::10/64  <-veth->  nfs0 192.0.2.1/24  2001:db8:2::1/64
#   default routes via 192.0.2.1 / 2001:db8:2::1
#
# Service addresses in the server namespace (on its lo, routed over the veth):
#   192.0.2.53       dnsmasq (UDP and TCP 53)
#   198.51.100.20    shared web host (cdn-a.test and cdn-b.test)
#   198.51.100.30    end of a CNAME chain (c.chain.test)
#   198.51.100.43    TLS host (secure.test, mail.secure.test)
#   198.51.100.80    web host (www.shop.test) / plain TCP service
#   203.0.113.66     c2.badguy.test
#   203.0.113.99     no name at all (raw-IP traffic)
#   2001:db8:66::80  v6only.test (AAAA only)
#
# Requires root: ip, tcpdump, dumpcap, dnsmasq, curl, python3.11, ss, netstat, lsof.

CLIENT_NS=nfrec-client
SERVER_NS=nfrec-server
CLIENT_IF=nfc0
SERVER_IF=nfs0
CLIENT_MAC=02:00:00:00:00:10
SERVER_MAC=02:00:00:00:00:01
PYTHON=/usr/bin/python3.11

# Scratch area for binaries with distinctive names, server files, logs.
WORK=$(mktemp -d /tmp/nfrec.XXXXXX)
BIN=$WORK/bin
mkdir -p "$BIN"

BG_PIDS=()

log() { printf '%s %s\n' "$(date -u +%H:%M:%S.%N)" "$*" >&2; }

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for pid in "${BG_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    ip netns del "$CLIENT_NS" 2>/dev/null || true
    ip netns del "$SERVER_NS" 2>/dev/null || true
    rm -rf "/etc/netns/$CLIENT_NS"
    rm -rf "$WORK"
}

in_client() { ip netns exec "$CLIENT_NS" "$@"; }
in_server() { ip netns exec "$SERVER_NS" "$@"; }

# Start a background process in a namespace and remember its pid for cleanup.
# Called as a plain command (not through a shell function) and `ip netns exec`
# execs the program, so $! is the program's own pid.
# Usage: bg_in NAMESPACE PROGRAM ARGS...
bg_in() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@" &
    BG_PIDS+=("$!")
}

setup_namespaces() {
    local with_ipv6=$1
    ip netns del "$CLIENT_NS" 2>/dev/null || true
    ip netns del "$SERVER_NS" 2>/dev/null || true
    ip netns add "$CLIENT_NS"
    ip netns add "$SERVER_NS"
    ip link add "$CLIENT_IF" address "$CLIENT_MAC" type veth peer name "$SERVER_IF" address "$SERVER_MAC"
    ip link set "$CLIENT_IF" netns "$CLIENT_NS"
    ip link set "$SERVER_IF" netns "$SERVER_NS"

    # Quiet IPv6 autoconfiguration so the capture holds only what the programs do
    # (plus the neighbour discovery a real stack needs).
    local ns
    for ns in "$CLIENT_NS" "$SERVER_NS"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 || true
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 || true
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=$((1 - with_ipv6)) || true
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=$((1 - with_ipv6)) || true
        ip netns exec "$ns" ip link set lo up
    done

    in_client ip addr add 192.0.2.10/24 dev "$CLIENT_IF"
    in_server ip addr add 192.0.2.1/24 dev "$SERVER_IF"
    local a
    for a in 192.0.2.53 198.51.100.20 198.51.100.30 198.51.100.43 198.51.100.80 203.0.113.66 203.0.113.99; do
        in_server ip addr add "$a/32" dev lo
    done
    if [ "$with_ipv6" = 1 ]; then
        in_client ip -6 addr add 2001:db8:2::10/64 dev "$CLIENT_IF" nodad
        in_server ip -6 addr add 2001:db8:2::1/64 dev "$SERVER_IF" nodad
        in_server ip -6 addr add 2001:db8:66::80/128 dev lo nodad
    fi
    in_client ip link set "$CLIENT_IF" up
    in_server ip link set "$SERVER_IF" up
    in_client ip route add default via 192.0.2.1
    if [ "$with_ipv6" = 1 ]; then
        in_client ip -6 route add default via 2001:db8:2::1
    fi

    # `ip netns exec` bind-mounts these over /etc/resolv.conf and /etc/hosts, so the
    # client's glibc asks our dnsmasq and knows no host names of this machine.
    mkdir -p "/etc/netns/$CLIENT_NS"
    printf 'nameserver 192.0.2.53\noptions timeout:2 attempts:1\n' >"/etc/netns/$CLIENT_NS/resolv.conf"
    printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$CLIENT_NS/hosts"
}

# A python client/server with a distinctive process name: a symlink to the
# interpreter, whose name becomes the process's comm.
make_py_program() {
    ln -sf "$PYTHON" "$BIN/$1"
}

# A curl with a distinctive process name: a copy of the binary.
make_curl_program() {
    cp "$(command -v curl)" "$BIN/$1"
}

# Start tcpdump (pcap, nanosecond timestamps) and dumpcap (pcapng) on the same
# interface(s). Arguments: pcap path, pcapng path, tcpdump interface, dumpcap interfaces...
start_captures() {
    local pcap=$1 pcapng=$2 tcpdump_if=$3
    shift 3
    PCAP_OUT=$pcap
    PCAPNG_OUT=$pcapng
    local dumpcap_ifs=()
    local i
    for i in "$@"; do dumpcap_ifs+=(-i "$i"); done
    rm -f "$pcap" "$pcapng"
    ip netns exec "$CLIENT_NS" tcpdump -i "$tcpdump_if" -n -U -s 0 --time-stamp-precision=nano -w "$pcap" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    BG_PIDS+=("$TCPDUMP_PID")
    ip netns exec "$CLIENT_NS" dumpcap -q "${dumpcap_ifs[@]}" -s 0 -w "$pcapng" 2>"$WORK/dumpcap.err" &
    DUMPCAP_PID=$!
    BG_PIDS+=("$DUMPCAP_PID")
    # Both must be listening before traffic starts (bounded wait).
    local _
    for _ in $(seq 1 50); do
        if [ -s "$pcap" ] && [ -s "$pcapng" ]; then break; fi
        sleep 0.1
    done
    sleep 1
}

stop_captures() {
    sleep 1
    kill -INT "$TCPDUMP_PID" "$DUMPCAP_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 50); do
        if ! kill -0 "$TCPDUMP_PID" 2>/dev/null && ! kill -0 "$DUMPCAP_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    kill -9 "$TCPDUMP_PID" "$DUMPCAP_PID" 2>/dev/null || true
    # tcpdump drops privileges and dumpcap writes mode 600: make both plain repo files.
    chown "$(stat -c %u:%g "$(dirname "$PCAP_OUT")")" "$PCAP_OUT" "$PCAPNG_OUT"
    chmod 644 "$PCAP_OUT" "$PCAPNG_OUT"
    cat "$WORK/tcpdump.err" "$WORK/dumpcap.err" >&2 || true
}

# Run a curl copy in the client namespace; append one JSON line with its pid, launch
# time and curl's own report of the connection (local/remote address and port).
# Usage: run_curl LOGFILE PROGRAM [ENV=VAL...] -- CURL-ARGS...
run_curl() {
    local logfile=$1 program=$2
    shift 2
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    in_client /bin/sh -c '
        printf "{\"event\":\"curl\",\"program\":\"%s\",\"url\":\"%s\",\"pid\":%s,\"launch_epoch\":%s,\"curl\":" "$1" "$2" "$$" "$(date +%s.%N)"
        shift 2
        exec "$@"' sh "$program" "${!#}" env "${envs[@]}" "$BIN/$program" -s -S -o /dev/null --max-time 5 \
        -w '{"local_ip":"%{local_ip}","local_port":%{local_port},"remote_ip":"%{remote_ip}","remote_port":%{remote_port},"http_code":%{http_code},"num_connects":%{num_connects}}}\n' \
        "$@" >"$WORK/curl.json"
    # One write per line: other programs append to the same log concurrently.
    cat "$WORK/curl.json" >>"$logfile"
}

# Run any program in the client namespace; append one JSON line with its pid and
# launch time to LOGFILE, its standard output to OUTFILE.
# Usage: run_exec LOGFILE OUTFILE PROGRAM ARGS...
run_exec() {
    local logfile=$1 outfile=$2 program=$3
    shift 3
    in_client /bin/sh -c '
        printf "{\"event\":\"exec\",\"program\":\"%s\",\"pid\":%s,\"launch_epoch\":%s}\n" "$1" "$$" "$(date +%s.%N)" >>"$2"
        shift 2
        exec "$@"' sh "$program" "$logfile" "$BIN/$program" "$@" >>"$outfile"
}

# --- snapshots: every second, three tools, each file starts with its time -------
# Callers set SNAPS (output folder) and SNAPSHOT_ROUNDS (upper bound of rounds).
# The exact commands (run inside the client namespace):
SS_CMD=(ss -tunap)
NETSTAT_CMD=(netstat -tunap)
LSOF_CMD=(lsof -i -n -P +c 0)
write_snapshot_commands() {
    printf '%s\n' "ss: ${SS_CMD[*]}" "netstat: ${NETSTAT_CMD[*]}" "lsof: ${LSOF_CMD[*]}" \
        "each run inside the client network namespace (ip netns exec $CLIENT_NS ...)," \
        "each file's first line: # taken_at: <UTC time read just before the command ran>" >"$SNAPS/COMMANDS.txt"
}
snapshot_loop() {
    # lsof exits 1 when it lists nothing: a round must never stop the loop.
    local i stamp
    for i in $(seq -w 1 "$SNAPSHOT_ROUNDS"); do
        [ -e "$WORK/stop-snapshots" ] && break
        stamp=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
        { echo "# taken_at: $stamp"; ip netns exec "$CLIENT_NS" "${SS_CMD[@]}" || true; } >"$SNAPS/ss-$i.txt" 2>&1
        stamp=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
        { echo "# taken_at: $stamp"; ip netns exec "$CLIENT_NS" "${NETSTAT_CMD[@]}" || true; } >"$SNAPS/netstat-$i.txt" 2>&1
        stamp=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
        { echo "# taken_at: $stamp"; ip netns exec "$CLIENT_NS" "${LSOF_CMD[@]}" || true; } >"$SNAPS/lsof-$i.txt" 2>&1
        # Tells the short-connection step that a round just ended.
        echo "$i" >"$WORK/snapshot-round"
        sleep 1
    done
}

# Wait (bounded) until the next snapshot round has finished, then return at once:
# a connection started now ends long before the next round begins.
after_next_snapshot() {
    local before
    before=$(cat "$WORK/snapshot-round" 2>/dev/null || echo 0)
    for _ in $(seq 1 40); do
        if [ "$(cat "$WORK/snapshot-round" 2>/dev/null || echo 0)" != "$before" ]; then return 0; fi
        sleep 0.05
    done
}

# Fixed link-local addresses (besides the kernel's own EUI-64 ones), so that a
# connection to a scoped address (fe80::1%nfc0) has the same addresses every run.
add_link_local() {
    in_client ip -6 addr add fe80::10/64 dev "$CLIENT_IF" nodad
    in_server ip -6 addr add fe80::1/64 dev "$SERVER_IF" nodad
}
