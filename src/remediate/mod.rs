//! `cwl-audit remediate`: the missing pieces of every failing rule's chain (the fifteen CIS
//! monitoring rules, and custom policies built on `lib.chain`), as AWS CLI commands ([`cli`]),
//! CloudFormation templates ([`cloudformation`]) or Terraform configurations ([`terraform`]). Nothing here calls AWS or runs a command: the
//! output is text for a person to review and run.
//!
//! How a plan is made: evaluate the snapshots with the real rules; for every failing rule of every
//! account, turn the finding's broken link (its typed `link`, `resource`, JSON `location` and
//! `chain` evidence) plus the snapshot data at that location into one fix; apply the fixes to an
//! in-memory copy of the snapshots (as AWS would apply them), and evaluate again. Repeat until every
//! rule passes or no fix is known. So a plan holds every missing piece, not only the first broken
//! link, reuses the names the snapshots show, and is verified by the same rules that reported the
//! failures. Pieces that several rules need (a trail fix, the SNS topic an account and region's
//! alarms notify) are planned once and shared. Each rule's filter pattern is the rule's own
//! reference, read from its policy (`custom.references`, or the policy's `reference` rule).
//!
//! Every value taken from a snapshot is checked by [`safe`] before it is used; a step with a value
//! that fails AWS's naming rules becomes a manual step (shown, never run, not applied).
//!
//! `unknown` findings get no fixes: a link could not be checked, so a fix would be a guess. Their
//! plan says which data to collect instead.
pub mod aws_cli;
pub mod cloudformation;
pub mod safe;
pub mod terraform;

/// One unit of a plan written as files (`remediate --output-dir`, CloudFormation or Terraform): a
/// file's path under the directory and its text, or a note (comment lines, `file` None), printed
/// on stdout with the list of files written.
pub struct Unit {
    pub file: Option<String>,
    pub text: String,
}

use crate::arn::{self, Arn};
use crate::engine::Evaluator;
use crate::eval;
use crate::findings::{Finding, Link, Verdict};
use crate::findings::{RemediateNames, RuleMeta};
use crate::snapshot;
use safe::Kind;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Names used only where the snapshots show none to reuse and the policy has no `custom.remediate`.
pub const DEFAULT_NAMESPACE: &str = "CISBenchmark";
/// The one topic planned per account and region, when no topic with a confirmed subscription exists.
pub const DEFAULT_TOPIC: &str = "SecurityAlarms";
pub const DEFAULT_TRAIL: &str = "management-events";
/// What the snapshots cannot know.
pub const EMAIL_PLACEHOLDER: &str = "<SECURITY_EMAIL>";
pub const BUCKET_PLACEHOLDER: &str = "<CLOUDTRAIL_S3_BUCKET>";
/// More rounds than a chain has links, plus rules waiting on shared pieces: a plan that needs more
/// is stuck.
const MAX_ROUNDS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("a planned step made the working copy invalid (a bug of cwl-audit): {0}")]
    WorkingCopy(String),
}

/// What to plan: the snapshots, the policies, and which rules and accounts.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub paths: Vec<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
    /// Only these rules (all when empty).
    pub rules: Vec<String>,
    /// Only the findings of these accounts (all when empty).
    pub accounts: Vec<String>,
    /// Whose reference patterns decide (and are planned); the default when empty.
    pub benchmark: String,
}

/// What remediate needs of one rule: its reference pattern and the names of the resources it plans.
#[derive(Debug, Clone)]
pub struct RuleFix {
    pub id: String,
    pub title: String,
    /// The pattern a new or corrected filter gets; `None` when the policy names none cwl-audit can
    /// read (no filter fix is then planned).
    pub reference: Option<String>,
    pub names: RemediateNames,
}

impl RuleFix {
    fn of(meta: &RuleMeta, ev: &mut Evaluator, benchmark: &str) -> RuleFix {
        let reference = meta
            .reference_for(benchmark)
            .map(|r| r.pattern.clone())
            .or_else(|| {
                // A custom policy built on lib.chain may name its pattern in Rego only.
                ev.rule_value(meta, "reference")
                    .and_then(|v| v.as_string().ok().map(|s| s.to_string()))
            });
        // Names derived from the id for policies without `custom.remediate`: letters and digits only.
        let base: String = meta
            .id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let names = meta.remediate.clone().unwrap_or(RemediateNames {
            filter_name: format!("{base}Filter"),
            metric_name: format!("{base}EventCount"),
            metric_namespace: DEFAULT_NAMESPACE.to_string(),
            alarm_name: format!("{base}Alarm"),
        });
        RuleFix {
            id: meta.id.clone(),
            title: meta.title.clone(),
            reference,
            names,
        }
    }
}

/// An alarm as `PutMetricAlarm` takes it: the AWS member names (the same as `DescribeAlarms` prints
/// and as `AWS::CloudWatch::Alarm` properties), e.g. `AlarmName`, `Threshold`, `AlarmActions`.
pub type AlarmSpec = Map<String, Value>;

/// One change to make in AWS.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `cloudtrail create-trail` + `put-event-selectors` + `start-logging`: the account has no trail
    /// at all. The selectors are put explicitly: AWS gives a new trail the all-management-events
    /// selector, moto none, and the plan must be right on both.
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
        /// The unit the metric is published in (`None`: none named, which CloudWatch reads as
        /// "None"); a replaced filter keeps its own, or takes the one its alarm expects.
        unit: Option<String>,
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

impl Action {
    /// Every value of the action with its kind, for [`safe::check`].
    fn values(&self) -> Vec<(Kind, String)> {
        let one = |k: Kind, v: &str| (k, v.to_string());
        match self {
            Action::CreateTrail { name } => vec![one(Kind::TrailName, name)],
            Action::StartLogging { trail_arn } | Action::MakeMultiRegion { trail_arn } => {
                vec![one(Kind::TrailArn, trail_arn)]
            }
            Action::PutEventSelectors {
                trail_arn,
                basic,
                advanced,
            } => {
                let mut v = vec![one(Kind::TrailArn, trail_arn)];
                for x in [basic, advanced].into_iter().flatten() {
                    strings_in(x, &mut v);
                }
                v
            }
            Action::DeliverToLogs {
                trail_arn,
                log_group,
                role_arn,
                role_name,
            } => {
                let mut v = vec![
                    one(Kind::TrailArn, trail_arn),
                    one(Kind::LogGroup, log_group),
                    one(Kind::RoleName, role_name),
                ];
                if let Some(r) = role_arn {
                    v.push(one(Kind::RoleArn, r));
                }
                v
            }
            Action::PutMetricFilter {
                log_group,
                filter_name,
                pattern,
                namespace,
                metric,
                unit,
                ..
            } => {
                let mut v = vec![
                    one(Kind::LogGroup, log_group),
                    one(Kind::FilterName, filter_name),
                    one(Kind::Pattern, pattern),
                    one(Kind::Metric, namespace),
                    one(Kind::Metric, metric),
                ];
                if let Some(u) = unit {
                    v.push(one(Kind::Word, u));
                }
                v
            }
            Action::EnableAlarmActions { alarm_name } => vec![one(Kind::AlarmName, alarm_name)],
            Action::PutMetricAlarm { alarm, .. } => {
                let mut v = Vec::new();
                for (k, x) in alarm {
                    let kind = match k.as_str() {
                        "AlarmName" => Kind::AlarmName,
                        "AlarmDescription" => Kind::Description,
                        "Namespace" | "MetricName" | "ExtendedStatistic" => Kind::Metric,
                        "Statistic"
                        | "ComparisonOperator"
                        | "TreatMissingData"
                        | "Unit"
                        | "EvaluateLowSampleCountPercentile" => Kind::Word,
                        "AlarmActions" | "OKActions" | "InsufficientDataActions" => Kind::ActionArn,
                        _ => Kind::Dimension,
                    };
                    match x {
                        Value::String(s) => v.push((kind, s.clone())),
                        Value::Array(_) if kind == Kind::ActionArn => {
                            for a in list(Some(x)) {
                                v.push((kind, a.as_str().unwrap_or_default().to_string()));
                            }
                        }
                        other => strings_in(other, &mut v),
                    }
                }
                v
            }
            Action::CreateTopic { name, arn } => {
                vec![one(Kind::TopicName, name), one(Kind::TopicArn, arn)]
            }
            Action::Subscribe {
                topic_arn,
                endpoint,
                ..
            } => vec![one(Kind::TopicArn, topic_arn), one(Kind::Email, endpoint)],
        }
    }
}

/// Every string inside `v` (and every object key), as [`Kind::Text`]: structured values
/// (selectors, metric-math queries) are passed as JSON, so only the characters every kind refuses
/// matter.
fn strings_in(v: &Value, out: &mut Vec<(Kind, String)>) {
    match v {
        Value::String(s) => out.push((Kind::Text, s.clone())),
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push((Kind::Text, k.clone()));
                strings_in(x, out);
            }
        }
        _ => {}
    }
}

/// A fix in one account and region.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub account_id: String,
    pub region: String,
    /// The broken link this step mends, in the rule's words (the first rule's that needed it).
    pub fixes: String,
    /// The rules this step is planned for (several when shared).
    pub rules: Vec<String>,
    pub action: Action,
    /// Why the step cannot be run as planned (a snapshot value that breaks AWS's naming rules):
    /// it is shown as a manual step and not applied to the working copy.
    pub manual: Option<String>,
    /// Held back: the step would make a passing rule fail (a bug of cwl-audit). Shown, never run,
    /// and not to be made by hand either.
    pub held_back: bool,
}

