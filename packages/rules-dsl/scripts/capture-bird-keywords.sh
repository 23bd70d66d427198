#!/usr/bin/env bash
# Prints the words the installed BIRD refuses as a protocol name (its keywords and built-in symbols), one per
# line. src/names.ts holds the list captured from BIRD 2.0.12; re-run this after a BIRD upgrade and merge.
set -euo pipefail
bird=${BIRD:-/usr/sbin/bird}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
strings -n 2 "$bird" | grep -oE '[a-z_][a-z0-9_]{1,25}' | sort -u | while read -r word; do
  printf 'router id 198.18.0.1;\nprotocol static %s { ipv4; route 198.18.200.1/32 blackhole; }\n' "$word" >"$dir/bird.conf"
  "$bird" -p -c "$dir/bird.conf" >/dev/null 2>&1 || echo "$word"
done
