//! `cwl-audit collect`: read the configuration the rules need from one AWS account, region by region,
//! and write one snapshot per region (`<out>/<account>/<region>.json`, docs/snapshot-format.md).
//!
//! Read-only by construction: the only calls are in [`calls`] (listed with their IAM actions in
//! [`crate::iam`]). A failed call is recorded in the snapshot's `errors` with its AWS error code and
//! the rest goes on; its section stays absent ("missing is not empty").
mod aws;
pub mod calls;
pub mod convert;
mod credentials;
pub mod errors;
pub mod org;
mod progress;
mod ratelimit;
pub mod record;
pub mod regions;

pub use record::Recorder;

use crate::snapshot::{CollectionError, FORMAT_V1};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Which regions to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// The region of the environment or profile (AWS_REGION, `region` in the profile).
    Configured,
    /// These regions.
    List(Vec<String>),
    /// Every region enabled for the account (Account ListRegions; a built-in list if that fails).
    All,
}

pub struct CollectOptions {
    pub out: PathBuf,
    pub profile: Option<String>,
    pub regions: Regions,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub endpoint_url: Option<String>,
    pub redact_endpoints: bool,
    /// Regions collected at the same time (at least 1).
    pub concurrency: usize,
    /// Show the progress line (the caller decides: a terminal and not --quiet).
    pub progress: bool,
    /// Attempts per call, the first included (adaptive retry).
    pub max_attempts: u32,
    /// First retry backoff (the SDK's default when `None`); tests make it tiny.
    pub initial_backoff: Option<Duration>,
    /// Records every operation and attempt (tests); one is created when `None`.
    pub recorder: Option<Arc<Recorder>>,
    /// Bound of one call, every attempt and backoff included.
    pub call_timeout: Duration,
    /// Bound of the whole run (`None`: none).
    pub time_limit: Option<Duration>,
}

/// `--call-timeout` when not given: one call, all its attempts and backoffs. An attempt alone is
/// bounded by [`ATTEMPT_TIMEOUT`], a connection by [`CONNECT_TIMEOUT`].
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// One attempt of a call: the audited APIs answer a page in well under a second; 30 s is a
/// stalled connection, retried.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Opening a connection (TCP and TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// `--time-limit` of one account when not given.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(3600);

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            out: PathBuf::from("snapshots"),
            profile: None,
            regions: Regions::Configured,
            role_arn: None,
            external_id: None,
            endpoint_url: None,
            redact_endpoints: false,
            concurrency: 4,
            progress: false,
            max_attempts: 5,
            initial_backoff: None,
            recorder: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            time_limit: Some(DEFAULT_TIME_LIMIT),
        }
    }
}

/// How complete a collection is; the CLI's exit code (0, 3, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Every call succeeded.
    Complete,
    /// Snapshots were written, and some calls failed (recorded in their `errors`).
    Partial,
    /// Nothing usable: no call returned data.
    Unusable,
}

/// What collecting one account gave: the files written and what could not be read.
#[derive(Debug)]
pub struct Collected {
    pub account_id: String,
    pub partition: String,
    /// Snapshot files written, in region order.
    pub written: Vec<PathBuf>,
    /// Regions not collected, with the reason (not enabled for the account).
    pub skipped: Vec<(String, String)>,
    /// Things the user should know that are not call errors (e.g. the fallback region list).
    pub warnings: Vec<String>,
    /// Failed calls recorded in the written snapshots.
    pub errors: Vec<(String, CollectionError)>,
    /// Calls that returned data.
    pub successes: usize,
    /// Per collected region: calls that returned data, calls that failed, and the time the region
    /// took (from its start, after waiting for a --concurrency slot). Shown by `collect -v`.
    pub regions: Vec<RegionStats>,
    pub status: Completeness,
}

#[derive(Debug, Clone)]
pub struct RegionStats {
    pub region: String,
    pub successes: usize,
    pub failures: usize,
    pub elapsed: Duration,
}

/// What to check when STS GetCallerIdentity failed: the network for a call that got no answer,
/// the credentials otherwise.
fn identity_hint(code: &str) -> &'static str {
    match code {
        "TimeoutError" => {
            "check the network, the proxy settings and --endpoint-url (the endpoint did not answer in time; --call-timeout)"
        }
        // Also what a missing credentials chain gives: both are named.
        "DispatchFailure" => {
            "check the credentials (environment, --profile, SSO login, --role-arn), the network and --endpoint-url"
        }
        _ => "check the credentials (environment, --profile, SSO login, --role-arn)",
    }
}

