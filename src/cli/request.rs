//! `bondmap request`: the signed gateway form of one order, printed, not sent.

use super::common::{
    gateway_config, prepare, route_or_report, single_input, InputArgs, MappingArgs, OrdersArgs,
};
use crate::route::Pick;
use std::path::Path;
use std::path::PathBuf;

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    pub orders: OrdersArgs,
    /// The urlencoded body instead of JSON.
    #[arg(long)]
    pub form: bool,
    /// TOML file with a [cainiao] table (app_key, secret_key, gateway_url, timeout_secs, max_attempts); the environment wins.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(a: &Args) -> u8 {
    request(
        &a.orders.mapping,
        &a.orders.input,
        a.form,
        a.config.as_deref(),
    )
}

fn request(m: &MappingArgs, i: &InputArgs, form: bool, cfg_path: Option<&Path>) -> u8 {
    let Some(cfg) = gateway_config(cfg_path) else {
        return 2;
    };
    let Some(router) = route_or_report(m) else {
        return 2;
    };
    let doc = match single_input(i) {
        Ok(d) => d,
        Err(e) => return e.report(),
    };
    let prog = match router.pick(&doc) {
        Ok(Pick::Mapping { program, .. }) => program,
        Ok(Pick::Skipped { reason }) => {
            match router.order_id(&doc) {
                Some(id) => eprintln!("skipped: order {id}: {reason}"),
                None => eprintln!("skipped: {reason}"),
            }
            return 0;
        }
        Err(e) => {
            eprintln!("rejected: {e}");
            return 1;
        }
    };
    let written = match crate::run::request(prog, &doc) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rejected: {e}");
            return 1;
        }
    };
    let p = match prepare(prog, &cfg, written) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rejected: {e}");
            return 1;
        }
    };
    if form {
        println!("{}", p.request.form_body(&cfg.secret_key));
    } else {
        let fields: serde_json::Map<String, serde_json::Value> = p
            .request
            .form_fields(&cfg.secret_key)
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect();
        println!("{}", serde_json::Value::Object(fields));
    }
    0
}
