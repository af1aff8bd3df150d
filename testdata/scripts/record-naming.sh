#!/usr/bin/env bash
# Recording 1, "naming traps" (issue 3): real DNS (dnsmasq), real clients (curl
# copies, dig, small python clients), captured on the client's veth as pcap
# (tcpdump, ns timestamps) and pcapng (dumpcap).
#
# Output: testdata/recordings/naming/{capture.pcap,capture.pcapng,programs.jsonl,dig.txt,dnsmasq.log}
# then `make_truth.py naming` writes truth.tsv and truth-dns.tsv.
#
# Run as root from the repository root: bash testdata/scripts/record-naming.sh
# Re-runnable: addresses and names are fixed; pids, ports and times will differ,
# so the committed capture and its truth files belong together.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/testdata/recordings/naming
TOOLS=$REPO/testdata/recordings/tools
# shellcheck source=record-common.sh
. "$REPO/testdata/scripts/record-common.sh"
trap cleanup EXIT

LOG=$OUT/programs.jsonl
: >"$LOG"
: >"$OUT/dig.txt"

setup_namespaces 1

# --- servers (server namespace) ---------------------------------------------
mkdir -p "$WORK/www"
printf 'hello from the test web server\n' >"$WORK/www/index.html"
bg_in "$SERVER_NS" dnsmasq --keep-in-foreground --user=root --conf-file="$OUT/dnsmasq.conf" \
    --log-facility="$WORK/dnsmasq.log" --pid-file="$WORK/dnsmasq.pid"
bg_in "$SERVER_NS" "$PYTHON" -m http.server --bind :: --directory "$WORK/www" 80 >/dev/null 2>&1
bg_in "$SERVER_NS" "$PYTHON" -m http.server --bind :: --directory "$WORK/www" 8443 >/dev/null 2>&1
bg_in "$SERVER_NS" "$PYTHON" "$TOOLS/nettool.py" tcp-server --bind :: --port 7000 --lifetime 90 >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=secure.test \
    -addext "subjectAltName=DNS:secure.test,DNS:mail.secure.test" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
bg_in "$SERVER_NS" openssl s_server -quiet -4 -accept 443 -cert "$WORK/cert.pem" -key "$WORK/key.pem" -www >/dev/null 2>&1
sleep 2

# --- programs with distinctive names (client namespace) ------------------------
for p in news-reader tracker-sync photo-sync v6-fetch implant secure-mail mail-sync shop-client; do
    make_curl_program "$p"
done
for p in chat-relay metrics-push update-check blob-uploader v6-probe raw-dialer dga-probe; do
    make_py_program "$p"
done
cp "$(command -v dig)" "$BIN/dig"
nt() { # program, nettool arguments...
    local p=$1
    shift
    in_client "$BIN/$p" "$TOOLS/nettool.py" "$@" >>"$LOG"
}
step() { log "$*"; sleep 0.7; }

start_captures "$OUT/capture.pcap" "$OUT/capture.pcapng" "$CLIENT_IF" "$CLIENT_IF"

# 1. Two names, one IP, two programs, each over HTTP with its Host header.
step "news-reader: http://cdn-a.test/"
run_curl "$LOG" news-reader -- http://cdn-a.test/
step "tracker-sync: http://cdn-b.test/"
run_curl "$LOG" tracker-sync -- http://cdn-b.test/

# 2. Same shared IP without any name inside the flow (plain TCP on 7000).
step "chat-relay: resolve cdn-a.test, plain TCP"
nt chat-relay tcp --name cdn-a.test --port 7000 --send chat
# 3. The interleaving trap: metrics-push resolves cdn-b.test, waits; meanwhile
#    update-check resolves cdn-a.test and connects; then metrics-push connects.
step "metrics-push (resolve cdn-b.test, wait 2 s) / update-check (cdn-a.test)"
nt metrics-push tcp --name cdn-b.test --port 7000 --send metrics --delay-after-resolve 2.0 &
MP=$!
sleep 0.7
nt update-check tcp --name cdn-a.test --port 7000 --send check
wait "$MP"

# 4. CNAME chain, over HTTP (Host) and over plain TCP (DNS only).
step "photo-sync: http://a.chain.test/"
run_curl "$LOG" photo-sync -- http://a.chain.test/
step "blob-uploader: resolve a.chain.test, plain TCP"
nt blob-uploader tcp --name a.chain.test --port 7000 --send blob

# 5. A name with only an AAAA record.
step "v6-fetch: http://v6only.test/"
run_curl "$LOG" v6-fetch -- http://v6only.test/
step "v6-probe: resolve v6only.test, plain TCP"
nt v6-probe tcp --name v6only.test --port 7000 --send probe

# 6. Raw IP, no lookup at all.
step "raw-dialer: 203.0.113.99:7000, no lookup"
in_client "$BIN/raw-dialer" "$TOOLS/nettool.py" tcp --addr 203.0.113.99 --port 7000 --send raw >>"$LOG" || true

# 7. DNS over TCP: dig with +tcp +keepopen (two queries on one connection), then a
#    curl whose own glibc lookups go over TCP (RES_OPTIONS=use-vc).
step "dig +tcp c2.badguy.test A and TXT"
run_exec "$LOG" "$OUT/dig.txt" dig +tcp +keepopen +nocookie @192.0.2.53 c2.badguy.test A c2.badguy.test TXT
step "implant: http://c2.badguy.test:8443/ with DNS over TCP"
run_curl "$LOG" implant RES_OPTIONS=use-vc -- http://c2.badguy.test:8443/beacon

# 8. NXDOMAIN (a DGA-style name) and no connection.
step "dga-probe: resolve xkqjzv3a.badguy.test (NXDOMAIN)"
nt dga-probe resolve xkqjzv3a.badguy.test

# 9. TLS with SNI, two names on one TLS address.
step "secure-mail: https://secure.test/"
run_curl "$LOG" secure-mail -- -k https://secure.test/
step "mail-sync: https://mail.secure.test/"
run_curl "$LOG" mail-sync -- -k https://mail.secure.test/

# 10. HTTP Host header that differs from the name asked in DNS.
step "shop-client: http://www.shop.test/ with Host: storefront.shop.test"
run_curl "$LOG" shop-client -- -H 'Host: storefront.shop.test' http://www.shop.test/

stop_captures
cp "$WORK/dnsmasq.log" "$OUT/dnsmasq.log" && chmod 644 "$OUT/dnsmasq.log"
"$PYTHON" "$TOOLS/make_truth.py" naming
bash "$REPO/testdata/scripts/record-tshark-views.sh" "$OUT" >/dev/null
"$PYTHON" "$TOOLS/crosscheck.py" "$OUT" | tail -1
log "done: $(capinfos -c -M "$OUT/capture.pcap" | tail -1)"
