//! `/metrics` counts every RED request by method and outcome and every gateway request by
//! message type and outcome, as the clients meet them (against the simulators, with the
//! faults that make each outcome).

mod common;

use bondmap::gateway::sim::SimOptions;
use bondmap::gateway::GatewayRequest;
use bondmap::metrics::{render, StateFigures};
use bondmap::red::sim::RedSimOptions;
use common::Sims;
use std::collections::BTreeMap;
use std::time::Duration;

const SIMS: Sims = Sims {
    app: "metrics-app",
    red_secret: "red-secret-71",
    token: "tok-72",
    gw_secret: "gw-secret-73",
    timeout: Duration::from_secs(5),
};

fn samples() -> BTreeMap<String, f64> {
    let text = render(&StateFigures {
        orders: Vec::new(),
        needs_person: 0,
    })
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn create(code: &str) -> GatewayRequest {
    let li = serde_json::json!({
        "ownerUserId": "O", "orderType": "BONDED_WHS", "storeCode": "S",
        "externalOrderCode": code, "receiverInfo": {}, "orderItemList": [],
        "orderAmountInfo": {}, "customsDeclareInfo": {}
    });
    GatewayRequest {
        logistic_provider_id: "CP".into(),
        msg_type: "CN_WMS_DELIVERYORDER_CREATE".into(),
        logistics_interface: li.to_string(),
        to_code: None,
    }
}

#[test]
fn every_red_method_and_gateway_outcome_is_counted() {
    let red = SIMS.red_sim(RedSimOptions {
        // The first two calls are rate-limited: each a passing fault, tried again.
        rate_limit_first: 2,
        ..RedSimOptions::default()
    });
    let gw = SIMS.gw_sim(SimOptions {
        // The first request is answered HTTP 500: tried again.
        fail_first: 1,
        reject: ["REFUSED".to_string()].into(),
        ..SimOptions::default()
    });
    let (rc, gc) = SIMS.clients(&red, &gw);
    // getOrderList: two retries, then ok.
    let now = chrono::Utc::now().timestamp();
    rc.list_orders(now - 60, now, None).unwrap();
    // getOrderDetail of an order RED does not have: a definite refusal.
    assert!(rc.order_detail("NO-SUCH-ORDER").is_err());
    assert!(rc.batch_decrypt(&[]).unwrap().is_empty());
    let (o, attempts) = gc.send_one(&create("A1"));
    assert_eq!(attempts, 2, "{o:?}");
    gc.send_one(&create("A1"));
    gc.send_one(&create("REFUSED"));

    let m = samples();
    let red_count = |method: &str, outcome: &str| {
        m.get(&format!(
            "bondmap_red_calls_total{{method=\"{method}\",outcome=\"{outcome}\"}}"
        ))
        .copied()
    };
    assert_eq!(red_count("order.getOrderList", "retry"), Some(2.0), "{m:?}");
    assert_eq!(red_count("order.getOrderList", "ok"), Some(1.0), "{m:?}");
    assert_eq!(
        red_count("order.getOrderDetail", "refused"),
        Some(1.0),
        "{m:?}"
    );
    assert_eq!(red_count("order.getOrderDetail", "ok"), None, "{m:?}");
    // No call for nothing to decrypt.
    assert_eq!(red_count("data.batchDecrypt", "ok"), None, "{m:?}");
    let gw_count = |outcome: &str| {
        m.get(&format!(
            "bondmap_gateway_requests_total{{msg_type=\"CN_WMS_DELIVERYORDER_CREATE\",outcome=\"{outcome}\"}}"
        ))
        .copied()
    };
    assert_eq!(gw_count("retry"), Some(1.0), "{m:?}");
    assert_eq!(gw_count("accepted"), Some(1.0), "{m:?}");
    assert_eq!(gw_count("duplicate"), Some(1.0), "{m:?}");
    assert_eq!(gw_count("rejected"), Some(1.0), "{m:?}");
    // The simulators saw exactly the requests counted.
    assert_eq!(red.total_calls(), 4);
    assert_eq!(gw.requests(), 4);
}
