//! Any bytes as a snapshot file: the loader returns a checked snapshot or one error that names a
//! place inside the input, never panics; the error displays as one line.
#![no_main]
use cwl_audit::snapshot::load_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match load_bytes("fuzz.json", data) {
        Ok(s) => {
            assert_eq!(s.account_id.len(), 12, "{}", s.account_id);
            assert!(s.account_id.bytes().all(|b| b.is_ascii_digit()));
            assert!(!s.region.is_empty() && !s.partition.is_empty());
        }
        Err(e) => {
            let lines = data.split(|&b| b == b'\n').count();
            if let Some((line, col)) = e.place.as_ref().and_then(|p| p.line_col) {
                assert!(line >= 1 && col >= 1, "{e}");
                assert!(
                    line <= lines,
                    "line {line} past the input's {lines} lines: {e}"
                );
            }
            let shown = e.to_string();
            assert!(
                !shown.contains('\n'),
                "error display spans lines: {shown:?}"
            );
        }
    }
});
