//! The base set bundled in the binary: the base mappings and the contracts (schemas) of
//! bondmap's `mappings/`, embedded and versioned, so an integrator's repo depends on them
//! (`use "base:cainiao/bonded_whs.map"` with `[base] bundled = "1"` in `bondmap.toml`)
//! instead of copying them. A bundled file's path is virtual: `bondmap:base@1/…`; no
//! disk is read for it.

use std::path::{Component, Path, PathBuf};

/// The version of the bundled set. A change to any bundled file is a new version (a test
/// holds the files to [`DIGEST`]), so a repo pinned to a version sees the change only when
/// it moves its pin.
pub const VERSION: &str = "1";

/// MD5 of the bundled files (names and texts, in order) of [`VERSION`].
pub const DIGEST: &str = "9a72e2c824826a38c0bb58ec3a090e23";

/// What every virtual path of the bundled set starts with.
pub const PREFIX: &str = "bondmap:base@";

macro_rules! bundled {
    ($($name:literal),* $(,)?) => {
        /// Each bundled file: its path in the set and its text.
        pub const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../mappings/", $name))),)*
        ];
    };
}

bundled! {
    "cainiao/bonded_whs.map",
    "cainiao/cancel.map",
    "cainiao/customs_reasons.csv",
    "cainiao/order_status.csv",
    "red/customs_status.map",
    "red/item_customs.map",
    "red/order_deliver.map",
    "red/resend_payment.map",
    "schemas/cainiao_consign_notify.schema.json",
    "schemas/cainiao_deliveryorder_create.schema.json",
    "schemas/cainiao_order_cancel.schema.json",
    "schemas/cainiao_order_status_upload.schema.json",
    "schemas/goods_barcode.schema.json",
    "schemas/red_item_customs.schema.json",
    "schemas/red_modify_customs_status.schema.json",
    "schemas/red_order.schema.json",
    "schemas/red_order_deliver.schema.json",
    "schemas/red_resend_payment.schema.json",
}

/// The folder the bundled set is read from: `bondmap:base@1`.
pub fn root() -> PathBuf {
    PathBuf::from(format!("{PREFIX}{VERSION}"))
}

/// Whether a path is in the bundled set.
pub fn is_bundled(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with(PREFIX))
}

/// The text of a bundled path: `None` when the path is not a bundled one (a disk file);
/// an error when it is, but names no file of the set.
pub fn lookup(path: &Path) -> Option<Result<&'static str, String>> {
    if !is_bundled(path) {
        return None;
    }
    let folded = fold(path);
    let rel = folded.strip_prefix(root()).ok().and_then(Path::to_str);
    let Some(rel) = rel else {
        return Some(Err(format!(
            "this bondmap carries the bundled base {VERSION} only"
        )));
    };
    Some(
        FILES
            .iter()
            .find(|(n, _)| *n == rel)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                format!(
                    "the bundled base {VERSION} has no file `{rel}` (it has: {})",
                    FILES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )
            }),
    )
}

/// `a/b/../c` → `a/c`, `./` dropped: by the text alone (a bundled file is on no disk).
pub fn fold(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if clean.file_name().is_some() => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other.as_os_str()),
        }
    }
    clean
}

/// MD5 of the bundled files, names and texts in order.
pub fn digest() -> String {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    for (n, t) in FILES {
        for part in [n.as_bytes(), t.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundled_path_reads_the_set_and_folds_dots() {
        let p = root().join("cainiao/../schemas/red_order.schema.json");
        assert!(lookup(&p)
            .unwrap()
            .unwrap()
            .contains("red.cross_border_order"));
        assert!(lookup(&root().join("warehouses/x.csv")).unwrap().is_err());
        assert!(lookup(Path::new("mappings/cainiao/bonded_whs.map")).is_none());
    }

    #[test]
    fn the_bundled_set_is_the_version_it_says() {
        assert_eq!(
            digest(),
            DIGEST,
            "the bundled base changed: a repo pinned to base {VERSION} would get other files \
             under the same version. Bump VERSION in src/repo/bundled.rs and set DIGEST to the \
             digest above"
        );
    }
}
