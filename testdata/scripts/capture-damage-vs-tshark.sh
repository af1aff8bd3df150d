#!/usr/bin/env bash
# Damage real corpus captures in a few ways and compare how many packets netforensic recovers
# with how many capinfos (tshark's reader) reads before giving up. Prints a TSV table.
# Usage: testdata/scripts/capture-damage-vs-tshark.sh [path/to/netforensic]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="$repo/../shared/corpus"
bin="${1:-$repo/target/debug/netforensic}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

damage() { # damage KIND IN OUT: deterministic edits at fixed fractions of the file
    python3 - "$1" "$2" "$3" <<'PY'
import sys
kind, src, dst = sys.argv[1:]
b = bytearray(open(src, 'rb').read())
n = len(b)
seed = 12345
def noise(k):
    global seed
    out = bytearray()
    for _ in range(k):
        seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(seed >> 56)
    return out
if kind == 'zeroed':
    b[n*2//5 : n*2//5 + 3000] = bytes(3000)
elif kind == 'noise':
    b[n*3//5 : n*3//5 + 5000] = noise(5000)
elif kind == 'deleted':
    del b[n//2 : n//2 + 1001]
elif kind == 'inserted':
    b[n*3//10 : n*3//10] = noise(777)
elif kind == 'truncated':
    del b[n*9//10:]
open(dst, 'wb').write(b)
PY
}

printf 'file\tdamage\toriginal\tcapinfos\tnetforensic\tdamage_regions\n'
for file in large/apple-tcpdump_radar-33413692.pcap large/nfstream_ps_vue.pcap \
            large/zeek_echo-connections.pcap large/pcap-parser_wireshark_samples-test.pcapng \
            large/nfstream_pps.pcap; do
    original="$(capinfos -T -r -c "$corpus/$file" | cut -f2)"
    for kind in zeroed noise deleted inserted truncated; do
        out="$work/$kind-$(basename "$file")"
        damage "$kind" "$corpus/$file" "$out"
        report="$(capinfos -T -r -c "$out" 2>&1 || true)"
        theirs="$(grep -o 'after reading [0-9]*' <<<"$report" | grep -o '[0-9]*$' || true)"
        [ -n "$theirs" ] || theirs="$(awk -F'\t' 'NF == 2 { print $2; exit }' <<<"$report")"
        json="$("$bin" info --format json "$out" 2>/dev/null || true)"
        ours="$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' <<<"$json")"
        regions="$(grep -o '"offset"' <<<"$json" | wc -l)"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$kind" "$original" "${theirs:-0}" "${ours:-error}" "$regions"
    done
done
