//! `cwl-audit collect --organization`: every active account of an AWS Organization (or of some of
//! its OUs), each with the member role's credentials (the calling account with its own), into the
//! usual snapshots plus the run manifest (src/manifest.rs, docs/snapshot-format.md) that says what
//! became of every account, so that `eval` never takes a missing account for a compliant one.
//!
//! - Discovery: Organizations DescribeOrganization and ListAccounts, and the OU tree from the
//!   roots (ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent) for each account's
//!   OU and path in the manifest and for `--ou` (a subtree). Without `--ou` a tree that cannot be
//!   read is a warning (the OUs are only for the record); with it, an error.
//!   Only `State` ACTIVE accounts are collected (the retired `Status` where `State` is absent);
//!   the others are listed as skipped.
//! - Every account id from Organizations and STS and every region name is checked before it
//!   becomes part of a path; a bad one is left out with a warning.
//! - Accounts are collected `account_concurrency` at a time, each with its regions
//!   `concurrency` at a time. Organizations and STS calls have their own rate limits.
//! - One account's failure never stops the others; a role that cannot be assumed, or an account
//!   whose every call failed, is `failed` with the AWS error code.
//! - The manifest is rewritten atomically as regions and accounts finish (by one writer task that
//!   coalesces updates), so an interrupted run leaves a manifest that is true: what it lists as
//!   complete has its snapshot on disk, everything else is `pending`. `--resume` reads it and
//!   collects only what it does not show as complete.
//! - `--shard I/N` collects the accounts with `Shard::of(id, N) == I` and writes its own manifest
//!   part listing every account (the others as `other_shard`).
use super::aws::{self, Aws};
use super::credentials::{assume_role_error, MemberCredentials};
use super::progress::OrgProgress;
use super::ratelimit::RateLimit;
use super::{calls, collect_region, now_timestamp, regions, resolve_regions, write_region};
use super::{AccountStamp, CollectError, CollectOptions, Completeness, Recorder, Regions, Written};
use crate::manifest::{
    self, Account, AccountError, Collector, Manifest, Organization, Ou, RegionStatus, Selection,
    Shard,
};
use crate::snapshot::CollectionError;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Accounts collected at the same time when `--account-concurrency` is not given.
///
/// Measured with scripts/bench-collect-org.py (a loopback stub answering every call after 75 ms;
/// BENCHMARKS.md) on a 2-core machine, 4 regions per account at a time, 17 regions: 100 accounts
/// took 50 s at 1, 14 s at 4, 8 s at 8 and 16, 5-8 s at 32; 1,000 accounts took 44 s at 16, 47 s
/// at 32 and 53 s at 64. From 16 on the collector is bound by CPU (about 0.7 ms per call, with the
/// snapshot writes), not by latency: more accounts at a time only add memory (100 MB at 16, 175 MB
/// at 64 for 1,000 accounts). The audited APIs' quotas are per account and region, so accounts
/// do not share them; 16 x 4 regions x 4 calls is about 250 requests in flight.
pub const DEFAULT_ACCOUNT_CONCURRENCY: usize = 16;

/// Organizations calls a second. The Organizations API allows a few requests a second per
/// organization for these operations, shared with every other tool of the organization; 4 a second
/// lists a thousand accounts (50 pages of 20) in about 13 s.
pub const DEFAULT_ORGANIZATIONS_RATE: f64 = 4.0;

/// STS AssumeRole calls a second. STS's quota is per account (the caller's); 20 a second leaves
/// headroom for other users of the same credentials and assumes a thousand roles in 50 s, under
/// the time the accounts' collection takes anyway.
pub const DEFAULT_STS_RATE: f64 = 20.0;

/// The default `--role-session-name` (it appears in the member accounts' CloudTrail).
pub const DEFAULT_SESSION_NAME: &str = "cwl-audit";

/// `--time-limit` of an organization run when not given: 5 h 30 min, under the 6 h a GitHub-hosted
/// job may run, so that the job ends itself with a true manifest, uploads what it collected, and a
/// next run finishes with `--resume` (a job killed at its limit uploads nothing).
pub const DEFAULT_ORG_TIME_LIMIT: Duration = Duration::from_secs(5 * 3600 + 30 * 60);

pub struct OrgOptions {
    /// Where to write, which regions, credentials, endpoint, regions at a time per account
    /// (`concurrency`), retries, progress, recorder: as for one account.
    pub base: CollectOptions,
    pub member_role: String,
    pub external_id: Option<String>,
    pub session_name: String,
    /// `--ou`: only the accounts in these OUs (and the OUs below them).
    pub ous: Vec<String>,
    /// `--accounts`: only these accounts.
    pub accounts: Vec<String>,
    pub exclude_accounts: Vec<String>,
    pub account_concurrency: usize,
    pub resume: bool,
    pub shard: Option<Shard>,
    pub organizations_rate: f64,
    pub sts_rate: f64,
    /// Test hook: stop after this many accounts finished, as an interrupted run would (the
    /// manifest stays as the last write left it, without `finished_at`).
    pub stop_after: Option<usize>,
}

impl OrgOptions {
    pub fn new(base: CollectOptions, member_role: impl Into<String>) -> Self {
        OrgOptions {
            base,
            member_role: member_role.into(),
            external_id: None,
            session_name: DEFAULT_SESSION_NAME.into(),
            ous: Vec::new(),
            accounts: Vec::new(),
            exclude_accounts: Vec::new(),
            account_concurrency: DEFAULT_ACCOUNT_CONCURRENCY,
            resume: false,
            shard: None,
            organizations_rate: DEFAULT_ORGANIZATIONS_RATE,
            sts_rate: DEFAULT_STS_RATE,
            stop_after: None,
        }
    }

