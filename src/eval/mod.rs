//! One evaluation run: snapshots in, findings out. A first pass finds each file's account and the
//! accounts it refers to (`plan`); referenced accounts are loaded and kept, every other account is
//! loaded, decided by one compiled engine per worker and dropped; then every finding is pointed at a
//! file and line (`place`). Bad files become notifications and never stop the others.
mod manifests;
mod place;
mod plan;
pub use plan::duplicate_message;
mod standing;
pub mod timings;

use crate::engine::{self, EngineError, Evaluator, PolicySource};
use crate::findings::{
    AccountInfo, Finding, Level, Link, Location, Notification, OrgAccount, RuleMeta, RunResult,
    Verdict,
};
use crate::manifest;
use crate::snapshot::{self, LoadError, Snapshot};
use place::resolve_locations;
use plan::{load_account, LoadPlan, LoadedAccount};
use rayon::prelude::*;
use regorus::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

pub struct EvalOptions {
    pub paths: Vec<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
    pub rules: Vec<String>,
    /// Wall-clock bound of one policy evaluation (one account's rules together; after a stop, each
    /// rule alone).
    pub time_limit: Duration,
    /// Whose reference patterns decide: an id of [`crate::findings::benchmark::BENCHMARKS`].
    pub benchmark: String,
}

impl EvalOptions {
    /// Evaluate `paths` with the built-in policies and the default limits.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        EvalOptions {
            paths,
            policy_dirs: Vec::new(),
            rules: Vec::new(),
            time_limit: engine::DEFAULT_TIME_LIMIT,
            benchmark: crate::findings::benchmark::DEFAULT.to_string(),
        }
    }

    /// The policies compiled once, for [`run_with`] or [`evaluate`] (as often as needed).
    pub fn compile(&self) -> Result<Evaluator, EngineError> {
        let sources: Vec<PolicySource> = engine::all_sources(&self.policy_dirs, true)?;
        let mut evaluator = Evaluator::with_benchmark(&sources, &self.rules, &self.benchmark)?;
        evaluator.set_time_limit(self.time_limit);
        // Reports carry the remediation of the chosen benchmark (SARIF help, JSON rules).
        for c in &mut evaluator.rules {
            c.remediation = c.remediation_for(&self.benchmark);
        }
        Ok(evaluator)
    }
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
    finding.link = string_field(&decision, "link").map(|w| Link::parse(&w));
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

