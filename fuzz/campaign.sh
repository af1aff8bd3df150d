#!/usr/bin/env bash
# A long fuzzing campaign: every target in turn, ROUNDS times, SECS seconds each, one core, at
# `nice`. Appends one line per run to fuzz/campaign.log (UTC start, target, seconds, executions,
# new crash/timeout/oom artifacts) so the total CPU time per target can be added up afterwards.
# The timeout is generous: at nice 19 on a busy machine libFuzzer's wall-clock timer also counts
# the time the scheduler gave to others (a 10 s limit reported inputs that run in milliseconds).
# Usage: fuzz/campaign.sh [secs-per-run (default 600)] [rounds (default 1)]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
secs="${1:-600}"
rounds="${2:-1}"
export RUSTC_BOOTSTRAP=1 # cargo-fuzz passes nightly flags; the project's toolchain is stable.
cd "$here"
[ -d corpus ] || ./seed.sh
nice -n 19 cargo fuzz build -s none -a
log="$here/campaign.log"
for _ in $(seq "$rounds"); do
    for target in $(cargo fuzz list); do
        mkdir -p "artifacts/$target"
        before=$(find "artifacts/$target" -type f | wc -l)
        start=$(date -u +%FT%TZ)
        out=$(mktemp)
        status=0
        nice -n 19 cargo fuzz run -s none -a "$target" -- -max_total_time="$secs" \
            -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 > "$out" 2>&1 || status=$?
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out" | grep -o '[0-9]*$' || echo '?')
        after=$(find "artifacts/$target" -type f | wc -l)
        printf '%s\t%s\t%s\t%s\t%s\texit=%s\n' "$start" "$target" "$secs" "$execs" \
            "$((after - before))" "$status" >> "$log"
        [ "$status" -eq 0 ] || tail -n 40 "$out" > "$here/campaign-$target-$start.failure"
        rm -f "$out"
    done
done
