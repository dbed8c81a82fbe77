//! lib.chain's decision, computed natively: `cwl.chain_decision(input, accounts, params)`.
//!
//! `policies/lib/chain.rego` is the specification: this module follows it link by link (each
//! function names the Rego rule it stands for) and gives the same decision object, message for
//! message. It exists for speed: in regorus's interpreter a rule cost about 0.5 ms per account,
//! so fifteen rules over an organization of thousands of accounts took several times as long as
//! reading the snapshots (issue 17); here a decision takes microseconds.
//!
//! Two things keep the two in step:
//! - Where the Rego's answer depends on a case this module does not model (a value of a type the
//!   snapshot contract excludes, a string that `%q` would escape with Go's Unicode tables, a
//!   metric-math id that would be regex syntax), the builtin answers `null` and lib.chain decides
//!   the account in Rego ([`vals::Fallback`]). The native path is never a guess.
//! - Real OPA decides every test scenario with the Rego alone (tests/opa-crosscheck.py), the Rego
//!   unit tests compare the two on fixtures, and `CWL_AUDIT_REGO_CHAIN=1` makes `eval` decide in
//!   Rego so any snapshot set can be compared (the generative tests do, on random combinations).
mod alarm;
mod benchmark;
mod filter;
mod trail;
mod vals;

use crate::engine::builtins::CoverCache;
use regorus::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use trail::TrailResult;
use vals::{complete, get, missing_pointer, need_str, obj, op_errors, path, reason, s, K, R};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    Pass,
    Fail,
    Unknown,
}

/// `_loc(acct, region, pointer)`.
#[derive(Clone, Debug)]
pub struct Loc {
    account: String,
    region: String,
    pointer: String,
}

impl Loc {
    fn new(account: &str, region: &str, pointer: String) -> Self {
        Loc {
            account: account.to_string(),
            region: region.to_string(),
            pointer,
        }
    }

    fn value(&self) -> Value {
        obj([
            ("account_id", s(&self.account)),
            ("region", s(&self.region)),
            ("pointer", s(&self.pointer)),
        ])
    }
}

/// One chain attempt, ending in pass, fail or unknown (an element of `_outcomes(params)`).
#[derive(Debug)]
pub struct Outcome {
    state: State,
    depth: u8,
    link: &'static str,
    message: String,
    location: Loc,
    resource: String,
    chain: Vec<Value>,
    /// Among failing filters, how close to the rule's reference (`_narrower_rank`); 0 elsewhere.
    rank: u8,
}

impl Outcome {
    fn new(
        state: State,
        depth: u8,
        link: &'static str,
        message: String,
        location: Loc,
        resource: String,
        chain: Vec<Value>,
    ) -> Self {
        Outcome {
            state,
            depth,
            link,
            message,
            location,
            resource,
            chain,
            rank: 0,
        }
    }
}

/// What a decision reads: the account, the other loaded accounts and the rule's parameters.
pub struct Ctx<'a> {
    input: &'a Value,
    accounts: &'a Value,
    account_id: &'a str,
    partition: &'a Value,
    reference: &'a str,
    label: &'a str,
    reject_non_root: bool,
    cache: &'a CoverCache,
}

impl<'a> Ctx<'a> {
    /// `_snapshot(acct, region)`.
    fn snapshot(&self, account: &str, region: &str) -> Option<&'a Value> {
        let doc = self.account_doc(account)?;
        match get(get(doc, &K.regions), &s(region)) {
            Value::Undefined => None,
            v => Some(v),
        }
    }

    /// The account document `_regions_of(acct)` reads: `input`, or a loaded account of the
    /// same partition.
    fn account_doc(&self, account: &str) -> Option<&'a Value> {
        if account == self.account_id {
            return Some(self.input);
        }
        let doc = get(self.accounts, &s(account));
        (matches!(self.partition, Value::String(_)) && get(doc, &K.partition) == self.partition)
            .then_some(doc)
    }

    /// `cwl.filter_covers(candidate, reference)`.
    fn coverage(&self, candidate: &str, reference: &str) -> R<Value> {
        coverage(self.cache, candidate, reference)
    }
}

