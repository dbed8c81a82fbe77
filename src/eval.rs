//! One evaluation run: snapshots in, findings out. Load every file (bad ones become notifications),
//! group by account, decide each account with one compiled engine per worker, then point every
//! finding at a file and line.
use crate::engine::{self, EngineError, Evaluator, PolicySource, RuleMeta};
use crate::findings::{Finding, Level, Location, Notification, RunResult, Verdict};
use crate::snapshot::{self, LoadError, Snapshot};
use rayon::prelude::*;
use regorus::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
    pub rules: Vec<String>,
    /// Wall-clock bound of one policy evaluation (one account's rules together; after a stop, each
    /// rule alone).
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
fn account_input(id: &str, partition: &str, snapshots: Vec<Snapshot>) -> Value {
    let regions: BTreeMap<Value, Value> = snapshots
        .into_iter()
        .map(|s| (Value::from(s.region), s.doc))
        .collect();
    obj(vec![
        ("account_id", Value::from(id)),
        ("partition", Value::from(partition)),
        ("regions", Value::from(regions)),
    ])
}

fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// One file of an account, as the first pass saw it.
struct File {
    /// Position in discovery order: reports list inputs and problems in this order.
    index: usize,
    path: PathBuf,
    region: String,
    /// Set when the first pass already had to parse the file in full.
    loaded: Option<Snapshot>,
}

/// The files of one account, one per region.
struct AccountFiles {
    id: String,
    partition: String,
    files: Vec<File>,
    /// Other snapshots name this account in an ARN: it is parsed up front and kept for the run.
    resident: bool,
}

/// What the first pass learned about every file.
struct Plan {
    accounts: Vec<AccountFiles>,
    errors: Vec<(usize, LoadError)>,
}

/// The first pass: who each file belongs to and which accounts it names. A file the scan cannot
/// place (bad JSON, missing header) is parsed in full here, so it reports its error exactly as
/// before; one that parses after all is kept in memory and treated as naming every account.
fn plan(files: Vec<PathBuf>) -> Plan {
    enum Seen {
        Scanned(snapshot::Scan),
        Loaded(Result<Snapshot, LoadError>),
    }
    let seen: Vec<Seen> = files
        .par_iter()
        .map(|f| {
            let scanned = snapshot::read_file(f)
                .ok()
                .and_then(|bytes| snapshot::scan(&bytes).ok())
                .filter(|s| s.account_id.is_some() && s.region.is_some() && s.partition.is_some());
            match scanned {
                Some(s) => Seen::Scanned(s),
                None => Seen::Loaded(snapshot::load_file(f)),
            }
        })
        .collect();
    let mut errors = Vec::new();
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    let mut everything = false;
    // (account, region) -> files claiming it, in discovery order.
    let mut by_key: BTreeMap<(String, String), Vec<(File, String)>> = BTreeMap::new();
    for (index, (path, seen)) in files.into_iter().zip(seen).enumerate() {
        let (account, region, partition, loaded) = match seen {
            Seen::Scanned(s) => {
                let (Some(account), Some(region), Some(partition)) =
                    (s.account_id, s.region, s.partition)
                else {
                    continue;
                };
                referenced.extend(s.refs.into_iter().filter(|r| *r != account));
                (account, region, partition, None)
            }
            Seen::Loaded(Err(e)) => {
                errors.push((index, e));
                continue;
            }
            Seen::Loaded(Ok(s)) => {
                everything = true;
                (
                    s.account_id.clone(),
                    s.region.clone(),
                    s.partition.clone(),
                    Some(s),
                )
            }
        };
        by_key.entry((account, region.clone())).or_default().push((
            File {
                index,
                path,
                region,
                loaded,
            },
            partition,
        ));
    }
    let mut accounts: BTreeMap<String, AccountFiles> = BTreeMap::new();
    for ((account, region), mut copies) in by_key {
        // A second snapshot of the same account and region: which one is right cannot be known,
        // so both are left out.
        if copies.len() > 1 {
            let all: Vec<String> = copies
                .iter()
                .map(|(f, _)| snapshot::display_path(&f.path))
                .collect();
            for (f, _) in &copies {
                errors.push((
                    f.index,
                    LoadError::new(
                        &snapshot::display_path(&f.path),
                        format!(
                            "duplicate snapshot for account {account} region {region} (in {}); both left out",
                            all.join(", ")
                        ),
                    ),
                ));
            }
            continue;
        }
        let Some((file, partition)) = copies.pop() else {
            continue;
        };
        let entry = accounts
            .entry(account.clone())
            .or_insert_with(|| AccountFiles {
                id: account.clone(),
                partition: partition.clone(),
                files: Vec::new(),
                resident: false,
            });
        if entry.partition != partition {
            errors.push((
                file.index,
                LoadError::new(
                    &snapshot::display_path(&file.path),
                    format!(
                        "partition \"{partition}\" differs from \"{}\" in the other snapshots of account {account}; left out",
                        entry.partition
                    ),
                ),
            ));
            continue;
        }
        entry.files.push(file);
    }
    let accounts = accounts
        .into_values()
        .map(|mut a| {
            a.resident = everything
                || referenced.contains(&a.id)
                || a.files.iter().any(|f| f.loaded.is_some());
            a
        })
        .collect();
    Plan { accounts, errors }
}