impl Step {
    fn new(account: &str, region: &str, fixes: &str, rule: &str, action: Action) -> Step {
        let mut problems: Vec<String> = Vec::new();
        for (k, v) in [(Kind::Account, account), (Kind::Region, region)] {
            if let Err(e) = safe::check(k, v) {
                problems.push(e);
            }
        }
        for (k, v) in action.values() {
            if let Err(e) = safe::check(k, &v) {
                problems.push(e);
            }
        }
        Step {
            account_id: account.to_string(),
            region: region.to_string(),
            fixes: fixes.to_string(),
            rules: vec![rule.to_string()],
            action,
            manual: (!problems.is_empty()).then(|| problems.join("; ")),
            held_back: false,
        }
    }

    /// The heading of a step that is not run (`None` for one to run), the same in every format.
    pub fn not_run(&self) -> Option<String> {
        let why = self.manual.as_deref()?;
        Some(if self.held_back {
            format!("HELD BACK, not run: {why}. Do not make this change as it is")
        } else {
            format!("MANUAL STEP, not run: {why}. Check it, then make the change by hand")
        })
    }

    /// The same change (whoever planned it).
    fn same(&self, other: &Step) -> bool {
        (&self.account_id, &self.region, &self.action)
            == (&other.account_id, &other.region, &other.action)
    }

    /// A later step that makes this one unnecessary (same resource, complete restatement).
    fn superseded_by(&self, later: &Step) -> bool {
        if (&self.account_id, &self.region) != (&later.account_id, &later.region)
            || later.manual.is_some()
        {
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

/// How a rule's plan ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// With the steps applied to the snapshots, the rule passes.
    Passes,
    /// The steps are not enough; the rule's verdict and message after them.
    Remaining { verdict: Verdict, message: String },
    /// `unknown`: no fixes, collect this data first.
    Collect(Vec<String>),
}

/// One rule's plan for one account.
#[derive(Debug, Clone)]
pub struct RulePlan {
    pub rule_id: String,
    pub account_id: String,
    pub verdict: Verdict,
    pub message: String,
    /// `path:line` of the broken link in the given snapshots.
    pub at: Option<String>,
    /// Indices into [`Plan::steps`].
    pub steps: Vec<usize>,
    pub outcome: Outcome,
}

/// Every non-passing rule's plan, the steps they need (each once), and the input problems met.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub rules: Vec<RulePlan>,
    pub steps: Vec<Step>,
    /// Unusable inputs (the same lines `eval` prints); the affected snapshots are left out.
    pub errors: Vec<String>,
    /// Accounts where every planned rule passes as it is.
    pub passing: Vec<String>,
    /// The rules planned for (ids).
    pub rule_ids: Vec<String>,
    /// The snapshot files the plan was made from (an output must not replace one).
    pub inputs: Vec<String>,
    /// Every trail a step changes, as the snapshots showed it before any step (by trail ARN):
    /// Terraform manages a whole resource, so [`terraform`] restates the trail's configuration.
    pub trails: BTreeMap<String, TrailSeen>,
    /// Why steps were held back as manual: they would have made a passing rule fail.
    pub held_back: Vec<String>,
}

/// A trail as the snapshots show it: its `DescribeTrails` record, its event selectors and whether
/// it logs (each `None` when no snapshot has it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrailSeen {
    pub record: Value,
    pub selectors: Option<Value>,
    pub logging: Option<bool>,
}

impl Action {
    /// The existing trail this action changes.
    pub fn trail_arn(&self) -> Option<&str> {
        match self {
            Action::StartLogging { trail_arn }
            | Action::MakeMultiRegion { trail_arn }
            | Action::PutEventSelectors { trail_arn, .. }
            | Action::DeliverToLogs { trail_arn, .. } => Some(trail_arn),
            _ => None,
        }
    }
}

/// The trail of that ARN in the snapshots (any account: an organization trail is listed in its
/// members' snapshots too).
fn trail_seen(work: &Work, trail_arn: &str) -> TrailSeen {
    let mut seen = TrailSeen::default();
    for doc in work.values() {
        if seen.record.is_null() {
            if let Some(t) = list(doc.pointer("/cloudtrail/trailList"))
                .iter()
                .find(|t| str_of(t, "TrailARN") == Some(trail_arn))
            {
                seen.record = t.clone();
            }
        }
        let Some(ct) = doc.get("cloudtrail") else {
            continue;
        };
        if seen.selectors.is_none() {
            seen.selectors = ct.get("selectors").and_then(|s| s.get(trail_arn)).cloned();
        }
        if seen.logging.is_none() {
            seen.logging = ct
                .get("status")
                .and_then(|s| s.get(trail_arn))
                .and_then(|s| s.get("IsLogging"))
                .and_then(Value::as_bool);
        }
    }
    seen
}

/// What one account's block shows: its rules' plans and the steps that run in it.
pub struct AccountView<'a> {
    pub account_id: String,
    pub rules: Vec<&'a RulePlan>,
    /// (index in [`Plan::steps`], step), in plan order.
    pub steps: Vec<(usize, &'a Step)>,
}

impl Plan {
    /// The accounts with something to show: those with non-passing rules, and those some step runs
    /// in (an organization trail's owner), in account order.
    pub fn accounts(&self) -> Vec<AccountView<'_>> {
        let mut ids: BTreeSet<&str> = self.rules.iter().map(|r| r.account_id.as_str()).collect();
        ids.extend(self.steps.iter().map(|s| s.account_id.as_str()));
        ids.into_iter()
            .map(|a| AccountView {
                account_id: a.to_string(),
                rules: self.rules.iter().filter(|r| r.account_id == a).collect(),
                steps: self
                    .steps
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.account_id == a)
                    .collect(),
            })
            .collect()
    }
}

/// The snapshots being "fixed": (account, region) -> document.
type Work = BTreeMap<(String, String), Value>;

/// The file each working-copy document came from, for messages.
type Shown = BTreeMap<(String, String), String>;

/// Decides the working copy in memory. Each document is checked as a snapshot file is; one that
/// a planned step made invalid would be a bug of the plan, and is an error naming it.
fn evaluate(ev: &Evaluator, work: &Work, shown: &Shown) -> Result<Vec<Finding>, RemediateError> {
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

/// The metric filters other rules' passing chains run through: (account, region, log group,
/// filter). A fix for one rule never replaces them.
fn filters_in_use(
    findings: &[Finding],
    except: (&str, &str),
) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for f in findings.iter().filter(|f| others_passing(f, except)) {
        if let (Some(lg), Some(filter)) =
            (f.chain_entry(&Link::LogGroup), f.chain_entry(&Link::Filter))
        {
            let s = |v: &Value, k: &str| str_of(v, k).unwrap_or_default().to_string();
            out.insert((
                s(lg, "account"),
                s(lg, "region"),
                s(lg, "name"),
                s(filter, "name"),
            ));
        }
    }
    out
}

/// A passing finding other than `except` (rule, account): the same rule in another account counts
/// (an organization trail's log group serves every member).
fn others_passing(f: &Finding, except: (&str, &str)) -> bool {
    f.verdict == Verdict::Pass && (f.rule_id.as_str(), f.account_id.as_str()) != except
}

/// The metrics in the chains of `findings` (as far as each got): (account, region, namespace,
/// name) of the log group's account and region.
fn metrics_of<'a>(
    findings: impl Iterator<Item = &'a Finding>,
) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for f in findings {
        let Some(lg) = f.chain_entry(&Link::LogGroup) else {
            continue;
        };
        let s = |v: &Value, k: &str| str_of(v, k).unwrap_or_default().to_string();
        for m in f
            .chain_entries()
            .filter(|e| str_of(e, "link") == Some("metric"))
        {
            out.insert((
                s(lg, "account"),
                s(lg, "region"),
                s(m, "namespace"),
                s(m, "name"),
            ));
        }
    }
    out
}

/// The alarms other rules' passing chains end in: (account, region, alarm name). A fix for one
/// rule never restates them onto its own metric.
fn alarms_in_use(findings: &[Finding], except: (&str, &str)) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for f in findings.iter().filter(|f| others_passing(f, except)) {
        let lg_account = f
            .chain_entry(&Link::LogGroup)
            .and_then(|lg| str_of(lg, "account"));
        for alarm in f
            .chain_entries()
            .filter(|e| str_of(e, "link") == Some("alarm"))
        {
            let arn = str_of(alarm, "arn").and_then(Arn::parse);
            let account = arn.as_ref().map(|a| a.account).or(lg_account);
            let region = arn.as_ref().map(|a| a.region).or(str_of(alarm, "region"));
            if let (Some(account), Some(region), Some(name)) =
                (account, region, str_of(alarm, "name"))
            {
                out.insert((account.to_string(), region.to_string(), name.to_string()));
            }
        }
    }
    out
}

