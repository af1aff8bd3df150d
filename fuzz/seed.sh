#!/usr/bin/env bash
# Build seed corpora for the fuzz targets from testdata/: captures (whole files for the
# reader and the analysis, single frames for the decoder), socket snapshots, and DNS / TLS /
# HTTP / QUIC payloads extracted with tshark. Idempotent; writes fuzz/corpus/<target>/.
# Usage: fuzz/seed.sh [--quick]   (payload seeds need tshark; --quick or no tshark skips them,
#                                  which saves ~2 CPU-minutes for a smoke run)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
corpus="$here/corpus"
# Bigger captures would slow every fuzz iteration for little extra coverage.
max_capture_bytes=65536
mkdir -p "$corpus"/{capture_reader,analyze,decode,dns_payload,naming_payload,snapshot}

for f in "$repo"/testdata/captures/* "$repo"/testdata/recordings/*.pcap*; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le "$max_capture_bytes" ] || continue
    cp "$f" "$corpus/capture_reader/"
    cp "$f" "$corpus/analyze/"
done
for f in "$repo"/testdata/snapshots/*; do
    case "$f" in *.sh) continue ;; esac
    cp "$f" "$corpus/snapshot/"
done

payload_seeds=yes
if [ "${1:-}" = "--quick" ]; then
    payload_seeds=no
elif ! command -v tshark >/dev/null; then
    echo "seed.sh: tshark not found, payload seeds skipped" >&2
    payload_seeds=no
fi

# hex_to_files DIR PREFIX: one seed file per hex line on stdin, the first 200 distinct.
hex_to_files() {
    python3 -c '
import sys, hashlib
out, prefix = sys.argv[1], sys.argv[2]
seen = set()
for line in sys.stdin:
    for field in line.strip().split(","):
        field = field.replace(":", "")
        if not field or field in seen or len(seen) >= 200:
            continue
        seen.add(field)
        data = bytes.fromhex(field)
        name = hashlib.sha1(data).hexdigest()[:16]
        open(f"{out}/{prefix}-{name}", "wb").write(data)
' "$1" "$2"
}

for f in "$repo"/testdata/captures/*; do
    [ "$payload_seeds" = yes ] || break
    base="$(basename "$f")"
    # DNS messages (UDP payloads of DNS packets).
    tshark -r "$f" -Y 'dns && udp' -T fields -e udp.payload 2>/dev/null |
        hex_to_files "$corpus/dns_payload" "$base" || true
    # First client payloads that name a host: TLS ClientHello, HTTP request, QUIC Initial.
    tshark -r "$f" -Y 'tls.handshake.type == 1 || http.request' -T fields -e tcp.payload \
        2>/dev/null | hex_to_files "$corpus/naming_payload" "$base" || true
    tshark -r "$f" -Y 'quic.long.packet_type == 0 || dtls' -T fields -e udp.payload \
        2>/dev/null | hex_to_files "$corpus/naming_payload" "$base" || true
done
# Decoder: raw frames of Ethernet captures, selector byte 1 (LINK_TYPES[1] = Ethernet).
python3 - "$repo/testdata/captures" "$corpus/decode" <<'PY'
import os, struct, sys, hashlib
src, out = sys.argv[1], sys.argv[2]
count = 0
for name in sorted(os.listdir(src)):
    if not name.endswith(".pcap"):
        continue
    b = open(os.path.join(src, name), "rb").read()
    if len(b) < 24:
        continue
    magic = b[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack(order + "I", b[20:24])[0] & 0xFFFF
    selector = {0: 0, 1: 1, 9: 2, 12: 3, 101: 4, 105: 5, 108: 6, 113: 7, 127: 8,
                149: 9, 239: 10, 258: 11, 276: 12, 228: 13}.get(link)
    if selector is None:
        continue
    pos, frames = 24, 0
    while pos + 16 <= len(b) and frames < 20:
        caplen = struct.unpack(order + "I", b[pos + 8:pos + 12])[0]
        data = b[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        frames += 1
        seed = bytes([selector]) + data
        open(os.path.join(out, hashlib.sha1(seed).hexdigest()[:16]), "wb").write(seed)
        count += 1
print(f"seed.sh: {count} decoder seeds", file=sys.stderr)
PY
for t in "$corpus"/*; do echo "seed.sh: $(basename "$t"): $(ls "$t" | wc -l) seeds" >&2; done