    /// The manifest's file: the whole run's, or this shard's part.
    pub fn manifest_path(&self) -> PathBuf {
        match self.shard {
            Some(s) => self
                .base
                .out
                .join(manifest::shard_file_name(s.index, s.count)),
            None => self.base.out.join(manifest::FILE_NAME),
        }
    }
}

/// What an organization collection did.
#[derive(Debug)]
pub struct OrgOutcome {
    pub manifest_path: PathBuf,
    /// The manifest as last written.
    pub manifest: Manifest,
    pub warnings: Vec<String>,
    /// Failed calls recorded in the snapshots written by this run: (account, region, error).
    pub errors: Vec<(String, String, CollectionError)>,
    /// Accounts collected (or attempted) by this run.
    pub attempted: usize,
    /// Accounts the resumed manifest already showed as complete.
    pub kept: usize,
    /// Stopped before every account was done; the manifest lists the rest as `pending`.
    pub interrupted: Option<Interruption>,
    pub status: Completeness,
}

/// Why a run stopped before every account was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// `--time-limit` (seconds) was reached.
    TimeLimit(u64),
    /// The test hook `--stop-after-accounts`.
    StopAfter(usize),
}

impl OrgOutcome {
    /// The manifest's entries with this status.
    pub fn accounts_with(&self, status: manifest::Status) -> Vec<&Account> {
        self.manifest
            .accounts
            .iter()
            .filter(|a| a.status == status)
            .collect()
    }
}

/// What to do about a failed Organizations call, by its error code.
fn organizations_hint(code: &str) -> &'static str {
    match code {
        c if c.contains("Throttl") || c == "TooManyRequestsException" => {
            "Organizations kept throttling after the retries (its quota is shared by every tool of the organization): run again later, or with more --max-attempts"
        }
        "TimeoutError" | "DispatchFailure" => {
            "check the network, the proxy settings and --endpoint-url"
        }
        _ => "run with the management account's credentials or a delegated administrator's (`cwl-audit iam-policy --organization` prints the permissions)",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(
        "cannot read the organization: Organizations {operation} failed ({code}: {message}); {}",
        organizations_hint(code)
    )]
    Organizations {
        operation: String,
        code: String,
        message: String,
    },
    #[error("Organizations returned {what} {value:?}, which is not valid; nothing was written")]
    BadOrganization { what: &'static str, value: String },
    #[error("Organizations listed no account of organization {organization}: run with the management account's credentials or a delegated administrator's (a member account sees none)")]
    NoAccounts { organization: String },
    #[error("--accounts: {ids} not in organization {organization}; nothing was collected")]
    NotMembers { ids: String, organization: String },
    #[error("--ou {ou}: no such OU or root in organization {organization}")]
    UnknownOu { ou: String, organization: String },
    #[error("another `collect --organization` is writing to {out} (it holds {out}/.cwl-audit.lock): wait for it to finish, or use another --out")]
    Busy { out: String },
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
    #[error("--resume: {error}; run without --resume to start over")]
    ResumeUnreadable { error: String },
    #[error("--resume: {path}: {reason}")]
    Resume { path: String, reason: String },
    #[error("cannot write the run manifest {path}: {source}")]
    Manifest {
        path: String,
        source: std::io::Error,
    },
}

impl From<CollectionError> for OrgError {
    fn from(e: CollectionError) -> Self {
        OrgError::Organizations {
            operation: e.operation,
            code: e.code,
            message: e.message,
        }
    }
}

/// An OU id (`ou-xxxx-yyyyyyyy`) or a root id (`r-xxxx`), as Organizations spells them.
pub fn is_ou_id(s: &str) -> bool {
    let lower_alnum = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = s.strip_prefix("ou-") {
        let parts: Vec<&str> = rest.split('-').collect();
        return parts.len() == 2
            && (4..=32).contains(&parts[0].len())
            && (8..=32).contains(&parts[1].len())
            && parts.iter().all(|p| lower_alnum(p));
    }
    if let Some(rest) = s.strip_prefix("r-") {
        return (4..=32).contains(&rest.len()) && lower_alnum(rest);
    }
    false
}

fn is_organization_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Collects the organization. Blocks; runs its own async runtime.
pub fn run(opts: &OrgOptions) -> Result<OrgOutcome, OrgError> {
    super::check_requested_regions(&opts.base.regions)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CollectError::Runtime)?;
    rt.block_on(async {
        match opts.base.time_limit {
            // The accounts stop at the limit (run_async); this bounds the discovery before them
            // too, with a little more (a tenth, at most a minute) to close the manifest.
            Some(limit) => tokio::time::timeout(
                limit + (limit / 10).min(Duration::from_secs(60)),
                run_async(opts),
            )
            .await
            .unwrap_or(Err(CollectError::TimeLimit(limit.as_secs()).into())),
            None => run_async(opts).await,
        }
    })
}

/// The state words of an account that is not collected because of its state.
fn state_reason(state: Option<&str>) -> String {
    match state {
        Some(s) => s.to_ascii_lowercase().replace('_', " "),
        None => "no state reported by Organizations".into(),
    }
}

