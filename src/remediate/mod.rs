//! `cwl-audit remediate`: the missing pieces of each failing account's CWL-014 chain, as AWS CLI
//! commands ([`cli`]) or CloudFormation templates ([`cloudformation`]). Nothing here calls AWS or
//! runs a command: the output is text for a person to review and run.
//!
//! How a plan is made: evaluate the snapshots with the real check; for every failing account, turn
//! the finding's broken link (its `link`, `resource`, JSON `location` and `chain` evidence) plus the
//! snapshot data at that location into one fix; apply the fix to an in-memory copy of the snapshots
//! (as AWS would apply it), and evaluate again. Repeat until the account passes or no fix is known.
//! So a plan holds every missing piece, not only the first broken link, reuses the names the
//! snapshots show, and is verified by the same check that reported the failure. The check itself is
//! not duplicated here: this module only reads findings and snapshot data.
//!
//! `unknown` accounts get no fixes: a link could not be checked, so a fix would be a guess. Their plan
//! says which data to collect instead.
pub mod cli;
pub mod cloudformation;

use crate::eval;
use crate::findings::{Finding, Verdict};
use crate::snapshot;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `--format` of `remediate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// AWS CLI commands: a shell script to review and run.
    Cli,
    /// CloudFormation templates (YAML), one per account and region with something to create.
    Cloudformation,
}

/// `cwl-audit remediate --help` examples and notes.
pub const HELP: &str = "Only CWL-014 is remediated. Each failing account gets the steps that are missing, \
tailored to its snapshots (its trail, log group, filter, alarm and topic names); the plan is checked \
by applying the steps to a copy of the snapshots and evaluating again. Unknown accounts get no fixes, \
only the data to collect. Placeholders such as <SECURITY_EMAIL> stand for what snapshots cannot know.
Nothing is ever run or deployed by cwl-audit.

Examples:
  cwl-audit remediate
  cwl-audit remediate snapshots/333333333333 > fix-333.sh
  cwl-audit remediate --format cloudformation --output-dir fixes/

Exit codes: 0 plan written, 2 usage or input error.";

/// The rule this module knows how to fix.
pub const RULE: &str = "CWL-014";
/// The CIS AWS Foundations reference pattern (the same in every CIS version).
pub const CIS_PATTERN: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
/// Conformity's names, used only where the snapshots show no name to reuse.
pub const DEFAULT_FILTER: &str = "RootAccountUsage";
pub const DEFAULT_NAMESPACE: &str = "CloudTrailMetrics";
pub const DEFAULT_METRIC: &str = "RootAccountUsageEventCount";
pub const DEFAULT_ALARM: &str = "RootAccountUsageAlarm";
pub const DEFAULT_TOPIC: &str = "RootAccountUsageAlerts";
pub const DEFAULT_TRAIL: &str = "management-events";
/// What the snapshots cannot know.
pub const EMAIL_PLACEHOLDER: &str = "<SECURITY_EMAIL>";
pub const BUCKET_PLACEHOLDER: &str = "<CLOUDTRAIL_S3_BUCKET>";
/// More rounds than the chain has links: a plan that needs more is stuck.
const MAX_ROUNDS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("a planned step made the working copy invalid (a bug of cwl-audit): {0}")]
    WorkingCopy(String),
}

/// An alarm as `PutMetricAlarm` takes it: the AWS member names (the same as `DescribeAlarms` prints
/// and as `AWS::CloudWatch::Alarm` properties), e.g. `AlarmName`, `Threshold`, `AlarmActions`.
pub type AlarmSpec = Map<String, Value>;

/// One change to make in AWS.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `cloudtrail create-trail` + `start-logging`: the account has no trail at all.
    CreateTrail {
        name: String,
    },
    StartLogging {
        trail_arn: String,
    },
    MakeMultiRegion {
        trail_arn: String,
    },
    /// `put-event-selectors`, keeping the data-event selectors the trail has.
    PutEventSelectors {
        trail_arn: String,
        basic: Option<Value>,
        advanced: Option<Value>,
    },
    /// A log group for the trail, a role CloudTrail can write with, and `update-trail`.
    DeliverToLogs {
        trail_arn: String,
        log_group: String,
        /// The trail's existing `CloudWatchLogsRoleArn`, if it has one.
        role_arn: Option<String>,
        role_name: String,
    },
    /// `put-metric-filter` (creates, or replaces the filter of that name on that log group).
    PutMetricFilter {
        log_group: String,
        filter_name: String,
        pattern: String,
        namespace: String,
        metric: String,
        /// The snapshot shows a filter of that name on that log group (so it is replaced).
        existing: bool,
    },
    EnableAlarmActions {
        alarm_name: String,
    },
    /// `put-metric-alarm` (creates, or replaces the whole configuration of the alarm of that name).
    PutMetricAlarm {
        alarm: AlarmSpec,
        existing: bool,
    },
    CreateTopic {
        name: String,
        arn: String,
    },
    /// `sns subscribe` + the recipient confirms the e-mail.
    Subscribe {
        topic_arn: String,
        endpoint: String,
        /// An unconfirmed subscription to the same endpoint exists (subscribing again resends the
        /// confirmation e-mail).
        resend: bool,
    },
}

/// A fix in one account and region.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub account_id: String,
    pub region: String,
    /// The broken link this step mends, in the check's words.
    pub fixes: String,
    pub action: Action,
}

impl Step {
    /// A later step that makes this one unnecessary (same resource, complete restatement).
    fn superseded_by(&self, later: &Step) -> bool {
        if (&self.account_id, &self.region) != (&later.account_id, &later.region) {
            return false;
        }
        match (&self.action, &later.action) {
            (
                Action::PutMetricFilter {
                    log_group: a,
                    filter_name: b,
                    ..
                },
                Action::PutMetricFilter {
                    log_group: c,
                    filter_name: d,
                    ..
                },
            ) => a == c && b == d,
            (Action::EnableAlarmActions { alarm_name }, Action::PutMetricAlarm { alarm, .. }) => {
                alarm.get("AlarmName").and_then(Value::as_str) == Some(alarm_name.as_str())
            }
            (Action::PutMetricAlarm { alarm: a, .. }, Action::PutMetricAlarm { alarm: b, .. }) => {
                a.get("AlarmName") == b.get("AlarmName")
            }
            _ => false,
        }
    }
}

/// How a plan ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// With the steps applied to the snapshots, the check passes.
    Passes,
    /// The steps are not enough; the check's verdict and message after them.
    Remaining { verdict: Verdict, message: String },
    /// `unknown`: no fixes, collect this data first.
    Collect(Vec<String>),
}

/// One account's plan.
#[derive(Debug, Clone)]
pub struct AccountPlan {
    pub account_id: String,
    pub verdict: Verdict,
    pub message: String,
    /// `path:line` of the broken link in the given snapshots.
    pub at: Option<String>,
    pub steps: Vec<Step>,
    pub outcome: Outcome,
}

/// Every non-passing account's plan, and the input problems met on the way.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub accounts: Vec<AccountPlan>,
    /// Unusable inputs (the same lines `eval` prints); the affected snapshots are left out.
    pub errors: Vec<String>,
    /// Accounts that pass.
    pub passing: Vec<String>,
}

/// The snapshots being "fixed": (account, region) -> document.
type Work = BTreeMap<(String, String), Value>;

/// Decides the working copy in memory. Each document is checked as a snapshot file is; one that
/// a planned step made invalid would be a bug of the plan, and is an error naming it.
fn evaluate(
    ev: &crate::engine::Evaluator,
    work: &Work,
    shown: &Shown,
) -> Result<Vec<Finding>, RemediateError> {
    let mut snapshots = Vec::with_capacity(work.len());
    for (key, doc) in work {
        let path = shown.get(key).map_or("(working copy)", String::as_str);
        let s = snapshot::load_value(path, regorus::Value::from(doc.clone()))
            .map_err(|e| RemediateError::WorkingCopy(e.to_string()))?;
        snapshots.push(s);
    }
    let result = eval::evaluate(ev, &eval::SnapshotSet::from_snapshots(snapshots), false)?;
    Ok(result.findings)
}

/// The file each working-copy document came from, for messages.
type Shown = BTreeMap<(String, String), String>;

/// Loads the snapshots under `paths` (once), evaluates CWL-014 and plans the fixes of every account
/// that does not pass; each round re-evaluates the working copy in memory.
pub fn plan(paths: &[PathBuf]) -> Result<Plan, RemediateError> {
    let ev = eval::Options {
        rules: vec![RULE.to_string()],
        ..eval::Options::new(paths.to_vec())
    }
    .compile()?;
    let set = eval::SnapshotSet::load(paths);
    let result = eval::evaluate(&ev, &set, true)?;
    let mut out = Plan {
        errors: result
            .notifications
            .iter()
            .filter(|n| n.level == crate::findings::Level::Error)
            .map(|n| n.message.clone())
            .collect(),
        ..Plan::default()
    };
    // The working copy: exactly the snapshots the evaluation used.
    let mut work: Work = BTreeMap::new();
    let mut shown: Shown = BTreeMap::new();
    for s in set.snapshots() {
        if !result.inputs.contains(&s.path) {
            continue;
        }
        let mut doc = serde_json::to_value(&s.doc).unwrap_or(Value::Null);
        if let Some(o) = doc.as_object_mut() {
            // Added by the loader; rebuilt when the copy is decided.
            o.remove("path");
            o.remove("index");
        }
        let key = (s.account_id.clone(), s.region.clone());
        shown.insert(key.clone(), s.path.clone());
        work.insert(key, doc);
    }
    let mut active: BTreeMap<String, usize> = BTreeMap::new();
    for f in &result.findings {
        match f.verdict {
            Verdict::Pass => out.passing.push(f.account_id.clone()),
            Verdict::Unknown => out.accounts.push(AccountPlan {
                account_id: f.account_id.clone(),
                verdict: f.verdict,
                message: f.message.clone(),
                at: at(f),
                steps: vec![],
                outcome: Outcome::Collect(what_to_collect(f, &work)),
            }),
            Verdict::Fail => {
                active.insert(f.account_id.clone(), out.accounts.len());
                out.accounts.push(AccountPlan {
                    account_id: f.account_id.clone(),
                    verdict: f.verdict,
                    message: f.message.clone(),
                    at: at(f),
                    steps: vec![],
                    outcome: Outcome::Remaining {
                        verdict: f.verdict,
                        message: f.message.clone(),
                    },
                });
            }
        }
    }
    let mut findings = result.findings;
    for _round in 0..MAX_ROUNDS {
        if active.is_empty() {
            break;
        }
        let mut progressed = Vec::new();
        let mut pending: Vec<Step> = Vec::new();
        for f in &findings {
            let Some(&i) = active.get(&f.account_id) else {
                continue;
            };
            let plan = &mut out.accounts[i];
            if f.verdict == Verdict::Pass {
                plan.outcome = Outcome::Passes;
                continue;
            }
            plan.outcome = Outcome::Remaining {
                verdict: f.verdict,
                message: f.message.clone(),
            };
            if f.verdict != Verdict::Fail {
                continue;
            }
            let steps = derive(f, &work);
            if steps.is_empty() || steps.iter().any(|s| plan.steps.contains(s)) {
                // No fix known, or the same fix again: it did not help.
                continue;
            }
            // Applied after every account of this round has derived its steps from the same state.
            pending.extend(steps.iter().cloned());
            plan.steps.extend(steps);
            progressed.push(f.account_id.clone());
        }
        pending.dedup();
        for s in &pending {
            apply(s, &mut work);
        }
        active.retain(|a, _| progressed.contains(a));
        if active.is_empty() {
            break;
        }
        findings = evaluate(&ev, &work, &shown)?;
    }
    for p in &mut out.accounts {
        let mut kept: Vec<Step> = Vec::new();
        for (i, s) in p.steps.iter().enumerate() {
            if !p.steps[i + 1..].iter().any(|later| s.superseded_by(later)) {
                kept.push(s.clone());
            }
        }
        p.steps = kept;
    }
    Ok(out)
}

fn at(f: &Finding) -> Option<String> {
    f.location
        .as_ref()
        .map(|l| format!("{}:{}", l.path, l.line))
}

// ------------------------------------------------------------------ reading snapshot data

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn list(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `arn:partition:service:region:account:resource`, split.
struct Arn<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn arn(s: &str) -> Option<Arn<'_>> {
    let p: Vec<&str> = s.splitn(6, ':').collect();
    (p.len() == 6 && p[0] == "arn").then(|| Arn {
        partition: p[1],
        region: p[3],
        account: p[4],
        resource: p[5],
    })
}

/// The log group name in `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`.
fn log_group_name(arn_text: &str) -> Option<String> {
    let a = arn(arn_text)?;
    let rest = a.resource.strip_prefix("log-group:")?;
    Some(rest.strip_suffix(":*").unwrap_or(rest).to_string())
}

fn partition_of(work: &Work, account: &str) -> String {
    work.iter()
        .find(|((a, _), _)| a == account)
        .and_then(|(_, d)| str_of(d, "partition"))
        .unwrap_or("aws")
        .to_string()
}

fn is_topic(x: &str) -> bool {
    arn(x).is_some_and(|a| {
        x.split(':').nth(2) == Some("sns") && !a.resource.is_empty() && !a.resource.contains(':')
    })
}

fn confirmed(sub: &Value) -> bool {
    str_of(sub, "SubscriptionArn").is_some_and(|a| a.starts_with("arn:"))
}

// ------------------------------------------------------------------ from finding to fix

/// The fixes for a failing finding's broken link; empty when no fix is known (the plan then ends
/// with the check's message).
fn derive(f: &Finding, work: &Work) -> Vec<Step> {
    let Some(loc) = &f.location else {
        return vec![];
    };
    let key = (loc.account_id.clone(), loc.region.clone());
    let Some(snap) = work.get(&key) else {
        return vec![];
    };
    let at = if loc.pointer.is_empty() {
        None
    } else {
        snap.pointer(&loc.pointer)
    };
    let step = |action: Action| Step {
        account_id: loc.account_id.clone(),
        region: loc.region.clone(),
        fixes: f.message.clone(),
        action,
    };
    let resource = f.resource.as_deref().unwrap_or_default();
    match f.link.as_deref().unwrap_or_default() {
        "trail" if resource.is_empty() => {
            if loc.pointer.starts_with("/cloudtrail/trailList") {
                vec![step(Action::CreateTrail {
                    name: DEFAULT_TRAIL.to_string(),
                })]
            } else {
                vec![]
            }
        }
        "trail" => {
            let arn_s = resource.to_string();
            if loc.pointer.starts_with("/cloudtrail/status/") {
                return vec![step(Action::StartLogging { trail_arn: arn_s })];
            }
            if loc.pointer.starts_with("/cloudtrail/selectors/") {
                let Some(sel) = at else { return vec![] };
                let (basic, advanced) = management_selectors(sel);
                return vec![step(Action::PutEventSelectors {
                    trail_arn: arn_s,
                    basic,
                    advanced,
                })];
            }
            let Some(rec) = at else { return vec![] };
            let owner = arn(resource)
                .map(|a| a.account.to_string())
                .unwrap_or_default();
            if owner != f.account_id && rec.get("IsOrganizationTrail") != Some(&Value::Bool(true)) {
                // Another account's own trail: this account needs a trail of its own.
                return vec![Step {
                    account_id: f.account_id.clone(),
                    region: loc.region.clone(),
                    fixes: f.message.clone(),
                    action: Action::CreateTrail {
                        name: DEFAULT_TRAIL.to_string(),
                    },
                }];
            }
            if rec.get("IsMultiRegionTrail") != Some(&Value::Bool(true)) {
                return vec![step(Action::MakeMultiRegion { trail_arn: arn_s })];
            }
            let name = str_of(rec, "Name").unwrap_or(DEFAULT_TRAIL).to_string();
            vec![step(Action::DeliverToLogs {
                trail_arn: arn_s,
                log_group: format!("aws-cloudtrail-logs-{}-{name}", loc.account_id),
                role_arn: str_of(rec, "CloudWatchLogsRoleArn").map(str::to_string),
                role_name: format!("CloudTrailRoleForCloudWatchLogs-{name}"),
            })]
        }
        "log_group" => {
            let Some(lg) = log_group_name(resource) else {
                return vec![];
            };
            let taken: Vec<&str> = list(snap.pointer("/logs/metricFilters"))
                .iter()
                .filter(|x| str_of(x, "logGroupName") == Some(lg.as_str()))
                .filter_map(|x| str_of(x, "filterName"))
                .collect();
            vec![step(Action::PutMetricFilter {
                log_group: lg,
                filter_name: unused(DEFAULT_FILTER, &taken),
                pattern: CIS_PATTERN.to_string(),
                namespace: DEFAULT_NAMESPACE.to_string(),
                metric: DEFAULT_METRIC.to_string(),
                existing: false,
            })]
        }
        "filter" | "metric" => {
            // The filter object: the location itself, or the parent of its metric transformation.
            let filter_ptr = match loc.pointer.find("/metricTransformations") {
                Some(i) => &loc.pointer[..i],
                None => loc.pointer.as_str(),
            };
            let Some(filter) = snap.pointer(filter_ptr) else {
                return vec![];
            };
            let (Some(lg), Some(name)) =
                (str_of(filter, "logGroupName"), str_of(filter, "filterName"))
            else {
                return vec![];
            };
            // Keep the metric the filter publishes (an alarm may already watch it) when it is usable.
            let mt = list(filter.get("metricTransformations")).first();
            let namespace = mt
                .and_then(|m| str_of(m, "metricNamespace"))
                .unwrap_or(DEFAULT_NAMESPACE);
            let metric = mt
                .and_then(|m| str_of(m, "metricName"))
                .unwrap_or(DEFAULT_METRIC);
            let pattern = if f.link.as_deref() == Some("metric") {
                str_of(filter, "filterPattern").unwrap_or(CIS_PATTERN)
            } else {
                CIS_PATTERN
            };
            vec![step(Action::PutMetricFilter {
                log_group: lg.to_string(),
                filter_name: name.to_string(),
                pattern: pattern.to_string(),
                namespace: namespace.to_string(),
                metric: metric.to_string(),
                existing: true,
            })]
        }
        "alarm" => {
            if loc.pointer == "/cloudwatch/MetricAlarms" {
                // No alarm on the filter's metric: create one, notifying a topic.
                let Some(metric) = f
                    .chain
                    .as_array()
                    .and_then(|c| c.iter().rev().find(|l| l["link"] == "metric"))
                else {
                    return vec![];
                };
                let (ns, name) = (
                    str_of(metric, "namespace").unwrap_or(DEFAULT_NAMESPACE),
                    str_of(metric, "name").unwrap_or(DEFAULT_METRIC),
                );
                // An alarm on the same metric name in another namespace (or with dimensions the
                // metric does not have) was meant for it: restate that alarm on the right metric.
                let meant = list(snap.pointer("/cloudwatch/MetricAlarms"))
                    .iter()
                    .find(|a| {
                        str_of(a, "MetricName") == Some(name) && str_of(a, "Namespace") != Some(ns)
                    });
                if let Some(a) = meant {
                    let mut alarm = restate(a);
                    alarm.insert("Namespace".into(), json!(ns));
                    alarm.remove("Dimensions");
                    return vec![step(Action::PutMetricAlarm {
                        alarm,
                        existing: true,
                    })];
                }
                let taken: Vec<&str> = list(snap.pointer("/cloudwatch/MetricAlarms"))
                    .iter()
                    .filter_map(|a| str_of(a, "AlarmName"))
                    .collect();
                let mut steps = Vec::new();
                let topic = choose_topic(work, &loc.account_id, &loc.region, None, &mut steps, f);
                let mut alarm = Map::new();
                alarm.insert("AlarmName".into(), json!(unused(DEFAULT_ALARM, &taken)));
                alarm.insert(
                    "AlarmDescription".into(),
                    json!("Root user activity (CIS AWS Foundations 4.3, Conformity CWL-014)"),
                );
                alarm.insert("Namespace".into(), json!(ns));
                alarm.insert("MetricName".into(), json!(name));
                alarm.insert("AlarmActions".into(), json!([topic]));
                set_firing(&mut alarm, None);
                steps.push(step(Action::PutMetricAlarm {
                    alarm,
                    existing: false,
                }));
                return steps;
            }
            let Some(a) = at else { return vec![] };
            let Some(name) = str_of(a, "AlarmName") else {
                return vec![];
            };
            if a.get("ActionsEnabled") != Some(&Value::Bool(true)) {
                return vec![step(Action::EnableAlarmActions {
                    alarm_name: name.to_string(),
                })];
            }
            // Restate the alarm with settings that fire on one event, keeping its name and actions.
            let metric = f
                .chain
                .as_array()
                .and_then(|c| c.iter().rev().find(|l| l["link"] == "metric"));
            let mut alarm = Map::new();
            for k in [
                "AlarmName",
                "AlarmDescription",
                "AlarmActions",
                "OKActions",
                "InsufficientDataActions",
            ] {
                if let Some(v) = a.get(k) {
                    alarm.insert(k.into(), v.clone());
                }
            }
            alarm.insert(
                "Namespace".into(),
                json!(metric
                    .and_then(|m| str_of(m, "namespace"))
                    .unwrap_or(DEFAULT_NAMESPACE)),
            );
            alarm.insert(
                "MetricName".into(),
                json!(metric
                    .and_then(|m| str_of(m, "name"))
                    .unwrap_or(DEFAULT_METRIC)),
            );
            set_firing(&mut alarm, a.get("Period"));
            vec![step(Action::PutMetricAlarm {
                alarm,
                existing: true,
            })]
        }
        "topic" if resource.contains(":cloudwatch:") => {
            // The alarm notifies no topic when it goes to ALARM: restate it with a topic.
            let Some(a) = at else { return vec![] };
            let a = match a.get("AlarmName") {
                Some(_) => a,
                None => return vec![],
            };
            let mut steps = Vec::new();
            let topic = choose_topic(work, &loc.account_id, &loc.region, Some(a), &mut steps, f);
            let mut alarm = restate(a);
            let mut actions: Vec<Value> = list(a.get("AlarmActions")).to_vec();
            actions.push(json!(topic));
            alarm.insert("AlarmActions".into(), Value::Array(actions));
            steps.push(step(Action::PutMetricAlarm {
                alarm,
                existing: true,
            }));
            steps
        }
        "topic" if is_topic(resource) => {
            let topic_snap = arn(resource)
                .and_then(|t| work.get(&(t.account.to_string(), t.region.to_string())));
            let pending = topic_snap
                .map(|s| list(s.pointer("/sns/Subscriptions")))
                .unwrap_or(&[])
                .iter()
                .find(|s| {
                    str_of(s, "TopicArn") == Some(resource)
                        && !confirmed(s)
                        && str_of(s, "Protocol") == Some("email")
                        && str_of(s, "Endpoint")
                            .is_some_and(|e| e.contains('@') && !e.starts_with("redacted:"))
                });
            let t = arn(resource);
            vec![Step {
                account_id: t
                    .as_ref()
                    .map(|t| t.account)
                    .unwrap_or(&loc.account_id)
                    .to_string(),
                region: t
                    .as_ref()
                    .map(|t| t.region)
                    .unwrap_or(&loc.region)
                    .to_string(),
                fixes: f.message.clone(),
                action: Action::Subscribe {
                    topic_arn: resource.to_string(),
                    endpoint: pending
                        .and_then(|p| str_of(p, "Endpoint"))
                        .unwrap_or(EMAIL_PLACEHOLDER)
                        .to_string(),
                    resend: pending.is_some(),
                },
            }]
        }
        _ => vec![],
    }
}

/// `base`, or `base-2`, `base-3`... whichever is not taken.
fn unused(base: &str, taken: &[&str]) -> String {
    if !taken.contains(&base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|c| !taken.contains(&c.as_str()))
        .unwrap_or_default()
}

/// Conformity's firing settings: Sum over the period, >= 1, one period, one datapoint, missing data
/// not breaching. An existing period is kept.
fn set_firing(alarm: &mut AlarmSpec, period: Option<&Value>) {
    alarm.insert("Statistic".into(), json!("Sum"));
    let period = period
        .and_then(Value::as_u64)
        .filter(|p| *p >= 60 && p % 60 == 0)
        .unwrap_or(300);
    alarm.insert("Period".into(), json!(period));
    alarm.insert("EvaluationPeriods".into(), json!(1));
    alarm.insert("DatapointsToAlarm".into(), json!(1));
    alarm.insert("Threshold".into(), json!(1.0));
    alarm.insert(
        "ComparisonOperator".into(),
        json!("GreaterThanOrEqualToThreshold"),
    );
    alarm.insert("TreatMissingData".into(), json!("notBreaching"));
    alarm.insert("ActionsEnabled".into(), json!(true));
}

/// An existing alarm's whole configuration, as `PutMetricAlarm` needs it restated.
fn restate(a: &Value) -> AlarmSpec {
    const KEYS: [&str; 20] = [
        "AlarmName",
        "AlarmDescription",
        "ActionsEnabled",
        "AlarmActions",
        "OKActions",
        "InsufficientDataActions",
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Dimensions",
        "Period",
        "Unit",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "Metrics",
    ];
    let mut m = Map::new();
    for k in KEYS {
        match a.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::Array(x)) if x.is_empty() => {}
            Some(v) => {
                m.insert(k.into(), v.clone());
            }
        }
    }
    m
}

/// The SNS topic a new or restated alarm should notify: one the alarm already notifies on OK, else an
/// existing topic of this account and region whose name mentions root, else a new topic (added to
/// `steps`, with a subscription).
fn choose_topic(
    work: &Work,
    account: &str,
    region: &str,
    alarm: Option<&Value>,
    steps: &mut Vec<Step>,
    f: &Finding,
) -> String {
    if let Some(a) = alarm {
        for k in ["OKActions", "InsufficientDataActions"] {
            if let Some(t) = list(a.get(k))
                .iter()
                .filter_map(Value::as_str)
                .find(|t| is_topic(t))
            {
                return t.to_string();
            }
        }
    }
    let mut known: Vec<(bool, String)> = Vec::new();
    if let Some(s) = work.get(&(account.to_string(), region.to_string())) {
        for sub in list(s.pointer("/sns/Subscriptions")) {
            if let Some(t) = str_of(sub, "TopicArn") {
                known.push((confirmed(sub), t.to_string()));
            }
        }
        for a in list(s.pointer("/cloudwatch/MetricAlarms")) {
            for t in list(a.get("AlarmActions")).iter().filter_map(Value::as_str) {
                known.push((false, t.to_string()));
            }
        }
    }
    known.retain(|(_, t)| {
        is_topic(t)
            && arn(t).is_some_and(|a| a.account == account && a.region == region)
            && t.rsplit(':')
                .next()
                .is_some_and(|n| n.to_lowercase().contains("root"))
    });
    known.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    if let Some((_, t)) = known.first() {
        return t.clone();
    }
    let topic = format!(
        "arn:{}:sns:{region}:{account}:{DEFAULT_TOPIC}",
        partition_of(work, account)
    );
    for action in [
        Action::CreateTopic {
            name: DEFAULT_TOPIC.to_string(),
            arn: topic.clone(),
        },
        Action::Subscribe {
            topic_arn: topic.clone(),
            endpoint: EMAIL_PLACEHOLDER.to_string(),
            resend: false,
        },
    ] {
        steps.push(Step {
            account_id: account.to_string(),
            region: region.to_string(),
            fixes: f.message.clone(),
            action,
        });
    }
    topic
}

/// Event selectors that record every management event, keeping the trail's data-event selectors.
fn management_selectors(sel: &Value) -> (Option<Value>, Option<Value>) {
    let advanced = list(sel.get("AdvancedEventSelectors"));
    if !advanced.is_empty() {
        let mut keep: Vec<Value> = advanced
            .iter()
            .filter(|a| {
                !list(a.get("FieldSelectors")).iter().any(|f| {
                    str_of(f, "Field") == Some("eventCategory")
                        && list(f.get("Equals")).iter().any(|e| e == "Management")
                })
            })
            .cloned()
            .collect();
        keep.insert(
            0,
            json!({"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}),
        );
        return (None, Some(Value::Array(keep)));
    }
    let mut keep: Vec<Value> = list(sel.get("EventSelectors"))
        .iter()
        .filter(|s| !list(s.get("DataResources")).is_empty())
        .map(|s| {
            let mut s = s.clone();
            s["IncludeManagementEvents"] = json!(false);
            if let Some(o) = s.as_object_mut() {
                o.remove("ExcludeManagementEventSources");
            }
            s
        })
        .collect();
    keep.insert(
        0,
        json!({"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}),
    );
    (Some(Value::Array(keep)), None)
}

// ------------------------------------------------------------------ applying a fix to the snapshots

/// Changes the working copy as AWS would after the step (a person confirms the e-mail, too).
fn apply(step: &Step, work: &mut Work) {
    let partition = partition_of(work, &step.account_id);
    let key = (step.account_id.clone(), step.region.clone());
    match &step.action {
        Action::CreateTrail { name } => {
            let trail_arn = format!(
                "arn:{partition}:cloudtrail:{}:{}:trail/{name}",
                step.region, step.account_id
            );
            let record = json!({
                "Name": name, "TrailARN": trail_arn, "HomeRegion": step.region,
                "S3BucketName": BUCKET_PLACEHOLDER, "IsMultiRegionTrail": true,
                "IsOrganizationTrail": false, "IncludeGlobalServiceEvents": true,
            });
            for ((a, _), doc) in work.iter_mut() {
                if *a == step.account_id {
                    push(doc, "/cloudtrail/trailList", record.clone());
                }
            }
            if let Some(doc) = work.get_mut(&key) {
                ensure(doc, "/cloudtrail/status")[&trail_arn] = json!({"IsLogging": true});
                ensure(doc, "/cloudtrail/selectors")[&trail_arn] = json!({"TrailARN": trail_arn,
                    "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []}]});
            }
        }
        Action::StartLogging { trail_arn } => {
            if let Some(doc) = work.get_mut(&key) {
                ensure(doc, "/cloudtrail/status")[trail_arn.as_str()]["IsLogging"] = json!(true);
            }
        }
        Action::MakeMultiRegion { trail_arn } => {
            for_trail(work, trail_arn, |t| t["IsMultiRegionTrail"] = json!(true));
        }
        Action::PutEventSelectors {
            trail_arn,
            basic,
            advanced,
        } => {
            if let Some(doc) = work.get_mut(&key) {
                let mut sel = json!({"TrailARN": trail_arn});
                if let Some(b) = basic {
                    sel["EventSelectors"] = b.clone();
                }
                if let Some(a) = advanced {
                    sel["AdvancedEventSelectors"] = a.clone();
                }
                ensure(doc, "/cloudtrail/selectors")[trail_arn.as_str()] = sel;
            }
        }
        Action::DeliverToLogs {
            trail_arn,
            log_group,
            role_arn,
            role_name,
        } => {
            let lg = format!(
                "arn:{partition}:logs:{}:{}:log-group:{log_group}:*",
                step.region, step.account_id
            );
            let role = role_arn.clone().unwrap_or_else(|| {
                format!("arn:{partition}:iam::{}:role/{role_name}", step.account_id)
            });
            for_trail(work, trail_arn, |t| {
                t["CloudWatchLogsLogGroupArn"] = json!(lg);
                t["CloudWatchLogsRoleArn"] = json!(role);
            });
        }
        Action::PutMetricFilter {
            log_group,
            filter_name,
            pattern,
            namespace,
            metric,
            ..
        } => {
            if let Some(doc) = work.get_mut(&key) {
                let filters = ensure(doc, "/logs/metricFilters");
                if !filters.is_array() {
                    *filters = json!([]);
                }
                let new = json!({"filterName": filter_name, "logGroupName": log_group, "filterPattern": pattern,
                    "metricTransformations": [{"metricName": metric, "metricNamespace": namespace, "metricValue": "1"}]});
                let arr = filters.as_array_mut().expect("array");
                match arr.iter_mut().find(|f| {
                    str_of(f, "filterName") == Some(filter_name)
                        && str_of(f, "logGroupName") == Some(log_group)
                }) {
                    Some(f) => *f = new,
                    None => arr.push(new),
                }
            }
        }
        Action::EnableAlarmActions { alarm_name } => {
            if let Some(doc) = work.get_mut(&key) {
                for a in ensure(doc, "/cloudwatch/MetricAlarms")
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    if str_of(a, "AlarmName") == Some(alarm_name) {
                        a["ActionsEnabled"] = json!(true);
                    }
                }
            }
        }
        Action::PutMetricAlarm { alarm, .. } => {
            let name = alarm
                .get("AlarmName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut new = Value::Object(alarm.clone());
            new["AlarmArn"] = json!(format!(
                "arn:{partition}:cloudwatch:{}:{}:alarm:{name}",
                step.region, step.account_id
            ));
            if let Some(doc) = work.get_mut(&key) {
                let alarms = ensure(doc, "/cloudwatch/MetricAlarms");
                if !alarms.is_array() {
                    *alarms = json!([]);
                }
                let arr = alarms.as_array_mut().expect("array");
                match arr
                    .iter_mut()
                    .find(|a| str_of(a, "AlarmName") == Some(name))
                {
                    Some(a) => *a = new,
                    None => arr.push(new),
                }
            }
        }
        Action::CreateTopic { .. } => {}
        Action::Subscribe {
            topic_arn,
            endpoint,
            ..
        } => {
            if let Some(doc) = work.get_mut(&key) {
                push(
                    doc,
                    "/sns/Subscriptions",
                    json!({"SubscriptionArn": format!("{topic_arn}:00000000-0000-0000-0000-000000000000"),
                        "TopicArn": topic_arn, "Protocol": "email", "Endpoint": endpoint, "Owner": step.account_id}),
                );
            }
        }
    }
}

/// The value at `pointer` (`/a/b`), creating objects on the way.
fn ensure<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    let mut cur = doc;
    for part in pointer.split('/').skip(1) {
        if !cur.is_object() {
            *cur = json!({});
        }
        cur = cur
            .as_object_mut()
            .expect("object")
            .entry(part.to_string())
            .or_insert(Value::Null);
    }
    if cur.is_null() {
        *cur = json!({});
    }
    cur
}

fn push(doc: &mut Value, pointer: &str, item: Value) {
    let x = ensure(doc, pointer);
    if !x.is_array() {
        *x = json!([]);
    }
    if let Some(a) = x.as_array_mut() {
        a.push(item);
    }
}

/// Every copy of the trail's record (home region and shadow copies, in every account that lists it).
fn for_trail(work: &mut Work, trail_arn: &str, f: impl Fn(&mut Value)) {
    for doc in work.values_mut() {
        if let Some(list) = doc
            .pointer_mut("/cloudtrail/trailList")
            .and_then(Value::as_array_mut)
        {
            for t in list.iter_mut() {
                if t.get("TrailARN").and_then(Value::as_str) == Some(trail_arn) {
                    f(t);
                }
            }
        }
    }
}

// ------------------------------------------------------------------ unknown: what to collect

/// For an `unknown` account: which data would let the check decide, instead of a guessed fix.
fn what_to_collect(f: &Finding, work: &Work) -> Vec<String> {
    let mut out = Vec::new();
    let Some(loc) = &f.location else {
        return vec![format!(
            "collect the snapshots of account {} again",
            f.account_id
        )];
    };
    let error = loc
        .pointer
        .strip_prefix("/errors/")
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| {
            work.get(&(loc.account_id.clone(), loc.region.clone()))
                .and_then(|s| s.pointer(&format!("/errors/{i}")))
        });
    if let Some(e) = error {
        let service = str_of(e, "service").unwrap_or("?");
        let op = str_of(e, "operation").unwrap_or("?");
        out.push(format!(
            "the collector's call {service}:{op} failed in account {} {} ({}): allow `{service}:{op}` to the role the collector uses (see the README's least-privilege policy), then collect that account and region again",
            loc.account_id,
            loc.region,
            str_of(e, "code").unwrap_or("error"),
        ));
        if op == "ListSubscriptions" {
            if let Some(t) = f.resource.as_deref().filter(|t| is_topic(t)) {
                let r = arn(t).map(|a| a.region).unwrap_or(&loc.region);
                out.push(format!(
                    "to check by hand: aws sns list-subscriptions-by-topic --region {r} --topic-arn {t}"
                ));
            }
        }
        return out;
    }
    if let Some(r) = f.resource.as_deref().and_then(arn) {
        let wanted = (r.account.to_string(), r.region.to_string());
        if !r.account.is_empty() && !r.region.is_empty() && !work.contains_key(&wanted) {
            out.push(format!(
                "load the snapshot of account {} region {} as well (collect it with credentials for that account): the chain continues there",
                r.account, r.region
            ));
            let _ = r.partition;
            return out;
        }
    }
    // An undecided filter is a property of its pattern, not of missing data: collecting again
    // would show the same pattern.
    if f.link.as_deref() == Some("filter") {
        out.push(format!(
            "check the metric filter of account {} region {} by hand, or replace its pattern with the CIS reference pattern: {}",
            loc.account_id, loc.region, f.message
        ));
        return out;
    }
    out.push(format!(
        "collect account {} region {} again with the collector's full read-only policy: {}",
        loc.account_id, loc.region, f.message
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_names() {
        assert_eq!(unused("A", &[]), "A");
        assert_eq!(unused("A", &["A", "A-2"]), "A-3");
    }

    #[test]
    fn log_group_names() {
        assert_eq!(
            log_group_name("arn:aws:logs:us-east-1:111111111111:log-group:a/b:*").as_deref(),
            Some("a/b")
        );
        assert_eq!(log_group_name("arn:aws:sns:us-east-1:1:t"), None);
    }

    #[test]
    fn selectors_keep_data_events() {
        let (basic, adv) = management_selectors(&json!({"EventSelectors": [
            {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
        ]}));
        assert!(adv.is_none());
        let b = basic.unwrap();
        assert_eq!(b[0]["ReadWriteType"], "All");
        assert_eq!(b[1]["IncludeManagementEvents"], false);
        assert_eq!(b[1]["DataResources"][0]["Type"], "AWS::S3::Object");
    }

    #[test]
    fn enable_is_superseded_by_a_restatement() {
        let s = |action| Step {
            account_id: "1".into(),
            region: "r".into(),
            fixes: String::new(),
            action,
        };
        let mut spec = AlarmSpec::new();
        spec.insert("AlarmName".into(), json!("A"));
        let enable = s(Action::EnableAlarmActions {
            alarm_name: "A".into(),
        });
        let put = s(Action::PutMetricAlarm {
            alarm: spec,
            existing: true,
        });
        assert!(enable.superseded_by(&put));
        assert!(!put.superseded_by(&enable));
    }
}
