#!/usr/bin/env bash
# bondmap against jq and jaq on the same NDJSON stream, the same mapping, the same output.
#   bash benches/compare.sh [ORDERS] [RUNS]    (default 100000 generated orders, 3 runs)
# One warm-up run of each, then RUNS rounds in which the tools take turns; min and median
# of wall and CPU time (user + sys) and peak memory per tool. Outputs compared with cmp.
# Needs jq (Debian package), jaq (`cargo install jaq`, skipped when absent), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
runs="${2:-3}"
work="${TMPDIR:-/tmp}/bondmap-compare"
mkdir -p "$work"
cargo build --release --bin bondmap --example gen_orders
[ -s "$work/orders_$n.ndjson" ] || ./target/release/examples/gen_orders "$n" > "$work/orders_$n.ndjson"
jq -nc --rawfile csv mappings/warehouses/hangzhou_xiasha_goods.csv -f benches/goods_table.jq > "$work/goods.json"
goods="$(cat "$work/goods.json")"
in="$work/orders_$n.ndjson"

tools=(bondmap jq)
command -v jaq >/dev/null && tools+=(jaq)

one() {
  local name="$1"
  local cmd
  case "$name" in
    bondmap) cmd=(./target/release/bondmap map --mapping mappings/warehouses/hangzhou_xiasha.map --ndjson "$in") ;;
    *) cmd=("$name" -c --argjson g "$goods" -f benches/bonded_whs.jq "$in") ;;
  esac
  /usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" "${cmd[@]}" > "$work/$name.ndjson" 2> "$work/$name.err" || true
  # GNU time puts "Command exited with non-zero status" first when orders were rejected.
  read -r wall user sys kb < <(tail -n 1 "$work/$name.time")
  awk -v w="$wall" -v u="$user" -v s="$sys" -v k="$kb" 'BEGIN { print w, u + s, k }' >> "$work/$name.runs"
}

for t in "${tools[@]}"; do rm -f "$work/$t.runs"; one "$t"; rm -f "$work/$t.runs"; done
for _ in $(seq "$runs"); do for t in "${tools[@]}"; do one "$t"; done; done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf "%-8s %10s %10s %10s %10s %9s   (%s orders, %s runs)\n" tool "wall min" "wall med" "CPU min" "CPU med" "peak MB" "$n" "$runs"
for t in "${tools[@]}"; do
  f="$work/$t.runs"
  printf "%-8s %10s %10s %10s %10s %9s\n" "$t" \
    "$(cut -d' ' -f1 "$f" | sort -n | head -1)" "$(cut -d' ' -f1 "$f" | median)" \
    "$(cut -d' ' -f2 "$f" | sort -n | head -1)" "$(cut -d' ' -f2 "$f" | median)" \
    "$(cut -d' ' -f3 "$f" | sort -n | tail -1 | awk '{printf "%.0f", $1/1024}')"
done
for t in "${tools[@]}"; do
  [ "$t" = bondmap ] && continue
  cmp "$work/$t.ndjson" "$work/bondmap.ndjson" && echo "$t output == bondmap output"
done
