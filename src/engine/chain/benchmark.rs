//! lib.benchmark's decision, computed natively: `cwl.benchmark_decision(input, cwl_audit, id,
//! params)`, where `cwl_audit` is `data.cwl_audit` (the chosen benchmark, the benchmarks' names,
//! every rule's reference groups, the loaded accounts). `policies/lib/benchmark.rego` is the
//! specification, as lib.chain's Rego is for [`super`]: each function names the rule it stands for.
use super::vals::{get, is_true, list, need_str, s, str_of, Fallback, K, R};
use super::{chain_decision, Chain};
use crate::engine::builtins::CoverCache;
use regorus::Value;
use std::collections::BTreeMap;

/// One group of a rule's references: its pattern, benchmarks and label.
struct Group<'a> {
    pattern: &'a str,
    benchmarks: &'a [Value],
    label: &'a str,
}

/// `_group_verdict`'s result.
struct Verdict<'a> {
    label: &'a str,
    passes: bool,
    chosen: bool,
    reason: String,
}

fn with_reference(params: &Value, pattern: &str) -> R<Value> {
    let Value::Object(o) = params else {
        return Err(Fallback);
    };
    let mut m: BTreeMap<Value, Value> = o.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    m.insert(s("reference"), s(pattern));
    Ok(Value::from(m))
}

/// The filter link of a passing decision's chain (`_passing_filter(d)`): its name and pattern.
fn passing_filter(d: &Value) -> Option<(&str, &str)> {
    if str_of(get(d, &s("verdict"))) != Some("pass") {
        return None;
    }
    let f = list(get(d, &s("chain")))
        .iter()
        .find(|l| str_of(get(l, &s("link"))) == Some("filter"))?;
    Some((str_of(get(f, &s("name")))?, str_of(get(f, &s("pattern")))?))
}

/// `decision(id, params)` of lib.benchmark, or `None` where the Rego must decide.
pub fn decision(
    input: &Value,
    cwl_audit: &Value,
    id: &Value,
    params: &Value,
    cache: &CoverCache,
) -> R<Value> {
    let accounts = match get(cwl_audit, &s("accounts")) {
        Value::Undefined => &*EMPTY_OBJECT,
        a => a,
    };
    let chain = Chain {
        input,
        accounts,
        cache,
    };
    let benchmark = get(cwl_audit, &s("benchmark"));
    let groups: Vec<Group> = list(get(get(cwl_audit, &s("references")), id))
        .iter()
        .map(|g| {
            Ok(Group {
                pattern: need_str(get(g, &s("pattern")))?,
                benchmarks: match get(g, &s("benchmarks")) {
                    Value::Array(a) => a.as_slice(),
                    _ => return Err(Fallback),
                },
                label: need_str(get(g, &s("label")))?,
            })
        })
        .collect::<R<_>>()?;
    if groups.is_empty() {
        // `_groups(id)` undefined or empty: the Rego's decision is undefined or an error.
        return Err(Fallback);
    }
    let chosen = groups
        .iter()
        .position(|g| g.benchmarks.contains(benchmark))
        .unwrap_or(0);
    let p = with_reference(params, groups[chosen].pattern)?;
    let d0 = chain_decision(&chain, &p)?;
    let mut extra = outside_note(cwl_audit, benchmark, &groups)?;
    let verdicts = groups
        .iter()
        .enumerate()
        .map(|(i, g)| group_verdict(&chain, i, g, chosen, &p, params, &d0))
        .collect::<R<Vec<_>>>()?;
    extra.extend(versions_note(&verdicts, &d0));
    let Value::Object(o) = &d0 else {
        return Err(Fallback);
    };
    let mut d: BTreeMap<Value, Value> = o.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut notes: Vec<Value> = list(get(&d0, &s("notes"))).to_vec();
    notes.extend(extra.into_iter().map(|n| s(&n)));
    d.insert(s("notes"), Value::from(notes));
    Ok(Value::from(d))
}

