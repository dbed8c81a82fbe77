//! The `cwl.*` builtins policies may call. Only pure functions are registered: policies get no
//! network, file system or clock access beyond what regorus itself provides.
use crate::pattern;
use anyhow::{bail, Result};
use regorus::{Engine, Value};

fn string_arg<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_ref()),
        Some(other) => bail!("{name}: argument {} must be a string, got {}", i + 1, other),
        None => bail!("{name}: missing argument {}", i + 1),
    }
}

/// `cwl.filter_covers(pattern, reference)`: does a metric filter pattern catch every event the
/// reference pattern catches, and nothing it should not? Returns the fields of [`pattern::Coverage`].
fn filter_covers(args: Vec<Value>) -> Result<Value> {
    let candidate = string_arg("cwl.filter_covers", &args, 0)?;
    let reference = string_arg("cwl.filter_covers", &args, 1)?;
    let coverage = pattern::covers(candidate, reference);
    Ok(Value::from(serde_json::to_value(coverage)?))
}

pub fn register(engine: &mut Engine) -> Result<()> {
    engine.add_extension("cwl.filter_covers".to_string(), 2, Box::new(filter_covers))?;
    Ok(())
}
