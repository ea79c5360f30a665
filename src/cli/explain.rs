//! `bondmap explain`: how each target field of one order got its value.

use super::common::{compile_or_report, single_input, InputArgs, MappingArgs, OrdersArgs};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    pub orders: OrdersArgs,
    /// Only this field (and the fields under it), e.g. `orderAmountInfo.totalTax`.
    #[arg(long)]
    pub field: Option<String>,
}

pub fn run(a: &Args) -> u8 {
    explain(&a.orders.mapping, &a.orders.input, a.field.as_deref())
}

fn explain(m: &MappingArgs, i: &InputArgs, field: Option<&str>) -> u8 {
    let Some(prog) = compile_or_report(m) else {
        return 2;
    };
    let doc = match single_input(i) {
        Ok(d) => d,
        Err(e) => return e.report(),
    };
    match crate::run::explain(&prog, &doc, field) {
        Ok(text) if text.is_empty() => {
            eprintln!("no target field matches `{}`", field.unwrap_or(""));
            1
        }
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(e) => {
            eprintln!("rejected: {e}");
            1
        }
    }
}
