//! Any text: the parser returns a pattern or an error with a column inside the text, never panics;
//! a parsed pattern can be matched against a record and a raw line.
#![no_main]
use cwl_audit::pattern::{matcher, parse, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    match parse(src) {
        Ok(p) => {
            let rec = serde_json::json!({"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall", "a": [1, {"b": null}]});
            let _ = matcher::matches(&p, &Event::from_json(&rec));
            let _ = matcher::matches(&p, &Event::from_text(src));
        }
        Err(e) => assert!(e.column >= 1 && e.column <= src.chars().count() + 1, "{e}"),
    }
});
