#!/usr/bin/env bash
# Regenerate testdata/expected/capture/ from independent tools (capinfos, tshark), never from
# netforensic itself. Run from anywhere; needs ../shared/corpus beside the repository.
#   corpus-times.tsv        capinfos -a -e (epoch, file precision) for every readable corpus file
#                           (tshark's frame times where capinfos says n/a)
#   darwin/<file>.tsv       tshark's pcapng file-format dissector: Darwin process blocks
#                           (index, pid, name) and per-packet DPEB ids (index, effective)
#   comments/<file>.tsv     tshark frame.comment per packet (aggregated with 0x1e)
#   testdata-info.tsv       capinfos' format, packets, times and SHA-256 of testdata/captures/*
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="$repo/../shared/corpus"
out="$repo/testdata/expected/capture"
[ -f "$corpus/MANIFEST.tsv" ] || { echo "no corpus at $corpus" >&2; exit 1; }
mkdir -p "$out/darwin" "$out/comments"

# capinfos' earliest and latest packet time of $1 ("secs.frac<TAB>secs.frac"). capinfos gives
# up ("n/a") when any packet has no time (Simple Packet Blocks): then take the earliest and
# latest of the packets that have one, as tshark shows them.
times_of() {
    local times
    times="$(capinfos -T -r -S -a -e "$1" | cut -f2,3)"
    if [ "$times" = $'n/a\tn/a' ]; then
        times="$(tshark -r "$1" -T fields -e frame.time_epoch 2>/dev/null |
            awk 'NF { if (min == "" || $1 < min) min = $1; if (max == "" || $1 > max) max = $1 }
                 END { if (min == "") print "n/a\tn/a"; else print min "\t" max }')"
    fi
    printf '%s\n' "$times"
}

# 1. First/last packet times of every readable file.
{
    printf 'file\tfirst\tlast\n'
    tail -n +2 "$corpus/MANIFEST.tsv" | while IFS=$'\t' read -r file _ _ _ _ format _; do
        case "$format" in unreadable*) continue ;; esac
        times="$(cd "$corpus" && times_of "$file")"
        printf '%s\t%s\n' "$file" "$times"
    done
} > "$out/corpus-times.tsv"

# 2. Darwin process blocks and per-packet process indexes (Apple pcapng files).
for file in "$corpus"/process/apple-tcpdump_*.pcapng; do
    name="$(basename "$file")"
    tshark -r "$file" -X read_format:"MIME Files Format" -V 2>/dev/null | awk '
        function flush() {
            if (kind == "epb") printf "packet\t%d\t%s\t%s\n", packet, dpeb, edpeb
            if (kind == "dpib") printf "process\t%d\t%s\t%s\n", process, pid, pname
            kind = ""
        }
        /^    Block: / {
            flush()
            if ($0 ~ /Enhanced Packet Block|Simple Packet Block|Packet Block/) {
                kind = "epb"; packet++; dpeb = "-"; edpeb = "-"
            } else if ($0 ~ /Darwin Process Event Block/) {
                kind = "dpib"; pid = "-"; pname = ""
                process = $NF
            }
            next
        }
        /Option: Darwin DPEB ID = / { dpeb = $NF }
        /Option: Darwin Effective DPEB ID = / { edpeb = $NF }
        /^ *Darwin Process ID: / { pid = $4 }
        /^ *Darwin Process Name: / { sub(/^ *Darwin Process Name: /, ""); pname = $0 }
        END { flush() }
    ' > "$out/darwin/$name.tsv"
done

# 3. Packet comments (ptcpdump process comments, Apple service-class comments).
for file in "$corpus"/process/ptcpdump_*.pcapng "$corpus"/process/apple-tcpdump_radar-79792659.pcapng; do
    name="$(basename "$file")"
    tshark -r "$file" -T fields -e frame.number -e frame.comment \
        -E occurrence=a -E aggregator=$'\x1e' 2>/dev/null > "$out/comments/$name.tsv"
done
# 4. What `netforensic info` must say about each shipped capture in testdata/captures:
#    file, format, packets, first, last, sha256 (capinfos), or "unreadable" (capinfos fails).
{
    printf 'file\tformat\tpackets\tfirst\tlast\tsha256\n'
    for file in "$repo"/testdata/captures/*; do
        name="$(basename "$file")"
        if row="$(capinfos -T -r -t -c -H "$file" 2>/dev/null)"; then
            format="$(cut -f2 <<<"$row")"
            packets="$(cut -f3 <<<"$row")"
            sha="$(cut -f4 <<<"$row")"
            printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$format" "$packets" "$(times_of "$file")" "$sha"
        else
            printf '%s\tunreadable\t-\t-\t-\t-\n' "$name"
        fi
    done
} > "$out/testdata-info.tsv"
echo "wrote $out"