/// Every account of the organization with what this run does with it, before resuming.
fn plan(listed: &[calls::ListedAccount], tree: Option<&Tree>, opts: &OrgOptions) -> Vec<Account> {
    let selected_ous: BTreeSet<&str> = opts.ous.iter().map(String::as_str).collect();
    // With --ou the tree is always there (run_async refuses to go on without it).
    let in_selection = |id: &str| {
        selected_ous.is_empty()
            || tree
                .and_then(|t| t.ou_of.get(id).map(|o| t.is_within(&o.id, &selected_ous)))
                .unwrap_or(false)
    };
    let only: BTreeSet<&str> = opts.accounts.iter().map(String::as_str).collect();
    let excluded: BTreeSet<&str> = opts.exclude_accounts.iter().map(String::as_str).collect();
    listed
        .iter()
        .map(|a| {
            let ou = tree.and_then(|t| t.ou_of.get(&a.id)).cloned();
            let mut entry = Account {
                account_id: a.id.clone(),
                name: a.name.clone(),
                ou,
                state: a.state.clone(),
                status: manifest::Status::Pending,
                reason: None,
                error: None,
                regions: BTreeMap::new(),
                shard: None,
            };
            let skip = if a.state.as_deref() != Some("ACTIVE") {
                Some(state_reason(a.state.as_deref()))
            } else if !in_selection(&a.id) {
                Some(format!("not in --ou {}", opts.ous.join(",")))
            } else if !only.is_empty() && !only.contains(a.id.as_str()) {
                Some("not in --accounts".to_string())
            } else if excluded.contains(a.id.as_str()) {
                Some("excluded by --exclude-accounts".to_string())
            } else {
                None
            };
            if let Some(reason) = skip {
                entry.status = manifest::Status::Skipped;
                entry.reason = Some(reason);
            } else if let Some(s) = opts.shard {
                let mine = Shard::of(&a.id, s.count);
                entry.shard = Some(mine);
                if mine != s.index {
                    entry.status = manifest::Status::OtherShard;
                }
            }
            entry
        })
        .collect()
}

/// The organization's OU tree, walked from its roots.
#[derive(Debug, Default)]
struct Tree {
    /// Each account's OU (or root), with the path of names from the root down.
    ou_of: BTreeMap<String, Ou>,
    /// Each OU's parent; roots have none.
    parent: BTreeMap<String, String>,
    /// Every root and OU id seen.
    nodes: BTreeSet<String>,
}

impl Tree {
    /// Whether `ou` is one of `under` or below one of them.
    fn is_within(&self, ou: &str, under: &BTreeSet<&str>) -> bool {
        let mut at = Some(ou);
        // Bounded by the number of nodes, so an odd answer (a cycle) cannot loop forever.
        for _ in 0..=self.nodes.len() {
            let Some(id) = at else { return false };
            if under.contains(id) {
                return true;
            }
            at = self.parent.get(id).map(String::as_str);
        }
        false
    }
}

/// Walks the OU tree from the roots: ListRoots, then for every root and OU the accounts directly in
/// it (ListAccountsForParent) and the OUs below it (ListOrganizationalUnitsForParent). Two calls
/// per OU, at the Organizations rate: an organization of 100 OUs takes about 50 s at 4 a second.
async fn walk_tree(
    c: &aws_sdk_organizations::Client,
    limit: &RateLimit,
) -> Result<Tree, CollectionError> {
    let mut tree = Tree::default();
    let mut queue: VecDeque<(String, String)> = calls::list_roots(c, limit)
        .await?
        .into_iter()
        .map(|(id, name)| (id, if name.is_empty() { "Root".into() } else { name }))
        .collect();
    while let Some((node, path)) = queue.pop_front() {
        if !tree.nodes.insert(node.clone()) {
            continue;
        }
        for a in calls::list_accounts_for_parent(c, limit, &node).await? {
            tree.ou_of.insert(
                a.id,
                Ou {
                    id: node.clone(),
                    path: Some(path.clone()),
                },
            );
        }
        for (child, name) in calls::list_ous_for_parent(c, limit, &node).await? {
            tree.parent.entry(child.clone()).or_insert(node.clone());
            queue.push_back((child, format!("{path}/{name}")));
        }
    }
    Ok(tree)
}

/// Checks that a manifest to resume was written for the same run.
fn check_resumable(old: &Manifest, new: &Manifest) -> Result<(), String> {
    let differs = |what: &str, a: String, b: String| {
        Err(format!(
            "it was written for {what} {a}, this run is for {b}; run without --resume to start over"
        ))
    };
    if old.organization.id != new.organization.id {
        return differs(
            "organization",
            old.organization.id.clone(),
            new.organization.id.clone(),
        );
    }
    if old.caller_account_id != new.caller_account_id {
        return differs(
            "the credentials of account",
            old.caller_account_id.clone(),
            new.caller_account_id.clone(),
        );
    }
    if old.member_role != new.member_role {
        return differs(
            "--member-role",
            old.member_role.clone(),
            new.member_role.clone(),
        );
    }
    let regions = |m: &Manifest| {
        if m.all_regions {
            "--all-regions".to_string()
        } else {
            m.regions.join(",")
        }
    };
    if old.regions != new.regions || old.all_regions != new.all_regions {
        return differs("regions", regions(old), regions(new));
    }
    let shard = |m: &Manifest| {
        m.shard.map_or("no --shard".into(), |s| {
            format!("--shard {}/{}", s.index, s.count)
        })
    };
    if old.shard != new.shard {
        return differs("", shard(old), shard(new));
    }
    if old.selection != new.selection {
        return differs(
            "the selection",
            format!("{:?}", old.selection),
            format!("{:?}", new.selection),
        );
    }
    Ok(())
}