/// What lib.benchmark's decision passes on to lib.chain's: the account and the others loaded.
pub struct Chain<'a> {
    input: &'a Value,
    accounts: &'a Value,
    cache: &'a CoverCache,
}

impl Chain<'_> {
    fn coverage(&self, candidate: &str, reference: &str) -> R<Value> {
        coverage(self.cache, candidate, reference)
    }
}

/// `chain.decision(params)`.
fn chain_decision(chain: &Chain, params: &Value) -> R<Value> {
    decide(chain.input, chain.accounts, params, chain.cache)
}

/// `cwl.filter_covers(candidate, reference)`, answered as the builtin answers it (and from the
/// same caches).
fn coverage(cache: &CoverCache, candidate: &str, reference: &str) -> R<Value> {
    crate::engine::builtins::coverage(cache, candidate, reference).map_err(|_| vals::Fallback)
}

/// `decision(params)` for `input`, or `None` where the Rego must decide (see the module docs).
pub fn decision(
    input: &Value,
    accounts: &Value,
    params: &Value,
    cache: &CoverCache,
) -> Option<Value> {
    decide(input, accounts, params, cache).ok()
}

fn decide(input: &Value, accounts: &Value, params: &Value, cache: &CoverCache) -> R<Value> {
    let c = Ctx {
        input,
        accounts,
        account_id: need_str(get(input, &K.account_id))?,
        partition: get(input, &K.partition),
        reference: need_str(get(params, &K.reference))?,
        label: need_str(get(params, &K.label))?,
        reject_non_root: vals::is_true(get(params, &K.reject_non_root)),
        cache,
    };
    let outs = outcomes(&c)?;
    if let Some(p) = best(&outs, State::Pass) {
        return Ok(to_decision("pass", p, Vec::new()));
    }
    no_pass(&c, &outs)
}

/// `_outcomes(params)`: the broken trails first, then every chain through the trails that hold.
fn outcomes(c: &Ctx) -> R<Vec<Outcome>> {
    let trails = trail::results(c)?;
    let mut out = Vec::new();
    let mut ok = Vec::new();
    for t in trails {
        match t {
            TrailResult::Broken(o) => out.push(o),
            TrailResult::Ok(t) => ok.push(t),
        }
    }
    for t in &ok {
        filter::after_trail(c, t, &mut out)?;
    }
    Ok(out)
}

/// `_best(outs, state)`: the deepest, then highest ranked, then smallest message, then first.
fn best(outs: &[Outcome], state: State) -> Option<&Outcome> {
    let of: Vec<&Outcome> = outs.iter().filter(|o| o.state == state).collect();
    let deepest = of.iter().map(|o| o.depth).max()?;
    let at: Vec<&Outcome> = of.into_iter().filter(|o| o.depth == deepest).collect();
    let top = at.iter().map(|o| o.rank).max()?;
    at.into_iter()
        .filter(|o| o.rank == top)
        .min_by(|a, b| a.message.cmp(&b.message))
}

/// `_to_decision(verdict, o, extra)`.
fn to_decision(verdict: &str, o: &Outcome, extra: Vec<Value>) -> Value {
    let mut notes: Vec<Value> = o
        .chain
        .iter()
        .filter_map(|l| match get(l, &K.note) {
            v @ Value::String(_) => Some(v.clone()),
            _ => None,
        })
        .collect();
    notes.extend(extra);
    Value::from(BTreeMap::from([
        (s("verdict"), s(verdict)),
        (s("message"), s(&o.message)),
        (s("link"), s(o.link)),
        (s("resource"), s(&o.resource)),
        (s("location"), o.location.value()),
        (s("chain"), Value::from(o.chain.clone())),
        (s("notes"), Value::from(notes)),
    ]))
}

/// A decision without a resource or chain (`_decide`'s last branches).
fn bare(verdict: &str, message: String, location: Loc) -> Value {
    obj([
        ("verdict", s(verdict)),
        ("message", s(&message)),
        ("link", s("trail")),
        ("location", location.value()),
        ("chain", Value::from(Vec::<Value>::new())),
        ("notes", Value::from(Vec::<Value>::new())),
    ])
}

