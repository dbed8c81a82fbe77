//! One evaluation run: snapshots in, findings out. Load every file (bad ones become notifications),
//! group by account, decide each account with one compiled engine per worker, then point every
//! finding at a file and line.
use crate::engine::{self, EngineError, Evaluator, PolicySource, RuleMeta};
use crate::findings::{Finding, Level, Location, Notification, RunResult, Verdict};
use crate::snapshot::{self, LoadError, Snapshot};
use rayon::prelude::*;
use regorus::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
    pub rules: Vec<String>,
    /// Wall-clock bound of one policy evaluation (one rule, one account).
    pub time_limit: Duration,
}

impl Options {
    /// Evaluate `paths` with the built-in policies and the default limits.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Options {
            paths,
            policy_dirs: Vec::new(),
            rules: Vec::new(),
            time_limit: engine::DEFAULT_TIME_LIMIT,
        }
    }
}

/// An account as policies see it: `{account_id, partition, regions: {region: snapshot}}`.
struct Account {
    id: String,
    input: Value,
}

fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Groups snapshots by account; a second snapshot of the same account and region is an error, and
/// both copies are left out (which one is right cannot be known).
fn group(
    snapshots: Vec<Snapshot>,
    errors: &mut Vec<LoadError>,
) -> (Vec<Account>, BTreeMap<(String, String), String>) {
    let mut by_key: BTreeMap<(String, String), Vec<Snapshot>> = BTreeMap::new();
    for s in snapshots {
        by_key
            .entry((s.account_id.clone(), s.region.clone()))
            .or_default()
            .push(s);
    }
    let mut accounts: BTreeMap<String, (String, BTreeMap<Value, Value>)> = BTreeMap::new();
    let mut paths = BTreeMap::new();
    for ((account, region), mut copies) in by_key {
        if copies.len() > 1 {
            let all: Vec<String> = copies.iter().map(|s| s.path.clone()).collect();
            for s in &copies {
                errors.push(LoadError::new(
                    &s.path,
                    format!("duplicate snapshot for account {account} region {region} (in {}); both left out", all.join(", ")),
                ));
            }
            continue;
        }
        let Some(s) = copies.pop() else { continue };
        let entry = accounts
            .entry(account.clone())
            .or_insert_with(|| (s.partition.clone(), BTreeMap::new()));
        if entry.0 != s.partition {
            errors.push(LoadError::new(
                &s.path,
                format!("partition \"{}\" differs from \"{}\" in the other snapshots of account {account}; left out", s.partition, entry.0),
            ));
            continue;
        }
        paths.insert((account.clone(), region.clone()), s.path.clone());
        entry.1.insert(Value::from(region), s.doc);
    }
    let accounts = accounts
        .into_iter()
        .map(|(id, (partition, regions))| Account {
            input: obj(vec![
                ("account_id", Value::from(id.as_str())),
                ("partition", Value::from(partition)),
                ("regions", Value::from(regions)),
            ]),
            id,
        })
        .collect();
    (accounts, paths)
}

