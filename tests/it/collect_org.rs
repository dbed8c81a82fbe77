//! `collect --organization` against the AWS emulator: moto seeded with an organization of 18
//! member accounts (tests/support/moto_scenarios.py `MEMBERS`: compliant, broken at different
//! links, nothing at all, nested OUs, one suspended, one whose AssumeRole a loopback proxy
//! denies) under a management account with an organization trail. The organization is collected,
//! then evaluated, and every verdict is checked; `--ou`, an interrupted run finished with
//! `--resume`, and two shards are each compared with one uninterrupted run.
//!
//! The collector only reads, so the organization is seeded once per test binary
//! (`Moto::get_seeded`). Needs moto like tests/it/collect_moto.rs (`make test`).
#![cfg(feature = "collect")]
use crate::support::emulator;

/// This module's moto server.
#[cfg(feature = "collect")]
static EMULATOR: emulator::Emulator = emulator::Emulator::new();

use cwl_audit::collect::org::{self, OrgOptions};
use cwl_audit::collect::{CollectOptions, Recorder, Regions};
use cwl_audit::eval;
use cwl_audit::findings::{Finding, Verdict};
use cwl_audit::manifest::{self, Manifest, Status};
use emulator::{error_response, test_env, Moto, Request};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const ROLE: &str = "CwlAuditReadOnly";
const MANAGEMENT: &str = "123456789012";

/// The seeded organization's ids, as moto_scenarios.py printed them.
#[derive(Clone, Debug)]
struct Org {
    id: String,
    ous: BTreeMap<String, String>,
    /// Account name -> id.
    accounts: BTreeMap<String, String>,
    /// The root's id.
    root: String,
    /// Account name -> the path of its OU below the root ("" in the root).
    paths: BTreeMap<String, String>,
}

impl Org {
    fn id_of(&self, name: &str) -> &str {
        self.accounts
            .get(name)
            .unwrap_or_else(|| panic!("no account {name}"))
    }

    fn name_of(&self, id: &str) -> String {
        if id == MANAGEMENT {
            return "management".into();
        }
        self.accounts
            .iter()
            .find(|(_, v)| v.as_str() == id)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("unknown account {id}"))
    }
}

static ORG: OnceLock<Org> = OnceLock::new();

fn seeded() -> Option<(Moto, Org)> {
    EMULATOR.get_seeded(&ORG, |moto| {
        let started = Instant::now();
        let out = moto.seed_output(&["organization"]);
        let v: Value = serde_json::from_str(out.trim()).expect("the organization's ids");
        let map = |key: &str| -> BTreeMap<String, String> {
            v[key]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        };
        let org = Org {
            id: v["organization"].as_str().unwrap().to_string(),
            ous: map("ous"),
            accounts: map("accounts"),
            root: v["root"].as_str().unwrap().to_string(),
            paths: map("paths"),
        };
        assert_eq!(v["management"], MANAGEMENT);
        assert!(org.ous.contains_key("Workloads/Prod"), "{org:?}");
        assert!(org.accounts.len() >= 17, "{org:?}");
        eprintln!("organization seeded in {:.1?}", started.elapsed());
        org
    })
}

/// A proxy in front of moto that answers the AssumeRole of `denied`'s role with AccessDenied (as
/// STS does when the role's trust policy does not allow the caller) and logs every request's
/// operation and body.
/// (operation, body) of every request the proxy saw.
type RequestLog = Arc<Mutex<Vec<(String, String)>>>;

fn denying_proxy(moto: &Moto, denied: &str) -> (String, RequestLog) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (l, denied) = (log.clone(), denied.to_string());
    let endpoint = emulator::proxy(
        moto.port,
        Arc::new(move |req: &Request| {
            let op = req.operation().unwrap_or_default();
            let body = String::from_utf8_lossy(&req.body).into_owned();
            let deny = op == "AssumeRole" && body.contains(&denied);
            l.lock().unwrap().push((op, body));
            deny.then(|| {
                error_response(
                    req,
                    403,
                    "AccessDenied",
                    "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: sts:AssumeRole",
                )
            })
        }),
    );
    (endpoint, log)
}

const REGIONS: &str = "us-east-1,eu-west-1";

/// `cwl-audit collect --organization --member-role CwlAuditReadOnly --regions us-east-1,eu-west-1 ARGS`.
fn collect_org(endpoint: &str, out: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "--organization",
        "--member-role",
        ROLE,
        "--regions",
        REGIONS,
    ];
    all.extend_from_slice(args);
    emulator::collect(endpoint, out, &all)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_manifest(path: &Path) -> Manifest {
    manifest::load(path)
        .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
        .manifest
}

fn entry<'a>(m: &'a Manifest, id: &str) -> &'a manifest::Account {
    m.accounts
        .iter()
        .find(|a| a.account_id == id)
        .unwrap_or_else(|| panic!("{id} not in the manifest"))
}

