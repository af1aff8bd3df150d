#!/usr/bin/env bash
# Whole-run comparison, one invocation, same file: netforensic `flows` (1 thread and all
# threads, file and standard input), tshark conversations, tcpdump -w /dev/null, a plain read of
# the file and the issue's lower bound (`lower-bound`: byte ranges on threads, record walk,
# decode, 5-tuple hash map). Prints seconds per GB (median of interleaved rounds), ratios and
# the issue's targets beside them. Figures are from a shared machine: read the ratios, not the
# absolute numbers.
#
# usage: [ROUNDS=3] benches/compare.sh [SIZE (default 1G)] [pcap|pcapng (default pcap)]
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
# Into the page cache afresh: dropped first, then read in one sweep. How the file got cached
# matters by a quarter: read ahead in one sweep it sits in 2 MB folios, which the kernel maps
# with one page-table entry each; cached piecemeal (written, partly evicted) in small folios,
# every 4 KiB page costs the map its own entry (session 7: 0.39-0.49 s/GB against 0.31, the
# lower bound 0.175 against 0.09-0.13 s/GB). Same state for every command, every run.
dd if="$capture" iflag=nocache count=0 status=none 2>/dev/null || true
cat "$capture" > /dev/null

# Every command runs ROUNDS times (default 3), the rounds interleaved so that a slow moment of
# the shared machine touches every command alike; each figure is the median of its rounds, the
# peak RSS the largest.
rounds=${ROUNDS:-3}
declare -A secs rss_mib times
# time_once LABEL CMD...: time one run of a command, adding its seconds and peak RSS.
time_once() {
    local label=$1; shift
    local start end rss
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$@" > /dev/null 2> "$work/stderr" || {
        echo "compare.sh: $label failed:" >&2; cat "$work/stderr" >&2; exit 1; }
    end=$(date +%s.%N)
    rss=$(tail -n 1 "$work/rss")
    times[$label]="${times[$label]:-} $(echo "$end - $start" | bc -l)"
    rss_mib[$label]=$(( ${rss_mib[$label]:-0} > rss / 1024 ? ${rss_mib[$label]:-0} : rss / 1024 ))
}
# report LABEL: the median of a command's rounds, per GB, and its peak RSS.
report() {
    local label=$1
    secs[$label]=$(printf '%s\n' ${times[$label]} | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}')
    printf '%-34s %8.3f s  %7.3f s/GB  peak RSS %6d MiB   (runs:%s)\n' "$label" "${secs[$label]}" \
        "$(per_gb "$label")" "${rss_mib[$label]}" "$(printf ' %.3f' ${times[$label]})"
}
per_gb() { echo "${secs[$1]} * 1073741824 / $bytes" | bc -l; }

# The lower bound must read every record once across its ranges, or it times less work than
# a run does: checked against a sequential walk before anything is timed.
threads=$(nproc)
target/release/lower-bound "$capture" "$threads" --check > /dev/null 2> "$work/stderr" || {
    echo "compare.sh: lower-bound --check failed:" >&2; cat "$work/stderr" >&2; exit 1; }

echo "input: $capture ($bytes bytes), $(nproc) cores"
echo "lower bound: byte-range walk+decode+5-tuple map, one range per thread (benches/src/lower_bound.rs)"
if [ "$format" = pcapng ]; then
    # A pcapng range reader finds its first block by walking block headers from the start of
    # the file, so later ranges re-walk what earlier ones read: not a lower bound here.
    echo "note: pcapng ranges re-walk the file's start; read the lower bound on the pcap file"
fi
labels=("read (cat)" "tcpdump -r -w /dev/null" "lower bound, 1 thread" "lower bound, all threads"
    "netforensic flows, 1 thread" "netforensic flows, all threads" "netforensic flows, stdin"
    "tshark conv,tcp conv,udp")
echo "each figure: median of $rounds interleaved runs (ROUNDS=$rounds)"
for _ in $(seq "$rounds"); do
    time_once "read (cat)" cat "$capture"
    time_once "tcpdump -r -w /dev/null" tcpdump -r "$capture" -w /dev/null
    time_once "lower bound, 1 thread" target/release/lower-bound "$capture" 1
    time_once "lower bound, all threads" target/release/lower-bound "$capture" "$threads"
    time_once "netforensic flows, 1 thread" "$nf" --threads 1 flows --format jsonl "$capture"
    time_once "netforensic flows, all threads" "$nf" flows --format jsonl "$capture"
    time_once "netforensic flows, stdin" sh -c "$nf flows --format jsonl - < '$capture'"
    time_once "tshark conv,tcp conv,udp" tshark -n -r "$capture" -q -z conv,tcp -z conv,udp
done
for label in "${labels[@]}"; do
    report "$label"
done

ratio() { printf '%.2f' "$(echo "${secs[$1]} / ${secs[$2]}" | bc -l)"; }
# line LABEL VALUE [TARGET MET]: one summary line, the issue's target beside the figure when
# it has one. MET is a bc comparison of the figure with the target, e.g. "18.76 >= 40".
line() {
    if [ $# -eq 2 ]; then
        printf '%-54s %s\n' "$1" "$2"
    else
        local verdict="not met"
        [ "$(echo "$4" | bc -l)" = 1 ] && verdict=met
        printf '%-54s %-8s  target %s (%s)\n' "$1" "$2" "$3" "$verdict"
    fi
}
nf_all='netforensic flows, all threads'
tshark_x=$(ratio 'tshark conv,tcp conv,udp' "$nf_all")
per_gb_all=$(printf '%.3f' "$(per_gb "$nf_all")")
stdin_x=$(ratio 'netforensic flows, stdin' "$nf_all")
stdin_rss=${rss_mib['netforensic flows, stdin']}
lower_x=$(ratio "$nf_all" 'lower bound, all threads')
echo
line "tshark / netforensic (all threads):" "${tshark_x}x" ">= 40x" "$tshark_x >= 40"
line "netforensic (all threads) / read:" "$(ratio "$nf_all" 'read (cat)')x"
line "netforensic 1 thread / all threads:" "$(ratio 'netforensic flows, 1 thread' "$nf_all")x"
line "netforensic stdin / file:" "${stdin_x}x" "<= 1.5x" "$stdin_x <= 1.5"
line "netforensic (all threads) / tcpdump:" "$(ratio "$nf_all" 'tcpdump -r -w /dev/null')x"
line "netforensic (all threads) / lower bound (all threads):" "${lower_x}x" "<= 2x" "$lower_x <= 2"
line "lower bound 1 thread / all threads:" "$(ratio 'lower bound, 1 thread' 'lower bound, all threads')x"
line "netforensic (all threads) s/GB:" "$per_gb_all" "<= 0.45 s/GB with 2 threads" "$per_gb_all <= 0.45"
line "netforensic stdin peak RSS (MiB):" "$stdin_rss" "< 128 MiB with 2 threads" "$stdin_rss < 128"