fn string_field(v: &Value, key: &str) -> Option<String> {
    v[key]
        .as_string()
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

/// Turns a policy's decision object into a finding. A missing or malformed decision is `unknown`:
/// a rule that says nothing has proven nothing.
fn to_finding(
    rule: &RuleMeta,
    account: &str,
    decision: Result<Value, String>,
) -> (Finding, Option<Notification>) {
    let mut finding = Finding {
        rule_id: rule.id.clone(),
        account_id: account.to_string(),
        verdict: Verdict::Unknown,
        message: String::new(),
        region: None,
        resource: None,
        link: None,
        location: None,
        chain: serde_json::Value::Array(Vec::new()),
        notes: Vec::new(),
    };
    let problem = |finding: &mut Finding, msg: String| {
        finding.message = msg.clone();
        Some(Notification {
            level: Level::Error,
            message: format!("{} ({}): {msg}", rule.id, rule.source),
            path: None,
            line: None,
        })
    };
    let decision = match decision {
        Ok(d) => d,
        Err(e) => {
            let n = problem(
                &mut finding,
                format!("policy evaluation failed for account {account}: {e}"),
            );
            return (finding, n);
        }
    };
    let verdict = decision["verdict"]
        .as_string()
        .ok()
        .and_then(|v| Verdict::parse(v));
    let Some(verdict) = verdict else {
        let n = if matches!(decision, Value::Undefined) {
            problem(
                &mut finding,
                format!("the policy produced no decision for account {account}"),
            )
        } else {
            problem(&mut finding, format!("the policy's decision for account {account} has no verdict pass, fail or unknown: {decision}"))
        };
        return (finding, n);
    };
    finding.verdict = verdict;
    finding.message = string_field(&decision, "message").unwrap_or_else(|| verdict.to_string());
    finding.resource = string_field(&decision, "resource");
    finding.link = string_field(&decision, "link");
    if let Ok(notes) = decision["notes"].as_array() {
        finding.notes = notes
            .iter()
            .filter_map(|n| n.as_string().ok().map(|s| s.to_string()))
            .collect();
    }
    if let Ok(chain) = serde_json::to_value(&decision["chain"]) {
        if chain.is_array() {
            finding.chain = chain;
        }
    }
    let loc = &decision["location"];
    if let (Some(acct), Some(region)) =
        (string_field(loc, "account_id"), string_field(loc, "region"))
    {
        finding.region = Some(region.clone());
        finding.location = Some(Location {
            path: String::new(),
            pointer: string_field(loc, "pointer").unwrap_or_default(),
            line: 1,
            account_id: acct,
            region,
        });
    }
    (finding, None)
}

/// Fills in the file and line of every finding's location. A finding that points nowhere loaded
/// (or nowhere at all) is placed at its account's first snapshot, so no verdict goes unplaced.
fn resolve_locations(findings: &mut [Finding], paths: &BTreeMap<(String, String), String>) {
    let mut texts: HashMap<String, Option<String>> = HashMap::new();
    for f in findings.iter_mut() {
        let placed = f.location.as_ref().and_then(|l| {
            paths
                .get(&(l.account_id.clone(), l.region.clone()))
                .map(|p| (p.clone(), l.pointer.clone()))
        });
        let (path, pointer, account, region) = match placed {
            Some((path, pointer)) => {
                let l = f
                    .location
                    .as_ref()
                    .map(|l| (l.account_id.clone(), l.region.clone()))
                    .unwrap_or_default();
                (path, pointer, l.0, l.1)
            }
            None => {
                let first = paths
                    .range((f.account_id.clone(), String::new())..)
                    .next()
                    .filter(|((a, _), _)| *a == f.account_id);
                let Some(((a, r), p)) = first else {
                    f.location = None;
                    continue;
                };
                (p.clone(), String::new(), a.clone(), r.clone())
            }
        };
        let text = texts
            .entry(path.clone())
            .or_insert_with(|| std::fs::read_to_string(&path).ok());
        let mut line = 1;
        if let Some(text) = text {
            // The pointer may name a key that is absent (a section that was not collected):
            // fall back to the closest enclosing value that exists.
            let mut p = pointer.as_str();
            loop {
                if let Some((l, _)) = snapshot::locate(text, p) {
                    line = l;
                    break;
                }
                match p.rfind('/') {
                    Some(i) => p = &p[..i],
                    None => break,
                }
            }
        }
        if f.region.is_none() {
            f.region = Some(region.clone());
        }
        f.location = Some(Location {
            path,
            pointer,
            line,
            account_id: account,
            region,
        });
    }
}

/// Snapshot `errors` and unreadable files, as notifications.
fn input_notifications(snapshots: &[Snapshot], load_errors: &[LoadError]) -> Vec<Notification> {
    let mut out: Vec<Notification> = load_errors
        .iter()
        .map(|e| Notification {
            level: Level::Error,
            message: e.to_string(),
            path: Some(e.path.clone()),
            line: e.place.as_ref().and_then(|p| p.line_col).map(|(l, _)| l),
        })
        .collect();
    for s in snapshots {
        for e in &s.errors {
            let on = e
                .resource
                .as_deref()
                .map(|r| format!(" on {r}"))
                .unwrap_or_default();
            out.push(Notification {
                level: Level::Warning,
                message: format!(
                    "{}: the collector could not read {} {}{on}: {}{}",
                    s.path,
                    e.service,
                    e.operation,
                    e.code,
                    if e.message.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", e.message)
                    }
                ),
                path: Some(s.path.clone()),
                line: None,
            });
        }
    }
    out
}

/// Evaluates snapshots with the given policies. `Err` only when the policies themselves are unusable;
/// bad snapshots are reported in the result and the rest is still evaluated.
pub fn run(opts: &Options) -> Result<RunResult, EngineError> {
    let sources: Vec<PolicySource> = engine::all_sources(&opts.policy_dirs, true)?;
    let mut evaluator = Evaluator::new(&sources, &opts.rules)?;
    evaluator.set_time_limit(opts.time_limit);
    run_with(evaluator, &opts.paths)
}

pub fn run_with(mut evaluator: Evaluator, paths: &[PathBuf]) -> Result<RunResult, EngineError> {
    let (snapshots, mut load_errors) = snapshot::load_all(paths);
    let inputs: Vec<String> = snapshots.iter().map(|s| s.path.clone()).collect();
    let mut notifications = input_notifications(&snapshots, &[]);
    let (accounts, paths_by_key) = group(snapshots, &mut load_errors);
    let all = Value::from(
        accounts
            .iter()
            .map(|a| (Value::from(a.id.as_str()), a.input.clone()))
            .collect::<BTreeMap<_, _>>(),
    );
    evaluator.set_accounts(all)?;
    let checks = evaluator.checks.clone();
    crate::memlimit::set_names(
        checks
            .iter()
            .map(|c| format!("{} ({})", c.id, c.source))
            .collect(),
        accounts.iter().map(|a| a.id.clone()).collect(),
    );
    let decided: Vec<(Finding, Option<Notification>)> = accounts
        .par_iter()
        .enumerate()
        .map_init(
            || evaluator.clone(),
            |ev, (ai, account)| {
                ev.set_input(account.input.clone());
                checks
                    .iter()
                    .enumerate()
                    .map(|(ri, rule)| {
                        crate::memlimit::set_current(ri, ai);
                        to_finding(rule, &account.id, ev.decide(rule))
                    })
                    .collect::<Vec<_>>()
            },
        )
        .flatten()
        .collect();
    let mut findings = Vec::with_capacity(decided.len());
    for (f, n) in decided {
        findings.push(f);
        notifications.extend(n);
    }
    resolve_locations(&mut findings, &paths_by_key);
    findings.sort_by(|a, b| (&a.rule_id, &a.account_id).cmp(&(&b.rule_id, &b.account_id)));
    let mut errors = input_notifications(&[], &load_errors);
    errors.append(&mut notifications);
    Ok(RunResult {
        rules: checks,
        findings,
        notifications: errors,
        inputs,
    })
}
