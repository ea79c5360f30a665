#!/usr/bin/env bash
# The cross-version check of a redesign (issue 16): the same generated orders mapped by the
# binary from before and by the one built now must give the same bytes.
#   bash benches/cross_version.sh BEFORE_BINARY [ORDERS]   (default 19731 orders)
# BEFORE_BINARY: a release build of the old code (e.g. /work/bondmap-before). Orders come from
# examples/gen_orders.rs (1 in 100 rejected, so stderr is compared too, exit codes as well).
set -euo pipefail
cd "$(dirname "$0")/.."
before="${1:?usage: cross_version.sh BEFORE_BINARY [ORDERS]}"
n="${2:-19731}"
work="${TMPDIR:-/tmp}/bondmap-cross-version"
mkdir -p "$work"
cargo build --release --bin bondmap --example gen_orders
./target/release/examples/gen_orders "$n" > "$work/orders.ndjson"
map="mappings/warehouses/hangzhou_xiasha.map"
for side in before after; do
  bin="$before"; [ "$side" = after ] && bin=./target/release/bondmap
  set +e
  "$bin" map --mapping "$map" --ndjson "$work/orders.ndjson" > "$work/$side.out" 2> "$work/$side.err"
  echo $? > "$work/$side.rc"
  set -e
done
cmp "$work/before.out" "$work/after.out"
cmp "$work/before.err" "$work/after.err"
cmp "$work/before.rc" "$work/after.rc"
echo "identical: $(wc -l < "$work/orders.ndjson") orders, $(wc -c < "$work/after.out") bytes out, exit $(cat "$work/after.rc")"
