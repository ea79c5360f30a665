#!/usr/bin/env bash
# bondmap against jq and jaq on the same NDJSON stream, the same mapping, the same output.
#   bash benches/compare.sh [ORDERS]        (default 100000 generated orders)
# Needs jq (Debian package) and jaq (`cargo install jaq`); GNU time for peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
work="${TMPDIR:-/tmp}/bondmap-compare"
mkdir -p "$work"
cargo build --release --bin bondmap --example gen_orders
[ -s "$work/orders_$n.ndjson" ] || ./target/release/examples/gen_orders "$n" > "$work/orders_$n.ndjson"
jq -nc --rawfile csv mappings/warehouses/hangzhou_xiasha_goods.csv -f benches/goods_table.jq > "$work/goods.json"
run() {
  local name="$1"; shift
  /usr/bin/time -f "$name: %e s wall, %U s user, %M KB peak" "$@" > "$work/$name.ndjson" 2> "$work/$name.err" || true
  tail -n 1 "$work/$name.err"
}
run bondmap ./target/release/bondmap map --mapping mappings/warehouses/hangzhou_xiasha.map --ndjson "$work/orders_$n.ndjson"
run jq jq -c --argjson g "$(cat "$work/goods.json")" -f benches/bonded_whs.jq "$work/orders_$n.ndjson"
if command -v jaq >/dev/null; then
  run jaq jaq -c --argjson g "$(cat "$work/goods.json")" -f benches/bonded_whs.jq "$work/orders_$n.ndjson"
  cmp "$work/jaq.ndjson" "$work/bondmap.ndjson" && echo "jaq output == bondmap output"
fi
cmp "$work/jq.ndjson" "$work/bondmap.ndjson" && echo "jq output == bondmap output"
