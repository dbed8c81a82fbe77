//! The `cwl.*` builtins policies may call. Only pure functions are registered: policies get no
//! network, file system or clock access beyond what regorus itself provides. Documented for policy
//! authors in docs/filter-patterns.md.
use crate::pattern;
use anyhow::{bail, Result};
use regorus::{Engine, Value};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The time bound of the evaluation running on this thread: when it ends, and its limit. Per thread
/// because each worker evaluates its own account with the same (cloned) engine, and regorus calls
/// the builtins on the thread that evaluates.
#[derive(Clone, Copy)]
struct Bound {
    end: Instant,
    limit: Duration,
}

thread_local! {
    static BOUND: Cell<Option<Bound>> = const { Cell::new(None) };
}

/// The share of an evaluation's time limit one coverage question may take. A question not decided
/// by then is answered "too complex to decide within the time limit" (so its filter is `unknown`)
/// and the policy goes on: the other questions, mostly answered in microseconds, keep their own
/// share instead of being starved by a slow one, and the policy has time left to finish. If slow
/// questions add up to more than the limit, regorus stops the evaluation as for any slow policy,
/// and its rules are retried one at a time (`eval::decide`), each with fewer questions.
const QUESTION_SHARE: u32 = 8;

/// While alive, the coverage builtins called on this thread are bounded as [`QUESTION_SHARE`]
/// says, and never past `limit` from now (when regorus stops the evaluation anyway).
pub struct TimeBound {
    previous: Option<Bound>,
}

pub fn time_bound(limit: Duration) -> TimeBound {
    let bound = Instant::now()
        .checked_add(limit)
        .map(|end| Bound { end, limit });
    TimeBound {
        previous: BOUND.replace(bound),
    }
}

impl Drop for TimeBound {
    fn drop(&mut self) {
        BOUND.set(self.previous);
    }
}

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

/// Results of `cwl.filter_covers` by reference, then candidate: organizations repeat the same
/// patterns in thousands of accounts. Shared by every clone of the engine (one per worker). Nested
/// maps so a lookup borrows the two strings instead of building a key.
pub(crate) type CoverCache = Arc<Mutex<HashMap<String, HashMap<String, Value>>>>;

/// Entries kept at most; beyond this the cache is cleared (patterns are few in practice).
const CACHE_LIMIT: usize = 10_000;

/// The coverage of `candidate` against `reference`, from the cache or computed once.
///
/// A question cut short by the thread's [`time_bound`] is not cached: running out of time is not a
/// property of the patterns but of the time left (and of the machine's load), and caching it would
/// make one account's verdict depend on which account happened to be evaluated first. Each
/// evaluation gets its own attempt within its own limit instead.
pub(crate) fn coverage(cache: &CoverCache, candidate: &str, reference: &str) -> Result<Value> {
    if let Some(v) = LOCAL.with(|m| {
        m.borrow()
            .get(reference)
            .and_then(|by| by.get(candidate))
            .cloned()
    }) {
        return Ok(v);
    }
    let v = shared_coverage(cache, candidate, reference)?;
    // The shared cache keeps no answer cut short by the time limit; neither does this copy (it
    // keeps no undecided answer at all, to be simple).
    if v[&Value::from("undecided")] != Value::Bool(true) {
        LOCAL.with(|m| {
            let mut m = m.borrow_mut();
            if m.values().map(HashMap::len).sum::<usize>() >= CACHE_LIMIT {
                m.clear();
            }
            m.entry(reference.to_string())
                .or_default()
                .insert(candidate.to_string(), v.clone());
        });
    }
    Ok(v)
}

type LocalMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

thread_local! {
    /// This thread's copy of the answers, by reference then candidate: a decision asks two or
    /// three questions per filter, and the shared cache is behind a lock with a slower hash.
    static LOCAL: std::cell::RefCell<LocalMap<LocalMap<Value>>> = std::cell::RefCell::default();
}

