#!/usr/bin/env bash
# The cross-version check of a redesign (issues 16 and 27): the same generated orders mapped
# (and explained) by the binary from before and by the one built now must give the same bytes.
#   bash benches/cross_version.sh BEFORE_BINARY [ORDERS] [EXPLAINED]
# BEFORE_BINARY: a release build of the old code (e.g. /work/bondmap-before). Orders come from
# examples/gen_orders.rs (1 in 100 rejected, so stderr is compared too, exit codes as well).
# `map --ndjson` runs over all ORDERS (default 19731); `explain --format json` over the first
# EXPLAINED of them (default 2000; 0 skips it), since it visits every field's steps.
set -euo pipefail
cd "$(dirname "$0")/.."
before="${1:?usage: cross_version.sh BEFORE_BINARY [ORDERS] [EXPLAINED]}"
n="${2:-19731}"
explained="${3:-2000}"
work="${TMPDIR:-/tmp}/bondmap-cross-version"
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$work"
cargo build --release --bin bondmap --example gen_orders
"$target/release/examples/gen_orders" "$n" > "$work/orders.ndjson"
head -n "$explained" "$work/orders.ndjson" > "$work/explained.ndjson"
map="mappings/warehouses/hangzhou_xiasha.map"
for side in before after; do
  bin="$before"; [ "$side" = after ] && bin="$target/release/bondmap"
  set +e
  "$bin" map --mapping "$map" --ndjson "$work/orders.ndjson" > "$work/$side.out" 2> "$work/$side.err"
  echo $? > "$work/$side.rc"
  if [ "$explained" -gt 0 ]; then
    "$bin" explain --mapping "$map" --ndjson "$work/explained.ndjson" --format json \
      > "$work/$side.explain.out" 2> "$work/$side.explain.err"
    echo $? > "$work/$side.explain.rc"
  fi
  set -e
done
cmp "$work/before.out" "$work/after.out"
cmp "$work/before.err" "$work/after.err"
cmp "$work/before.rc" "$work/after.rc"
echo "map identical: $(wc -l < "$work/orders.ndjson") orders, $(wc -c < "$work/after.out") bytes out, $(wc -l < "$work/after.err") lines on stderr, exit $(cat "$work/after.rc")"
if [ "$explained" -gt 0 ]; then
  cmp "$work/before.explain.out" "$work/after.explain.out"
  cmp "$work/before.explain.err" "$work/after.explain.err"
  cmp "$work/before.explain.rc" "$work/after.explain.rc"
  echo "explain identical: $(wc -l < "$work/explained.ndjson") orders, $(wc -c < "$work/after.explain.out") bytes out, $(wc -l < "$work/after.explain.err") lines on stderr, exit $(cat "$work/after.explain.rc")"
fi