/// Loads the snapshots (once), evaluates the requested rules and plans the fixes of every finding
/// that does not pass; each round re-evaluates the working copy in memory.
pub fn plan(req: &Request) -> Result<Plan, RemediateError> {
    let benchmark = if req.benchmark.is_empty() {
        crate::findings::benchmark::DEFAULT.to_string()
    } else {
        req.benchmark.clone()
    };
    let options = |rules: Vec<String>| eval::EvalOptions {
        rules,
        policy_dirs: req.policy_dirs.clone(),
        benchmark: benchmark.clone(),
        ..eval::EvalOptions::new(req.paths.clone())
    };
    // The rules to plan (an unknown id is an error here), and every loaded rule: a plan for some
    // rules must not break the others, so all are decided, before the plan and after it.
    let planned = options(req.rules.clone()).compile()?;
    let rules = planned.rules.clone();
    let mut ev = if req.rules.is_empty() {
        planned
    } else {
        drop(planned);
        options(Vec::new()).compile()?
    };
    let requested: BTreeSet<String> = rules.iter().map(|c| c.id.clone()).collect();
    let wanted =
        |account: &str| req.accounts.is_empty() || req.accounts.iter().any(|a| a == account);
    let fixes: BTreeMap<String, RuleFix> = rules
        .iter()
        .map(|c| (c.id.clone(), RuleFix::of(c, &mut ev, &benchmark)))
        .collect();
    let planned_here = |f: &Finding| requested.contains(&f.rule_id) && wanted(&f.account_id);
    let set = eval::SnapshotSet::load(&req.paths);
    let result = eval::evaluate(&ev, &set, true)?;
    let mut out = Plan {
        errors: result
            .notifications
            .iter()
            .filter(|n| n.level == crate::findings::Level::Error)
            .map(|n| n.message.clone())
            .collect(),
        rule_ids: rules.iter().map(|c| c.id.clone()).collect(),
        inputs: result.inputs.clone(),
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
    // As the snapshots were, for the trails steps will change.
    let original = work.clone();
    // (rule, account) -> index into out.rules, for the findings still being planned.
    let mut active: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut failing_accounts: BTreeSet<String> = BTreeSet::new();
    let mut passed_before: BTreeSet<(String, String)> = BTreeSet::new();
    let mut accounts_seen: BTreeSet<String> = BTreeSet::new();
    // Every rule that passes, in every account (planned or not), must still pass after the plan.
    for f in result
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Pass)
    {
        passed_before.insert((f.rule_id.clone(), f.account_id.clone()));
    }
    for f in result.findings.iter().filter(|f| planned_here(f)) {
        accounts_seen.insert(f.account_id.clone());
        let key = (f.rule_id.clone(), f.account_id.clone());
        if f.verdict == Verdict::Pass {
            continue;
        }
        failing_accounts.insert(f.account_id.clone());
        let outcome = match f.verdict {
            Verdict::Unknown => Outcome::Collect(what_to_collect(f, &work)),
            _ => {
                active.insert(key, out.rules.len());
                Outcome::Remaining {
                    verdict: f.verdict,
                    message: f.message.clone(),
                }
            }
        };
        out.rules.push(RulePlan {
            rule_id: f.rule_id.clone(),
            account_id: f.account_id.clone(),
            verdict: f.verdict,
            message: f.message.clone(),
            at: at(f),
            steps: vec![],
            outcome,
        });
    }
    out.passing = accounts_seen
        .into_iter()
        .filter(|a| !failing_accounts.contains(a))
        .collect();
    // The accounts each passing chain runs through (its own, the log group's, the topic's): a step
    // in any of them may be what breaks it.
    let chain_accounts: BTreeMap<(String, String), BTreeSet<String>> = result
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::Pass)
        .map(|f| {
            let mut accounts: BTreeSet<String> = f
                .chain_entries()
                .flat_map(|e| {
                    let arn = str_of(e, "arn").and_then(Arn::parse).map(|a| a.account);
                    [str_of(e, "account"), arn]
                })
                .flatten()
                .map(str::to_string)
                .collect();
            accounts.insert(f.account_id.clone());
            ((f.rule_id.clone(), f.account_id.clone()), accounts)
        })
        .collect();
    let mut findings = result.findings;
    // The topic each account and region's new or restated alarms notify, once chosen.
    let mut topics: BTreeMap<(String, String), String> = BTreeMap::new();
    for _round in 0..MAX_ROUNDS {
        let mut pending: Vec<usize> = Vec::new();
        let mut progressed: BTreeSet<(String, String)> = BTreeSet::new();
        for f in &findings {
            let key = (f.rule_id.clone(), f.account_id.clone());
            let Some(&i) = active.get(&key) else { continue };
            if f.verdict != Verdict::Fail {
                continue;
            }
            let Some(fix) = fixes.get(&f.rule_id) else {
                continue;
            };
            let ctx = Ctx {
                work: &work,
                fix,
                in_use: filters_in_use(&findings, (&f.rule_id, &f.account_id)),
                alarms_in_use: alarms_in_use(&findings, (&f.rule_id, &f.account_id)),
                metrics_of_others: metrics_of(findings.iter().filter(|g| {
                    (g.rule_id.as_str(), g.account_id.as_str())
                        != (f.rule_id.as_str(), f.account_id.as_str())
                })),
                topics: &mut topics,
            };
            let steps = derive(f, ctx);
            let mut new = false;
            let mut stuck = steps.is_empty();
            for st in steps {
                let idx = match out.steps.iter().position(|s| s.same(&st)) {
                    Some(j) => {
                        if !out.steps[j].rules.contains(&f.rule_id) {
                            out.steps[j].rules.push(f.rule_id.clone());
                        }
                        j
                    }
                    None => {
                        out.steps.push(st);
                        pending.push(out.steps.len() - 1);
                        out.steps.len() - 1
                    }
                };
                let rp = &mut out.rules[i];
                if rp.steps.contains(&idx) {
                    // The same fix again: it did not help.
                    stuck = true;
                } else {
                    rp.steps.push(idx);
                    new = true;
                }
                if out.steps[idx].manual.is_some() {
                    stuck = true;
                }
            }
            if new && !stuck {
                progressed.insert(key);
            }
        }
        // Applied after every rule of this round has derived its steps from the same state.
        for &j in &pending {
            if out.steps[j].manual.is_none() {
                apply(&out.steps[j], &mut work);
            }
        }
        active.retain(|k, _| progressed.contains(k));
        if pending.is_empty() && active.is_empty() {
            break;
        }
        findings = evaluate(&ev, &work, &shown)?;
        active.retain(|k, _| {
            findings
                .iter()
                .any(|f| (&f.rule_id, &f.account_id) == (&k.0, &k.1) && f.verdict == Verdict::Fail)
        });
        if active.is_empty() {
            break;
        }
    }
    let findings = hold_back(
        &mut out,
        &original,
        &passed_before,
        &chain_accounts,
        &ev,
        &shown,
        findings,
    )?;
    // A new topic that only manual alarm steps would notify is part of doing those by hand.
    let notified: BTreeSet<String> = out
        .steps
        .iter()
        .filter(|s| s.manual.is_none())
        .filter_map(|s| match &s.action {
            Action::PutMetricAlarm { alarm, .. } => Some(list(alarm.get("AlarmActions"))),
            _ => None,
        })
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let created: BTreeSet<String> = out
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::CreateTopic { arn, .. } => Some(arn.clone()),
            _ => None,
        })
        .collect();
    for s in out.steps.iter_mut().filter(|s| s.manual.is_none()) {
        let topic = match &s.action {
            Action::CreateTopic { arn, .. } => arn,
            Action::Subscribe { topic_arn, .. } if created.contains(topic_arn) => topic_arn,
            _ => continue,
        };
        if !notified.contains(topic) {
            s.manual = Some(
                "only the manual alarm steps notify this new topic: create it when you do them"
                    .into(),
            );
        }
    }
    // Outcomes from the final working copy, for every rule that had a plan.
    for rp in &mut out.rules {
        if matches!(rp.outcome, Outcome::Collect(_)) {
            continue;
        }
        if let Some(f) = findings
            .iter()
            .find(|f| f.rule_id == rp.rule_id && f.account_id == rp.account_id)
        {
            rp.outcome = if f.verdict == Verdict::Pass {
                Outcome::Passes
            } else {
                Outcome::Remaining {
                    verdict: f.verdict,
                    message: f.message.clone(),
                }
            };
        }
    }
    // Still broken with every suspect held back: say so rather than plan it.
    for f in &findings {
        let key = (f.rule_id.clone(), f.account_id.clone());
        if f.verdict != Verdict::Pass && passed_before.contains(&key) {
            out.held_back.push(format!(
                "{} passes in account {}, and the plan would make it fail even with the steps that could cause it held back: do not run it (a bug of cwl-audit: please report it)",
                f.rule_id, f.account_id
            ));
            out.rules.push(RulePlan {
                rule_id: f.rule_id.clone(),
                account_id: f.account_id.clone(),
                verdict: Verdict::Pass,
                message: "passes now; the planned steps would make it fail (a bug of cwl-audit: do not run them as they are)".into(),
                at: None,
                steps: vec![],
                outcome: Outcome::Remaining {
                    verdict: f.verdict,
                    message: f.message.clone(),
                },
            });
        }
    }
    prune_superseded(&mut out);
    for s in &out.steps {
        if let Some(arn) = s.action.trail_arn() {
            out.trails
                .entry(arn.to_string())
                .or_insert_with(|| trail_seen(&original, arn));
        }
    }
    Ok(out)
}