/// Why nothing could be collected.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "cannot identify the account: STS GetCallerIdentity failed ({code}: {message}); {}",
        identity_hint(code)
    )]
    Identity { code: String, message: String },
    #[error("no region to collect: pass --regions or --all-regions, or configure a region (AWS_REGION, or `region` in the profile)")]
    NoRegion,
    #[error("invalid region {0:?} (expected a region code such as us-east-1)")]
    BadRegion(String),
    #[error(transparent)]
    Region(#[from] regions::RegionProblem),
    #[error("the collection did not finish within --time-limit {0} s (each call is bounded by --call-timeout; an endpoint that does not answer?); nothing was written")]
    TimeLimit(u64),
    #[error("STS returned the account id {0:?}, which is not 12 digits; nothing was written")]
    BadAccountId(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// The regions enabled by default in every account of each partition (all regions launched before
/// March 2019), used by --all-regions when Account ListRegions is denied or unavailable. Opt-in regions
/// are then not collected (a warning says so).
pub fn default_enabled_regions(partition: &str) -> &'static [&'static str] {
    match partition {
        "aws-cn" => &["cn-north-1", "cn-northwest-1"],
        "aws-us-gov" => &["us-gov-east-1", "us-gov-west-1"],
        _ => &[
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-southeast-1",
            "ap-southeast-2",
            "ca-central-1",
            "eu-central-1",
            "eu-north-1",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    }
}

/// The Account API's region (it is global; its endpoint lives in the partition's first region).
pub(crate) fn account_api_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-northwest-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

/// Collects and writes the snapshots. Blocks; runs its own async runtime.
pub fn run(opts: &CollectOptions) -> Result<Collected, CollectError> {
    check_requested_regions(&opts.regions)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CollectError::Runtime)?;
    rt.block_on(async {
        match opts.time_limit {
            Some(limit) => tokio::time::timeout(limit, run_async(opts))
                .await
                .unwrap_or(Err(CollectError::TimeLimit(limit.as_secs()))),
            None => run_async(opts).await,
        }
    })
}

/// `--regions` checked before any call: region codes (they become file names) of this release.
pub(crate) fn check_requested_regions(asked: &Regions) -> Result<(), CollectError> {
    if let Regions::List(list) = asked {
        if let Some(bad) = list.iter().find(|r| !crate::arn::is_region(r)) {
            return Err(CollectError::BadRegion(bad.clone()));
        }
        regions::check_known(regions::FROM_FLAG, list)?;
    }
    Ok(())
}

/// A region's snapshot, before it is written.
pub(crate) struct RegionResult {
    region: String,
    doc: Value,
    errors: Vec<CollectionError>,
    successes: usize,
    elapsed: Duration,
}

async fn run_async(opts: &CollectOptions) -> Result<Collected, CollectError> {
    let recorder = opts.recorder.clone().unwrap_or_default();
    let aws = Arc::new(aws::Aws::load(opts, recorder.clone()).await);

    // Which region to ask STS: the configured one, else the first requested one.
    let configured = aws.configured_region();
    let sts_region = configured
        .clone()
        .unwrap_or_else(|| aws::fallback_region(opts));
    let (account_id, partition) = calls::caller_identity(&aws.sts(&sts_region))
        .await
        .map_err(|e| CollectError::Identity {
            code: e.code,
            message: e.message,
        })?;

    if !crate::arn::is_account_id(&account_id) {
        return Err(CollectError::BadAccountId(account_id));
    }
    let mut warnings = Vec::new();
    let mut listing_failed = Vec::new();
    let regions = resolve_regions(
        &aws,
        &opts.regions,
        configured,
        &account_id,
        &partition,
        &mut warnings,
        &mut listing_failed,
    )
    .await?;

    let progress = Arc::new(progress::Progress::new(opts.progress, regions.len()));
    let error_count = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (p, rec, errs) = (progress.clone(), recorder.clone(), error_count.clone());
        tokio::spawn(async move {
            loop {
                p.update(rec.calls(), errs.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let collected_at = now_timestamp();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for region in regions {
        let (aws, sem, progress, errs) = (
            aws.clone(),
            semaphore.clone(),
            progress.clone(),
            error_count.clone(),
        );
        let header = AccountStamp {
            account_id: account_id.clone(),
            partition: partition.clone(),
            collected_at: collected_at.clone(),
            redact: opts.redact_endpoints,
        };
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let started = std::time::Instant::now();
            let mut r = collect_region(&aws, region, &header).await;
            r.elapsed = started.elapsed();
            errs.fetch_add(r.errors.len(), Ordering::Relaxed);
            progress.region_done();
            r
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => results.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    ticker.abort();
    progress.update(recorder.calls(), error_count.load(Ordering::Relaxed));
    progress.finish();
    results.sort_by(|a, b| a.region.cmp(&b.region));

    let mut outcome = Collected {
        account_id: account_id.clone(),
        partition,
        written: Vec::new(),
        skipped: Vec::new(),
        warnings,
        // Not a region's: the account's list of regions.
        errors: listing_failed
            .into_iter()
            .map(|e| ("(account)".to_string(), e))
            .collect(),
        successes: 0,
        regions: Vec::new(),
        status: Completeness::Complete,
    };
    for r in results {
        outcome.regions.push(RegionStats {
            region: r.region.clone(),
            successes: r.successes,
            failures: r.errors.len(),
            elapsed: r.elapsed,
        });
        let path = match write_region(&opts.out, &account_id, &r)? {
            Written::File(p) => p,
            Written::NotEnabled(why) => {
                outcome.skipped.push((r.region.clone(), why));
                continue;
            }
        };
        outcome.written.push(path);
        outcome.successes += r.successes;
        outcome
            .errors
            .extend(r.errors.into_iter().map(|e| (r.region.clone(), e)));
    }
    outcome.status = if outcome.successes == 0 {
        Completeness::Unusable
    } else if !outcome.errors.is_empty() {
        Completeness::Partial
    } else {
        Completeness::Complete
    };
    Ok(outcome)
}

/// The regions to collect in one account: the list given, the configured region, or every region
/// enabled for the account (Account ListRegions, checked to be region codes; the regions enabled by
/// default when that fails, with a warning). Sorted, without duplicates.
pub(crate) async fn resolve_regions(
    aws: &aws::Aws,
    asked: &Regions,
    configured: Option<String>,
    account: &str,
    partition: &str,
    warnings: &mut Vec<String>,
    failed: &mut Vec<CollectionError>,
) -> Result<Vec<String>, CollectError> {
    let mut regions: Vec<String> = match asked {
        Regions::List(l) => {
            regions::check_partition(regions::FROM_FLAG, l, account, partition)?;
            l.clone()
        }
        Regions::Configured => {
            let r = vec![configured.ok_or(CollectError::NoRegion)?];
            regions::check_known(regions::FROM_CONFIG, &r)?;
            regions::check_partition(regions::FROM_CONFIG, &r, account, partition)?;
            r
        }
        Regions::All => {
            match calls::list_enabled_regions(&aws.account(account_api_region(partition))).await {
                Ok(r) if !r.is_empty() => {
                    let (good, bad): (Vec<String>, Vec<String>) =
                        r.into_iter().partition(|r| crate::arn::is_region(r));
                    if !bad.is_empty() {
                        // A name that is not a region code never becomes a file name.
                        warnings.push(format!(
                            "Account ListRegions returned names that are not region codes, not collected: {}",
                            bad.iter().map(|b| format!("{b:?}")).collect::<Vec<_>>().join(", ")
                        ));
                    }
                    good
                }
                Ok(_) => {
                    warnings.push("Account ListRegions returned no region; collecting the regions enabled by default in every account".to_string());
                    default_enabled_regions(partition)
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                }
                Err(e) => {
                    let list = default_enabled_regions(partition);
                    // A failed call like any other: the collection is partial (exit 3, `partial`
                    // in a manifest), since opt-in regions may be missing.
                    failed.push(e.clone());
                    warnings.push(format!(
                        "cannot list the enabled regions (Account ListRegions: {}); collecting the {} regions enabled by default in every account, so opt-in regions are not collected",
                        e.code,
                        list.len()
                    ));
                    list.iter().map(|s| s.to_string()).collect()
                }
            }
        }
    };
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Err(CollectError::NoRegion);
    }
    Ok(regions)
}

/// What became of a collected region.
pub(crate) enum Written {
    /// The snapshot file.
    File(PathBuf),
    /// Not written: the region is not enabled for the account (the reason).
    NotEnabled(String),
}

/// Writes a region's snapshot to `<out>/<account>/<region>.json` (atomically), unless every call
/// failed in the way of a region that is not enabled for the account.
pub(crate) fn write_region(
    out: &std::path::Path,
    account_id: &str,
    r: &RegionResult,
) -> Result<Written, CollectError> {
    if r.successes == 0
        && !r.errors.is_empty()
        && r.errors
            .iter()
            .all(|e| errors::REGION_NOT_ENABLED_CODES.contains(&e.code.as_str()))
    {
        return Ok(Written::NotEnabled(format!(
            "not enabled for this account (every call failed with {})",
            r.errors[0].code
        )));
    }
    // Both were checked before (account ids from STS and Organizations, region codes from the
    // arguments and ListRegions); checked again where they become a path.
    if !crate::arn::is_account_id(account_id) {
        return Err(CollectError::BadAccountId(account_id.to_string()));
    }
    if !crate::arn::is_region(&r.region) {
        return Err(CollectError::BadRegion(r.region.clone()));
    }
    let path = out.join(account_id).join(format!("{}.json", r.region));
    let mut text =
        serde_json::to_string_pretty(&canonical(r.doc.clone())).expect("a JSON value serializes");
    text.push('\n');
    crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|source| CollectError::Write {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Written::File(path))
}

/// The snapshot time, to the second (as the AWS CLI prints times).
pub(crate) fn now_timestamp() -> String {
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    convert::timestamp(&aws_smithy_types::DateTime::from_secs(now.secs()))
}

/// What every snapshot of one account carries in its header, the same for each region.
pub(crate) struct AccountStamp {
    account_id: String,
    partition: String,
    collected_at: String,
    redact: bool,
}

pub(crate) async fn collect_region(
    aws: &aws::Aws,
    region: String,
    h: &AccountStamp,
) -> RegionResult {
    let c = aws.clients(&region);
    let (trails, filters, alarms, subscriptions) = tokio::join!(
        calls::describe_trails(&c.cloudtrail),
        calls::describe_metric_filters(&c.logs),
        calls::describe_alarms(&c.cloudwatch),
        calls::list_subscriptions(&c.sns, h.redact),
    );
    let mut errors = Vec::new();
    let mut successes = 0;
    let mut doc = Map::new();
    doc.insert("format".into(), json!(FORMAT_V1));
    doc.insert("account_id".into(), json!(h.account_id));
    doc.insert("partition".into(), json!(h.partition));
    doc.insert("region".into(), json!(region));
    doc.insert("collected_at".into(), json!(h.collected_at));
    doc.insert(
        "collector".into(),
        json!({"name": "cwl-audit", "version": env!("CARGO_PKG_VERSION")}),
    );

    match trails {
        Ok(mut list) => {
            successes += 1;
            convert::sort_by_keys(&mut list, &["TrailARN"]);
            let (mut status, mut selectors) = (Map::new(), Map::new());
            // The per-trail calls belong to the trail's home region; shadow trails are listed only.
            let home: Vec<String> = list
                .iter()
                .filter(|t| t.get("HomeRegion").and_then(Value::as_str) == Some(region.as_str()))
                .filter_map(|t| {
                    t.get("TrailARN")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
            for arn in home {
                let (st, sel) = tokio::join!(
                    calls::get_trail_status(&c.cloudtrail, &arn),
                    calls::get_event_selectors(&c.cloudtrail, &arn)
                );
                match st {
                    Ok(v) => {
                        successes += 1;
                        status.insert(arn.clone(), v);
                    }
                    Err(e) => errors.push(e),
                }
                match sel {
                    Ok(v) => {
                        successes += 1;
                        selectors.insert(arn, v);
                    }
                    Err(e) => errors.push(e),
                }
            }
            doc.insert(
                "cloudtrail".into(),
                json!({"trailList": list, "status": status, "selectors": selectors}),
            );
        }
        Err(e) => errors.push(e),
    }
    match filters {
        Ok(mut list) => {
            successes += 1;
            convert::sort_by_keys(&mut list, &["logGroupName", "filterName"]);
            doc.insert("logs".into(), json!({ "metricFilters": list }));
        }
        Err(e) => errors.push(e),
    }
    match alarms {
        Ok((mut metric, mut composite)) => {
            successes += 1;
            convert::sort_by_keys(&mut metric, &["AlarmArn"]);
            convert::sort_by_keys(&mut composite, &["AlarmArn"]);
            doc.insert(
                "cloudwatch".into(),
                json!({"MetricAlarms": metric, "CompositeAlarms": composite}),
            );
        }
        Err(e) => errors.push(e),
    }
    match subscriptions {
        Ok(mut list) => {
            successes += 1;
            convert::sort_by_keys(&mut list, &["SubscriptionArn"]);
            doc.insert("sns".into(), json!({ "Subscriptions": list }));
        }
        Err(e) => errors.push(e),
    }
    errors.sort_by(|a, b| {
        (&a.service, &a.operation, &a.resource, &a.code).cmp(&(
            &b.service,
            &b.operation,
            &b.resource,
            &b.code,
        ))
    });
    doc.insert(
        "errors".into(),
        serde_json::to_value(&errors).expect("errors serialize"),
    );
    RegionResult {
        region,
        doc: Value::Object(doc),
        errors,
        successes,
        elapsed: Duration::ZERO,
    }
}

/// The same value with every object's keys in sorted order (whatever map serde_json was built with).
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        other => other,
    }
}
