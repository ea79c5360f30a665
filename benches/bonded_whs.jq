# The base mapping with the Hangzhou warehouse file, written in jq: what a user might
# write instead of a bondmap mapping. Output asserted equal to bondmap's on every example
# (tests/jq.rs); timed against bondmap in benches/README.md.
#   G=$(jq -nc --rawfile csv mappings/warehouses/hangzhou_xiasha_goods.csv -f benches/goods_table.jq)
#   jq -c --argjson g "$G" -f benches/bonded_whs.jq orders.ndjson
# Rejected orders give no output line.
def nonblank: if . == null or (type == "string" and test("^\\s*$")) then null else . end;
def present: with_entries(select(.value != null));
# A decimal text × a whole number, exactly (in integers scaled by 10^5), as bondmap writes it.
def dtimes($q): if . == null or . == "" then null else
  split(".") as $p | ($p[1] // "") as $f
  | (($p[0] + $f + ("00000"[0:(5 - ($f | length))])) | tonumber) * $q | tostring
  | ("000000"[0:([6 - length, 0] | max)] + .) as $z
  | ($z[0:($z | length) - 5] | tonumber | tostring) as $int
  | ($z[($z | length) - 5:] | sub("0+$"; "")) as $frac
  | if $frac == "" then $int else $int + "." + $frac end end;
# RED ms → China time (UTC+8); 0 is no time.
def cst: if . == null or . <= 0 then null else (. / 1000 | floor) + 28800 | strftime("%Y-%m-%d %H:%M:%S") end;
# round_half_up(t × r / (r + 13)) with r in hundredths, in integers.
def split_tax($t; $r): if $r == 0 then 0 else ((2 * $t * $r + ($r + 13)) / (2 * ($r + 13)) | floor) end;
. as $o
| $o.receiver.receiverInfos[0] as $rcv
| select($rcv.matched == true)
| ($o.declare.orderDeclareInfos | (map(select(.type == "订购人"))[0] // map(select(.type == "收货人"))[0])) as $buyer
| select($buyer != null)
| [$o.detail.skuList[] | .skuDetailList[]] as $goods
| select(($goods | length) > 0 and all($goods[]; .barcode != null and $g[.barcode] != null))
| [$goods[] | . as $x | $g[$x.barcode] as $row
    | $x.quantity as $q
    | ($x.taxPerSku * $q) as $tax
    | split_tax($tax; $row.r) as $c
    | {itemId: $row.id, itemQuantity: $q, inventoryChannel: "非淘ToC",
       declareInfo: ({itemTotalPrice: ($x.pricePerSku * $q),
                     itemTotalActualPrice: (($x.pricePerSku - ($x.merchantDiscountPerSku // 0) - ($x.redDiscountPerSku // 0)) * $q),
                     customsTax: 0, consumptionTax: $c, vat: ($tax - $c), totalTax: $tax}
         + ({hscode: ($row.hs | nonblank), firstUnit: ($row.fu | nonblank),
             firstQuantity: ($row.fq | dtimes($q)), secondUnit: ($row.su | nonblank),
             secondQuantity: ($row.sq | dtimes($q)), originCountry: ($row.oc | nonblank)} | present))}] as $items
| ($o.detail.totalShippingFree // 0) as $post
| ([$items[].declareInfo.itemTotalPrice] | add) as $price
| ([$items[].declareInfo.itemTotalActualPrice] | add) as $paid
| ([$items[].declareInfo.totalTax] | add) as $tax
| ([$items[].declareInfo.consumptionTax] | add) as $ctax
| ($price + $post + $tax - ($price - $paid)) as $actual
| select($o.detail.totalPayAmount == null or $o.detail.totalPayAmount == $actual)
| {ownerUserId: "2200000000001", orderType: "BONDED_WHS", storeCode: "HZ_XIASHA_01",
   externalOrderCode: $o.detail.orderId}
  + ({orderCreateTime: ($o.detail.createdTime | cst), orderPayTime: ($o.detail.paidTime | cst),
      buyerRemark: ($o.detail.customerRemark | nonblank)} | present)
  + {receiverInfo: ({country: "CN", province: $rcv.receiverProvinceName,
     city: ($rcv.receiverCityName | nonblank // "/"),
     district: ($rcv.receiverDistrictName | nonblank // "/")}
     + ({town: ($rcv.receiverTownName | nonblank)} | present)
     + {address: $rcv.receiverAddress, name: $rcv.receiverName, contactNo: $rcv.receiverPhone}),
   orderItemList: $items,
   orderAmountInfo: {dutiablePrice: ($paid + $post), customsTax: 0, consumptionTax: $ctax,
     vat: ($tax - $ctax), totalTax: $tax, insurance: 0, coupon: ($price - $paid),
     actualPayment: $actual, postFee: $post, currency: "CNY"},
   customsDeclareInfo: {buyerName: $buyer.idName, buyerPlatformId: $buyer.linkPhone,
     buyerIDType: "1", buyerIDNo: $buyer.idNumber,
     payerId: ($o.detail.userId // $buyer.linkPhone),
     payChannel: ({"AliPay": "ALIPAY", "TP": "WEIXINPAY", "1": "ALIPAY", "2": "WEIXINPAY", "5": "ALIPAY", "7": "ALIPAY"}[($o.detail.boundExtendInfo.payChannel // ($o.detail.paymentType | tostring))]),
     payOrderId: ($o.detail.boundExtendInfo.payNo | nonblank // $o.detail.outTradeNo),
     nationality: "CN", contactNo: ($buyer.linkPhone | gsub("[- ]"; "")), payCardId: ""}}