/// An account's snapshots, parsed; files that fail the full parse become errors.
struct Loaded {
    input: Option<Value>,
    /// (discovery index, account, region, path) of each usable file.
    used: Vec<(usize, String)>,
    paths: Vec<((String, String), String)>,
    errors: Vec<(usize, LoadError)>,
    warnings: Vec<(usize, Notification)>,
}

fn load_account(account: &mut AccountFiles) -> Loaded {
    let mut out = Loaded {
        input: None,
        used: Vec::new(),
        paths: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut snapshots = Vec::with_capacity(account.files.len());
    for f in &mut account.files {
        let loaded = match f.loaded.take() {
            Some(s) => Ok(s),
            None => snapshot::load_file(&f.path),
        };
        match loaded {
            // The first pass read the same text; a file changed in between is refused rather
            // than filed under the wrong account.
            Ok(s)
                if s.account_id != account.id
                    || s.region != f.region
                    || s.partition != account.partition =>
            {
                out.errors.push((
                    f.index,
                    LoadError::new(
                        &s.path,
                        "the file changed while it was being read; left out",
                    ),
                ));
            }
            Ok(s) => {
                out.warnings.extend(
                    input_notifications(std::slice::from_ref(&s), &[])
                        .into_iter()
                        .map(|n| (f.index, n)),
                );
                out.used.push((f.index, s.path.clone()));
                out.paths
                    .push(((s.account_id.clone(), s.region.clone()), s.path.clone()));
                snapshots.push(s);
            }
            Err(e) => out.errors.push((f.index, e)),
        }
    }
    if !snapshots.is_empty() {
        out.input = Some(account_input(&account.id, &account.partition, snapshots));
    }
    out
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
/// Each file is read once, and only while its findings are placed.
fn resolve_locations(findings: &mut [Finding], paths: &BTreeMap<(String, String), String>) {
    // (path, pointer, account, region) per finding, or None when the account has no snapshot.
    let targets: Vec<Option<(String, String, String, String)>> = findings
        .iter()
        .map(|f| {
            let placed = f.location.as_ref().and_then(|l| {
                paths
                    .get(&(l.account_id.clone(), l.region.clone()))
                    .map(|p| {
                        (
                            p.clone(),
                            l.pointer.clone(),
                            l.account_id.clone(),
                            l.region.clone(),
                        )
                    })
            });
            placed.or_else(|| {
                paths
                    .range((f.account_id.clone(), String::new())..)
                    .next()
                    .filter(|((a, _), _)| *a == f.account_id)
                    .map(|((a, r), p)| (p.clone(), String::new(), a.clone(), r.clone()))
            })
        })
        .collect();
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        if let Some((path, ..)) = t {
            by_path.entry(path.as_str()).or_default().push(i);
        }
    }
    let lines: Vec<(usize, usize)> = by_path
        .into_par_iter()
        .flat_map_iter(|(path, idx)| {
            let text = std::fs::read_to_string(path).ok();
            let pointers: Vec<&str> = idx
                .iter()
                .map(|&i| targets[i].as_ref().map(|t| t.1.as_str()).unwrap_or(""))
                .collect();
            let lines = text.as_deref().map(|t| lines_of(t, &pointers));
            idx.into_iter()
                .enumerate()
                .map(|(k, i)| (i, lines.as_ref().map_or(1, |l| l[k])))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut line_by_finding = vec![1; findings.len()];
    for (i, l) in lines {
        line_by_finding[i] = l;
    }
    for ((f, t), line) in findings.iter_mut().zip(targets).zip(line_by_finding) {
        let Some((path, pointer, account, region)) = t else {
            f.location = None;
            continue;
        };
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

/// The line of each pointer in `text`. A pointer may name a key that is absent (a section that
/// was not collected): the closest enclosing value that exists is used.
fn lines_of(text: &str, pointers: &[&str]) -> Vec<usize> {
    let mut lines = vec![1; pointers.len()];
    let mut pending: Vec<(usize, &str)> = pointers.iter().copied().enumerate().collect();
    while !pending.is_empty() {
        let found = snapshot::locate_many(text, &pending.iter().map(|p| p.1).collect::<Vec<_>>());
        let mut next = Vec::new();
        for ((i, p), at) in pending.into_iter().zip(found) {
            match (at, p.rfind('/')) {
                (Some((line, _)), _) => lines[i] = line,
                (None, Some(cut)) => next.push((i, &p[..cut])),
                (None, None) => {}
            }
        }
        pending = next;
    }
    lines
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
    let (files, discover_errors) = snapshot::discover(paths);
    let Plan {
        mut accounts,
        errors: mut load_errors,
    } = plan(files);
    let mut warnings: Vec<(usize, Notification)> = Vec::new();
    let mut used: Vec<(usize, String)> = Vec::new();
    let mut paths_by_key: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut absorb = |l: &mut Loaded,
                      load_errors: &mut Vec<(usize, LoadError)>,
                      warnings: &mut Vec<(usize, Notification)>| {
        load_errors.append(&mut l.errors);
        warnings.append(&mut l.warnings);
        used.append(&mut l.used);
        paths_by_key.extend(l.paths.drain(..));
    };
    // Accounts other snapshots refer to are parsed first and kept for the whole run, as
    // `data.cwl_audit.accounts`; every other account is parsed when it is decided and then dropped,
    // so memory holds the referenced accounts plus one account per worker.
    let mut resident: Vec<Loaded> = accounts
        .par_iter_mut()
        .filter(|a| a.resident)
        .map(load_account)
        .collect();
    let mut data = BTreeMap::new();
    let mut resident_inputs: HashMap<String, Value> = HashMap::new();
    for (a, l) in accounts
        .iter()
        .filter(|a| a.resident)
        .zip(resident.iter_mut())
    {
        absorb(l, &mut load_errors, &mut warnings);
        if let Some(input) = l.input.take() {
            data.insert(Value::from(a.id.as_str()), input.clone());
            resident_inputs.insert(a.id.clone(), input);
        }
    }
    drop(resident);
    evaluator.set_accounts(Value::from(data))?;
    let checks = evaluator.checks.clone();
    crate::memlimit::set_names(
        checks
            .iter()
            .map(|c| format!("{} ({})", c.id, c.source))
            .collect(),
        accounts.iter().map(|a| a.id.clone()).collect(),
    );
    type Decided = (Vec<(Finding, Option<Notification>)>, Option<Loaded>);
    let decided: Vec<Decided> = accounts
        .par_iter_mut()
        .enumerate()
        .map_init(
            || evaluator.clone(),
            |ev, (ai, account)| {
                let (input, loaded) = if account.resident {
                    (resident_inputs.get(&account.id).cloned(), None)
                } else {
                    crate::memlimit::set_current(crate::memlimit::LOADING, ai);
                    let mut l = load_account(account);
                    (l.input.take(), Some(l))
                };
                let Some(input) = input else {
                    return (Vec::new(), loaded);
                };
                ev.set_input(input);
                let together = if checks.len() > 1 {
                    crate::memlimit::set_current(crate::memlimit::ALL_RULES, ai);
                    ev.decide_all(&checks).ok()
                } else {
                    None
                };
                let findings = match together {
                    Some(all) => checks
                        .iter()
                        .zip(all)
                        .map(|(rule, d)| to_finding(rule, &account.id, Ok(d)))
                        .collect::<Vec<_>>(),
                    // One at a time: which check failed, and why, is then known.
                    None => checks
                        .iter()
                        .enumerate()
                        .map(|(ri, rule)| {
                            crate::memlimit::set_current(ri, ai);
                            to_finding(rule, &account.id, ev.decide(rule))
                        })
                        .collect::<Vec<_>>(),
                };
                crate::memlimit::set_current(usize::MAX, usize::MAX);
                // Frees the account now rather than when the worker decides its next one.
                ev.set_input(Value::Null);
                (findings, loaded)
            },
        )
        .collect();
    drop(resident_inputs);
    let mut findings = Vec::with_capacity(decided.len() * checks.len());
    let mut notifications = Vec::new();
    for (fs, loaded) in decided {
        if let Some(mut l) = loaded {
            absorb(&mut l, &mut load_errors, &mut warnings);
        }
        for (f, n) in fs {
            findings.push(f);
            notifications.extend(n);
        }
    }
    resolve_locations(&mut findings, &paths_by_key);
    findings.sort_by(|a, b| (&a.rule_id, &a.account_id).cmp(&(&b.rule_id, &b.account_id)));
    // Problems in discovery order, as a one-pass load would list them.
    load_errors.sort_by_key(|(i, _)| *i);
    warnings.sort_by_key(|(i, _)| *i);
    used.sort_by_key(|(i, _)| *i);
    let all_errors: Vec<LoadError> = discover_errors
        .into_iter()
        .chain(load_errors.into_iter().map(|(_, e)| e))
        .collect();
    let mut errors = input_notifications(&[], &all_errors);
    errors.extend(warnings.into_iter().map(|(_, n)| n));
    errors.append(&mut notifications);
    Ok(RunResult {
        rules: checks,
        findings,
        notifications: errors,
        inputs: used.into_iter().map(|(_, p)| p).collect(),
    })
}
