#!/usr/bin/env bash
# Compare netforensic's TCP/UDP flows with tshark's conversations over the whole corpus:
# per 5-tuple, the packets in each direction (summed over flows with the same 5-tuple).
#
#   testdata/scripts/compare-flows-tshark.sh [CORPUS_DIR] [NETFORENSIC_BINARY]
#
# Prints one line per file (ok / DIFF with the differing 5-tuples) and a summary.
# Exit status 1 when any readable file differs. Needs tshark and python3.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${1:-/work/shared/corpus}"
bin="${2:-$here/../../target/release/netforensic}"
helper="$here/flows_tshark.py"
command -v tshark >/dev/null || { echo "tshark is required" >&2; exit 2; }
[ -x "$bin" ] || { echo "build netforensic first (cargo build --release): $bin" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
total=0; same=0; differ=0; skipped=0
while IFS=$'\t' read -r file _repo _path _commit _lic format _rest; do
    [ "$file" = "file" ] && continue
    if [ "${format%% *}" = "unreadable" ]; then
        skipped=$((skipped + 1)); continue
    fi
    total=$((total + 1))
    f="$corpus/$file"
    python3 "$helper" tshark "$f" >"$tmp/expected" 2>/dev/null
    "$bin" flows --format jsonl "$f" 2>/dev/null | python3 "$helper" ours >"$tmp/actual"
    if diffs="$(python3 "$helper" compare "$tmp/expected" "$tmp/actual")"; then
        same=$((same + 1)); echo "ok    $file"
    else
        differ=$((differ + 1)); echo "DIFF  $file"; echo "$diffs" | sed 's/^/      /'
    fi
done <"$corpus/MANIFEST.tsv"
echo "readable files: $total; identical per-direction packet counts: $same; different: $differ; unreadable skipped: $skipped"
[ "$differ" -eq 0 ]
