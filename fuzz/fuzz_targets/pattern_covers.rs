//! Any pattern against the CIS reference: coverage answers (or says undecided) without panicking,
//! and a counter-example it gives is one the reference matches and the pattern misses.
#![no_main]
use cwl_audit::pattern::{covers, matches};
use libfuzzer_sys::fuzz_target;

const CIS: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    if src.len() > 512 {
        return;
    }
    let c = covers(src, CIS);
    if let Some(ex) = &c.counterexample {
        assert_eq!(matches(CIS, ex), Ok(true));
        assert_eq!(matches(src, ex), Ok(false));
    }
});