/// The evaluation of `dirs` (every rule, or only CWL-014: a debug build takes seconds for all
/// fifteen rules of the organization): findings by (account, rule).
fn evaluate(
    dirs: &[&Path],
    all_rules: bool,
) -> (
    cwl_audit::findings::RunResult,
    BTreeMap<(String, String), Finding>,
) {
    let mut opts = eval::EvalOptions::new(dirs.iter().map(|d| d.to_path_buf()).collect());
    if !all_rules {
        opts.rules = vec!["CWL-014".into()];
    }
    let r = eval::run(&opts).expect("policies compile");
    assert!(!r.has_errors(), "{:#?}", r.notifications);
    let by = r
        .findings
        .iter()
        .map(|f| ((f.account_id.clone(), f.rule_id.clone()), f.clone()))
        .collect();
    (r, by)
}

/// Every file below `dir`, relative path -> text without what two collections of an unchanged
/// organization may differ in: `collected_at`, the manifest's `started_at`/`finished_at`, and the
/// two times moto itself changes (it reports each GetTrailStatus as the last delivery).
fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let text: String = std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .filter(|l| {
                    let l = l.trim_start();
                    ![
                        "\"collected_at\"",
                        "\"started_at\"",
                        "\"finished_at\"",
                        "\"LatestDeliveryTime\"",
                        "\"LatestDeliveryAttemptTime\"",
                    ]
                    .iter()
                    .any(|k| l.starts_with(k))
                })
                .collect::<Vec<_>>()
                .join("\n");
            (rel, text)
        })
        .collect()
}

#[track_caller]
fn assert_same_trees(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) {
    let (ka, kb): (BTreeSet<&String>, BTreeSet<&String>) = (a.keys().collect(), b.keys().collect());
    assert_eq!(ka, kb, "the same files");
    for (k, v) in a {
        assert!(v == &b[k], "{k} differs:\n{v}\n---\n{}", b[k]);
    }
}

/// One uninterrupted run of the whole organization (with the denied account), made once per test
/// binary in the build's temporary directory: the reference of the resume and shard tests.
fn baseline(endpoint: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("collect_org_baseline");
        let _ = std::fs::remove_dir_all(&dir);
        let o = collect_org(endpoint, &dir, &[]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        dir
    })
    .clone()
}

/// The CWL-014 verdict of each member (by name) and a part of its message.
const EXPECTED: &[(&str, Verdict, &str)] = &[
    ("management", Verdict::Pass, "trail organization-trail ->"),
    (
        "compliant",
        Verdict::Pass,
        "alarm RootAccountUsageAlarm -> topic RootAccountUsageAlerts (1 confirmed subscription)",
    ),
    (
        "advanced-selectors",
        Verdict::Pass,
        "trail management-events ->",
    ),
    (
        "weak-filter",
        Verdict::Fail,
        "filter RootAccountUsage also matches events of other identities",
    ),
    (
        "trail-stopped",
        Verdict::Fail,
        "is not logging (IsLogging=false)",
    ),
    ("single-region-trail", Verdict::Fail, "is single-region"),
    (
        "write-only",
        Verdict::Fail,
        "records only WriteOnly management events",
    ),
    (
        "actions-disabled",
        Verdict::Fail,
        "has ActionsEnabled=false",
    ),
    ("no-subscription", Verdict::Fail, "has no subscriptions"),
    (
        "two-regions",
        Verdict::Pass,
        "log group CloudTrail/eu-management-events",
    ),
    ("alarm-other-region", Verdict::Fail, "metrics are regional"),
    (
        "empty",
        Verdict::Fail,
        "no CloudTrail trail logs this account",
    ),
    (
        "workloads-compliant",
        Verdict::Pass,
        "topic RootAccountUsageAlerts (1 confirmed subscription)",
    ),
    (
        "workloads-weak-filter",
        Verdict::Fail,
        "also matches events of other identities",
    ),
    (
        "prod-compliant",
        Verdict::Pass,
        "topic RootAccountUsageAlerts (1 confirmed subscription)",
    ),
    (
        "prod-trail-stopped",
        Verdict::Fail,
        "is not logging (IsLogging=false)",
    ),
    (
        "sandbox-compliant",
        Verdict::Pass,
        "topic RootAccountUsageAlerts (1 confirmed subscription)",
    ),
    (
        "denied",
        Verdict::Unknown,
        "the role CwlAuditReadOnly could not be assumed: AccessDenied",
    ),
];

