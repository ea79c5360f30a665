//! `bondmap explain`: how each target field of an order got its value, down to the
//! order's own fields, or what rejected the order; one order, a folder or NDJSON lines.

use super::common::{
    line_text, read_json, route_or_report, single_input, InputArgs, InputError, OrdersArgs,
};
use crate::route::Pick;
use crate::run::explain::{explain_order, Explained};
use std::io::{BufRead, Write};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    pub orders: OrdersArgs,
    /// Only this field and the fields under it, e.g. `orderAmountInfo.totalTax` or
    /// `orderItemList[*].itemQuantity` (`[*]`: every item).
    #[arg(long)]
    pub field: Option<String>,
    /// Only the order with this id (of a folder or NDJSON input of several).
    #[arg(long, value_name = "ID")]
    pub order: Option<String>,
    /// `human` (indented lines) or `json` (one JSON object per order, a line each).
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
    pub format: String,
}

pub fn run(a: &Args) -> u8 {
    // A routes file, as `map` takes it: each order through the mapping its route picks.
    let Some(router) = route_or_report(&a.orders.mapping) else {
        return 2;
    };
    let docs = match inputs(&a.orders.input) {
        Ok(d) => d,
        Err(e) => return e.report(),
    };
    let json = a.format == "json";
    let field = a.field.as_deref();
    let many = docs.len() > 1 && a.order.is_none();
    let (mut shown, mut failed, mut matched) = (0, false, false);
    for (label, doc) in docs {
        let doc = match doc {
            Ok(d) => d,
            Err(m) => {
                eprintln!("{label}: rejected: {m}");
                failed = true;
                continue;
            }
        };
        let prog = match router.pick(&doc) {
            Ok(Pick::Mapping { program, .. }) => program,
            Ok(Pick::Skipped { reason }) => {
                if a.order.is_none() {
                    eprintln!("{label}: skipped: {reason}");
                    failed = true;
                }
                continue;
            }
            Err(e) => {
                eprintln!("{label}: rejected: {e}");
                failed = true;
                continue;
            }
        };
        let ex = explain_order(prog, &doc);
        if let Some(want) = &a.order {
            if ex.order_id.as_deref() != Some(want.as_str()) {
                continue;
            }
        }
        shown += 1;
        failed |= ex.rejected.is_some();
        matched |= ex.rejected.is_some() || ex.has(field);
        // A closed stdout (`| head`) ends the run, as in `map`.
        if print_one(&ex, &label, field, json, many).is_err() {
            return 2;
        }
    }
    if let Some(want) = &a.order {
        if shown == 0 {
            eprintln!("no order `{want}` in the input");
            return 1;
        }
    }
    if shown > 0 && !matched {
        eprintln!("no target field matches `{}`", field.unwrap_or(""));
        return 1;
    }
    u8::from(failed)
}

fn print_one(
    ex: &Explained,
    label: &str,
    field: Option<&str>,
    json: bool,
    many: bool,
) -> std::io::Result<()> {
    let id = ex.order_id.as_deref().unwrap_or("<unknown id>");
    let mut out = std::io::stdout().lock();
    if json {
        let mut o = ex.json(field);
        o["input"] = label.into();
        writeln!(out, "{o}")?;
    } else {
        if many {
            writeln!(out, "== order {id} ({label}) ==")?;
        }
        let text = ex.text(field);
        if !text.is_empty() {
            writeln!(out, "{text}")?;
        }
        if many {
            writeln!(out)?;
        }
    }
    out.flush()?;
    if let Some(r) = &ex.rejected {
        eprintln!("rejected: {}", r.error);
    }
    Ok(())
}

/// One order to explain: its label (file or line) and its document, or why it cannot be read.
type Input = (String, Result<serde_json::Value, String>);

/// The orders named by the input arguments, each with a label for messages (its file or
/// line): one document, every `*.json` of a folder in name order, or NDJSON lines.
fn inputs(i: &InputArgs) -> Result<Vec<Input>, InputError> {
    if let Some(src) = &i.ndjson {
        let reader: Box<dyn BufRead> = if src == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let f = std::fs::File::open(src)
                .map_err(|e| InputError::Io(format!("cannot read {src}: {e}")))?;
            Box::new(std::io::BufReader::new(f))
        };
        let mut out = Vec::new();
        for (n, line) in reader.split(b'\n').enumerate() {
            let line = line.map_err(|e| InputError::Io(format!("cannot read {src}: {e}")))?;
            let doc = line_text(&line).and_then(|t| {
                if t.is_empty() {
                    return Ok(None);
                }
                serde_json::from_str(t)
                    .map(Some)
                    .map_err(|e| format!("not valid JSON: {e}"))
            });
            match doc {
                Ok(None) => {}
                Ok(Some(d)) => out.push((format!("line {}", n + 1), Ok(d))),
                Err(m) => out.push((format!("line {}", n + 1), Err(m))),
            }
        }
        return Ok(out);
    }
    if let Some(dir) = i.input.as_deref().filter(|p| p.is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| InputError::Io(format!("cannot read {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        return Ok(files
            .into_iter()
            .map(|f| {
                let doc = read_json(&f).map_err(|e| match e {
                    InputError::Io(m) | InputError::Json(m) => m,
                });
                (f.display().to_string(), doc)
            })
            .collect());
    }
    let label = match &i.input {
        Some(p) => p.display().to_string(),
        None => "input".to_string(),
    };
    Ok(vec![(label, Ok(single_input(i)?))])
}