/// Snapshot `errors` and unreadable files, as notifications.
pub(crate) fn input_notifications(
    snapshots: &[Snapshot],
    load_errors: &[LoadError],
) -> Vec<Notification> {
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

/// Evaluates the snapshots under `opts.paths` with the given policies. `Err` only when the policies
/// themselves are unusable; bad snapshots are reported in the result and the rest is still
/// evaluated.
pub fn run(opts: &EvalOptions) -> Result<RunResult, EngineError> {
    run_with(opts.compile()?, &opts.paths)
}

/// What loading the accounts produced besides their inputs; put in discovery order at the end.
#[derive(Default)]
struct Gathered {
    errors: Vec<(usize, LoadError)>,
    warnings: Vec<(usize, Notification)>,
    used: Vec<(usize, String)>,
    paths: BTreeMap<(String, String), String>,
    collected_at: BTreeMap<(String, String), String>,
}

impl Gathered {
    fn absorb(&mut self, l: &mut LoadedAccount) {
        self.errors.append(&mut l.errors);
        self.warnings.append(&mut l.warnings);
        self.used.append(&mut l.used);
        self.paths.extend(l.paths.drain(..));
        self.collected_at.extend(l.collected_at.drain(..));
    }
}

/// Every rule's finding for the account whose input `ev` holds (`ai`: its index, for the memory
/// bound's message). All rules are decided by one query; if it fails, one at a time, so the
/// failing rule is known and the others still decided.
fn decide(
    ev: &mut Evaluator,
    rules: &[RuleMeta],
    account: &str,
    ai: usize,
) -> Vec<(Finding, Option<Notification>)> {
    let together = if rules.len() > 1 {
        crate::memlimit::set_current(crate::memlimit::ALL_RULES, ai);
        timings::time(timings::Phase::Decide, || ev.decide_all()).ok()
    } else {
        None
    };
    match together {
        Some(all) => timings::time(timings::Phase::Findings, || {
            rules
                .iter()
                .zip(all)
                .map(|(rule, d)| to_finding(rule, account, Ok(d)))
                .collect()
        }),
        None => rules
            .iter()
            .enumerate()
            .map(|(ri, rule)| {
                crate::memlimit::set_current(ri, ai);
                let d = timings::time(timings::Phase::Decide, || ev.decide(rule));
                to_finding(rule, account, d)
            })
            .collect(),
    }
}

/// Evaluates the snapshots under `paths` with a compiled `evaluator`, streaming: an account that no
/// other refers to is parsed when it is decided and dropped after (see the module comment).
pub fn run_with(evaluator: Evaluator, paths: &[PathBuf]) -> Result<RunResult, EngineError> {
    let (files, discover_errors) = snapshot::discover(paths);
    let (manifests, refused, files) = read_manifests(files);
    let plan = timings::time(timings::Phase::Plan, || plan::plan(files));
    decide_plan(
        evaluator,
        plan,
        Sources {
            unreadable: discover_errors,
            manifests: &manifests,
            refused: &refused,
            read_lines: true,
        },
    )
}

/// Run manifests (organization collections) sit beside the snapshots; they say which accounts were
/// expected, so a missing one is reported instead of silently absent. Splits them from `files`.
fn read_manifests(
    files: Vec<PathBuf>,
) -> (Vec<manifest::Loaded>, Vec<manifest::Refused>, Vec<PathBuf>) {
    let (manifest_files, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|f| snapshot::is_manifest_path(f));
    let mut manifests = Vec::new();
    let mut refused = Vec::new();
    for f in &manifest_files {
        match manifest::load(f) {
            Ok(m) => manifests.push(m),
            Err(r) => refused.push(r),
        }
    }
    (manifests, refused, files)
}

/// Snapshots and run manifests held in memory: read once by [`SnapshotSet::load`] (or built from
/// documents, as `remediate` builds its working copy), then decided by [`evaluate`] as often as
/// needed without touching the disk.
#[derive(Debug, Clone, Default)]
pub struct SnapshotSet {
    /// Usable snapshots, each with its position in discovery order (problems are reported in it).
    snapshots: Vec<(usize, Snapshot)>,
    /// Files that did not load, by position.
    failed: Vec<(usize, LoadError)>,
    /// Paths that could not be searched.
    unreadable: Vec<LoadError>,
    manifests: Vec<manifest::Loaded>,
    refused: Vec<manifest::Refused>,
}

impl SnapshotSet {
    /// Every snapshot and run manifest under `paths`, parsed once (in parallel).
    pub fn load(paths: &[PathBuf]) -> SnapshotSet {
        let (files, unreadable) = snapshot::discover(paths);
        let (manifests, refused, files) = read_manifests(files);
        let loaded: Vec<Result<Snapshot, LoadError>> =
            files.par_iter().map(|f| snapshot::load_file(f)).collect();
        let mut set = SnapshotSet {
            unreadable,
            manifests,
            refused,
            ..SnapshotSet::default()
        };
        for (i, r) in loaded.into_iter().enumerate() {
            match r {
                Ok(s) => set.snapshots.push((i, s)),
                Err(e) => set.failed.push((i, e)),
            }
        }
        set
    }

    /// A set of these snapshots alone (no manifests), in this order.
    pub fn from_snapshots(snapshots: Vec<Snapshot>) -> SnapshotSet {
        SnapshotSet {
            snapshots: snapshots.into_iter().enumerate().collect(),
            ..SnapshotSet::default()
        }
    }

    /// The usable snapshots, in discovery order.
    pub fn snapshots(&self) -> impl Iterator<Item = &Snapshot> {
        self.snapshots.iter().map(|(_, s)| s)
    }

    /// What could not be read or parsed (run manifests included), as `eval` reports it.
    pub fn load_errors(&self) -> Vec<LoadError> {
        self.unreadable
            .iter()
            .cloned()
            .chain(self.refused.iter().map(|r| r.error.clone()))
            .chain(self.failed.iter().map(|(_, e)| e.clone()))
            .collect()
    }
}

/// Decides every account of `set` with a copy of `evaluator`. `read_lines`: place findings at
/// their lines in the snapshot files (false for documents that are not the files on disk).
pub fn evaluate(
    evaluator: &Evaluator,
    set: &SnapshotSet,
    read_lines: bool,
) -> Result<RunResult, EngineError> {
    let mut planned = plan::plan_loaded(set.snapshots.iter().cloned());
    planned.errors.extend(set.failed.iter().cloned());
    decide_plan(
        evaluator.clone(),
        planned,
        Sources {
            unreadable: set.unreadable.clone(),
            manifests: &set.manifests,
            refused: &set.refused,
            read_lines,
        },
    )
}

/// Names and OUs of the accounts the run manifests list. Shards list the same account (the one
/// that collects it and the others, as `other_shard`); the first entry that names an OU wins, so
/// the answer does not depend on which shard's entry came first when only one has it.
fn organization(manifests: &[manifest::Loaded]) -> BTreeMap<String, OrgAccount> {
    let mut out: BTreeMap<String, OrgAccount> = BTreeMap::new();
    for a in manifests.iter().flat_map(|m| &m.manifest.accounts) {
        let entry = out.entry(a.account_id.clone()).or_default();
        if entry.name.is_none() {
            entry.name.clone_from(&a.name);
        }
        if entry.ou_id.is_none() {
            if let Some(ou) = &a.ou {
                entry.ou_id = Some(ou.id.clone());
                entry.ou_path.clone_from(&ou.path);
            }
        }
    }
    out
}

/// What a run knows besides its plan.
struct Sources<'a> {
    unreadable: Vec<LoadError>,
    manifests: &'a [manifest::Loaded],
    refused: &'a [manifest::Refused],
    read_lines: bool,
}

