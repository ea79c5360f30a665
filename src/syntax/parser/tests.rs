//! The parser on the main constructs, its errors and its nesting limits.

#[test]
fn a_missing_close_brace_names_the_block_that_is_never_closed() {
    let text =
        "receiverInfo {\n  country = \"{#}\"  # a { in a comment\n  city = $.l[?(@.a#b == '}')]\n";
    let e = parse(text, FileId(0)).unwrap_err();
    assert_eq!(e.span.start as usize, text.find('{').unwrap(), "{e:?}");
    assert_eq!(
        e.message,
        "unexpected end of file: the `{` of `receiverInfo {` on line 1 is never closed"
    );
    // The innermost block left open is named, not the outer one.
    let nested = "a {\n  b {\n    c = 1\n}\n";
    let e = parse(nested, FileId(0)).unwrap_err();
    assert!(e.message.contains("`a {` on line 1"), "{e:?}");
    let nested = "a {\n  b {\n    c = 1\n";
    let e = parse(nested, FileId(0)).unwrap_err();
    assert!(e.message.contains("`b {` on line 2"), "{e:?}");
    // Closed blocks: an error at the end of file is reported as before.
    let e = parse("a {\n  c = 1\n}\nd =\n", FileId(0)).unwrap_err();
    assert!(
        e.message.starts_with("unexpected end of file: expected"),
        "{e:?}"
    );
}

use super::super::ast::{BinOp, ExprKind, Field, FieldValue, File, Item, Stmt};
use super::*;

fn ok(src: &str) -> File {
    match parse(src, FileId(0)) {
        Ok(f) => f,
        Err(e) => panic!("{src}: {} at {:?}", e.message, e.span),
    }
}

#[test]
fn parses_the_main_constructs() {
    let f = ok(r#"
        use "base.map"
        target "schema.json"
        settings { msg_type = "CN_WMS_DELIVERYORDER_CREATE" order_id = $.detail.orderId }
        param store_code: string
        param channel: string = "非淘ToC"
        table pay { "AliPay" => "ALIPAY" 1 => "ALIPAY" _ => "OTHER" }
        table goods from "goods.csv" key barcode { item_id: string rate: decimal }
        require $.receiver.receiverInfos[0].matched == true else "address changed"
        let buyer = first($.declare.orderDeclareInfos[?(@.type == '订购人')])
        receiverInfo { city = nonblank($.receiver.receiverInfos[0].receiverCityName) ?? "/" }
        orderItemList = for sku in $.detail.skuList[*], good in sku.skuDetailList[*] {
          itemId = goods[good.barcode].item_id
          declareInfo.itemTotalPrice = good.pricePerSku * good.quantity
          vat = if a > 1 and not b then -1 else round(0.13 * x, half_up)
        }
        postFee = convert(19.99 yuan, fen)
    "#);
    assert_eq!(f.items.len(), 12);
}

#[test]
fn precedence_groups_products_before_sums() {
    let f = ok("a = 1 + 2 * 3");
    let Item::Stmt(Stmt::Field(Field {
        value: FieldValue::Expr(e),
        ..
    })) = &f.items[0]
    else {
        panic!("not a field")
    };
    let ExprKind::Binary { op, rhs, .. } = &e.kind else {
        panic!("not binary")
    };
    assert_eq!(*op, BinOp::Add);
    assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Mul, .. }));
}

#[test]
fn error_points_at_the_bad_token() {
    let e = parse("a = 1\nb = = 2", FileId(0)).unwrap_err();
    assert_eq!(e.span.start, 10);
    assert!(e.message.contains("expected"), "{}", e.message);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let src = format!("a = {}1{}", "(".repeat(500), ")".repeat(500));
    let e = parse(&src, FileId(0)).unwrap_err();
    assert!(e.message.contains("nesting"), "{}", e.message);
}

/// Each kind of chain, 10,000 long: refused as too deep, like deep parentheses, where
/// before the parser, checker or evaluator overflowed the stack (abort).
#[test]
fn every_operator_chain_is_held_to_the_nesting_limit() {
    let n = 10_000;
    let join = |op: &str, item: &str| vec![item; n].join(op);
    let cases = [
        ("not", format!("a = {}true", "not ".repeat(n))),
        ("unary minus", format!("a = {}1", "- ".repeat(n))),
        ("??", format!("a = {}", join(" ?? ", "null"))),
        ("+", format!("a = {}", join(" + ", "1"))),
        ("-", format!("a = {}", join(" - ", "1"))),
        ("*", format!("a = {}", join(" * ", "1"))),
        ("and", format!("a = {}", join(" and ", "true"))),
        ("or", format!("a = {}", join(" or ", "true"))),
        ("==", format!("a = {}", join(" == ", "1"))),
        ("<", format!("a = {}", join(" < ", "1"))),
        (
            "else if",
            format!("a = {}0", "if $.x == 1 then 1 else ".repeat(n)),
        ),
        (
            "if in a condition",
            format!("a = {}true{}", "if ".repeat(n), " then 1 else 2".repeat(n)),
        ),
    ];
    for (what, src) in cases {
        let e = std::thread::spawn(move || parse(&src, FileId(0)).map(|_| ()))
            .join()
            .unwrap_or_else(|_| panic!("{what}: the parser panicked"));
        let e = e.expect_err(what);
        assert_eq!(e.message, "nesting deeper than 1024 levels", "{what}");
        assert_eq!(e.label, "too deeply nested", "{what}");
    }
}

#[test]
fn chains_within_the_limit_parse() {
    let src = format!("a = {}0", "if $.x == 1 then 1 else ".repeat(1000));
    std::thread::spawn(move || ok(&src)).join().unwrap();
    let src = format!("a = {}", vec!["null"; 1000].join(" ?? "));
    std::thread::spawn(move || ok(&src)).join().unwrap();
}

#[test]
fn unit_suffix_stays_on_its_line() {
    let f = ok("w = 12\ng = 5");
    assert_eq!(f.items.len(), 2);
    let f = ok("w = 12 g");
    assert_eq!(f.items.len(), 1);
}