static EMPTY_OBJECT: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::from(BTreeMap::<Value, Value>::new()));

/// `_outside_note(gs)`.
fn outside_note(cwl_audit: &Value, benchmark: &Value, groups: &[Group]) -> R<Vec<String>> {
    if groups.iter().any(|g| g.benchmarks.contains(benchmark)) {
        return Ok(Vec::new());
    }
    let b = need_str(benchmark)?;
    let name = match get(get(cwl_audit, &s("benchmarks")), benchmark) {
        Value::Undefined => b,
        n => need_str(n)?,
    };
    Ok(vec![format!(
        "{name} has no pattern for this control; it is decided by the pattern of {}",
        groups[0].label
    )])
}

/// `_group_verdict(i, g, ci, p, d0)`.
fn group_verdict<'a>(
    chain: &Chain,
    i: usize,
    g: &Group<'a>,
    chosen: usize,
    p: &Value,
    params: &Value,
    d0: &Value,
) -> R<Verdict<'a>> {
    let verdict = str_of(get(d0, &s("verdict")));
    let v = |passes: bool, reason: String| Verdict {
        label: g.label,
        passes,
        chosen: false,
        reason,
    };
    if i == chosen {
        return Ok(Verdict {
            label: g.label,
            passes: verdict == Some("pass"),
            chosen: true,
            reason: String::new(),
        });
    }
    if verdict == Some("fail") && matches!(str_of(get(d0, &s("link"))), Some("trail" | "log_group"))
    {
        return Ok(v(false, String::new()));
    }
    let accepts_more = matches!(
        get(p, &K.reject_non_root),
        Value::Undefined | Value::Bool(false)
    );
    if accepts_more {
        if let Some((_, pattern)) = passing_filter(d0) {
            if is_true(get(&chain.coverage(pattern, g.pattern)?, &K.covers)) {
                return Ok(v(true, String::new()));
            }
        }
    }
    let other = chain_decision(chain, &with_reference(p, g.pattern)?)?;
    if str_of(get(&other, &s("verdict"))) == Some("pass") {
        return Ok(v(true, String::new()));
    }
    Ok(v(false, reason(chain, g, params, d0)?))
}

/// `_reason(g, p, d0)`.
fn reason(chain: &Chain, g: &Group, params: &Value, d0: &Value) -> R<String> {
    let Some((name, pattern)) = passing_filter(d0) else {
        return Ok(String::new());
    };
    let cov = chain.coverage(pattern, g.pattern)?;
    Ok(match str_of(get(&cov, &K.missed)) {
        Some(missed) => format!(
            "filter {name} misses {} {missed}",
            need_str(get(params, &K.label))?
        ),
        None => format!("filter {name} does not catch every event of its pattern"),
    })
}

/// `_group_text(v)`.
fn group_text(v: &Verdict) -> String {
    if v.chosen {
        format!("{} (this finding)", v.label)
    } else if !v.reason.is_empty() {
        format!("{}: {}", v.label, v.reason)
    } else {
        v.label.to_string()
    }
}

/// `_versions_note(vs, d0)`.
fn versions_note(vs: &[Verdict], d0: &Value) -> Option<String> {
    if !(vs.iter().any(|v| v.passes) && vs.iter().any(|v| !v.passes)) {
        return None;
    }
    let verb = if str_of(get(d0, &s("verdict"))) == Some("unknown") {
        "cannot be decided for"
    } else {
        "fails"
    };
    let passing: Vec<String> = vs.iter().filter(|v| v.passes).map(group_text).collect();
    let mut failing: Vec<String> = vs
        .iter()
        .filter(|v| !v.passes && v.chosen)
        .map(|v| format!("{verb} {}", group_text(v)))
        .collect();
    failing.extend(
        vs.iter()
            .filter(|v| !v.passes && !v.chosen)
            .map(|v| format!("does not pass {}", group_text(v))),
    );
    Some(format!(
        "the verdict depends on the benchmark version: passes {}; {}",
        passing.join(", "),
        failing.join("; ")
    ))
}