#[test]
fn organization_is_collected_and_every_account_gets_its_verdict() {
    let Some((moto, org)) = seeded() else { return };
    let denied = org.id_of("denied").to_string();
    let suspended = org.id_of("suspended").to_string();
    let (endpoint, log) = denying_proxy(&moto, &denied);
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = collect_org(&endpoint, out.path(), &[]);
    eprintln!("organization collected in {:.1?}", started.elapsed());
    // One account failed: partial (3), with the failure on stderr and in the summary.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "error: account {denied} (denied) failed: AssumeRole: AccessDenied"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "organization {}: 19 accounts: 17 collected, 0 partial, 1 failed, 1 skipped",
            org.id
        )),
        "{err}"
    );

    let m = read_manifest(&out.path().join(manifest::FILE_NAME));
    assert_eq!(m.organization.id, org.id);
    assert_eq!(m.organization.management_account_id, MANAGEMENT);
    assert_eq!(m.caller_account_id, MANAGEMENT);
    assert_eq!(m.member_role, ROLE);
    assert_eq!(m.regions, ["eu-west-1", "us-east-1"]);
    assert!(m.finished_at.is_some());
    assert_eq!(m.accounts.len(), org.accounts.len() + 1);
    let d = entry(&m, &denied);
    assert_eq!(d.status, Status::Failed);
    let e = d.error.as_ref().unwrap();
    assert_eq!(
        (e.operation.as_str(), e.code.as_str()),
        ("AssumeRole", "AccessDenied")
    );
    let s = entry(&m, &suspended);
    assert_eq!(
        (s.status, s.state.as_deref(), s.reason.as_deref()),
        (Status::Skipped, Some("SUSPENDED"), Some("suspended"))
    );
    for a in &m.accounts {
        // Every account, whatever its status, with its OU and the path of names from the root.
        let below = &org.paths[&org.name_of(&a.account_id)];
        let (id, path) = if below.is_empty() {
            (org.root.clone(), "Root".to_string())
        } else {
            (org.ous[below].clone(), format!("Root/{below}"))
        };
        assert_eq!(
            a.ou,
            Some(manifest::Ou {
                id,
                path: Some(path)
            }),
            "{a:?}"
        );
        if a.account_id != denied && a.account_id != suspended {
            assert_eq!(a.status, Status::Collected, "{a:?}");
            let regions: Vec<&String> = a.regions.keys().collect();
            assert_eq!(regions, ["eu-west-1", "us-east-1"], "{a:?}");
            assert!(out
                .path()
                .join(&a.account_id)
                .join("us-east-1.json")
                .is_file());
        }
    }
    assert!(!out.path().join(&denied).exists());
    assert!(
        !out.path().join(&suspended).exists(),
        "a suspended account is not collected"
    );

    // The management account is collected with the caller's own credentials: no AssumeRole of
    // its role; every other active account's role is assumed once, with the session name.
    let log = log.lock().unwrap().clone();
    let assumed: Vec<&String> = log
        .iter()
        .filter(|(op, _)| op == "AssumeRole")
        .map(|(_, b)| b)
        .collect();
    assert!(
        !assumed.iter().any(|b| b.contains(MANAGEMENT)),
        "{assumed:?}"
    );
    assert_eq!(
        assumed.len(),
        org.accounts.len() - 1,
        "every active member once"
    );
    assert!(assumed.iter().all(
        |b| b.contains("RoleSessionName=cwl-audit") && b.contains(&format!("%3Arole%2F{ROLE}"))
    ));
    assert!(!assumed.iter().any(|b| b.contains(&suspended)));

    let (r, by) = evaluate(&[out.path()], true);
    for (name, verdict, part) in EXPECTED {
        let id = if *name == "management" {
            MANAGEMENT
        } else {
            org.id_of(name)
        };
        let f = &by
            .get(&(id.to_string(), "CWL-014".to_string()))
            .unwrap_or_else(|| panic!("no CWL-014 finding for {name}"));
        assert_eq!(f.verdict, *verdict, "{name}: {}", f.message);
        assert!(
            f.message.contains(part),
            "{name}: {:?} lacks {part:?}",
            f.message
        );
    }
    // Every rule of the denied account is unknown with the reason; the suspended one has none.
    let rules: BTreeSet<&String> = r.findings.iter().map(|f| &f.rule_id).collect();
    assert_eq!(rules.len(), 15);
    let denied_findings: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.account_id == denied)
        .collect();
    assert_eq!(denied_findings.len(), 15);
    for f in denied_findings {
        assert_eq!(f.verdict, Verdict::Unknown, "{}", f.rule_id);
        assert_eq!(
            f.message,
            format!("account {denied} was not collected: the role {ROLE} could not be assumed: AccessDenied")
        );
    }
    assert!(!r.findings.iter().any(|f| f.account_id == suspended));
    assert!(
        r.notifications.iter().any(|n| n.message
            == format!("1 account skipped by the collection (suspended): {suspended}")),
        "{:#?}",
        r.notifications
    );
    // Each expected account has one finding per rule.
    assert_eq!(r.findings.len(), 15 * EXPECTED.len());
}