/// The shortest time between two writes of the manifest during a run. An interrupted run loses at
/// most this much progress from the manifest (those regions are collected again by --resume),
/// never claims more than is on disk.
const MIN_WRITE_INTERVAL: Duration = Duration::from_millis(500);

/// The manifest shared by the account tasks and its writer: every change marks it dirty, and
/// one task writes it (atomically) whenever it is dirty, so writes coalesce under load and never
/// block the collection.
struct Journal {
    path: PathBuf,
    state: Mutex<Manifest>,
    index: BTreeMap<String, usize>,
    dirty: Mutex<Option<tokio::sync::mpsc::Sender<()>>>,
    error: Mutex<Option<std::io::Error>>,
}

impl Journal {
    fn new(path: PathBuf, m: Manifest) -> Arc<Journal> {
        let index = m
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.account_id.clone(), i))
            .collect();
        Arc::new(Journal {
            path,
            state: Mutex::new(m),
            index,
            dirty: Mutex::new(None),
            error: Mutex::new(None),
        })
    }

    fn snapshot(&self) -> Manifest {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn write_now(&self) {
        let m = self.snapshot();
        let mut text = serde_json::to_string_pretty(&m).expect("a manifest serializes");
        text.push('\n');
        if let Err(e) = crate::fsutil::write_atomic(&self.path, text.as_bytes()) {
            let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(e);
            }
        }
    }

    /// Starts the writer task. It writes once at the start, then after every change, and a last
    /// time when [`Journal::close`] drops the channel.
    fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        // Capacity 1: a change while one is already queued is folded into that write.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        let me = self.clone();
        tokio::spawn(async move {
            let mut last: Option<tokio::time::Instant> = None;
            loop {
                let mut more = rx.recv().await.is_some();
                // At most one write per MIN_WRITE_INTERVAL while changes keep coming (a large
                // organization changes it thousands of times; each write is the whole file and an
                // fsync), but the last one at once.
                if let (true, Some(l)) = (more, last) {
                    let deadline = l + MIN_WRITE_INTERVAL;
                    loop {
                        tokio::select! {
                            _ = tokio::time::sleep_until(deadline) => break,
                            m = rx.recv() => if m.is_none() {
                                more = false;
                                break;
                            },
                        }
                    }
                }
                let w = me.clone();
                // The write does file I/O and fsync: off the async workers.
                let _ = tokio::task::spawn_blocking(move || w.write_now()).await;
                last = Some(tokio::time::Instant::now());
                if !more {
                    break;
                }
            }
        })
    }

    fn touch(&self) {
        if let Some(tx) = self
            .dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = tx.try_send(());
        }
    }

    fn update(&self, account: &str, f: impl FnOnce(&mut Account)) {
        if let Some(&i) = self.index.get(account) {
            let mut m = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(a) = m.accounts.get_mut(i) {
                f(a);
            }
        }
        self.touch();
    }

    fn set_finished(&self, at: String) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .finished_at = Some(at);
    }

    /// Stops the writer after a last write of the current state, and waits for it.
    async fn close(&self, writer: tokio::task::JoinHandle<()>) -> Result<(), OrgError> {
        self.dirty.lock().unwrap_or_else(|e| e.into_inner()).take();
        let _ = writer.await;
        match self.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(source) => Err(OrgError::Manifest {
                path: self.path.display().to_string(),
                source,
            }),
            None => Ok(()),
        }
    }
}

/// Shared by every account task.
struct Ctx {
    base: Aws,
    recorder: Arc<Recorder>,
    journal: Arc<Journal>,
    sts_limit: Arc<RateLimit>,
    caller: String,
    partition: String,
    sts_region: String,
    configured: Option<String>,
    regions: Regions,
    role: String,
    external_id: Option<String>,
    session_name: String,
    out: PathBuf,
    redact: bool,
    concurrency: usize,
    progress: OrgProgress,
    regions_done: AtomicUsize,
    errors: AtomicUsize,
    failed: AtomicUsize,
}

/// One account's result for the outcome (its manifest entry is in the journal).
struct AccountDone {
    warnings: Vec<String>,
    errors: Vec<(String, CollectionError)>,
    status: manifest::Status,
}

/// The role ARN of `account`.
fn role_arn(partition: &str, account: &str, role: &str) -> String {
    crate::arn::role(partition, account, role)
}

/// The most frequent error code (alphabetically first on a tie): what "every call failed" says.
fn main_code(errors: &[(String, CollectionError)]) -> (String, String) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, e) in errors {
        *counts.entry(e.code.as_str()).or_default() += 1;
    }
    let best = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(c, _)| c.to_string());
    match best {
        Some(code) => {
            let first = errors.iter().find(|(_, e)| e.code == code);
            let message = first
                .map(|(r, e)| format!("{r}: {} {}: {}", e.service, e.operation, e.message))
                .unwrap_or_default();
            (code, message)
        }
        None => (
            "NoRegion".into(),
            "no region of the account could be collected".into(),
        ),
    }
}

