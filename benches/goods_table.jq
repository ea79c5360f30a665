# The goods CSV as the lookup object bonded_whs.jq takes: barcode → {id, r, filing cells}, with the
# consumption-tax rate in hundredths (0.15 → 15) so the tax split stays in integers.
# jq -n --rawfile csv mappings/warehouses/hangzhou_xiasha_goods.csv -f benches/goods_table.jq
$csv | split("\n") | .[1:]
| map(select(length > 0) | split(","))
| map({key: .[0], value: {id: .[2], r: ((.[3] | tonumber) * 100 | round),
  hs: .[4], fu: .[5], fq: .[6], su: .[7], sq: .[8], oc: .[9]}})
| from_entries
