#!/usr/bin/env bash
# Whole-run comparison, one run, same file: netforensic `flows` (1 thread and all threads, file
# and standard input), tshark conversations, tcpdump -w /dev/null and a plain read of the file.
# Prints seconds per GB and ratios. Figures are from one run on a shared machine: read the
# ratios, not the absolute numbers.
#
# usage: benches/compare.sh [SIZE (default 1G)] [pcap|pcapng (default pcap)]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}
format=${2:-pcap}
work=${BENCH_DIR:-/tmp/netforensic-bench}
mkdir -p "$work"
capture="$work/bench-$size.$format"

for tool in tshark tcpdump /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "compare.sh: $tool is missing (apt-get install tshark tcpdump time)" >&2; exit 2; }
done

cargo build --release -q -p netforensic-cli -p netforensic-benches
nf=target/release/netforensic
[ -s "$capture" ] || target/release/gen-capture "$size" "$format" "$capture"
bytes=$(stat -c %s "$capture")
cat "$capture" > /dev/null # into the page cache

# run LABEL CMD...: time one command, print seconds, seconds per GB and peak RSS.
declare -A secs
run() {
    local label=$1; shift
    local start end rss
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$@" > /dev/null 2> "$work/stderr" || {
        echo "compare.sh: $label failed:" >&2; cat "$work/stderr" >&2; exit 1; }
    end=$(date +%s.%N)
    rss=$(tail -n 1 "$work/rss")
    secs[$label]=$(echo "$end - $start" | bc -l)
    printf '%-34s %8.3f s  %7.3f s/GB  peak RSS %6d MiB\n' "$label" "${secs[$label]}" \
        "$(echo "${secs[$label]} * 1073741824 / $bytes" | bc -l)" "$((rss / 1024))"
}

echo "input: $capture ($bytes bytes), $(nproc) cores"
run "read (cat)" cat "$capture"
run "tcpdump -r -w /dev/null" tcpdump -r "$capture" -w /dev/null
run "netforensic flows, 1 thread" "$nf" --threads 1 flows --format jsonl "$capture"
run "netforensic flows, all threads" "$nf" flows --format jsonl "$capture"
run "netforensic flows, stdin" sh -c "$nf flows --format jsonl - < '$capture'"
run "tshark conv,tcp conv,udp" tshark -n -r "$capture" -q -z conv,tcp -z conv,udp

ratio() { echo "scale=2; ${secs[$1]} / ${secs[$2]}" | bc -l; }
echo
echo "tshark / netforensic (all threads):       $(ratio 'tshark conv,tcp conv,udp' 'netforensic flows, all threads')x"
echo "netforensic (all threads) / read:         $(ratio 'netforensic flows, all threads' 'read (cat)')x"
echo "netforensic 1 thread / all threads:       $(ratio 'netforensic flows, 1 thread' 'netforensic flows, all threads')x"
echo "netforensic stdin / file:                 $(ratio 'netforensic flows, stdin' 'netforensic flows, all threads')x"
echo "netforensic (all threads) / tcpdump:      $(ratio 'netforensic flows, all threads' 'tcpdump -r -w /dev/null')x"