async fn collect_account(
    ctx: Arc<Ctx>,
    account: String,
    complete: BTreeSet<String>,
) -> AccountDone {
    let mut done = AccountDone {
        warnings: Vec::new(),
        errors: Vec::new(),
        status: manifest::Status::Failed,
    };
    let fail = |done: &mut AccountDone, operation: &str, code: String, message: String| {
        ctx.journal.update(&account, |a| {
            a.status = manifest::Status::Failed;
            a.error = Some(AccountError {
                operation: operation.into(),
                code,
                message: Some(message),
            });
        });
        ctx.failed.fetch_add(1, Ordering::Relaxed);
        done.status = manifest::Status::Failed;
    };
    let aws = if account == ctx.caller {
        ctx.base.clone()
    } else {
        let arn = role_arn(&ctx.partition, &account, &ctx.role);
        let provider = ctx
            .base
            .assume_role_provider(
                &arn,
                &ctx.session_name,
                ctx.external_id.as_deref(),
                &ctx.sts_region,
            )
            .await;
        let creds = MemberCredentials::new(provider, ctx.sts_limit.clone(), ctx.recorder.clone());
        // Assumed once here, so that a role that cannot be assumed is one clear error instead of
        // a credentials failure in every call of every region.
        if let Err(e) = creds.get().await {
            let (code, message) = assume_role_error(&e);
            fail(&mut done, "AssumeRole", code, message);
            return done;
        }
        ctx.base
            .with_credentials(aws_sdk_sts::config::SharedCredentialsProvider::new(creds))
    };
    let mut listing_failed = Vec::new();
    let regions = match resolve_regions(
        &aws,
        &ctx.regions,
        ctx.configured.clone(),
        &account,
        &ctx.partition,
        &mut done.warnings,
        &mut listing_failed,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            fail(&mut done, "ListRegions", "NoRegion".into(), e.to_string());
            return done;
        }
    };
    for w in &mut done.warnings {
        *w = format!("account {account}: {w}");
    }
    let todo: Vec<String> = regions
        .into_iter()
        .filter(|r| !complete.contains(r))
        .collect();
    let header = Arc::new(AccountStamp {
        account_id: account.clone(),
        partition: ctx.partition.clone(),
        collected_at: now_timestamp(),
        redact: ctx.redact,
    });
    let aws = Arc::new(aws);
    let sem = Arc::new(tokio::sync::Semaphore::new(ctx.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for region in todo {
        let (aws, sem, header, ctx, account) = (
            aws.clone(),
            sem.clone(),
            header.clone(),
            ctx.clone(),
            account.clone(),
        );
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let r = collect_region(&aws, region, &header).await;
            // The file is written and fsynced off the async workers: with a thousand accounts,
            // fsyncs on the two workers of a 2-core machine stalled every account's calls.
            let (out, id) = (ctx.out.clone(), account.clone());
            let (r, written) = match tokio::task::spawn_blocking(move || {
                let w = write_region(&out, &id, &r);
                (r, w)
            })
            .await
            {
                Ok(x) => x,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            };
            if let Ok(Written::File(_)) = &written {
                let status = if r.errors.is_empty() {
                    RegionStatus::Complete
                } else {
                    RegionStatus::Partial
                };
                // After the snapshot is on disk: the manifest never shows a region complete
                // whose file is not there.
                ctx.journal.update(&account, |a| {
                    a.regions.insert(r.region.clone(), status);
                });
            }
            ctx.regions_done.fetch_add(1, Ordering::Relaxed);
            ctx.errors.fetch_add(r.errors.len(), Ordering::Relaxed);
            (r, written)
        });
    }
    let mut successes = 0;
    let mut written_any = !complete.is_empty();
    let mut partial = false;
    let mut write_error = None;
    while let Some(joined) = tasks.join_next().await {
        let (r, written) = match joined {
            Ok(x) => x,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        match written {
            Ok(Written::File(_)) => {
                written_any = true;
                successes += r.successes;
                partial |= !r.errors.is_empty();
                done.errors
                    .extend(r.errors.into_iter().map(|e| (r.region.clone(), e)));
            }
            Ok(Written::NotEnabled(why)) => {
                done.warnings.push(format!(
                    "account {account}: region {} skipped: {why}",
                    r.region
                ));
            }
            Err(e) => {
                write_error.get_or_insert(e.to_string());
            }
        }
    }
    if let Some(e) = write_error {
        fail(&mut done, "write", "WriteFailed".into(), e);
        return done;
    }
    if !written_any || (successes == 0 && complete.is_empty()) {
        let (code, message) = main_code(&done.errors);
        fail(&mut done, "collect", code, message);
        return done;
    }
    // The regions could not be listed (--all-regions): the default-enabled ones were collected,
    // opt-in ones may be missing, so the account is partial and says why.
    let listing_error = listing_failed.first().map(|e| AccountError {
        operation: e.operation.clone(),
        code: e.code.clone(),
        message: Some(e.message.clone()),
    });
    done.errors.extend(
        listing_failed
            .into_iter()
            .map(|e| ("(account)".to_string(), e)),
    );
    let status = if partial || listing_error.is_some() {
        manifest::Status::Partial
    } else {
        manifest::Status::Collected
    };
    ctx.journal.update(&account, |a| {
        a.status = status;
        a.error = listing_error;
    });
    done.status = status;
    done
}

/// The lock file in `--out`: a second organization run writing the same directory would overwrite
/// the first one's manifest, so one run at a time holds it (released when the process ends, even
/// killed). Hidden, so `eval` does not read it.
const LOCK_FILE: &str = ".cwl-audit.lock";

/// Held for the run; the file is removed when the run ends (a killed run leaves it, unlocked).
struct OutLock {
    path: PathBuf,
    _file: std::fs::File,
}

