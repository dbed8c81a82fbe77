//! Any text as a Rego file: the METADATA reader returns a rule, nothing, or an error that names a
//! line of the file, never panics.
#![no_main]
use cwl_audit::engine::metadata::parse_rule;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match parse_rule("fuzz.rego", src) {
        Ok(Some(m)) => assert_eq!(m.source, "fuzz.rego"),
        Ok(None) => {}
        Err(e) => {
            let lines = src.lines().count();
            assert!(
                e.line >= 1 && e.line <= lines + 1,
                "line {} of {lines}: {e}",
                e.line
            );
        }
    }
});
