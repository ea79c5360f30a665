//! The goods' customs filings synced to RED (`bondmap filing push`): the filing mapping
//! (`mappings/red/item_customs.map`, or a warehouse's file that uses it) run over every
//! row of its `goods` table, every row checked before anything is sent, then one
//! `order.createItemCustomsInfo` per row that changed since the last push (the state
//! keeps what RED took, per barcode and port).
//!
//! A row whose `hs_code` cell is blank is a good not sold cross-border: it is not filed,
//! and listed. Any other row the mapping rejects (an HS code that is not 10 digits, a space
//! in it, a quantity that is not a number) stops the push before anything is sent, each
//! such row named by its barcode.

use crate::program::Program;
use crate::red::RedClient;
use crate::store::{Store, StoreError};
use crate::value::Val;
use serde::Serialize;
use serde_json::Value;

/// The table a filing mapping runs over.
pub const GOODS: &str = "goods";
/// The input contract of a filing mapping (one barcode of its goods table): what makes
/// `bondmap check` run the mapping over every row, as a push would.
pub const SOURCE_SCHEMA: &str = "goods_barcode.schema.json";
/// Its column that says whether a good is filed at all.
pub const HS_COLUMN: &str = "hs_code";

/// One row's filing, built and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub barcode: String,
    pub port_code: String,
    /// The request's fields, as sent.
    pub fields: Value,
    /// The fields RED took last for it (`None`: never filed at this port).
    pub before: Option<Value>,
}

/// What the goods table gives: the rows to send, those unchanged, those not filed.
#[derive(Debug, Default, Serialize)]
pub struct Plan {
    pub changed: Vec<Row>,
    pub unchanged: Vec<String>,
    /// Barcodes with no HS code in the table.
    pub not_filed: Vec<String>,
}

/// Why a push did not start: each row the mapping refused (nothing was sent).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the mapping has no table `{GOODS}` to file from")]
    NoGoods,
    #[error("{}", .0.join("\n"))]
    Rows(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every row of the program's `goods` table, built and checked, compared with what RED
/// took last (`store`; `None`: compare with nothing, every row is new).
pub fn plan(program: &Program, store: Option<&Store>) -> Result<Plan, PlanError> {
    let goods = program
        .tables
        .iter()
        .find(|t| &*t.name == GOODS)
        .ok_or(PlanError::NoGoods)?;
    let hs = goods.columns.iter().position(|c| &**c == HS_COLUMN);
    let keys = goods.keys();
    let mut out = Plan::default();
    let mut refused = Vec::new();
    for key in keys {
        let blank = hs
            .and_then(|i| goods.lookup(key, i))
            .is_none_or(|v| match v {
                Val::Null => true,
                Val::Str(s) => s.trim().is_empty(),
                _ => false,
            });
        if blank {
            out.not_filed.push(key.to_string());
            continue;
        }
        let fields = match crate::run::run(program, &serde_json::json!({ "barcode": key })) {
            Ok(json) => serde_json::from_str::<Value>(&json)
                .map_err(|e| format!("barcode {key}: the mapping wrote no JSON: {e}")),
            // The row's barcode is its name here (the order id and `$.barcode` it was
            // read from say nothing more).
            Err(e) => Err(format!(
                "barcode {key}: {}{} at {}",
                e.message,
                e.field
                    .as_ref()
                    .map_or_else(String::new, |f| format!(" (field `{f}`)")),
                e.location
            )),
        };
        let fields = match fields.and_then(|f| checked(key, f)) {
            Ok(f) => f,
            Err(e) => {
                refused.push(e);
                continue;
            }
        };
        let port = fields["port_code"].as_str().unwrap_or_default().to_string();
        let before = match store {
            Some(s) => s
                .filed(key, &port)?
                .and_then(|f| serde_json::from_str::<Value>(&f.fields).ok()),
            None => None,
        };
        if before.as_ref() == Some(&fields) {
            out.unchanged.push(key.to_string());
        } else {
            out.changed.push(Row {
                barcode: key.to_string(),
                port_code: port,
                fields,
                before,
            });
        }
    }
    if !refused.is_empty() {
        return Err(PlanError::Rows(refused));
    }
    Ok(out)
}

/// RED's rules on a built request, whatever the mapping says: a 10-digit HS code of
/// digits only (税则号未收录 otherwise), a port, numbers for both quantities.
fn checked(barcode: &str, f: Value) -> Result<Value, String> {
    let hs = f["hs_code"].as_str().unwrap_or_default();
    if hs.len() != 10 || !hs.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "barcode {barcode}: the HS code `{hs}` is not 10 digits (a space included): RED would answer 税则号未收录"
        ));
    }
    if f["port_code"].as_str().is_none_or(|p| p.trim().is_empty()) {
        return Err(format!("barcode {barcode}: no port_code"));
    }
    for q in ["quantity1", "quantity2"] {
        if !f[q].is_number() {
            return Err(format!("barcode {barcode}: `{q}` is not a number"));
        }
    }
    Ok(f)
}

/// How one row's send ended.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub barcode: String,
    pub port_code: String,
    /// `sent`, `refused` (RED's words in `error`), `failed` (may pass: push again).
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Sends each changed row; what RED took is recorded at once, row by row.
pub fn push(red: &RedClient, store: &mut Store, plan: &Plan) -> Result<Vec<Sent>, StoreError> {
    let mut out = Vec::new();
    for row in &plan.changed {
        let answer = red.create_item_customs_info(&row.fields);
        let (outcome, error) = match &answer {
            Ok(()) => {
                store.record_filed(&row.barcode, &row.port_code, &row.fields.to_string())?;
                ("sent", None)
            }
            Err(e) if !e.is_passing() => ("refused", Some(e.to_string())),
            Err(e) => ("failed", Some(e.to_string())),
        };
        out.push(Sent {
            barcode: row.barcode.clone(),
            port_code: row.port_code.clone(),
            outcome,
            error,
        });
    }
    Ok(out)
}
