#!/usr/bin/env bash
# Builds ward and its benchmark in release and runs every scenario against the
# real `ward` and the in-benchmark baseline supervisor; prints the machine and
# a Markdown table of figures with their ratio to the baseline.
#
#   scripts/bench.sh            # the full run (200 kills, 10,000 instances, 30 s idle, storm of 1,000)
#   scripts/bench.sh --quick    # a smoke run in seconds
#   scripts/bench.sh --scale 2000 --idle 10   # any size (see ward-bench --help)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p ward -p ward-bench
# 10,000 instances plus ward's own files need more than the usual 1024 descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec target/release/ward-bench "$@"
