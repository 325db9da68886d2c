#!/usr/bin/env bash
# Checks that each library crate's public-api.txt (crates/ward-core,
# crates/ward-supervisor) lists its public API as it is (every public item
# with its signature, default features), so that a change to the public
# surface shows in review. Needs a nightly toolchain (rustdoc's JSON output
# is unstable) and python3; works offline.
#
#   scripts/public-api.sh          fail when a listing is stale, showing the diff
#   scripts/public-api.sh --bless  rewrite the listings after an intended change
set -euo pipefail
cd "$(dirname "$0")/.."
target=target/public-api
stale=0
for crate in ward-core ward-supervisor; do
  listing=crates/$crate/public-api.txt
  cargo +nightly rustdoc --quiet -p "$crate" --lib --target-dir "$target" -- \
    -Z unstable-options --output-format json 2>/dev/null
  fresh=$(mktemp)
  python3 scripts/public-api.py "$target/doc/${crate//-/_}.json" >"$fresh"
  if [ "${1:-}" = --bless ]; then
    cp "$fresh" "$listing"
    echo "public-api.sh: wrote $listing ($(wc -l <"$listing") items)"
  elif [ ! -f "$listing" ] || ! diff -u "$listing" "$fresh"; then
    echo "public-api.sh: $crate's public API changed; if that is intended, run scripts/public-api.sh --bless and commit $listing" >&2
    stale=1
  fi
  rm -f "$fresh"
done
exit "$stale"