#[test]
fn ou_collects_only_that_ou_and_the_ous_below_it() {
    let Some((moto, org)) = seeded() else { return };
    let workloads = org.ous["Workloads"].clone();
    let prod = org.ous["Workloads/Prod"].clone();
    let out = tempfile::tempdir().unwrap();
    let o = collect_org(&moto.endpoint(), out.path(), &["--ou", &workloads]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = read_manifest(&out.path().join(manifest::FILE_NAME));
    assert_eq!(m.selection.ous, std::slice::from_ref(&workloads));
    let collected: BTreeMap<String, String> = m
        .accounts
        .iter()
        .filter(|a| a.status == Status::Collected)
        .map(|a| {
            (
                org.name_of(&a.account_id),
                a.ou.as_ref().unwrap().id.clone(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        ("prod-compliant", &prod),
        ("prod-trail-stopped", &prod),
        ("workloads-compliant", &workloads),
        ("workloads-weak-filter", &workloads),
    ]
    .into_iter()
    .map(|(n, o)| (n.to_string(), o.clone()))
    .collect();
    assert_eq!(collected, expected);
    // Every other account is listed, as skipped, with why.
    assert_eq!(m.accounts.len(), org.accounts.len() + 1);
    for a in m.accounts.iter().filter(|a| a.status != Status::Collected) {
        assert_eq!(a.status, Status::Skipped, "{a:?}");
        let why = if a.account_id == org.id_of("suspended") {
            "suspended".to_string()
        } else {
            format!("not in --ou {workloads}")
        };
        assert_eq!(a.reason.as_deref(), Some(why.as_str()), "{a:?}");
    }
    let dirs: BTreeSet<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !cwl_audit::snapshot::is_manifest_path(Path::new(n)))
        .collect();
    let ids: BTreeSet<String> = expected.keys().map(|n| org.id_of(n).to_string()).collect();
    assert_eq!(dirs, ids);
    let (r, by) = evaluate(&[out.path()], false);
    assert_eq!(r.findings.len(), 4);
    for (name, verdict, _) in EXPECTED
        .iter()
        .filter(|(n, _, _)| expected.contains_key(*n))
    {
        let f = &by[&(org.id_of(name).to_string(), "CWL-014".to_string())];
        assert_eq!(f.verdict, *verdict, "{name}: {}", f.message);
    }
    // A bad OU id is a usage error before anything is called.
    // An OU id of the right shape that is not in the organization: refused, nothing written.
    let none = tempfile::tempdir().unwrap();
    let o = collect_org(&moto.endpoint(), none.path(), &["--ou", "ou-zzzz-zzzzzzzz"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "--ou ou-zzzz-zzzzzzzz: no such OU or root in organization {}",
            org.id
        )),
        "{}",
        stderr(&o)
    );
    assert!(std::fs::read_dir(none.path()).unwrap().next().is_none());
    let o = collect_org(&moto.endpoint(), out.path(), &["--ou", "../ou"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not an OU id"), "{}", stderr(&o));
}

#[test]
fn interrupted_run_finished_with_resume_equals_one_run() {
    let Some((moto, org)) = seeded() else { return };
    let denied = org.id_of("denied").to_string();
    let (endpoint, log) = denying_proxy(&moto, &denied);
    let reference = baseline(&endpoint);
    let out = tempfile::tempdir().unwrap();
    let o = collect_org(
        &endpoint,
        out.path(),
        &["--stop-after-accounts", "6", "--account-concurrency", "4"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let path = out.path().join(manifest::FILE_NAME);
    let stopped = read_manifest(&path);
    assert!(
        stopped.finished_at.is_none(),
        "an interrupted run is not finished"
    );
    let pending: Vec<&manifest::Account> = stopped
        .accounts
        .iter()
        .filter(|a| a.status == Status::Pending)
        .collect();
    let done = stopped
        .accounts
        .iter()
        .filter(|a| matches!(a.status, Status::Collected | Status::Failed))
        .count();
    assert!(done >= 6 && !pending.is_empty(), "{stopped:#?}");
    // What the manifest shows as complete is on disk, byte for byte what the resumed run keeps.
    let mut kept = BTreeMap::new();
    for a in &stopped.accounts {
        for region in a.regions.keys() {
            let file = out
                .path()
                .join(&a.account_id)
                .join(format!("{region}.json"));
            kept.insert(
                file.clone(),
                std::fs::read(&file).expect("a complete region's snapshot"),
            );
        }
    }
    assert!(!kept.is_empty());
    // eval of the interrupted run says which accounts are missing, and why.
    let (_, by) = evaluate(&[out.path()], false);
    let p = pending[0];
    let f = &by[&(p.account_id.clone(), "CWL-014".to_string())];
    if p.regions.is_empty() {
        assert_eq!(f.verdict, Verdict::Unknown, "{}", f.message);
        assert!(
            f.message.contains("the collection stopped before it"),
            "{}",
            f.message
        );
    }

    // Resuming with other arguments is refused.
    let o = emulator::collect(
        &endpoint,
        out.path(),
        &[
            "--organization",
            "--member-role",
            ROLE,
            "--regions",
            "us-east-1",
            "--resume",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("run without --resume to start over"),
        "{}",
        stderr(&o)
    );

    log.lock().unwrap().clear();
    let o = collect_org(&endpoint, out.path(), &["--resume"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    // Only what was not complete was collected: the roles of the pending and failed accounts.
    let assumed = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(op, _)| op == "AssumeRole")
        .count();
    let not_done = stopped
        .accounts
        .iter()
        .filter(|a| matches!(a.status, Status::Pending | Status::Failed))
        .filter(|a| a.account_id != MANAGEMENT)
        .count();
    assert_eq!(assumed, not_done);
    for (file, bytes) in &kept {
        assert_eq!(
            &std::fs::read(file).unwrap(),
            bytes,
            "{} was collected again",
            file.display()
        );
    }
    let resumed = read_manifest(&path);
    assert_eq!(
        resumed.started_at, stopped.started_at,
        "the run started once"
    );
    assert!(resumed.finished_at.is_some());
    assert_same_trees(&tree(out.path()), &tree(&reference));
    let (_, a) = evaluate(&[out.path()], false);
    let (_, b) = evaluate(&[&reference], false);
    let key = |m: &BTreeMap<(String, String), Finding>| -> Vec<(String, String, Verdict, String)> {
        m.values()
            .map(|f| {
                (
                    f.account_id.clone(),
                    f.rule_id.clone(),
                    f.verdict,
                    f.message.clone(),
                )
            })
            .collect()
    };
    assert_eq!(key(&a), key(&b));
}

#[test]
fn resume_collects_again_what_is_no_longer_on_disk() {
    let Some((moto, org)) = seeded() else { return };
    let out = tempfile::tempdir().unwrap();
    let args = [
        "--accounts",
        &format!("{MANAGEMENT},{}", org.id_of("prod-compliant")),
    ];
    let o = collect_org(&moto.endpoint(), out.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = tree(out.path());
    // The directory of an account the manifest shows as collected is gone (not restored from a
    // cache, deleted by hand): --resume must not trust the manifest for it.
    let gone = org.id_of("prod-compliant").to_string();
    std::fs::remove_dir_all(out.path().join(&gone)).unwrap();
    let mut resume = args.to_vec();
    resume.push("--resume");
    let o = collect_org(&moto.endpoint(), out.path(), &resume);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.path().join(&gone).join("us-east-1.json").is_file());
    assert_same_trees(&tree(out.path()), &first);
    let (_, by) = evaluate(&[out.path()], false);
    assert_eq!(
        by[&(gone.clone(), "CWL-014".to_string())].verdict,
        Verdict::Pass
    );
}

#[test]
fn selections_that_collect_nothing_are_errors() {
    let Some((moto, org)) = seeded() else { return };
    // A typo in --accounts: nothing written, exit 2.
    let out = tempfile::tempdir().unwrap();
    let o = collect_org(
        &moto.endpoint(),
        out.path(),
        &["--accounts", "111111111111"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "--accounts: 111111111111 not in organization {}; nothing was collected",
            org.id
        )),
        "{}",
        stderr(&o)
    );
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
    // An empty list (an empty CI variable) does not widen the run to every account.
    for empty in ["", ","] {
        let o = collect_org(&moto.endpoint(), out.path(), &["--accounts", empty]);
        assert_eq!(o.status.code(), Some(2), "{empty:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--accounts is empty"), "{}", stderr(&o));
    }
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
    // Every account excluded: the manifest says so, collect and eval both exit 2.
    let all: Vec<String> = org
        .accounts
        .values()
        .cloned()
        .chain([MANAGEMENT.to_string()])
        .collect();
    let out = tempfile::tempdir().unwrap();
    let o = collect_org(
        &moto.endpoint(),
        out.path(),
        &["--exclude-accounts", &all.join(",")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no account to collect: every account of the organization is skipped"),
        "{}",
        stderr(&o)
    );
    let r = eval::run(&eval::EvalOptions::new(vec![out.path().to_path_buf()])).unwrap();
    assert!(r.findings.is_empty());
    assert!(r.has_errors(), "{:#?}", r.notifications);
    assert!(
        r.notifications.iter().any(|n| n
            .message
            .starts_with("nothing was evaluated: no usable snapshot, and the run manifest")),
        "{:#?}",
        r.notifications
    );
}

#[test]
fn a_second_run_into_the_same_out_is_refused() {
    let Some((moto, _org)) = seeded() else { return };
    let out = tempfile::tempdir().unwrap();
    // Another run holds the lock (this test process, as a concurrent collect would).
    let lock = std::fs::File::create(out.path().join(".cwl-audit.lock")).unwrap();
    lock.try_lock().unwrap();
    let o = collect_org(&moto.endpoint(), out.path(), &["--accounts", MANAGEMENT]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another `collect --organization` is writing to"),
        "{}",
        stderr(&o)
    );
    assert!(!out.path().join(manifest::FILE_NAME).exists());
    drop(lock);
    let o = collect_org(&moto.endpoint(), out.path(), &["--accounts", MANAGEMENT]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !out.path().join(".cwl-audit.lock").exists(),
        "the lock is removed when the run ends"
    );
}

#[test]
fn two_shards_merged_equal_one_run() {
    let Some((moto, org)) = seeded() else { return };
    let denied = org.id_of("denied").to_string();
    let (endpoint, _) = denying_proxy(&moto, &denied);
    let reference = baseline(&endpoint);
    let parts = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for (i, dir) in parts.iter().enumerate() {
        let shard = format!("{}/2", i + 1);
        let o = collect_org(&endpoint, dir.path(), &["--shard", &shard]);
        // The denied account is in one of the shards: that one is partial.
        let mine = manifest::Shard::of(&denied, 2) == i as u32 + 1;
        assert_eq!(
            o.status.code(),
            Some(if mine { 3 } else { 0 }),
            "{shard}: {}",
            stderr(&o)
        );
        assert!(dir
            .path()
            .join(manifest::shard_file_name(i as u32 + 1, 2))
            .is_file());
    }
    // The snapshots of the two parts together are one run's.
    let mut merged = BTreeMap::new();
    for dir in &parts {
        for (k, v) in tree(dir.path()) {
            if !k.starts_with("cwl-audit-manifest") {
                assert!(merged.insert(k.clone(), v).is_none(), "{k} in both shards");
            }
        }
    }
    let mut one = tree(&reference);
    one.remove(manifest::FILE_NAME);
    assert_same_trees(&merged, &one);
    // Each part lists every account; its own entries are the single run's.
    let single = read_manifest(&reference.join(manifest::FILE_NAME));
    let mut own = Vec::new();
    for (i, dir) in parts.iter().enumerate() {
        let m = read_manifest(&dir.path().join(manifest::shard_file_name(i as u32 + 1, 2)));
        assert_eq!(m.accounts.len(), single.accounts.len());
        for a in m.accounts {
            match a.status {
                Status::OtherShard => assert_ne!(a.shard, Some(i as u32 + 1)),
                Status::Skipped => {}
                _ => {
                    assert_eq!(a.shard, Some(i as u32 + 1));
                    own.push(manifest::Account { shard: None, ..a });
                }
            }
        }
    }
    own.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    let expected: Vec<manifest::Account> = single
        .accounts
        .into_iter()
        .filter(|a| a.status != Status::Skipped)
        .collect();
    assert_eq!(own, expected);
    // eval of both parts sees the whole organization as the single run does; one part alone
    // reports the other part's accounts as unknown, naming the missing manifest.
    let (_, a) = evaluate(&[parts[0].path(), parts[1].path()], false);
    let (_, b) = evaluate(&[&reference], false);
    let key = |m: &BTreeMap<(String, String), Finding>| -> Vec<(String, String, Verdict, String)> {
        m.values()
            .map(|f| {
                (
                    f.account_id.clone(),
                    f.rule_id.clone(),
                    f.verdict,
                    f.message.clone(),
                )
            })
            .collect()
    };
    assert_eq!(key(&a), key(&b));
    let (_, alone) = evaluate(&[parts[0].path()], false);
    let other = in_shard_2(&org);
    let f = &alone[&(other, "CWL-014".to_string())];
    assert_eq!(f.verdict, Verdict::Unknown);
    assert!(
        f.message
            .contains("cwl-audit-manifest.shard-2-of-2.json) was not found"),
        "{}",
        f.message
    );
}

/// An active account of shard 2 of 2 (not the denied one).
fn in_shard_2(org: &Org) -> String {
    org.accounts
        .iter()
        .filter(|(n, _)| !["denied", "suspended"].contains(&n.as_str()))
        .map(|(_, id)| id.clone())
        .find(|id| manifest::Shard::of(id, 2) == 2)
        .expect("an account in shard 2")
}

/// The organization mode performs exactly the operations of the two printed policies: the
/// management side's (Organizations, AssumeRole) and the member role's (--all-regions, so
/// ListRegions too; moto has no Account API, so the built-in region list is used).
#[test]
fn recorded_operations_are_exactly_the_organization_policies() {
    let Some((moto, org)) = seeded() else { return };
    test_env();
    let out = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::new());
    let mut opts = OrgOptions::new(
        CollectOptions {
            out: out.path().to_path_buf(),
            regions: Regions::All,
            endpoint_url: Some(moto.endpoint()),
            max_attempts: 2,
            initial_backoff: Some(Duration::from_millis(10)),
            recorder: Some(recorder.clone()),
            ..CollectOptions::default()
        },
        ROLE,
    );
    opts.ous = vec![org.ous["Workloads"].clone()];
    opts.accounts = vec![org.id_of("prod-compliant").to_string()];
    let outcome = org::run(&opts).expect("collect");
    // moto has no Account API: ListRegions fails, the default-enabled regions are collected, and
    // the account is partial (opt-in regions may be missing), with that one error.
    assert_eq!(
        outcome.status,
        cwl_audit::collect::Completeness::Partial,
        "{:#?}",
        outcome.errors
    );
    assert!(
        !outcome.errors.is_empty()
            && outcome
                .errors
                .iter()
                .all(|(_, where_, e)| where_ == "(account)" && e.operation == "ListRegions"),
        "{:#?}",
        outcome.errors
    );
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("Account ListRegions")),
        "{:?}",
        outcome.warnings
    );
    let a = entry(&outcome.manifest, org.id_of("prod-compliant"));
    assert_eq!(a.status, Status::Partial);
    assert_eq!(
        a.error.as_ref().map(|e| e.operation.as_str()),
        Some("ListRegions")
    );
    assert!(outcome.manifest.all_regions);
    assert_eq!(
        a.regions.len(),
        cwl_audit::collect::default_enabled_regions("aws").len()
    );
    let recorded = recorder.operations();
    let mut used = BTreeSet::new();
    for (service, op) in &recorded {
        let known = cwl_audit::iam::lookup(service, op)
            .unwrap_or_else(|| panic!("{service} {op} is performed but not in src/iam.rs"));
        if let Some(action) = known.action {
            used.insert(action.to_string());
        }
    }
    let printed: Value =
        serde_json::from_str(&cwl_audit::iam::organization_policies_json("aws", ROLE)).unwrap();
    let mut policy = BTreeSet::new();
    for st in printed["ManagementPolicy"]["Statement"].as_array().unwrap() {
        match &st["Action"] {
            Value::String(a) => {
                policy.insert(a.clone());
            }
            Value::Array(list) => {
                policy.extend(list.iter().map(|a| a.as_str().unwrap().to_string()))
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(used, policy, "recorded operations: {recorded:?}");
    // The member role needs exactly the single-account policy: what the member account's calls
    // used (everything after AssumeRole that is not Organizations).
    let member: BTreeSet<String> = printed["MemberRolePolicy"]["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let member_used: BTreeSet<String> = used
        .iter()
        .filter(|a| !a.starts_with("organizations:") && *a != "sts:AssumeRole")
        .cloned()
        .collect();
    assert_eq!(member_used, member);
    assert_eq!(
        recorded.iter().filter(|(_, o)| o == "AssumeRole").count(),
        1
    );
}

/// Runs tests/support/ci.py (the CI simulator) and returns its JSON trace.
fn ci(args: &[&str]) -> Value {
    let python = emulator::python().expect("python");
    let o = std::process::Command::new(python)
        .arg(emulator::root().join("tests/support/ci.py"))
        .args(args)
        .env("CWL_AUDIT_BIN", env!("CARGO_BIN_EXE_cwl-audit"))
        .current_dir(emulator::root())
        .output()
        .expect("run tests/support/ci.py");
    assert!(
        o.status.success(),
        "ci.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).expect("a JSON trace")
}

/// docs/ci/github-collect-organization.yml run as GitHub runs it (tests/support/ci.py): each
/// instance of the collect matrix against the emulator (credentials and endpoint from the
/// environment, as configure-aws-credentials leaves them), then the eval job on the downloaded
/// artifacts. The shard with the denied account exits 3, retries with --resume, and still passes;
/// the eval job sees the whole organization, as one run does.
#[test]
fn ci_matrix_workflow_collects_the_organization_in_shards() {
    let Some((moto, org)) = seeded() else { return };
    let denied = org.id_of("denied").to_string();
    let (endpoint, _) = denying_proxy(&moto, &denied);
    let reference = baseline(&endpoint);
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(emulator::root().join("docs/ci/github-collect-organization.yml"))
            .unwrap()
            .replace("<owner>", "example");
    let wf = dir.path().join("workflow.yml");
    std::fs::write(&wf, text).unwrap();
    let artifacts = dir.path().join("artifacts");
    std::fs::create_dir(&artifacts).unwrap();
    let env = serde_json::json!({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/cwl-audit-test/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/cwl-audit-test/credentials",
        "AWS_MAX_ATTEMPTS": "2",
    })
    .to_string();
    // The repository variable CWL_AUDIT_REGIONS narrows --all-regions to the reference's two
    // regions (17 regions of 18 accounts take moto minutes); the jobs run in order here, in
    // parallel on GitHub.
    let vars = serde_json::json!({
        "CWL_AUDIT_COLLECTOR_ROLE_ARN": "arn:aws:iam::123456789012:role/CwlAuditCollector",
        "CWL_AUDIT_REGIONS": REGIONS,
    })
    .to_string();
    let shards: Vec<u32> = (1..=4).collect();
    for shard in &shards {
        let ws = tempfile::tempdir().unwrap();
        let t = ci(&[
            "github-job",
            wf.to_str().unwrap(),
            "collect",
            "--action-dir",
            emulator::root().to_str().unwrap(),
            "--workspace",
            ws.path().to_str().unwrap(),
            "--event-name",
            "schedule",
            "--matrix",
            &format!("{{\"shard\": {shard}}}"),
            "--job-index",
            &(shard - 1).to_string(),
            "--job-total",
            &shards.len().to_string(),
            "--artifacts",
            artifacts.to_str().unwrap(),
            "--env",
            &env,
            "--vars",
            &vars,
        ]);
        assert_eq!(t["result"], "success", "shard {shard}: {t:#}");
        let step = t["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "Collect this shard")
            .unwrap();
        let err = step["stderr"].as_str().unwrap();
        let mine = manifest::Shard::of(&denied, 4) == *shard;
        assert_eq!(
            err.contains(&format!(
                "error: account {denied} (denied) failed: AssumeRole: AccessDenied"
            )),
            mine,
            "shard {shard}: {err}"
        );
        if mine {
            assert!(
                err.contains("kept from the resumed run"),
                "retried with --resume: {err}"
            );
        }
    }
    let ws = tempfile::tempdir().unwrap();
    let t = ci(&[
        "github-job",
        wf.to_str().unwrap(),
        "eval",
        "--action-dir",
        emulator::root().to_str().unwrap(),
        "--workspace",
        ws.path().to_str().unwrap(),
        "--event-name",
        "schedule",
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]);
    let steps = t["steps"].as_array().unwrap();
    let down = steps
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .unwrap()
                .starts_with("actions/download-artifact")
        })
        .unwrap();
    assert_eq!(down["downloaded"].as_array().unwrap().len(), 4, "{down:#}");
    let action = steps
        .iter()
        .find(|s| s["name"].as_str().unwrap().contains("/cwl-audit@"))
        .unwrap();
    // Findings (fail-on: fail): the eval step records 1 and the upload runs.
    assert_eq!(action["outputs"]["exit-code"], "1", "{action:#}");
    let upload = action["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Upload SARIF to code scanning")
        .unwrap();
    assert_eq!(upload["outcome"], "success", "{upload:#}");
    assert_eq!(
        upload["uploaded"]["executionSuccessful"],
        serde_json::json!([true])
    );
    // The four parts evaluated together: every account of the organization, with one run's
    // verdicts.
    let (r, by) = evaluate(&[&ws.path().join("snapshots")], false);
    let (_, one) = evaluate(&[&reference], false);
    let verdicts = |m: &BTreeMap<(String, String), Finding>| -> Vec<(String, Verdict)> {
        m.values()
            .map(|f| (f.account_id.clone(), f.verdict))
            .collect()
    };
    assert_eq!(verdicts(&by), verdicts(&one));
    assert!(r
        .notifications
        .iter()
        .any(|n| n.message.contains("skipped by the collection (suspended)")));
}

/// scripts/collect-org-with-aws-cli.sh (the AWS CLI path, for CloudShell) on part of the
/// organization: the management account with the caller's credentials, a member through the
/// member role, the denied one failed with AccessDenied, the suspended one skipped; its manifest
/// loads and `eval` gives the verdicts of `collect --organization`. (A subset: the AWS CLI
/// starts a Python process per call.)
#[test]
fn aws_cli_organization_script_writes_the_same_verdicts_and_manifest() {
    let Some((moto, org)) = seeded() else { return };
    let python = emulator::python().expect("python");
    let bin = python.parent().unwrap().to_path_buf();
    let denied = org.id_of("denied").to_string();
    let (endpoint, _) = denying_proxy(&moto, &denied);
    let names = ["compliant", "denied"];
    let mut only: Vec<String> = names.iter().map(|n| org.id_of(n).to_string()).collect();
    only.push(MANAGEMENT.into());
    let out = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(emulator::root().join("scripts/collect-org-with-aws-cli.sh"))
        .args([
            "--member-role",
            ROLE,
            "--regions",
            "us-east-1",
            "--accounts",
        ])
        .arg(only.join(","))
        .arg("--out")
        .arg(out.path());
    emulator::aws_env(&mut cmd, "testing", "testing");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(paths).unwrap())
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_MAX_ATTEMPTS", "1");
    let o = cmd.output().expect("run the script");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "error: account {denied} (denied) failed: AssumeRole: AccessDenied"
        )),
        "{}",
        stderr(&o)
    );
    let m = read_manifest(&out.path().join(manifest::FILE_NAME));
    assert_eq!(m.organization.id, org.id);
    assert_eq!(m.regions, ["us-east-1"]);
    assert_eq!(
        m.accounts.len(),
        org.accounts.len() + 1,
        "every account listed"
    );
    for a in &m.accounts {
        let want = if a.account_id == denied {
            Status::Failed
        } else if only.contains(&a.account_id) {
            Status::Collected
        } else {
            Status::Skipped
        };
        assert_eq!(a.status, want, "{a:?}");
    }
    assert_eq!(
        entry(&m, org.id_of("suspended")).reason.as_deref(),
        Some("suspended")
    );
    assert_eq!(
        entry(&m, MANAGEMENT).regions.get("us-east-1"),
        Some(&manifest::RegionStatus::Complete)
    );
    let (_, by) = evaluate(&[out.path()], false);
    for (name, verdict, part) in EXPECTED {
        let id = if *name == "management" {
            MANAGEMENT
        } else {
            org.id_of(name)
        };
        if !only.iter().any(|o| o == id) {
            continue;
        }
        let f = &by[&(id.to_string(), "CWL-014".to_string())];
        assert_eq!(f.verdict, *verdict, "{name}: {}", f.message);
        assert!(f.message.contains(part), "{name}: {}", f.message);
    }
}