/// A step planned for one rule must not break another that passed. Derivation avoids the pieces
/// other passing chains use; should a step still break one, every step that could be the cause
/// (the account's, and those of the trails its snapshots list) is held back, and the copy is
/// rebuilt from the snapshots with the steps that remain. Returns the findings of that copy.
fn hold_back(
    out: &mut Plan,
    original: &Work,
    passed_before: &BTreeSet<(String, String)>,
    chain_accounts: &BTreeMap<(String, String), BTreeSet<String>>,
    ev: &Evaluator,
    shown: &Shown,
    mut findings: Vec<Finding>,
) -> Result<Vec<Finding>, RemediateError> {
    for _ in 0..MAX_ROUNDS {
        let broken: Vec<(String, String)> = findings
            .iter()
            .filter(|f| f.verdict != Verdict::Pass)
            .map(|f| (f.rule_id.clone(), f.account_id.clone()))
            .filter(|k| passed_before.contains(k))
            .collect();
        if broken.is_empty() {
            break;
        }
        let mut changed = false;
        for (rule, account) in &broken {
            let trails: BTreeSet<&str> = original
                .iter()
                .filter(|((a, _), _)| a == account)
                .flat_map(|(_, doc)| list(doc.pointer("/cloudtrail/trailList")))
                .filter_map(|t| str_of(t, "TrailARN"))
                .collect();
            let accounts = chain_accounts.get(&(rule.clone(), account.clone()));
            let mut held = false;
            for s in out.steps.iter_mut().filter(|s| s.manual.is_none()) {
                if s.account_id == *account
                    || accounts.is_some_and(|a| a.contains(&s.account_id))
                    || s.action.trail_arn().is_some_and(|t| trails.contains(t))
                {
                    s.manual = Some(format!(
                        "with this step the plan would make {rule} fail in account {account}, where it passes (a bug of cwl-audit: please report it)"
                    ));
                    s.held_back = true;
                    held = true;
                }
            }
            if held {
                out.held_back.push(format!(
                    "{rule} passes in account {account}, and the plan would make it fail: its steps there are held back, not run (a bug of cwl-audit: please report it)"
                ));
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut work = original.clone();
        for s in out.steps.iter().filter(|s| s.manual.is_none()) {
            apply(s, &mut work);
        }
        findings = evaluate(ev, &work, shown)?;
    }
    Ok(findings)
}

/// Drops steps a later step restates completely; the rules that needed them point at the later one.
fn prune_superseded(out: &mut Plan) {
    let n = out.steps.len();
    let mut dropped = vec![false; n];
    for (i, gone) in dropped.iter_mut().enumerate() {
        if let Some(j) = (i + 1..n).find(|&j| out.steps[i].superseded_by(&out.steps[j])) {
            *gone = true;
            // What the plan creates does not exist before it runs: the step that replaces its
            // creation creates it too (no delete of a missing filter, no Terraform import).
            let created = matches!(
                out.steps[i].action,
                Action::PutMetricFilter {
                    existing: false,
                    ..
                } | Action::PutMetricAlarm {
                    existing: false,
                    ..
                }
            );
            if created {
                if let Action::PutMetricFilter { existing, .. }
                | Action::PutMetricAlarm { existing, .. } = &mut out.steps[j].action
                {
                    *existing = false;
                }
            }
            for rp in &mut out.rules {
                if rp.steps.contains(&i) && !rp.steps.contains(&j) {
                    rp.steps.push(j);
                }
            }
        }
    }
    let mut renum = vec![None; n];
    let mut kept = Vec::new();
    for (i, s) in out.steps.drain(..).enumerate() {
        if !dropped[i] {
            renum[i] = Some(kept.len());
            kept.push(s);
        }
    }
    out.steps = kept;
    for rp in &mut out.rules {
        let mut v: Vec<usize> = rp.steps.iter().filter_map(|&i| renum[i]).collect();
        v.sort_unstable();
        v.dedup();
        rp.steps = v;
    }
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

/// The log group name in `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`.
fn log_group_name(arn_text: &str) -> Option<String> {
    arn::log_group_name(&Arn::parse(arn_text)?).map(str::to_string)
}

fn account_partition(work: &Work, account: &str) -> String {
    work.iter()
        .find(|((a, _), _)| a == account)
        .and_then(|(_, d)| str_of(d, "partition"))
        .unwrap_or("aws")
        .to_string()
}

fn confirmed(sub: &Value) -> bool {
    str_of(sub, "SubscriptionArn").is_some_and(arn::is_confirmed_subscription)
}

// ------------------------------------------------------------------ from finding to fix

/// Where in a snapshot a finding points, parsed once from its JSON pointer.
#[derive(Debug, Clone, PartialEq)]
enum Spot {
    /// `/cloudtrail/trailList[/N]`: the trail list or one trail's record.
    TrailList,
    /// `/cloudtrail/status/<arn>`.
    TrailStatus,
    /// `/cloudtrail/selectors/<arn>`.
    TrailSelectors,
    /// `/logs/metricFilters/N[/metricTransformations/M]`: the filter's pointer.
    Filter(String),
    /// `/cloudwatch/MetricAlarms`: the alarm list (no alarm on the metric).
    Alarms,
    /// `/cloudwatch/MetricAlarms/N...`: one alarm.
    Alarm,
    /// `/errors/N`.
    Error(usize),
    Other,
}

impl Spot {
    fn parse(pointer: &str) -> Spot {
        let parts: Vec<&str> = pointer.split('/').skip(1).collect();
        match parts.as_slice() {
            ["cloudtrail", "trailList", ..] => Spot::TrailList,
            ["cloudtrail", "status", _, ..] => Spot::TrailStatus,
            ["cloudtrail", "selectors", _, ..] => Spot::TrailSelectors,
            ["logs", "metricFilters", i, ..] if i.parse::<usize>().is_ok() => {
                Spot::Filter(format!("/logs/metricFilters/{i}"))
            }
            ["cloudwatch", "MetricAlarms"] => Spot::Alarms,
            ["cloudwatch", "MetricAlarms", i, ..] if i.parse::<usize>().is_ok() => Spot::Alarm,
            ["errors", i] => i.parse().map(Spot::Error).unwrap_or(Spot::Other),
            _ => Spot::Other,
        }
    }
}

/// What [`derive`] reads besides the finding.
struct Ctx<'a> {
    work: &'a Work,
    fix: &'a RuleFix,
    /// Filters other rules' passing chains use (never replaced).
    in_use: BTreeSet<(String, String, String, String)>,
    /// Alarms other rules' passing chains end in (never restated onto another metric).
    alarms_in_use: BTreeSet<(String, String, String)>,
    /// The metrics of every other rule's chain (and the rule's in other accounts), passing or
    /// not: a filter publishing one is another rule's too, and rewritten for this rule it would
    /// feed that rule's alarms this rule's events (or undo that rule's own fix).
    metrics_of_others: BTreeSet<(String, String, String, String)>,
    /// The topic chosen for each account and region so far (shared by every rule's alarms).
    topics: &'a mut BTreeMap<(String, String), String>,
}

/// Is `pattern` meant for the rule: it catches every reference event, or only reference events?
/// (A filter for another rule's events is never rewritten to this rule's pattern.)
fn meant_for(pattern: &str, reference: &str) -> bool {
    crate::pattern::covers(pattern, reference).covers
        || crate::pattern::covers(reference, pattern).covers
}

/// The fixes for a failing finding's broken link; empty when no fix is known (the plan then ends
/// with the rule's message).
fn derive(f: &Finding, mut ctx: Ctx<'_>) -> Vec<Step> {
    let Some(loc) = &f.location else {
        return vec![];
    };
    let work = ctx.work;
    let key = (loc.account_id.clone(), loc.region.clone());
    let Some(snap) = work.get(&key) else {
        return vec![];
    };
    let spot = Spot::parse(&loc.pointer);
    let at = if loc.pointer.is_empty() {
        None
    } else {
        snap.pointer(&loc.pointer)
    };
    let rule = ctx.fix.id.as_str();
    let step = |action: Action| Step::new(&loc.account_id, &loc.region, &f.message, rule, action);
    let resource = f.resource.as_deref().unwrap_or_default();
    let Some(link) = &f.link else { return vec![] };
    match link {
        Link::Trail if resource.is_empty() => {
            if spot == Spot::TrailList {
                vec![step(Action::CreateTrail {
                    name: DEFAULT_TRAIL.to_string(),
                })]
            } else {
                vec![]
            }
        }
        Link::Trail => {
            let arn_s = resource.to_string();
            match spot {
                Spot::TrailStatus => return vec![step(Action::StartLogging { trail_arn: arn_s })],
                Spot::TrailSelectors => {
                    let Some(sel) = at else { return vec![] };
                    let (basic, advanced) = management_selectors(sel);
                    return vec![step(Action::PutEventSelectors {
                        trail_arn: arn_s,
                        basic,
                        advanced,
                    })];
                }
                _ => {}
            }
            let Some(rec) = at else { return vec![] };
            let owner = Arn::parse(resource)
                .map(|a| a.account.to_string())
                .unwrap_or_default();
            if owner != f.account_id && rec.get("IsOrganizationTrail") != Some(&Value::Bool(true)) {
                // Another account's own trail: this account needs a trail of its own.
                return vec![Step::new(
                    &f.account_id,
                    &loc.region,
                    &f.message,
                    rule,
                    Action::CreateTrail {
                        name: DEFAULT_TRAIL.to_string(),
                    },
                )];
            }
            if rec.get("IsMultiRegionTrail") != Some(&Value::Bool(true)) {
                return vec![step(Action::MakeMultiRegion { trail_arn: arn_s })];
            }
            let name = str_of(rec, "Name").unwrap_or(DEFAULT_TRAIL).to_string();
            vec![step(Action::DeliverToLogs {
                trail_arn: arn_s,
                log_group: format!("aws-cloudtrail-logs-{}-{name}", loc.account_id),
                role_arn: str_of(rec, "CloudWatchLogsRoleArn").map(str::to_string),
                // A trail name has up to 128 characters, a role name 64; a log group name 512
                // (this one is at most 161).
                role_name: within(&format!("CloudTrailRoleForCloudWatchLogs-{name}"), 64),
            })]
        }
        Link::LogGroup => {
            let Some(lg) = log_group_name(resource) else {
                return vec![];
            };
            new_filter(&ctx, snap, &lg, step)
        }
        Link::Filter | Link::Metric => {
            let Spot::Filter(filter_ptr) = &spot else {
                return vec![];
            };
            let Some(filter) = snap.pointer(filter_ptr) else {
                return vec![];
            };
            let (Some(lg), Some(name)) =
                (str_of(filter, "logGroupName"), str_of(filter, "filterName"))
            else {
                return vec![];
            };
            let Some(reference) = ctx.fix.reference.clone() else {
                return vec![];
            };
            let names = &ctx.fix.names;
            let mt = list(filter.get("metricTransformations")).first();
            let namespace = mt.and_then(|m| str_of(m, "metricNamespace"));
            let metric = mt.and_then(|m| str_of(m, "metricName"));
            let current = str_of(filter, "filterPattern").unwrap_or_default();
            // The broken link is another filter that publishes the chain's metric too (a
            // co-publisher): that filter is left as it is, and the rule gets a filter and metric
            // of its own on the chain's log group.
            let chain_lg = f
                .chain_entry(&Link::LogGroup)
                .and_then(|e| str_of(e, "name"));
            let chain_filter = f
                .last_chain_entry(&Link::Filter)
                .and_then(|e| str_of(e, "name"));
            if chain_filter.is_some() && (chain_lg, chain_filter) != (Some(lg), Some(name)) {
                return match chain_lg {
                    Some(chain_lg) => new_chain(&mut ctx, f, snap, chain_lg, step),
                    None => vec![],
                };
            }
            // In use when another passing chain runs through it; another rule's when its data
            // points feed another chain's alarm, passing or not (it publishes that chain's
            // metric).
            let used = ctx.in_use.contains(&(
                loc.account_id.clone(),
                loc.region.clone(),
                lg.to_string(),
                name.to_string(),
            )) || list(filter.get("metricTransformations")).iter().any(|m| {
                ctx.metrics_of_others.contains(&(
                    loc.account_id.clone(),
                    loc.region.clone(),
                    str_of(m, "metricNamespace").unwrap_or_default().to_string(),
                    str_of(m, "metricName").unwrap_or_default().to_string(),
                ))
            });
            // Replace the filter only when it is this rule's: its pattern aims at the rule's events,
            // or it has the rule's name or metric; and no other rule's passing chain runs through it.
            let ours = name == names.filter_name
                || (metric == Some(names.metric_name.as_str())
                    && namespace == Some(names.metric_namespace.as_str()))
                || meant_for(current, &reference);
            if used || !ours {
                return new_filter(&ctx, snap, lg, step);
            }
            // Keep the metric the filter publishes (an alarm may already watch it) when it is usable.
            let pattern = if *link == Link::Metric {
                current.to_string()
            } else {
                reference
            };
            // Its unit too (an alarm may expect it); the value becomes 1, with no default and no
            // dimensions, which is what the chain needs.
            vec![step(Action::PutMetricFilter {
                log_group: lg.to_string(),
                filter_name: name.to_string(),
                pattern,
                namespace: namespace.unwrap_or(&names.metric_namespace).to_string(),
                metric: metric.unwrap_or(&names.metric_name).to_string(),
                unit: mt.and_then(|m| str_of(m, "unit")).map(str::to_string),
                existing: true,
            })]
        }
        Link::Alarm if spot == Spot::Alarms => {
            // No alarm on the filter's metric: create one, notifying a topic.
            let Some(metric) = f.last_chain_entry(&Link::Metric) else {
                return vec![];
            };
            let names = ctx.fix.names.clone();
            let (ns, name) = (
                str_of(metric, "namespace").unwrap_or(&names.metric_namespace),
                str_of(metric, "name").unwrap_or(&names.metric_name),
            );
            // An alarm on the same metric name in another namespace (or with dimensions the
            // metric does not have) was meant for it: restate that alarm on the right metric.
            // Never one that another rule's passing chain ends in: moved, it would break that rule.
            let meant = list(snap.pointer("/cloudwatch/MetricAlarms"))
                .iter()
                .find(|a| {
                    str_of(a, "MetricName") == Some(name)
                        && (str_of(a, "Namespace") != Some(ns)
                            || !list(a.get("Dimensions")).is_empty())
                        && !str_of(a, "AlarmName").is_some_and(|n| {
                            ctx.alarms_in_use.contains(&(
                                loc.account_id.clone(),
                                loc.region.clone(),
                                n.to_string(),
                            ))
                        })
                });
            if let Some(a) = meant {
                let mut alarm = restate(a);
                alarm.insert("Namespace".into(), json!(ns));
                alarm.remove("Dimensions");
                let named = alarm.contains_key("Unit");
                read_published_unit(&mut alarm, named, f, snap, ns, name);
                return vec![step(Action::PutMetricAlarm {
                    alarm,
                    existing: true,
                })];
            }
            let (ns, name) = (ns.to_string(), name.to_string());
            new_alarm(&mut ctx, f, snap, &ns, &name, step)
        }
        Link::Alarm => {
            let Some(a) = at else { return vec![] };
            let Some(name) = str_of(a, "AlarmName") else {
                return vec![];
            };
            let metric = f.last_chain_entry(&Link::Metric);
            let names = &ctx.fix.names;
            let ns = metric
                .and_then(|m| str_of(m, "namespace"))
                .unwrap_or(&names.metric_namespace)
                .to_string();
            let metric_name = metric
                .and_then(|m| str_of(m, "name"))
                .unwrap_or(&names.metric_name)
                .to_string();
            // The alarm expects a unit the filter does not publish in: the filter publishes in it,
            // when the filter is this rule's to change.
            let published = published_unit(f, snap, &ns, &metric_name);
            // The chain's filter is the rule's own to change: no other passing chain runs through
            // it, no other chain reads its metric, and it is meant for the rule alone.
            let own_filter = published.as_ref().is_some_and(|p| {
                !ctx.in_use.contains(&(
                    loc.account_id.clone(),
                    loc.region.clone(),
                    p.log_group.clone(),
                    p.filter.clone(),
                )) && !ctx.metrics_of_others.contains(&(
                    loc.account_id.clone(),
                    loc.region.clone(),
                    ns.clone(),
                    metric_name.clone(),
                )) && strictly_ours(&ctx, p)
            });
            if let (Some(unit), Some(current)) = (str_of(a, "Unit"), &published) {
                if current.unit.as_deref().unwrap_or("None") != unit && own_filter {
                    return vec![step(Action::PutMetricFilter {
                        log_group: current.log_group.clone(),
                        filter_name: current.filter.clone(),
                        pattern: current.pattern.clone(),
                        namespace: ns,
                        metric: metric_name,
                        unit: Some(unit.to_string()),
                        existing: true,
                    })];
                }
            }
            // Another rule's passing chain ends in this alarm (a metric-math alarm on both rules'
            // metrics, one metric two filters publish): changed for this rule, it could break that
            // one. The rule's fix is at an alarm on the metric that no other chain uses, if there
            // is one (planned in an earlier round, or failing for a reason of its own); else a
            // new alarm.
            let key = (loc.account_id.clone(), loc.region.clone(), name.to_string());
            let (a, name) = if ctx.alarms_in_use.contains(&key) {
                let own = list(snap.pointer("/cloudwatch/MetricAlarms"))
                    .iter()
                    .find_map(|x| {
                        let n = str_of(x, "AlarmName")?;
                        (str_of(x, "Namespace") == Some(ns.as_str())
                            && str_of(x, "MetricName") == Some(metric_name.as_str())
                            && list(x.get("Dimensions")).is_empty()
                            && !ctx.alarms_in_use.contains(&(
                                loc.account_id.clone(),
                                loc.region.clone(),
                                n.to_string(),
                            )))
                        .then_some((x, n))
                    });
                match own {
                    Some(own) => own,
                    // The chain's filter is not the rule's either (a filter of every event, one
                    // of another rule): the rule gets a filter and metric of its own, and its
                    // alarm with them.
                    None if !own_filter => {
                        return match &published {
                            Some(p) => new_chain(&mut ctx, f, snap, &p.log_group, step),
                            None => vec![],
                        }
                    }
                    None => return new_alarm(&mut ctx, f, snap, &ns, &metric_name, step),
                }
            } else {
                (a, name)
            };
            if a.get("ActionsEnabled") != Some(&Value::Bool(true)) {
                return vec![step(Action::EnableAlarmActions {
                    alarm_name: name.to_string(),
                })];
            }
            // Restate the alarm with settings that fire on one event, keeping its name and actions;
            // it names the unit the rule's filter publishes in when it named one or must name one.
            let mut alarm = Map::new();
            read_published_unit(
                &mut alarm,
                str_of(a, "Unit").is_some(),
                f,
                snap,
                &ns,
                &metric_name,
            );
            let kept = restate(a);
            for k in [
                "AlarmName",
                "AlarmDescription",
                "AlarmActions",
                "OKActions",
                "InsufficientDataActions",
            ] {
                if let Some(v) = kept.get(k) {
                    alarm.insert(k.into(), v.clone());
                }
            }
            alarm.insert("Namespace".into(), json!(ns));
            alarm.insert("MetricName".into(), json!(metric_name));
            set_firing(&mut alarm, a.get("Period"));
            // The alarm already is what the fix would make it: the step would change nothing, and
            // the rule fails for a reason no restatement reaches.
            if same_alarm(&alarm, &restate(a)) {
                return vec![];
            }
            vec![step(Action::PutMetricAlarm {
                alarm,
                existing: true,
            })]
        }
        Link::Topic if Arn::parse(resource).is_some_and(|a| a.service == "cloudwatch") => {
            // The alarm notifies no topic when it goes to ALARM: restate it with a topic.
            let Some(a) = at.filter(|a| a.get("AlarmName").is_some()) else {
                return vec![];
            };
            with_topic(&mut ctx, f, a, step)
        }
        Link::Topic
            if arn::is_topic(resource)
                && Arn::parse(resource).is_some_and(|t| t.region != loc.region) =>
        {
            // CloudWatch notifies only topics of the alarm's region (PutMetricAlarm refuses any
            // other, so the restated alarm drops them): it gets one of its own region.
            let Some(a) = loc
                .pointer
                .rsplit_once("/AlarmActions/")
                .and_then(|(p, _)| snap.pointer(p))
                .filter(|a| a.get("AlarmName").is_some())
            else {
                return vec![];
            };
            with_topic(&mut ctx, f, a, step)
        }
        Link::Topic if arn::is_topic(resource) => {
            let topic_snap = Arn::parse(resource)
                .and_then(|t| work.get(&(t.account.to_string(), t.region.to_string())));
            let pending = topic_snap
                .map(|s| list(s.pointer("/sns/Subscriptions")))
                .unwrap_or(&[])
                .iter()
                .find(|s| {
                    str_of(s, "TopicArn") == Some(resource)
                        && !confirmed(s)
                        && str_of(s, "Protocol") == Some("email")
                        && str_of(s, "Endpoint").is_some_and(|e| {
                            e.contains('@')
                                && !e.starts_with("redacted:")
                                && safe::valid(Kind::Email, e)
                        })
                });
            let t = Arn::parse(resource);
            vec![Step::new(
                t.as_ref().map(|t| t.account).unwrap_or(&loc.account_id),
                t.as_ref().map(|t| t.region).unwrap_or(&loc.region),
                &f.message,
                rule,
                Action::Subscribe {
                    topic_arn: resource.to_string(),
                    endpoint: pending
                        .and_then(|p| str_of(p, "Endpoint"))
                        .unwrap_or(EMAIL_PLACEHOLDER)
                        .to_string(),
                    resend: pending.is_some(),
                },
            )]
        }
        _ => vec![],
    }
}

/// Alarm `a` restated to notify the account and region's topic (planned with it when there is
/// none) when it goes to ALARM; the restatement drops other regions' topics (see [`restate`]).
fn with_topic(
    ctx: &mut Ctx<'_>,
    f: &Finding,
    a: &Value,
    step: impl Fn(Action) -> Step,
) -> Vec<Step> {
    let Some(loc) = &f.location else {
        return vec![];
    };
    let mut steps = Vec::new();
    let topic = choose_topic(ctx, &loc.account_id, &loc.region, Some(a), &mut steps, f);
    let mut alarm = restate(a);
    let mut actions: Vec<Value> = list(alarm.get("AlarmActions")).to_vec();
    if !actions.iter().any(|x| x.as_str() == Some(topic.as_str())) {
        actions.push(json!(topic));
    }
    alarm.insert("AlarmActions".into(), Value::Array(actions));
    steps.push(step(Action::PutMetricAlarm {
        alarm,
        existing: true,
    }));
    steps
}

/// A filter, metric and alarm of the rule's own on log group `lg`, for a rule whose chain runs
/// through pieces that are not its to change: planned together, so that the next round finds the
/// rule's own chain complete rather than the same broken one.
fn new_chain(
    ctx: &mut Ctx<'_>,
    f: &Finding,
    snap: &Value,
    lg: &str,
    step: impl Fn(Action) -> Step,
) -> Vec<Step> {
    let mut steps = new_filter(ctx, snap, lg, &step);
    let metric = steps.iter().find_map(|s| match &s.action {
        Action::PutMetricFilter {
            namespace, metric, ..
        } => Some((namespace.clone(), metric.clone())),
        _ => None,
    });
    if let Some((ns, name)) = metric {
        steps.extend(new_alarm(ctx, f, snap, &ns, &name, step));
    }
    // A filter whose alarm cannot be made as planned is made by hand with it, or not at all: on
    // its own it is a metric no alarm reads.
    let why = steps
        .iter()
        .find(|s| matches!(s.action, Action::PutMetricAlarm { .. }))
        .and_then(|s| s.manual.clone());
    if let Some(why) = why {
        for s in steps.iter_mut().filter(|s| s.manual.is_none()) {
            s.manual = Some(format!(
                "made with the alarm of the next step, which is manual: {why}"
            ));
        }
    }
    steps
}

/// A new alarm for the rule on metric `ns`/`name` (a free alarm name), notifying the account and
/// region's topic (planned with it when there is none).
fn new_alarm(
    ctx: &mut Ctx<'_>,
    f: &Finding,
    snap: &Value,
    ns: &str,
    name: &str,
    step: impl Fn(Action) -> Step,
) -> Vec<Step> {
    let Some(loc) = &f.location else {
        return vec![];
    };
    let taken: Vec<&str> = list(snap.pointer("/cloudwatch/MetricAlarms"))
        .iter()
        .filter_map(|a| str_of(a, "AlarmName"))
        .collect();
    let mut steps = Vec::new();
    let topic = choose_topic(ctx, &loc.account_id, &loc.region, None, &mut steps, f);
    let mut alarm = Map::new();
    alarm.insert(
        "AlarmName".into(),
        json!(unused(&ctx.fix.names.alarm_name, &taken)),
    );
    let description = format!("{} ({})", ctx.fix.title, ctx.fix.id);
    if safe::valid(Kind::Description, &description) {
        alarm.insert("AlarmDescription".into(), json!(description));
    }
    alarm.insert("Namespace".into(), json!(ns));
    alarm.insert("MetricName".into(), json!(name));
    read_published_unit(&mut alarm, false, f, snap, ns, name);
    alarm.insert("AlarmActions".into(), json!([topic]));
    set_firing(&mut alarm, None);
    let name = alarm
        .get("AlarmName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut put = step(Action::PutMetricAlarm {
        alarm,
        existing: false,
    });
    // A name is free only among the alarms listed: PutMetricAlarm would silently replace an
    // alarm of that name that the listing missed (perhaps another rule's).
    let partial = list(snap.get("errors"))
        .iter()
        .any(|e| str_of(e, "operation") == Some("DescribeAlarms"));
    if partial && put.manual.is_none() {
        put.manual = Some(format!(
            "the alarms of {} were listed only in part, so alarm {name} may exist already: check \
             that `aws cloudwatch describe-alarms --alarm-names {name}` lists none, then run it",
            loc.region
        ));
    }
    steps.push(put);
    steps
}

/// An alarm on metric `ns`/`name` that names a unit (`named`), or must name one because the metric
/// is published in several ("behaves unpredictably" without, says PutMetricAlarm), reads the unit
/// the rule's filter publishes in ("None" when it names none); none when that filter is not known.
fn read_published_unit(
    alarm: &mut AlarmSpec,
    named: bool,
    f: &Finding,
    snap: &Value,
    ns: &str,
    name: &str,
) {
    if !named && !several_units(snap, ns, name) {
        return;
    }
    match published_unit(f, snap, ns, name) {
        Some(p) => {
            alarm.insert("Unit".into(), json!(p.unit.as_deref().unwrap_or("None")));
        }
        None => {
            alarm.remove("Unit");
        }
    }
}

/// Do the filters of the snapshot publish metric `ns`/`name` (no dimensions) in more than one unit
/// ("None" where a transformation names none)?
fn several_units(snap: &Value, ns: &str, name: &str) -> bool {
    let units: BTreeSet<&str> = list(snap.pointer("/logs/metricFilters"))
        .iter()
        .flat_map(|x| list(x.get("metricTransformations")))
        .filter(|m| {
            str_of(m, "metricNamespace") == Some(ns)
                && str_of(m, "metricName") == Some(name)
                && m.get("dimensions")
                    .and_then(Value::as_object)
                    .is_none_or(Map::is_empty)
        })
        .map(|m| str_of(m, "unit").unwrap_or("None"))
        .collect();
    units.len() > 1
}

/// Is the chain's filter the rule's own to change: it has the rule's filter name or metric, or it
/// matches only events the rule watches (a filter matching more, such as the empty pattern, is
/// another rule's or everyone's)?
fn strictly_ours(ctx: &Ctx<'_>, p: &Published) -> bool {
    let names = &ctx.fix.names;
    p.filter == names.filter_name
        || (p.namespace == names.metric_namespace && p.metric == names.metric_name)
        || ctx
            .fix
            .reference
            .as_deref()
            .is_some_and(|r| crate::pattern::covers(r, &p.pattern).covers)
}

/// The chain's filter as the snapshot shows it, with the unit it publishes the metric in.
struct Published {
    log_group: String,
    filter: String,
    pattern: String,
    namespace: String,
    metric: String,
    /// `None`: the transformation names no unit.
    unit: Option<String>,
}

/// The chain's filter (by its log group and name in the chain evidence) and the unit its
/// transformation publishes metric `ns`/`name` in.
fn published_unit(f: &Finding, snap: &Value, ns: &str, name: &str) -> Option<Published> {
    let lg = str_of(f.chain_entry(&Link::LogGroup)?, "name")?;
    let filter = str_of(f.last_chain_entry(&Link::Filter)?, "name")?;
    let record = list(snap.pointer("/logs/metricFilters")).iter().find(|x| {
        str_of(x, "logGroupName") == Some(lg) && str_of(x, "filterName") == Some(filter)
    })?;
    let mt = list(record.get("metricTransformations")).iter().find(|m| {
        str_of(m, "metricNamespace") == Some(ns) && str_of(m, "metricName") == Some(name)
    })?;
    Some(Published {
        log_group: lg.to_string(),
        filter: filter.to_string(),
        pattern: str_of(record, "filterPattern")
            .unwrap_or_default()
            .to_string(),
        namespace: ns.to_string(),
        metric: name.to_string(),
        unit: str_of(mt, "unit").map(str::to_string),
    })
}

/// A new filter for the rule on log group `lg`: the rule's names (a free filter name, and a metric
/// no other filter of the region publishes) and its reference pattern.
fn new_filter(ctx: &Ctx<'_>, snap: &Value, lg: &str, step: impl Fn(Action) -> Step) -> Vec<Step> {
    let Some(reference) = ctx.fix.reference.clone() else {
        return vec![];
    };
    let names = &ctx.fix.names;
    let filters = list(snap.pointer("/logs/metricFilters"));
    let taken: Vec<&str> = filters
        .iter()
        .filter(|x| str_of(x, "logGroupName") == Some(lg))
        .filter_map(|x| str_of(x, "filterName"))
        .collect();
    // CloudWatch keys a metric by namespace and name: a second publisher would share its data
    // points, and an alarm already on the name (another's, with its own settings) would read it.
    let ns = names.metric_namespace.as_str();
    let alarms = list(snap.pointer("/cloudwatch/MetricAlarms"));
    let published: Vec<&str> = filters
        .iter()
        .flat_map(|x| list(x.get("metricTransformations")))
        .filter(|m| str_of(m, "metricNamespace") == Some(ns))
        .filter_map(|m| str_of(m, "metricName"))
        .chain(
            alarms
                .iter()
                .filter(|a| str_of(a, "Namespace") == Some(ns))
                .filter_map(|a| str_of(a, "MetricName")),
        )
        .chain(
            alarms
                .iter()
                .flat_map(|a| list(a.get("Metrics")))
                .filter_map(|q| q.pointer("/MetricStat/Metric"))
                .filter(|m| str_of(m, "Namespace") == Some(ns))
                .filter_map(|m| str_of(m, "MetricName")),
        )
        .collect();
    vec![step(Action::PutMetricFilter {
        log_group: lg.to_string(),
        filter_name: unused(&names.filter_name, &taken),
        pattern: reference,
        namespace: names.metric_namespace.clone(),
        metric: unused(&names.metric_name, &published),
        unit: None,
        existing: false,
    })]
}

/// `name` when it has at most `max` characters; else its first characters, a dash and eight hex
/// digits of a hash of the whole name: the same name always gets the same short form, and names
/// that share their beginning get different ones.
fn within(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let head: String = name.chars().take(max - 9).collect();
    format!("{head}-{hash:08x}")
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

/// Do two alarm configurations say the same to `PutMetricAlarm`? Absent, `null` and `[]` are one
/// (the API returns empty lists for members never set), and numbers compare by value (`1` is
/// `1.0`).
fn same_alarm(x: &AlarmSpec, y: &AlarmSpec) -> bool {
    fn set(v: &Value) -> bool {
        !matches!(v, Value::Null) && !matches!(v, Value::Array(a) if a.is_empty())
    }
    fn eq(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| eq(a, b))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| eq(v, w)))
            }
            _ => a == b,
        }
    }
    let keys: BTreeSet<&String> = x
        .iter()
        .chain(y.iter())
        .filter(|(_, v)| set(v))
        .map(|(k, _)| k)
        .collect();
    keys.into_iter().all(
        |k| match (x.get(k).filter(|v| set(v)), y.get(k).filter(|v| set(v))) {
            (Some(a), Some(b)) => eq(a, b),
            _ => false,
        },
    )
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
    // PutMetricAlarm refuses an SNS action of another region ("Invalid region R specified"), so a
    // restatement that kept one would stop the script; CloudWatch never delivered to it anyway.
    let region = str_of(a, "AlarmArn")
        .and_then(Arn::parse)
        .map(|x| x.region.to_string());
    let here = |x: &Value| {
        x.as_str()
            .and_then(Arn::parse)
            .is_none_or(|t| t.service != "sns" || Some(t.region) == region.as_deref())
    };
    let mut m = Map::new();
    for k in KEYS {
        match a.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::Array(x)) if x.is_empty() => {}
            Some(Value::Array(x)) if k.ends_with("Actions") => {
                let kept: Vec<Value> = x.iter().filter(|v| here(v)).cloned().collect();
                if !kept.is_empty() {
                    m.insert(k.into(), Value::Array(kept));
                }
            }
            Some(v) => {
                m.insert(k.into(), v.clone());
            }
        }
    }
    m
}

