#!/usr/bin/env bash
# Checks that crates/ward-core/public-api.txt lists ward-core's public API as
# it is (every public item with its signature, default features), so that a
# change to the public surface shows in review. Needs a nightly toolchain
# (rustdoc's JSON output is unstable) and python3; works offline.
#
#   scripts/public-api.sh          fail when the listing is stale, showing the diff
#   scripts/public-api.sh --bless  rewrite the listing after an intended change
set -euo pipefail
cd "$(dirname "$0")/.."
listing=crates/ward-core/public-api.txt
target=target/public-api
cargo +nightly rustdoc --quiet -p ward-core --lib --target-dir "$target" -- \
  -Z unstable-options --output-format json 2>/dev/null
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
python3 scripts/public-api.py "$target/doc/ward_core.json" >"$fresh"
if [ "${1:-}" = --bless ]; then
  cp "$fresh" "$listing"
  echo "public-api.sh: wrote $listing ($(wc -l <"$listing") items)"
elif ! diff -u "$listing" "$fresh"; then
  echo "public-api.sh: ward-core's public API changed; if that is intended, run scripts/public-api.sh --bless and commit $listing" >&2
  exit 1
fi
