//! What the unit tests of several modules share, compiled only for them. Here, not in the
//! module a test is about, so that no module of the library depends on another for its tests'
//! sake (the pattern library's tests would otherwise import the engine).
use crate::engine;
use crate::findings::RuleMeta;

/// The reference pattern of built-in rule `id` under the default benchmark, read from its policy,
/// so no reference pattern is copied into Rust.
pub(crate) fn builtin_reference(id: &str) -> &'static str {
    static RULES: std::sync::OnceLock<Vec<RuleMeta>> = std::sync::OnceLock::new();
    let rules = RULES
        .get_or_init(|| engine::rules(&engine::builtin_sources(), &[]).expect("built-in METADATA"));
    let rule = rules.iter().find(|r| r.id == id).expect("a built-in rule");
    &rule
        .reference_for(crate::findings::benchmark::DEFAULT)
        .expect("a reference pattern")
        .pattern
}