/// The one way accounts are decided, from files or from memory: resident accounts first (as
/// `data.cwl_audit.accounts`), then every account by a worker's copy of the engine, then findings
/// placed, run manifests applied and problems put in discovery order.
fn decide_plan(
    mut evaluator: Evaluator,
    plan: LoadPlan,
    sources: Sources<'_>,
) -> Result<RunResult, EngineError> {
    let Sources {
        unreadable: discover_errors,
        manifests,
        refused,
        read_lines,
    } = sources;
    let LoadPlan {
        mut accounts,
        errors: load_errors,
    } = plan;
    let evaluator_not_rules = evaluator.not_rules.clone();
    let mut gathered = Gathered {
        errors: load_errors,
        ..Gathered::default()
    };
    // Accounts other snapshots refer to are parsed first and kept for the whole run, as
    // `data.cwl_audit.accounts`; every other account is parsed when it is decided and then dropped,
    // so memory holds the referenced accounts plus one account per worker.
    let mut resident: Vec<LoadedAccount> = timings::time(timings::Phase::Resident, || {
        accounts
            .par_iter_mut()
            .filter(|a| a.resident)
            .map(load_account)
            .collect()
    });
    let mut data = BTreeMap::new();
    let mut resident_inputs: HashMap<String, Value> = HashMap::new();
    for (a, l) in accounts
        .iter()
        .filter(|a| a.resident)
        .zip(resident.iter_mut())
    {
        gathered.absorb(l);
        if let Some(input) = l.input.take() {
            data.insert(Value::from(a.id.as_str()), input.clone());
            resident_inputs.insert(a.id.clone(), input);
        }
    }
    drop(resident);
    evaluator.set_accounts(Value::from(data))?;
    let rules = evaluator.rules.clone();
    let benchmark = evaluator.benchmark.clone();
    crate::memlimit::set_names(
        rules
            .iter()
            .map(|c| format!("{} ({})", c.id, c.source))
            .collect(),
        accounts.iter().map(|a| a.id.clone()).collect(),
    );
    type Decided = (Vec<(Finding, Option<Notification>)>, Option<LoadedAccount>);
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
                    let mut l = timings::time(timings::Phase::Load, || load_account(account));
                    (l.input.take(), Some(l))
                };
                let Some(input) = input else {
                    return (Vec::new(), loaded);
                };
                ev.set_input(input);
                let findings = decide(ev, &rules, &account.id, ai);
                crate::memlimit::set_current(usize::MAX, usize::MAX);
                // Frees the account now rather than when the worker decides its next one.
                ev.set_input(Value::Null);
                (findings, loaded)
            },
        )
        .collect();
    drop(resident_inputs);
    let mut findings = Vec::with_capacity(decided.len() * rules.len());
    let mut notifications = Vec::new();
    for (fs, loaded) in decided {
        if let Some(mut l) = loaded {
            gathered.absorb(&mut l);
        }
        for (f, n) in fs {
            findings.push(f);
            notifications.extend(n);
        }
    }
    let Gathered {
        errors: mut load_errors,
        mut warnings,
        mut used,
        paths: paths_by_key,
        collected_at,
    } = gathered;
    let place_started = std::time::Instant::now();
    resolve_locations(&mut findings, &paths_by_key, read_lines);
    let rule_ids: Vec<String> = rules.iter().map(|c| c.id.clone()).collect();
    let applied = manifests::apply(
        &manifests::Run {
            manifests,
            refused,
            snapshots: &paths_by_key,
            collected_at: &collected_at,
            rules: &rule_ids,
        },
        &mut findings,
    );
    findings.extend(applied.findings);
    findings.sort_by(|a, b| (&a.rule_id, &a.account_id).cmp(&(&b.rule_id, &b.account_id)));
    timings::add(timings::Phase::Place, place_started.elapsed());
    // Problems in discovery order, as a one-pass load would list them.
    load_errors.sort_by_key(|(i, _)| *i);
    warnings.sort_by_key(|(i, _)| *i);
    used.sort_by_key(|(i, _)| *i);
    let all_errors: Vec<LoadError> = discover_errors
        .into_iter()
        .chain(refused.iter().map(|r| r.error.clone()))
        .chain(load_errors.into_iter().map(|(_, e)| e))
        .collect();
    let mut errors = input_notifications(&[], &all_errors);
    // An error, not a warning: a rule whose METADATA was forgotten is never decided, and a run that
    // leaves out a rule the user wrote must not look like a clean pass (`-q` hides warnings).
    for path in &evaluator_not_rules {
        errors.push(Notification {
            level: Level::Error,
            message: format!(
                "{path}: defines `{}` but has no METADATA block with custom.id, so it is not a rule and is never decided (docs/writing-policies.md)",
                engine::DECISION_RULE
            ),
            path: Some(path.clone()),
            line: None,
        });
    }
    errors.extend(warnings.into_iter().map(|(_, n)| n));
    errors.append(&mut notifications);
    errors.extend(applied.notifications);
    let mut infos: BTreeMap<String, AccountInfo> = accounts
        .iter()
        .map(|a| {
            let info = AccountInfo {
                partition: a.partition.clone(),
                ..AccountInfo::default()
            };
            (a.id.clone(), info)
        })
        .collect();
    for ((account, region), at) in collected_at {
        if let Some(info) = infos.get_mut(&account) {
            info.collected_at.insert(region, at);
        }
    }
    for ((account, region), path) in &paths_by_key {
        if let Some(info) = infos.get_mut(account) {
            info.snapshots.insert(region.clone(), path.clone());
        }
    }
    // A run that decided nothing proved nothing: without this, a manifest whose every account was
    // skipped (or a typo in --accounts) would be a successful, empty report.
    if findings.is_empty() && !errors.iter().any(|n| n.level == Level::Error) {
        errors.push(Notification {
            level: Level::Error,
            message: if manifests.is_empty() {
                "nothing was evaluated: no usable snapshot".to_string()
            } else {
                format!(
                    "nothing was evaluated: no usable snapshot, and the run manifest{} ({}) expect{} no account to be collected",
                    crate::text::plural_s(manifests.len()),
                    manifests.iter().map(|m| m.path.as_str()).collect::<Vec<_>>().join(", "),
                    if manifests.len() == 1 { "s" } else { "" },
                )
            },
            path: None,
            line: None,
        });
    }
    let mut inputs: Vec<String> = used.into_iter().map(|(_, p)| p).collect();
    inputs.extend(manifests.iter().map(|m| m.path.clone()));
    Ok(RunResult {
        rules,
        findings,
        notifications: errors,
        inputs,
        benchmark,
        accounts: infos,
        organization: organization(manifests),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-memory path (load once, decide as often as needed) decides exactly as the streaming
    /// path from files: same findings, places and problems, on the bundled snapshots.
    #[test]
    fn in_memory_evaluation_equals_the_streaming_run() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let opts = EvalOptions::new(vec![dir.clone()]);
        let streamed = run(&opts).unwrap();
        let ev = opts.compile().unwrap();
        let set = SnapshotSet::load(&[dir]);
        let first = evaluate(&ev, &set, true).unwrap();
        let again = evaluate(&ev, &set, true).unwrap();
        let json = |r: &RunResult| serde_json::to_string(r).unwrap();
        assert!(!streamed.findings.is_empty());
        assert_eq!(json(&first), json(&streamed));
        assert_eq!(json(&again), json(&streamed));
        // Documents in memory (not the files): the same verdicts, every finding on line 1.
        let copies: Vec<Snapshot> = set
            .snapshots()
            .map(|s| {
                let mut doc = serde_json::to_value(&s.doc).unwrap();
                doc.as_object_mut().unwrap().remove("index");
                snapshot::load_value(&s.path, Value::from(doc)).unwrap()
            })
            .collect();
        let mem = evaluate(&ev, &SnapshotSet::from_snapshots(copies), false).unwrap();
        let verdicts = |r: &RunResult| {
            r.findings
                .iter()
                .map(|f| {
                    (
                        f.rule_id.clone(),
                        f.account_id.clone(),
                        f.verdict,
                        f.message.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(verdicts(&mem), verdicts(&streamed));
        assert!(mem
            .findings
            .iter()
            .all(|f| f.location.as_ref().is_some_and(|l| l.line == 1)));
    }
}