impl Drop for OutLock {
    fn drop(&mut self) {
        // Removed while still locked: a run that starts now opens a new file and locks that.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn lock_out(out: &std::path::Path) -> Result<OutLock, OrgError> {
    let path = out.join(LOCK_FILE);
    let io = |source| OrgError::Lock {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(out).map_err(io)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match f.try_lock() {
        Ok(()) => Ok(OutLock { path, _file: f }),
        Err(std::fs::TryLockError::WouldBlock) => Err(OrgError::Busy {
            out: out.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

async fn run_async(opts: &OrgOptions) -> Result<OrgOutcome, OrgError> {
    let deadline = opts
        .base
        .time_limit
        .map(|l| tokio::time::Instant::now() + l);
    let recorder = opts.base.recorder.clone().unwrap_or_default();
    let base = Aws::load(&opts.base, recorder.clone()).await;
    let configured = base.configured_region();
    let sts_region = configured
        .clone()
        .unwrap_or_else(|| aws::fallback_region(&opts.base));
    let (caller, partition) = calls::caller_identity(&base.sts(&sts_region))
        .await
        .map_err(|e| CollectError::Identity {
            code: e.code,
            message: e.message,
        })?;
    if !crate::arn::is_account_id(&caller) {
        return Err(CollectError::BadAccountId(caller).into());
    }
    // One region for every account unless --all-regions: the list, or the configured region.
    let regions = match &opts.base.regions {
        Regions::Configured => {
            let r = vec![configured.clone().ok_or(CollectError::NoRegion)?];
            regions::check_known(regions::FROM_CONFIG, &r).map_err(CollectError::from)?;
            regions::check_partition(regions::FROM_CONFIG, &r, &caller, &partition)
                .map_err(CollectError::from)?;
            Regions::List(r)
        }
        Regions::List(l) => {
            regions::check_partition(regions::FROM_FLAG, l, &caller, &partition)
                .map_err(CollectError::from)?;
            Regions::List(l.clone())
        }
        Regions::All => Regions::All,
    };
    let mut asked: Vec<String> = match &regions {
        Regions::List(l) => l.clone(),
        _ => Vec::new(),
    };
    asked.sort();
    asked.dedup();

    let org_limit = RateLimit::per_second(opts.organizations_rate);
    let orgs = base.organizations(super::account_api_region(&partition));
    let info = calls::describe_organization(&orgs, &org_limit).await?;
    if !is_organization_id(&info.id) {
        return Err(OrgError::BadOrganization {
            what: "the organization id",
            value: info.id,
        });
    }
    if !crate::arn::is_account_id(&info.management_account_id) {
        return Err(OrgError::BadOrganization {
            what: "the management account id",
            value: info.management_account_id,
        });
    }
    let mut warnings = Vec::new();
    let mut listed = Vec::new();
    let mut seen = BTreeSet::new();
    let mut invalid = Vec::new();
    for a in calls::list_accounts(&orgs, &org_limit).await? {
        if !crate::arn::is_account_id(&a.id) {
            // Never a path; recorded (quoted and escaped) so that the run is partial and eval
            // says the organization is not proven.
            let shown = format!("{:?}", a.id);
            warnings.push(format!(
                "Organizations listed the account id {shown}, which is not 12 digits: not collected"
            ));
            invalid.push(shown);
        } else if seen.insert(a.id.clone()) {
            listed.push(a);
        }
    }
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    if listed.is_empty() {
        return Err(OrgError::NoAccounts {
            organization: info.id.clone(),
        });
    }
    // A typo in --accounts would otherwise collect nothing and succeed.
    let strangers: Vec<&str> = opts
        .accounts
        .iter()
        .filter(|id| !seen.contains(*id))
        .map(String::as_str)
        .collect();
    if !strangers.is_empty() {
        return Err(OrgError::NotMembers {
            ids: strangers.join(", "),
            organization: info.id.clone(),
        });
    }
    for id in &opts.exclude_accounts {
        if !seen.contains(id) {
            warnings.push(format!(
                "--exclude-accounts {id}: not an account of organization {}",
                info.id
            ));
        }
    }
    let tree = match walk_tree(&orgs, &org_limit).await {
        Ok(t) => Some(t),
        // Without --ou the OUs are for the record only: the run goes on without them.
        Err(e) if opts.ous.is_empty() => {
            warnings.push(format!(
                "the accounts' OUs are not recorded in the manifest: Organizations {} failed ({}: {})",
                e.operation, e.code, e.message
            ));
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(t) = &tree {
        if let Some(bad) = opts.ous.iter().find(|o| !t.nodes.contains(*o)) {
            return Err(OrgError::UnknownOu {
                ou: bad.clone(),
                organization: info.id.clone(),
            });
        }
    }
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    };
    let mut m = Manifest {
        format: manifest::FORMAT_V1.into(),
        organization: Organization {
            id: info.id.clone(),
            management_account_id: info.management_account_id.clone(),
            partition: partition.clone(),
        },
        caller_account_id: caller.clone(),
        member_role: opts.member_role.clone(),
        regions: asked,
        all_regions: matches!(regions, Regions::All),
        shard: opts.shard,
        selection: Selection {
            ous: sorted(&opts.ous),
            accounts: sorted(&opts.accounts),
            exclude_accounts: sorted(&opts.exclude_accounts),
        },
        started_at: now_timestamp(),
        finished_at: None,
        collector: Collector {
            name: "cwl-audit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        accounts: plan(&listed, tree.as_ref(), opts),
        invalid_account_ids: invalid,
    };

    // What to collect per account: every region, or (resuming) those not yet complete.
    let path = opts.manifest_path();
    let mut work: Vec<(String, BTreeSet<String>)> = Vec::new();
    let mut kept = 0;
    let old = if opts.resume {
        if path.exists() {
            // The load error names the file and the place already.
            let loaded = manifest::load(&path).map_err(|e| OrgError::ResumeUnreadable {
                error: e.error.to_string(),
            })?;
            check_resumable(&loaded.manifest, &m).map_err(|reason| OrgError::Resume {
                path: path.display().to_string(),
                reason,
            })?;
            Some(loaded.manifest)
        } else {
            warnings.push(format!(
                "--resume: no manifest at {}; collecting every account",
                path.display()
            ));
            None
        }
    } else {
        None
    };
    if let Some(old) = &old {
        m.started_at = old.started_at.clone();
    }
    let old_by_id: BTreeMap<&str, &Account> = old
        .as_ref()
        .map(|o| {
            o.accounts
                .iter()
                .map(|a| (a.account_id.as_str(), a))
                .collect()
        })
        .unwrap_or_default();
    for a in &mut m.accounts {
        if a.status != manifest::Status::Pending {
            continue;
        }
        let prev = old_by_id.get(a.account_id.as_str());
        // What the manifest shows as complete counts only if its snapshot is still on disk (a
        // directory deleted or not restored between runs is collected again, not trusted).
        let on_disk = |r: &str| {
            opts.base
                .out
                .join(&a.account_id)
                .join(format!("{r}.json"))
                .is_file()
        };
        let prev_regions = prev.map(|p| p.regions.clone()).unwrap_or_default();
        let all_there = !prev_regions.is_empty() && prev_regions.keys().all(|r| on_disk(r));
        match prev.map(|p| p.status) {
            Some(manifest::Status::Collected) if all_there => {
                a.status = manifest::Status::Collected;
                a.regions = prev_regions;
                kept += 1;
            }
            Some(
                manifest::Status::Collected
                | manifest::Status::Partial
                | manifest::Status::Failed
                | manifest::Status::Pending,
            ) => {
                // Complete regions whose file is there stay; partial ones are collected again.
                a.regions = prev_regions
                    .into_iter()
                    .filter(|(r, s)| *s == RegionStatus::Complete && on_disk(r))
                    .collect();
                work.push((a.account_id.clone(), a.regions.keys().cloned().collect()));
            }
            _ => work.push((a.account_id.clone(), BTreeSet::new())),
        }
    }

    // Taken before anything is written, so a run that fails during discovery leaves nothing
    // behind; a second run into the same --out while this one holds it is refused (exit 2).
    let _lock = lock_out(&opts.base.out)?;
    let journal = Journal::new(path.clone(), m);
    let writer = journal.start();
    journal.touch();
    let ctx = Arc::new(Ctx {
        base,
        recorder: recorder.clone(),
        journal: journal.clone(),
        sts_limit: Arc::new(RateLimit::per_second(opts.sts_rate)),
        caller,
        partition,
        sts_region,
        configured,
        regions,
        role: opts.member_role.clone(),
        external_id: opts.external_id.clone(),
        session_name: opts.session_name.clone(),
        out: opts.base.out.clone(),
        redact: opts.base.redact_endpoints,
        concurrency: opts.base.concurrency,
        progress: OrgProgress::new(opts.base.progress, work.len()),
        regions_done: AtomicUsize::new(0),
        errors: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
    });
    let ticker = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                ctx.progress.update(
                    ctx.regions_done.load(Ordering::Relaxed),
                    ctx.recorder.calls(),
                    ctx.errors.load(Ordering::Relaxed),
                    ctx.failed.load(Ordering::Relaxed),
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let attempted = work.len();
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.account_concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (account, complete) in work {
        let (ctx, sem) = (ctx.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let done = collect_account(ctx.clone(), account.clone(), complete).await;
            ctx.progress.account_done();
            (account, done)
        });
    }
    let mut errors = Vec::new();
    let mut finished = 0;
    let mut interrupted = None;
    loop {
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d, tasks.join_next()).await {
                Ok(n) => n,
                Err(_) => {
                    // As a killed run (below), but on purpose: the manifest is true and
                    // --resume finishes.
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    interrupted = opts
                        .base
                        .time_limit
                        .map(|l| Interruption::TimeLimit(l.as_secs()));
                    break;
                }
            },
            None => tasks.join_next().await,
        };
        let Some(joined) = next else { break };
        let (account, done) = match joined {
            Ok(x) => x,
            Err(e) if e.is_cancelled() => continue,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        warnings.extend(done.warnings);
        errors.extend(
            done.errors
                .into_iter()
                .map(|(region, e)| (account.clone(), region, e)),
        );
        finished += 1;
        if opts.stop_after.is_some_and(|n| finished >= n) && !tasks.is_empty() {
            // As a killed run: the accounts in flight are dropped at their next await (a
            // snapshot is written synchronously, so never half), the manifest keeps what the
            // last write said.
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
            interrupted = opts.stop_after.map(Interruption::StopAfter);
            break;
        }
    }
    ticker.abort();
    ctx.progress.update(
        ctx.regions_done.load(Ordering::Relaxed),
        recorder.calls(),
        ctx.errors.load(Ordering::Relaxed),
        ctx.failed.load(Ordering::Relaxed),
    );
    ctx.progress.finish();
    if interrupted.is_none() {
        journal.set_finished(now_timestamp());
    }
    journal.close(writer).await?;
    let manifest = journal.snapshot();

    let selected: Vec<&Account> = manifest
        .accounts
        .iter()
        .filter(|a| {
            matches!(
                a.status,
                manifest::Status::Collected
                    | manifest::Status::Partial
                    | manifest::Status::Failed
                    | manifest::Status::Pending
            )
        })
        .collect();
    let usable = selected
        .iter()
        .filter(|a| {
            matches!(
                a.status,
                manifest::Status::Collected | manifest::Status::Partial
            )
        })
        .count();
    let status = if selected.is_empty() {
        // Every account skipped (excluded, suspended, outside --ou): nothing is proven. A shard
        // may be empty in a small organization; the other shards prove theirs.
        if opts.shard.is_some() {
            Completeness::Complete
        } else {
            Completeness::Unusable
        }
    } else if selected
        .iter()
        .all(|a| a.status == manifest::Status::Collected)
        && manifest.invalid_account_ids.is_empty()
    {
        Completeness::Complete
    } else if usable == 0 {
        Completeness::Unusable
    } else {
        Completeness::Partial
    };
    if selected.is_empty() {
        warnings.push(match opts.shard {
            Some(s) => format!(
                "no account of the organization to collect in shard {}/{}",
                s.index, s.count
            ),
            None => "no account of the organization to collect".into(),
        });
    }
    Ok(OrgOutcome {
        manifest_path: path,
        manifest,
        warnings,
        errors,
        attempted,
        kept,
        interrupted,
        status,
    })
}

/// The `--shard I/N` argument.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("{s:?} is not a shard I/N with 1 <= I <= N <= 1000 (e.g. 2/4)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u32 = i.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if index == 0 || count == 0 || index > count || count > 1000 {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str, state: Option<&str>) -> calls::ListedAccount {
        calls::ListedAccount {
            id: id.into(),
            name: Some(format!("n{id}")),
            state: state.map(str::to_string),
        }
    }

    #[test]
    fn only_active_selected_accounts_are_collected() {
        let listed = vec![
            acct("111111111111", Some("ACTIVE")),
            acct("222222222222", Some("SUSPENDED")),
            acct("333333333333", Some("PENDING_CLOSURE")),
            acct("444444444444", Some("ACTIVE")),
            acct("555555555555", None),
            acct("666666666666", Some("ACTIVE")),
        ];
        let mut o = OrgOptions::new(CollectOptions::default(), "R");
        o.exclude_accounts = vec!["444444444444".into()];
        let p = plan(&listed, None, &o);
        let st: Vec<(manifest::Status, Option<&str>)> =
            p.iter().map(|a| (a.status, a.reason.as_deref())).collect();
        use manifest::Status::*;
        assert_eq!(
            st,
            vec![
                (Pending, None),
                (Skipped, Some("suspended")),
                (Skipped, Some("pending closure")),
                (Skipped, Some("excluded by --exclude-accounts")),
                (Skipped, Some("no state reported by Organizations")),
                (Pending, None),
            ]
        );
        o.exclude_accounts.clear();
        o.accounts = vec!["666666666666".into()];
        let p = plan(&listed, None, &o);
        assert_eq!(p[0].reason.as_deref(), Some("not in --accounts"));
        assert_eq!(p[5].status, Pending);
    }

    #[test]
    fn shards_split_the_active_accounts_and_list_all() {
        let listed: Vec<_> = (0..10)
            .map(|i| acct(&format!("1000000000{i:02}"), Some("ACTIVE")))
            .collect();
        let mut mine = BTreeSet::new();
        for index in 1..=3 {
            let mut o = OrgOptions::new(CollectOptions::default(), "R");
            o.shard = Some(Shard { index, count: 3 });
            let p = plan(&listed, None, &o);
            assert_eq!(p.len(), 10, "every part lists every account");
            for a in &p {
                assert_eq!(a.shard, Some(Shard::of(&a.account_id, 3)));
                if a.status == manifest::Status::Pending {
                    assert!(mine.insert(a.account_id.clone()), "collected twice");
                } else {
                    assert_eq!(a.status, manifest::Status::OtherShard);
                }
            }
        }
        assert_eq!(mine.len(), 10, "every account in exactly one shard");
    }

    #[test]
    fn ids_and_shards_are_checked() {
        assert!(is_ou_id("ou-ab12-cdef3456"));
        assert!(is_ou_id("r-ab12"));
        for bad in [
            "ou-ab12",
            "ou-AB12-cdef3456",
            "../ou",
            "r-",
            "ou-ab12-cdef345/",
            "",
        ] {
            assert!(!is_ou_id(bad), "{bad}");
        }
        assert!(is_organization_id("o-abcdef1234"));
        assert!(!is_organization_id("o-../../x"));
        assert_eq!(parse_shard("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1", "a/b", "1/0", "1/1001"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_most_frequent_code_speaks_for_a_failed_account() {
        let e = |code: &str| CollectionError {
            service: "cloudtrail".into(),
            operation: "DescribeTrails".into(),
            resource: None,
            code: code.into(),
            message: "m".into(),
        };
        let errs = vec![
            ("us-east-1".to_string(), e("Throttling")),
            ("us-east-1".to_string(), e("AccessDenied")),
            ("eu-west-1".to_string(), e("AccessDenied")),
        ];
        assert_eq!(main_code(&errs).0, "AccessDenied");
        assert_eq!(main_code(&[]).0, "NoRegion");
    }
}
