//! The identity of a mapping: one hash of everything a compiled program was built from
//! (the text of every mapping file it read, its tables' rows, its settings, the params set
//! on the command line), kept in the state so a round with another mapping is noticed.

use crate::program::Program;
use md5::{Digest, Md5};

/// Hex MD5 (an identity, not a secret) of the program's sources, tables and settings, and
/// of `params` (the `--param` values, which change what the program writes).
pub fn mapping_identity(program: &Program, params: &[(String, String)]) -> String {
    let mut h = Md5::new();
    let mut part = |tag: &str, bytes: &[u8]| {
        // Length-prefixed, so no two different inputs hash the same bytes.
        h.update(tag.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for f in &program.sources.files {
        part("file", f.text.as_bytes());
    }
    for t in &program.tables {
        part("table", t.name.as_bytes());
        for c in &t.columns {
            part("column", c.as_bytes());
        }
        t.each_row(&mut |key, row| match key {
            Some(k) => {
                part("key", k.as_bytes());
                part("row", format!("{row:?}").as_bytes());
            }
            None => part("default", format!("{row:?}").as_bytes()),
        });
    }
    part("settings", format!("{:?}", program.settings).as_bytes());
    let mut params: Vec<&(String, String)> = params.iter().collect();
    params.sort();
    for (k, v) in params {
        part("param", k.as_bytes());
        part("value", v.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