/// `_decide(outs)`: the verdict when no chain passes.
fn no_pass(c: &Ctx, outs: &[Outcome]) -> R<Value> {
    if let Some(u) = best(outs, State::Unknown) {
        let note = match best(outs, State::Fail) {
            Some(f) if f.depth > u.depth => {
                vec![s(&format!("closest failing chain: {}", f.message))]
            }
            _ => Vec::new(),
        };
        return Ok(to_decision("unknown", u, note));
    }
    if let Some(f) = best(outs, State::Fail) {
        return Ok(to_decision("fail", f, Vec::new()));
    }
    let regions = trail::regions(c.input)?;
    let listed = regions.iter().any(|(_, snap)| {
        complete(
            snap,
            path(snap, &[&K.cloudtrail, &K.trailList]),
            "DescribeTrails",
        )
    });
    let Some((first, _)) = regions.first() else {
        return Err(vals::Fallback);
    };
    if !listed {
        let errs = regions
            .iter()
            .find(|(_, snap)| !op_errors(snap, "DescribeTrails", None).is_empty());
        if let Some((region, snap)) = errs {
            return Ok(bare(
                "unknown",
                format!(
                    "the trails of this account could not be read ({})",
                    reason(snap, "DescribeTrails", None)
                ),
                Loc::new(
                    c.account_id,
                    region,
                    missing_pointer(snap, "DescribeTrails", None, "/cloudtrail"),
                ),
            ));
        }
        return Ok(bare(
            "unknown",
            "the trails of this account were not collected".into(),
            Loc::new(c.account_id, first, "/cloudtrail".into()),
        ));
    }
    Ok(bare(
        "fail",
        "no CloudTrail trail logs this account".into(),
        Loc::new(c.account_id, first, "/cloudtrail/trailList".into()),
    ))
}

static NATIVE: AtomicU64 = AtomicU64::new(0);
static IN_REGO: AtomicU64 = AtomicU64::new(0);
static NANOS: AtomicU64 = AtomicU64::new(0);

/// How many decisions the builtin made, how many it left to the Rego, and the CPU time it took
/// (`CWL_AUDIT_TIMINGS`: the part of "decide" that is not regorus).
pub fn counts() -> (u64, u64, std::time::Duration) {
    (
        NATIVE.load(Relaxed),
        IN_REGO.load(Relaxed),
        std::time::Duration::from_nanos(NANOS.load(Relaxed)),
    )
}

/// The builtin: `cwl.chain_decision(input, accounts, params)`, `null` where the Rego decides.
pub fn builtin(cache: &CoverCache, args: &[Value]) -> Value {
    let (Some(input), Some(accounts), Some(params)) = (args.first(), args.get(1), args.get(2))
    else {
        return Value::Null;
    };
    counted(|| decision(input, accounts, params, cache))
}

/// The builtin `cwl.benchmark_decision(input, cwl_audit, id, params)` (lib.benchmark's
/// `decision(id, params)`, see [`benchmark`]), `null` where the Rego decides.
pub fn benchmark_builtin(cache: &CoverCache, args: &[Value]) -> Value {
    let (Some(input), Some(cwl_audit), Some(id), Some(params)) =
        (args.first(), args.get(1), args.get(2), args.get(3))
    else {
        return Value::Null;
    };
    counted(|| benchmark::decision(input, cwl_audit, id, params, cache).ok())
}

/// The builtins' answer under CWL_AUDIT_REGO_CHAIN=1: `null`, counted as left to the Rego.
pub fn left_to_rego() -> Value {
    IN_REGO.fetch_add(1, Relaxed);
    Value::Null
}

fn counted(f: impl FnOnce() -> Option<Value>) -> Value {
    let started = std::time::Instant::now();
    let d = f();
    NANOS.fetch_add(
        u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
        Relaxed,
    );
    match d {
        Some(d) => {
            NATIVE.fetch_add(1, Relaxed);
            d
        }
        None => {
            IN_REGO.fetch_add(1, Relaxed);
            Value::Null
        }
    }
}
