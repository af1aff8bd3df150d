#!/usr/bin/env bash
# CI smoke run: build every fuzz target and run each for a short time from the seed corpora.
# Under 10 minutes on one core: build ~6 min cold, quick seeds ~10 s, 6 targets x 20 s.
# Usage: fuzz/smoke.sh [seconds-per-target]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
per_target="${1:-20}"
export RUSTC_BOOTSTRAP=1 # cargo-fuzz passes nightly flags; the project's toolchain is stable.
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd "$here"
[ -d corpus ] || ./seed.sh --quick
# No sanitizer (safe Rust: panics are what we look for), debug assertions on (overflow).
cargo fuzz build -s none -a
for target in $(cargo fuzz list); do
    echo "smoke: $target for ${per_target}s" >&2
    cargo fuzz run -s none -a "$target" -- \
        -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048
done
