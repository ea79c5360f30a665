//! `cargo fuzz run parse`: any bytes as mapping text; parsing, formatting and checking
//! must never panic or overflow the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = bondmap::syntax::parse(text, bondmap::syntax::FileId(0));
        if let Ok(once) = bondmap::syntax::print::format(text) {
            // Formatting is idempotent.
            assert_eq!(bondmap::syntax::print::format(&once).ok().as_deref(), Some(once.as_str()));
        }
        let (m, _) = bondmap::load::load_str("fuzz.map", text, std::path::Path::new("."));
        let _ = bondmap::compile::compile(&m, &bondmap::compile::Options::default());
    }
});