/// The SNS topic a new or restated alarm should notify, one per account and region for every rule:
/// the one already chosen in this plan; else one the alarm notifies on OK; else a topic of this
/// account and region with a confirmed subscription (the alerting topic people already read); else a
/// new topic (added to `steps`, with a subscription).
fn choose_topic(
    ctx: &mut Ctx<'_>,
    account: &str,
    region: &str,
    alarm: Option<&Value>,
    steps: &mut Vec<Step>,
    f: &Finding,
) -> String {
    let key = (account.to_string(), region.to_string());
    if let Some(t) = ctx.topics.get(&key) {
        return t.clone();
    }
    let here = |t: &str| {
        safe::valid(Kind::TopicArn, t)
            && Arn::parse(t).is_some_and(|a| a.account == account && a.region == region)
    };
    if let Some(a) = alarm {
        for k in ["OKActions", "InsufficientDataActions"] {
            if let Some(t) = list(a.get(k))
                .iter()
                .filter_map(Value::as_str)
                .find(|t| arn::is_topic(t) && here(t))
            {
                return t.to_string();
            }
        }
    }
    let mut known: Vec<String> = ctx
        .work
        .get(&key)
        .map(|s| list(s.pointer("/sns/Subscriptions")))
        .unwrap_or(&[])
        .iter()
        .filter(|sub| confirmed(sub))
        .filter_map(|sub| str_of(sub, "TopicArn"))
        .filter(|t| arn::is_topic(t) && here(t))
        .map(str::to_string)
        .collect();
    known.sort();
    let topic = match known.first() {
        Some(t) => t.clone(),
        None => {
            let topic = crate::arn::topic(
                &account_partition(ctx.work, account),
                region,
                account,
                DEFAULT_TOPIC,
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
                steps.push(Step::new(account, region, &f.message, &ctx.fix.id, action));
            }
            topic
        }
    };
    ctx.topics.insert(key, topic.clone());
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
    let partition = account_partition(work, &step.account_id);
    let key = (step.account_id.clone(), step.region.clone());
    match &step.action {
        Action::CreateTrail { name } => {
            let trail_arn = crate::arn::trail(&partition, &step.region, &step.account_id, name);
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
            let lg = crate::arn::log_group(&partition, &step.region, &step.account_id, log_group);
            let role = role_arn
                .clone()
                .unwrap_or_else(|| crate::arn::role(&partition, &step.account_id, role_name));
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
            unit,
            ..
        } => {
            if let Some(doc) = work.get_mut(&key) {
                let filters = ensure(doc, "/logs/metricFilters");
                if !filters.is_array() {
                    *filters = json!([]);
                }
                let mut new = json!({"filterName": filter_name, "logGroupName": log_group, "filterPattern": pattern,
                    "metricTransformations": [{"metricName": metric, "metricNamespace": namespace, "metricValue": "1"}]});
                if let Some(u) = unit {
                    new["metricTransformations"][0]["unit"] = json!(u);
                }
                let Some(arr) = filters.as_array_mut() else {
                    return;
                };
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
            // DescribeAlarms always returns the action lists, empty when none is set.
            for k in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
                if new.get(k).is_none() {
                    new[k] = json!([]);
                }
            }
            new["AlarmArn"] = json!(crate::arn::alarm(
                &partition,
                &step.region,
                &step.account_id,
                name
            ));
            if let Some(doc) = work.get_mut(&key) {
                let alarms = ensure(doc, "/cloudwatch/MetricAlarms");
                if !alarms.is_array() {
                    *alarms = json!([]);
                }
                let Some(arr) = alarms.as_array_mut() else {
                    return;
                };
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
        let Value::Object(o) = cur else {
            unreachable!("made an object above")
        };
        cur = o.entry(part.to_string()).or_insert(Value::Null);
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

/// For an `unknown` finding: which data would let the rule decide, instead of a guessed fix.
fn what_to_collect(f: &Finding, work: &Work) -> Vec<String> {
    let mut out = Vec::new();
    let Some(loc) = &f.location else {
        return vec![format!(
            "collect the snapshots of account {} again",
            f.account_id
        )];
    };
    if let Spot::Error(i) = Spot::parse(&loc.pointer) {
        if let Some(e) = work
            .get(&(loc.account_id.clone(), loc.region.clone()))
            .and_then(|s| s.pointer(&format!("/errors/{i}")))
        {
            let service = str_of(e, "service").unwrap_or("?");
            let op = str_of(e, "operation").unwrap_or("?");
            out.push(format!(
                "the collector's call {service}:{op} failed in account {} {} ({}): allow `{service}:{op}` to the role the collector uses (see the README's least-privilege policy), then collect that account and region again",
                loc.account_id,
                loc.region,
                str_of(e, "code").unwrap_or("error"),
            ));
            if op == "ListSubscriptions" {
                // A command to paste: only from values that pass AWS's naming rules, quoted.
                if let Some(t) = f
                    .resource
                    .as_deref()
                    .filter(|t| safe::valid(Kind::TopicArn, t))
                {
                    let r = Arn::parse(t).map(|a| a.region).unwrap_or(&loc.region);
                    out.push(format!(
                        "to check by hand: aws sns list-subscriptions-by-topic --region={} --topic-arn={}",
                        crate::text::shell_word(r),
                        crate::text::shell_word(t)
                    ));
                }
            }
            return out;
        }
    }
    if let Some(r) = f.resource.as_deref().and_then(Arn::parse) {
        let wanted = (r.account.to_string(), r.region.to_string());
        if !r.account.is_empty() && !r.region.is_empty() && !work.contains_key(&wanted) {
            out.push(format!(
                "load the snapshot of account {} region {} as well (collect it with credentials for that account): the chain continues there",
                r.account, r.region
            ));
            return out;
        }
    }
    // An undecided filter is a property of its pattern, not of missing data: collecting again
    // would show the same pattern.
    if f.link == Some(Link::Filter) {
        out.push(format!(
            "check the metric filter of account {} region {} by hand, or replace its pattern with the rule's reference pattern: {}",
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
    fn alarms_that_say_the_same_are_the_same() {
        let spec = |v: Value| v.as_object().cloned().unwrap();
        let a = spec(json!({"AlarmName": "A", "Threshold": 1, "OKActions": [], "Unit": null}));
        assert!(same_alarm(
            &a,
            &spec(json!({"AlarmName": "A", "Threshold": 1.0}))
        ));
        assert!(!same_alarm(
            &a,
            &spec(json!({"AlarmName": "A", "Threshold": 2}))
        ));
        assert!(!same_alarm(
            &a,
            &spec(json!({"AlarmName": "A", "Threshold": 1, "Unit": "None"}))
        ));
        assert!(!same_alarm(&a, &spec(json!({"AlarmName": "A"}))));
    }

    #[test]
    fn long_names_are_shortened_stably() {
        let short = "CloudTrailRoleForCloudWatchLogs-management-events";
        assert_eq!(within(short, 64), short);
        let a = within(
            &format!("CloudTrailRoleForCloudWatchLogs-{}", "t".repeat(128)),
            64,
        );
        let b = within(
            &format!("CloudTrailRoleForCloudWatchLogs-{}x", "t".repeat(127)),
            64,
        );
        assert_eq!(a.len(), 64);
        assert_eq!(b.len(), 64);
        assert_ne!(a, b);
        assert!(crate::arn::is_role_name(&a), "{a}");
        assert_eq!(
            a,
            within(
                &format!("CloudTrailRoleForCloudWatchLogs-{}", "t".repeat(128)),
                64
            )
        );
    }

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
    fn spots() {
        assert_eq!(Spot::parse("/cloudtrail/trailList/0"), Spot::TrailList);
        assert_eq!(
            Spot::parse("/logs/metricFilters/3/metricTransformations/0"),
            Spot::Filter("/logs/metricFilters/3".into())
        );
        assert_eq!(Spot::parse("/cloudwatch/MetricAlarms"), Spot::Alarms);
        assert_eq!(Spot::parse("/cloudwatch/MetricAlarms/2"), Spot::Alarm);
        assert_eq!(Spot::parse("/errors/1"), Spot::Error(1));
        assert_eq!(Spot::parse("/logs"), Spot::Other);
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
    fn hostile_values_make_a_manual_step() {
        let s = Step::new(
            "123456789012",
            "us-east-1",
            "x",
            "R",
            Action::EnableAlarmActions {
                alarm_name: "a\u{2028}b".into(),
            },
        );
        assert!(s.manual.is_some());
        let s = Step::new(
            "123456789012",
            "us-east-1",
            "x",
            "R",
            Action::Subscribe {
                topic_arn: "arn:aws:sns:us-east-1:123456789012:$(id)".into(),
                endpoint: EMAIL_PLACEHOLDER.into(),
                resend: false,
            },
        );
        assert!(s.manual.unwrap().contains("SNS topic ARN"));
    }

    /// The safety net: a step that would make a passing rule fail is held back (shown, not run,
    /// not applied), and the rule passes again; a step of another account stays runnable.
    #[test]
    fn a_step_that_breaks_a_passing_rule_is_held_back() {
        let ev = eval::EvalOptions {
            rules: vec!["CWL-014".into()],
            ..eval::EvalOptions::new(vec![])
        }
        .compile()
        .unwrap();
        let doc: Value = serde_json::from_str(include_str!(
            "../../policies/aws/cloudwatch/examples/CWL-014/pass/123456789012/us-east-1.json"
        ))
        .unwrap();
        let account = "123456789012";
        let original: Work = [((account.to_string(), "us-east-1".to_string()), doc)].into();
        let shown = Shown::new();
        let verdict = |f: &[Finding]| f.iter().map(|f| f.verdict).collect::<Vec<_>>();
        assert_eq!(
            verdict(&evaluate(&ev, &original, &shown).unwrap()),
            [Verdict::Pass]
        );
        let breaks = Step::new(
            account,
            "us-east-1",
            "x",
            "OTHER",
            Action::PutMetricFilter {
                log_group: "aws-cloudtrail-logs-123456789012".into(),
                filter_name: "RootUsage".into(),
                pattern: "{ $.eventName = Nothing }".into(),
                namespace: "CISBenchmark".into(),
                metric: "RootUsageCount".into(),
                unit: None,
                existing: true,
            },
        );
        let elsewhere = Step::new(
            "210987654321",
            "us-east-1",
            "x",
            "OTHER",
            Action::CreateTopic {
                name: DEFAULT_TOPIC.into(),
                arn: crate::arn::topic("aws", "us-east-1", "210987654321", DEFAULT_TOPIC),
            },
        );
        let mut out = Plan {
            steps: vec![breaks, elsewhere],
            ..Plan::default()
        };
        let mut work = original.clone();
        out.steps.iter().for_each(|s| apply(s, &mut work));
        let findings = evaluate(&ev, &work, &shown).unwrap();
        assert_eq!(verdict(&findings), [Verdict::Fail]);
        let passed: BTreeSet<(String, String)> =
            [("CWL-014".to_string(), account.to_string())].into();
        let findings = hold_back(
            &mut out,
            &original,
            &passed,
            &BTreeMap::new(),
            &ev,
            &shown,
            findings,
        )
        .unwrap();
        assert_eq!(verdict(&findings), [Verdict::Pass]);
        assert!(out.steps[0].held_back);
        assert!(out.steps[0]
            .not_run()
            .unwrap()
            .starts_with("HELD BACK, not run: with this step the plan would make CWL-014 fail"));
        assert!(out.steps[1].manual.is_none() && !out.steps[1].held_back);
        assert_eq!(out.held_back.len(), 1, "{:?}", out.held_back);
    }

    #[test]
    fn enable_is_superseded_by_a_restatement() {
        let s = |action| Step::new("123456789012", "us-east-1", "", "R", action);
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

    /// Found by a breaker: a filter the plan creates, restated in a later round, was planned as
    /// a change of an existing filter (deleted first: on AWS the delete fails and stops the script).
    #[test]
    fn restating_what_the_plan_creates_creates_it() {
        let s = |existing, unit: Option<&str>| {
            Step::new(
                "123456789012",
                "us-east-1",
                "",
                "R",
                Action::PutMetricFilter {
                    log_group: "lg".into(),
                    filter_name: "F-2".into(),
                    pattern: String::new(),
                    namespace: "N".into(),
                    metric: "M".into(),
                    unit: unit.map(str::to_string),
                    existing,
                },
            )
        };
        let mut plan = Plan {
            steps: vec![s(false, None), s(true, Some("Seconds"))],
            ..Plan::default()
        };
        prune_superseded(&mut plan);
        assert_eq!(plan.steps.len(), 1);
        assert!(matches!(
            &plan.steps[0].action,
            Action::PutMetricFilter { existing: false, unit: Some(u), .. } if u == "Seconds"
        ));
    }
}