/// The coverage from the shared cache, or computed once (and then shared).
fn shared_coverage(cache: &CoverCache, candidate: &str, reference: &str) -> Result<Value> {
    if let Some(v) = cache
        .lock()
        .ok()
        .and_then(|c| c.get(reference).and_then(|m| m.get(candidate)).cloned())
    {
        return Ok(v);
    }
    let bound = BOUND.get();
    let deadline = bound.map(|b| {
        let share = Instant::now().checked_add(b.limit / QUESTION_SHARE);
        share.map_or(b.end, |s| s.min(b.end))
    });
    let c = match pattern::covers_until(candidate, reference, deadline) {
        Ok(c) => c,
        Err(pattern::TimedOut) => {
            let limit = bound.map_or(Duration::ZERO, |b| b.limit);
            let reason = format!(
                "not decided within the evaluation's time limit of {limit:?} (--time-limit)"
            );
            return Ok(Value::from(serde_json::to_value(
                pattern::Coverage::undecided(candidate, &reason),
            )?));
        }
    };
    let v = Value::from(serde_json::to_value(c)?);
    if let Ok(mut c) = cache.lock() {
        if c.values().map(HashMap::len).sum::<usize>() >= CACHE_LIMIT {
            c.clear();
        }
        c.entry(reference.to_string())
            .or_default()
            .insert(candidate.to_string(), v.clone());
    }
    Ok(v)
}

/// `cwl.filter_covers(pattern, reference)`: does a metric filter pattern catch every event the
/// reference pattern catches, and nothing it should not? Returns the fields of
/// [`pattern::Coverage`]; never an error for a bad pattern (that is `error` in the result).
fn filter_covers(cache: &CoverCache, args: Vec<Value>) -> Result<Value> {
    let candidate = string_arg("cwl.filter_covers", &args, 0)?;
    let reference = string_arg("cwl.filter_covers", &args, 1)?;
    coverage(cache, candidate, reference)
}

/// `cwl.covering_filters(filters, reference)`: the positions in `filters` (metric filter objects as
/// `logs.metricFilters` lists them) whose `filterPattern` covers the reference, i.e. where
/// `cwl.filter_covers(filter.filterPattern, reference).covers` is true (a missing pattern is "").
/// One call instead of one per filter: every rule reads every filter of the trail's log group,
/// and a call per filter was the largest single cost of a decision at organization scale.
fn covering_filters(cache: &CoverCache, args: Vec<Value>) -> Result<Value> {
    let name = "cwl.covering_filters";
    let filters = match args.first() {
        Some(Value::Array(a)) => a,
        Some(other) => bail!("{name}: argument 1 must be an array of metric filters, got {other}"),
        None => bail!("{name}: missing argument 1"),
    };
    let reference = string_arg(name, &args, 1)?;
    let key = Value::from("filterPattern");
    let covers = Value::from("covers");
    let mut out = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        let pattern = match &f[&key] {
            Value::String(p) => p.as_ref(),
            _ => "",
        };
        if coverage(cache, pattern, reference)?[&covers] == Value::Bool(true) {
            out.push(Value::from(i as u64));
        }
    }
    Ok(Value::from(out))
}

/// Every `cwl.*` builtin and its number of arguments.
pub const BUILTINS: &[(&str, u8)] = &[
    ("cwl.benchmark_decision", 4),
    ("cwl.chain_decision", 3),
    ("cwl.covering_filters", 2),
    ("cwl.filter_covers", 2),
    ("cwl.filter_matches", 2),
];

