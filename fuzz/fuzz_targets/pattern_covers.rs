//! Any pattern against the CIS reference: coverage answers (or says undecided) without panicking,
//! and a counter-example it gives is one the reference matches and the pattern misses.
#![no_main]
use cwl_audit::engine;
use cwl_audit::findings::benchmark;
use cwl_audit::pattern::{covers, matches};
use libfuzzer_sys::fuzz_target;

/// The CIS root-usage reference, read from its policy (no pattern is copied into Rust).
static CIS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let rules = engine::rules(&engine::builtin_sources(), &[]).expect("built-in METADATA");
    let rule = rules.iter().find(|r| r.id == "CWL-014").expect("CWL-014");
    let reference = rule.reference_for(benchmark::DEFAULT).expect("a reference pattern");
    reference.pattern.clone()
});

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    if src.len() > 512 {
        return;
    }
    let c = covers(src, &CIS);
    if let Some(ex) = &c.counterexample {
        assert_eq!(matches(&CIS, ex), Ok(true));
        assert_eq!(matches(src, ex), Ok(false));
    }
});
