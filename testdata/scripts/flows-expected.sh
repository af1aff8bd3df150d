#!/usr/bin/env bash
# Regenerate the independent expected outputs of the flow tests from tshark:
# testdata/expected/flow/tshark/<capture>.tsv for every capture in testdata/captures
# that tshark reads (see flows_tshark.py for the format).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/testdata/expected/flow/tshark"
mkdir -p "$out"
for f in "$root"/testdata/captures/*; do
    name="$(basename "$f")"
    if capinfos "$f" >/dev/null 2>&1; then
        python3 "$root/testdata/scripts/flows_tshark.py" tshark "$f" >"$out/$name.tsv"
    fi
done