pub fn register(engine: &mut Engine) -> Result<()> {
    let cache: CoverCache = Arc::default();
    let shared = cache.clone();
    let chains = cache.clone();
    let benchmarks = cache.clone();
    // CWL_AUDIT_REGO_CHAIN=1: lib.chain decides in Rego, never natively (to compare the two on
    // any snapshot set; the builtin then answers null, lib.chain's cue to decide itself).
    let rego_chain = std::env::var_os("CWL_AUDIT_REGO_CHAIN").is_some_and(|v| v == "1");
    engine.add_extension(
        "cwl.chain_decision".to_string(),
        3,
        Box::new(move |args| {
            Ok(if rego_chain {
                super::chain::left_to_rego()
            } else {
                super::chain::builtin(&chains, &args)
            })
        }),
    )?;
    engine.add_extension(
        "cwl.benchmark_decision".to_string(),
        4,
        Box::new(move |args| {
            Ok(if rego_chain {
                super::chain::left_to_rego()
            } else {
                super::chain::benchmark_builtin(&benchmarks, &args)
            })
        }),
    )?;
    engine.add_extension(
        "cwl.filter_covers".to_string(),
        2,
        Box::new(move |args| filter_covers(&cache, args)),
    )?;
    engine.add_extension(
        "cwl.covering_filters".to_string(),
        2,
        Box::new(move |args| covering_filters(&shared, args)),
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
        "cwl.covering_filters" => covering_filters(&CoverCache::default(), args),
        "cwl.filter_matches" => filter_matches(args),
        "cwl.chain_decision" => Ok(super::chain::builtin(&CoverCache::default(), &args)),
        "cwl.benchmark_decision" => Ok(super::chain::benchmark_builtin(
            &CoverCache::default(),
            &args,
        )),
        _ => bail!("unknown builtin {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CIS root-usage reference, read from its policy.
    fn root() -> &'static str {
        crate::testing::builtin_reference("CWL-014")
    }

    #[test]
    fn covering_filters_lists_the_filters_filter_covers_accepts() {
        let filters = Value::from_json_str(&serde_json::json!([
            {"filterName": "weak", "filterPattern": "{ $.userIdentity.type = \"Root\" && $.sourceIPAddress = \"1.2.3.4\" }"},
            {"filterName": "cis", "filterPattern": root()},
            {"filterName": "none"},
            "not a filter",
            {"filterName": "broad", "filterPattern": "{ $.userIdentity.type = \"Root\" }"},
        ]).to_string())
        .unwrap();
        let got = call(
            "cwl.covering_filters",
            vec![filters.clone(), Value::from(root())],
        )
        .unwrap();
        let expected: Vec<Value> = filters
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let p = match &f["filterPattern"] {
                    Value::String(p) => Value::String(p.clone()),
                    _ => Value::from(""),
                };
                call("cwl.filter_covers", vec![p, Value::from(root())]).unwrap()["covers"]
                    == Value::Bool(true)
            })
            .map(|(i, _)| Value::from(i as u64))
            .collect();
        assert_eq!(got, Value::from(expected));
        // An empty pattern matches every event, as in CloudWatch Logs: a filter without one
        // covers (and `filter_covers` says it also matches other identities).
        let positions: Vec<Value> = [1u64, 2, 3, 4].into_iter().map(Value::from).collect();
        assert_eq!(got, Value::from(positions));
    }

    /// Covers, but only after some 150,000 combinations are tested against 4,000 groups (seconds).
    fn slow_pattern() -> String {
        let groups: Vec<String> = (0..4_000)
            .map(|i| {
                let conds: Vec<String> = (0..6)
                    .map(|f| {
                        format!(
                            "$.f{f} {} \"a\"",
                            if (i >> f) & 1 == 1 { "=" } else { "!=" }
                        )
                    })
                    .collect();
                format!("({})", conds.join(" && "))
            })
            .collect();
        format!(
            "{{ {} || {} }}",
            &root()[1..root().len() - 1],
            groups.join(" || ")
        )
    }

    #[test]
    fn a_question_cut_short_by_the_time_limit_is_undecided_and_not_cached() {
        let cache = CoverCache::default();
        let slow = slow_pattern();
        let v = {
            let _bound = time_bound(Duration::from_millis(40));
            coverage(&cache, &slow, root()).unwrap()
        };
        assert_eq!(v["undecided"], Value::Bool(true), "{v}");
        let e = v["error"]
            .as_string()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("too complex to decide: not decided within the evaluation's time limit of 40ms (--time-limit)"),
            "{e}"
        );
        assert!(
            cache.lock().unwrap().values().all(HashMap::is_empty),
            "a time-out is no property of the patterns"
        );
        // Decided in time: cached.
        let v = {
            let _bound = time_bound(Duration::from_secs(60));
            coverage(&cache, root(), root()).unwrap()
        };
        assert_eq!(v["covers"], Value::Bool(true), "{v}");
        assert!(cache.lock().unwrap()[root()].contains_key(root()));
        // Without a bound (outside an evaluation), nothing stops a question.
        assert!(BOUND.get().is_none());
    }

    #[test]
    fn covering_filters_wants_an_array() {
        let e = call(
            "cwl.covering_filters",
            vec![Value::from("x"), Value::from(root())],
        )
        .unwrap_err();
        assert!(e.to_string().contains("argument 1 must be an array"), "{e}");
    }
}
