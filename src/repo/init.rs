//! `bondmap init`'s files: a repo that checks and tests green at once (its snapshots are
//! made by the caller, from the files written here). Nothing that is already there is
//! overwritten: every file is created new.

use super::bundled;
use super::fs::display_name;
use std::path::{Path, PathBuf};

/// What the files are made of: the warehouse's file name and its codes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `guangzhou_nansha`: the warehouse file's name, without `.map`.
    pub warehouse: String,
}

impl Plan {
    /// The plan for a warehouse name, or why the name cannot be a file name here.
    pub fn new(warehouse: &str) -> Result<Plan, String> {
        let ok = warehouse
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && warehouse
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && warehouse.len() <= 64;
        if !ok {
            return Err(format!(
                "--warehouse `{warehouse}`: a name of lowercase letters, digits and `_`, starting with a letter (e.g. guangzhou_nansha)"
            ));
        }
        Ok(Plan {
            warehouse: warehouse.to_string(),
        })
    }

    fn fill(&self, template: &str) -> String {
        let upper = self.warehouse.to_ascii_uppercase();
        template
            .replace("{{warehouse}}", &self.warehouse)
            .replace("{{store_code}}", &format!("{upper}_01"))
            .replace("{{whcode}}", &upper)
            .replace("{{base_version}}", bundled::VERSION)
            .replace("{{bondmap_version}}", env!("CARGO_PKG_VERSION"))
    }

    /// Every file `init` writes, as (path in the repo, text).
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        let w = &self.warehouse;
        let whcode = self.warehouse.to_ascii_uppercase();
        // The example orders are two of bondmap's, sent to this warehouse.
        let order =
            |text: &str| text.replace("\"whcode\": \"HZXS\"", &format!("\"whcode\": \"{whcode}\""));
        vec![
            (
                "bondmap.toml".into(),
                self.fill(include_str!("templates/bondmap.toml")),
            ),
            (
                format!("mappings/warehouses/{w}.map").into(),
                self.fill(include_str!("templates/warehouse.map")),
            ),
            (
                format!("mappings/warehouses/{w}_goods.csv").into(),
                include_str!("../../mappings/warehouses/hangzhou_xiasha_goods.csv").to_string(),
            ),
            (
                "mappings/routes.map".into(),
                self.fill(include_str!("templates/routes.map")),
            ),
            (
                "examples/orders/01_single_sku_alipay.json".into(),
                order(include_str!(
                    "../../examples/orders/01_single_sku_alipay.json"
                )),
            ),
            (
                "examples/orders/02_several_skus_discounts_wechat.json".into(),
                order(include_str!(
                    "../../examples/orders/02_several_skus_discounts_wechat.json"
                )),
            ),
            (
                ".github/workflows/bondmap.yml".into(),
                self.fill(include_str!("templates/ci.yml")),
            ),
            (
                "README.md".into(),
                self.fill(include_str!("templates/README.md")),
            ),
        ]
    }
}

/// Writes the plan's files under `dir` (made if missing). Refused, with nothing written,
/// when `dir` is already a mapping repo or any of the files is already there.
pub fn write(dir: &Path, plan: &Plan) -> Result<Vec<PathBuf>, String> {
    let files = plan.files();
    let there: Vec<String> = files
        .iter()
        .map(|(p, _)| dir.join(p))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .map(|p| display_name(&p))
        .collect();
    if !there.is_empty() {
        return Err(format!(
            "{} already has {}: init writes a new repo and overwrites nothing",
            display_name(dir),
            there.join(", ")
        ));
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let p = dir.join(&rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot make {}: {e}", display_name(parent)))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", display_name(&p)))?;
        written.push(rel);
    }
    Ok(written)
}
