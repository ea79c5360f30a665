//! The RED client against answers that are wrong in every way a hostile or broken API can
//! be: `data.batchDecrypt` items missing, null, mistyped or not matching what was asked;
//! `order.getOrderList` pages of the wrong shape.

use bondmap::localhttp::{self, Server};
use bondmap::red::config::RedConfig;
use bondmap::red::decrypt::decrypt_document;
use bondmap::red::RedClient;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn client(url: &str) -> RedClient {
    let url = url.to_string();
    let mut c = RedConfig::from_sources(
        |k| match k {
            "RED_APP_ID" => Some("app".into()),
            "RED_APP_SECRET" => Some("secret".into()),
            "RED_ACCESS_TOKEN" => Some("token".into()),
            "RED_API_URL" => Some(url.clone()),
            _ => None,
        },
        None,
    )
    .unwrap();
    c.backoff_base = Duration::from_millis(5);
    c.timeout = Duration::from_secs(5);
    c.max_attempts = 2;
    RedClient::new(c).unwrap()
}

/// A RED API answering every call with `data` made by `answer` from the request.
fn api(answer: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Server {
    let answer = Arc::new(answer);
    Server::start(0, move |mut c| {
        let req: Value = serde_json::from_slice(&localhttp::read_body(&c).unwrap_or_default())
            .unwrap_or_default();
        let body = json!({"success": true, "error_code": 0, "error_msg": "", "data": answer(&req)});
        let _ = localhttp::respond(&mut c, 200, "application/json", &body.to_string());
    })
    .unwrap()
}

fn cipher(tag: &str, ty: u8) -> String {
    format!("#IDX{tag}{ty}#CIPHERTEXT{tag}x{ty}#{ty}##")
}

/// One order's receiver and declare parts, every personal field encrypted.
fn doc() -> Value {
    json!({
        "detail": {"orderId": "P1"},
        "receiver": {"receiverInfos": [{"orderId": "P1", "matched": true,
            "receiverName": cipher("a", 2), "receiverPhone": cipher("b", 3), "receiverAddress": cipher("c", 1)}]},
        "declare": {"orderDeclareInfos": [{"type": "订购人",
            "idName": cipher("d", 2), "idNumber": cipher("e", 4), "linkPhone": cipher("f", 3)}]}
    })
}

/// The honest answer to a batchDecrypt request: each value as "PLAIN-<ciphertext tail>".
fn honest(req: &Value) -> Vec<Value> {
    req["baseInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let c = i["encryptedData"].as_str().unwrap();
            json!({"dataTag": i["dataTag"], "encryptedData": c,
                   "decryptedData": format!("PLAIN-{}", &c[c.len() - 6..]), "errorCode": 0, "errorMsg": ""})
        })
        .collect()
}

fn decrypt_with(fault: impl Fn(&mut Vec<Value>) + Send + Sync + 'static) -> Result<Value, String> {
    let s = api(move |req| {
        let mut list = honest(req);
        fault(&mut list);
        json!({"dataInfoList": list})
    });
    let mut d = doc();
    decrypt_document(&client(&format!("http://{}/ark", s.addr)), "P1", &mut d)
        .map(|()| d)
        .map_err(|e| e.to_string())
}

#[test]
fn an_honest_answer_decrypts_every_field() {
    let d = decrypt_with(|_| {}).unwrap();
    let r = &d["receiver"]["receiverInfos"][0];
    assert!(r["receiverName"].as_str().unwrap().starts_with("PLAIN-"));
    assert!(d["declare"]["orderDeclareInfos"][0]["idNumber"]
        .as_str()
        .unwrap()
        .starts_with("PLAIN-"));
}

#[test]
fn every_bad_decrypt_item_is_an_error_naming_the_field_and_never_a_blank_value() {
    type Fault = Box<dyn Fn(&mut Vec<Value>) + Send + Sync>;
    let first = "receiver.receiverInfos[0].receiverName";
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "no decryptedData",
            Box::new(|l| {
                l[0].as_object_mut().unwrap().remove("decryptedData");
            }),
            "decryptedData",
        ),
        (
            "decryptedData null",
            Box::new(|l| l[0]["decryptedData"] = Value::Null),
            "decryptedData",
        ),
        (
            "decryptedData a number",
            Box::new(|l| l[0]["decryptedData"] = json!(5)),
            "decryptedData",
        ),
        (
            "decryptedData empty",
            Box::new(|l| l[0]["decryptedData"] = json!("")),
            "decryptedData",
        ),
        (
            "errorCode a string",
            Box::new(|l| l[0]["errorCode"] = json!("0")),
            "errorCode",
        ),
        (
            "errorCode a fraction",
            Box::new(|l| l[0]["errorCode"] = json!(0.5)),
            "errorCode",
        ),
        (
            "errorCode missing",
            Box::new(|l| {
                l[0].as_object_mut().unwrap().remove("errorCode");
            }),
            "errorCode",
        ),
        (
            "errorCode set",
            Box::new(|l| {
                l[0]["errorCode"] = json!(-2000701);
                l[0]["errorMsg"] = json!("quota");
            }),
            "-2000701",
        ),
        (
            "another order's tag",
            Box::new(|l| l[0]["dataTag"] = json!("P2")),
            "dataTag",
        ),
        (
            "another ciphertext",
            Box::new(|l| l[0]["encryptedData"] = json!("#zz#other#2##")),
            "no item",
        ),
        (
            "an item missing",
            Box::new(|l| {
                l.remove(0);
            }),
            "no item",
        ),
    ];
    for (what, fault, word) in cases {
        let e = decrypt_with(fault).expect_err(what);
        assert!(e.contains(first), "{what}: {e}");
        assert!(e.contains(word), "{what}: {e}");
        assert!(
            !e.contains("CIPHERTEXT") && !e.contains("PLAIN-"),
            "{what} leaks: {e}"
        );
    }
}

#[test]
fn a_decrypt_answer_without_a_list_names_the_list() {
    for data in [
        json!({}),
        json!({"dataInfoList": "x"}),
        json!({"dataInfoList": null}),
    ] {
        let s = api(move |_| data.clone());
        let mut d = doc();
        let e = decrypt_document(&client(&format!("http://{}/ark", s.addr)), "P1", &mut d)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data.batchDecrypt") && e.contains("dataInfoList"),
            "{e}"
        );
    }
}
