//! The `cwl.*` builtins policies may call. Only pure functions are registered: policies get no
//! network, file system or clock access beyond what regorus itself provides. Documented for policy
//! authors in docs/filter-patterns.md.
use crate::pattern;
use anyhow::{bail, Result};
use regorus::{Engine, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

fn string_arg<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_ref()),
        Some(other) => bail!("{name}: argument {} must be a string, got {}", i + 1, other),
        None => bail!("{name}: missing argument {}", i + 1),
    }
}

/// `cwl.filter_matches(pattern, event)`: does the pattern match the event? `event` is a JSON object
/// (a CloudTrail record; text terms search its compact JSON) or a string (a raw log line). An
/// invalid pattern is an error (the policy fails with the pattern's column and reason), so a typo in
/// a policy cannot silently read as "no match".
fn filter_matches(args: Vec<Value>) -> Result<Value> {
    let pattern = string_arg("cwl.filter_matches", &args, 0)?;
    let Some(event) = args.get(1) else {
        bail!("cwl.filter_matches: missing argument 2");
    };
    let event: serde_json::Value = serde_json::from_str(&event.to_json_str()?)?;
    match pattern::matches(pattern, &event) {
        Ok(b) => Ok(Value::from(b)),
        Err(e) => bail!("cwl.filter_matches: invalid pattern: {e}"),
    }
}

/// Results of `cwl.filter_covers` per (candidate, reference): organizations repeat the same
/// patterns in thousands of accounts. Shared by every clone of the engine (one per worker).
type CoverCache = Arc<Mutex<HashMap<(String, String), Value>>>;

/// Entries kept at most; beyond this the cache is cleared (patterns are few in practice).
const CACHE_LIMIT: usize = 10_000;

/// `cwl.filter_covers(pattern, reference)`: does a metric filter pattern catch every event the
/// reference pattern catches, and nothing it should not? Returns the fields of
/// [`pattern::Coverage`]; never an error for a bad pattern (that is `error` in the result).
fn filter_covers(cache: &CoverCache, args: Vec<Value>) -> Result<Value> {
    let candidate = string_arg("cwl.filter_covers", &args, 0)?;
    let reference = string_arg("cwl.filter_covers", &args, 1)?;
    let key = (candidate.to_string(), reference.to_string());
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(v);
    }
    let coverage = pattern::covers(candidate, reference);
    let v = Value::from(serde_json::to_value(coverage)?);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(key, v.clone());
    }
    Ok(v)
}

/// Every `cwl.*` builtin and its number of arguments.
pub const BUILTINS: &[(&str, u8)] = &[("cwl.filter_covers", 2), ("cwl.filter_matches", 2)];

pub fn register(engine: &mut Engine) -> Result<()> {
    let cache: CoverCache = Arc::default();
    engine.add_extension(
        "cwl.filter_covers".to_string(),
        2,
        Box::new(move |args| filter_covers(&cache, args)),
    )?;
    engine.add_extension(
        "cwl.filter_matches".to_string(),
        2,
        Box::new(filter_matches),
    )?;
    Ok(())
}

/// Calls builtin `name` outside an engine: what `cwl-audit builtin` answers, so other Rego engines
/// (OPA, in tests/opa-crosscheck.py) can be given the same answers as regorus.
pub fn call(name: &str, args: Vec<Value>) -> Result<Value> {
    match name {
        "cwl.filter_covers" => filter_covers(&CoverCache::default(), args),
        "cwl.filter_matches" => filter_matches(args),
        _ => bail!("unknown builtin {name}"),
    }
}
