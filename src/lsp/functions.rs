//! The functions of the language for hover and completion: their signature, doc and
//! example come from the one table of built-ins (`crate::program::func`).

pub use crate::program::func::{Builtin as Function, BUILTINS as FUNCTIONS};

pub fn find(name: &str) -> Option<&'static Function> {
    crate::program::func::find(name)
}

/// The hover text of a function: its signature, doc and first example with its value.
pub fn markdown(f: &Function) -> String {
    let example = f
        .examples
        .first()
        .map(|e| format!("\n\nExample: `{}` gives `{}`", e.expr, e.gives))
        .unwrap_or_default();
    format!("```\n{}\n```\n{}{example}", f.signature, f.doc)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_function_the_checker_knows_has_a_doc() {
        // A name the checker does not know is refused by it: try each in a mapping.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/warehouses");
        let unknown = |name: &str| {
            let text = format!("use \"hangzhou_xiasha.map\"\nlet x = {name}()\nstoreCode = x\n");
            let (c, _) =
                super::super::engine::check_and_analyse(&dir.join("fn_test.map"), &text, &|| true)
                    .expect("a check that is never cancelled");
            c.diags
                .iter()
                .any(|d| d.code == crate::diag::Code::UnknownFunction)
        };
        assert!(unknown("frist"), "the control: an unknown name is refused");
        for f in super::FUNCTIONS {
            assert!(!unknown(f.name), "{}", f.name);
            assert!(super::markdown(f).contains(f.doc), "{}", f.name);
        }
    }
}
