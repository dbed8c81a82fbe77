//! The one builder of v1 snapshots (docs/snapshot-format.md) outside the collector: the header and
//! empty sections, trails, metric filters, one-event alarms and subscriptions, the test accounts
//! (`compliant`, `shadow_region`), edits by JSON pointer, and the reference patterns read from the
//! bundled policies' METADATA (`custom.references`), so that no test, bench or generator holds a
//! copy of one.
//!
//! Used by the integration tests (`tests/support`, with the generator in `generate/`), the
//! benchmarks (`benches/orggen`, `benches/pattern.rs`) and the generators of the bundled files
//! (`scripts/make-demo-snapshots.rs`, `scripts/make-rule-examples.rs`, through `bundled.rs`),
//! each of which includes this file with `#[path]`. It is a file of the test tree rather than a
//! module of the library: the library (and the evaluator-only build) carries no test data and no
//! API for it, no feature has to be remembered to build a test or bench, and the only
//! dependencies are the ones every target already has (serde_json and the crate's own METADATA
//! loader).
//!
//! Two sets of names and dates are in use, each as it has always been written ([`Style`]): the
//! tests' short names, and the names the CloudTrail console gives (the demo snapshots, the control
//! examples and the benchmark organization look like real accounts).
#![allow(dead_code)]
use cwl_audit::engine;
use cwl_audit::findings::benchmark;
use cwl_audit::findings::RuleMeta;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// When every built snapshot was collected.
pub const COLLECTED_AT: &str = "2026-11-25T10:00:00Z";

/// Names and dates of the resources a trail and its filters come with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// The tests and the generator: bucket `cloudtrail-<account>`, delivery role
    /// `CloudTrailToCloudWatchLogs`, filters created 2023-11-14.
    Fixture,
    /// As the CloudTrail console names them: bucket `aws-cloudtrail-logs-<account>`, delivery role
    /// `CloudTrailRoleForCloudWatchLogs`, set up on 2025-03-02.
    Console,
}

impl Style {
    fn bucket(self, account: &str) -> String {
        match self {
            Style::Fixture => format!("cloudtrail-{account}"),
            Style::Console => format!("aws-cloudtrail-logs-{account}"),
        }
    }

    fn logs_role(self) -> &'static str {
        match self {
            Style::Fixture => "CloudTrailToCloudWatchLogs",
            Style::Console => "CloudTrailRoleForCloudWatchLogs",
        }
    }

    /// `creationTime` of a metric filter (epoch milliseconds).
    fn filter_created(self) -> u64 {
        match self {
            Style::Fixture => 1_700_000_000_000,
            Style::Console => 1_740_902_400_000,
        }
    }

    /// GetTrailStatus of a trail that is logging and delivering.
    pub fn logging_status(self) -> Value {
        match self {
            Style::Fixture => {
                json!({"IsLogging": true, "LatestDeliveryTime": "2026-11-25T09:55:00Z"})
            }
            Style::Console => json!({
                "IsLogging": true,
                "LatestDeliveryTime": "2026-11-25T09:58:12Z",
                "LatestCloudWatchLogsDeliveryTime": "2026-11-25T09:58:40Z",
                "StartLoggingTime": "2025-03-02T08:00:00Z"
            }),
        }
    }
}

// ---- ARNs

pub fn trail_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

pub fn topic_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

pub fn alarm_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

/// A log group's ARN as a trail's `CloudWatchLogsLogGroupArn` holds it (with `:*`).
pub fn log_group_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}:*")
}

// ---- The skeleton

/// The members every snapshot starts with (format, account, partition, region, collector).
pub fn header(account: &str, region: &str) -> Value {
    json!({
        "format": cwl_audit::snapshot::FORMAT_V1,
        "account_id": account,
        "partition": "aws",
        "region": region,
        "collected_at": COLLECTED_AT,
        "collector": {"name": "cwl-audit", "version": "0.1.0"}
    })
}

/// An empty but fully collected snapshot: every section present, every list empty, no errors.
pub fn empty(account: &str, region: &str) -> Value {
    let mut s = header(account, region);
    s["cloudtrail"] = json!({"trailList": [], "status": {}, "selectors": {}});
    s["logs"] = json!({"metricFilters": []});
    s["cloudwatch"] = json!({"MetricAlarms": [], "CompositeAlarms": []});
    s["sns"] = json!({"Subscriptions": []});
    s["errors"] = json!([]);
    s
}

// ---- Trails

/// A trail as DescribeTrails returns it: multi-region, not an organization trail, and without
/// delivery to CloudWatch Logs until [`Trail::delivering_to`] (or `log_group_arn`) says where.
#[derive(Clone, Debug)]
pub struct Trail<'a> {
    pub style: Style,
    pub account: &'a str,
    pub home: &'a str,
    pub name: &'a str,
    /// `CloudWatchLogsLogGroupArn` (with the delivery role of `account`).
    pub log_group_arn: Option<String>,
    pub multi_region: bool,
    pub organization: bool,
}

impl<'a> Trail<'a> {
    pub fn new(style: Style, account: &'a str, home: &'a str, name: &'a str) -> Self {
        Trail {
            style,
            account,
            home,
            name,
            log_group_arn: None,
            multi_region: true,
            organization: false,
        }
    }

    /// Delivers to the log group `name` of its own account and home region.
    pub fn delivering_to(mut self, name: &str) -> Self {
        self.log_group_arn = Some(log_group_arn(self.account, self.home, name));
        self
    }

    pub fn arn(&self) -> String {
        trail_arn(self.account, self.home, self.name)
    }

    /// The trail's `trailList` entry.
    pub fn record(&self) -> Value {
        let mut t = json!({
            "Name": self.name,
            "TrailARN": self.arn(),
            "HomeRegion": self.home,
            "S3BucketName": self.style.bucket(self.account),
            "IsMultiRegionTrail": self.multi_region,
            "IsOrganizationTrail": self.organization,
            "IncludeGlobalServiceEvents": true,
            "LogFileValidationEnabled": true,
            "HasCustomEventSelectors": false,
            "HasInsightSelectors": false
        });
        if let Some(arn) = &self.log_group_arn {
            t["CloudWatchLogsLogGroupArn"] = json!(arn);
            t["CloudWatchLogsRoleArn"] = json!(format!(
                "arn:aws:iam::{}:role/{}",
                self.account,
                self.style.logs_role()
            ));
        }
        t
    }
}

/// GetEventSelectors of a trail that records every management event (read and write, from every
/// source) and no data events.
pub fn all_management_events(trail_arn: &str) -> Value {
    json!({
        "TrailARN": trail_arn,
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}]
    })
}

/// Adds `trail` to the snapshot of its home region, with its `status` and selectors that record
/// every management event.
pub fn add_home_trail(s: &mut Value, trail: Value, status: Value) {
    let arn = trail["TrailARN"].as_str().expect("TrailARN").to_string();
    push(s, "/cloudtrail/trailList", trail);
    s["cloudtrail"]["status"][&arn] = status;
    s["cloudtrail"]["selectors"][&arn] = all_management_events(&arn);
}

// ---- Filters, alarms, subscriptions

/// A metric filter publishing 1 to `namespace`/`metric` per matched event, as CIS and Conformity
/// set it up.
pub fn metric_filter(
    style: Style,
    log_group: &str,
    name: &str,
    pattern: &str,
    metric: &str,
    namespace: &str,
) -> Value {
    json!({
        "filterName": name,
        "logGroupName": log_group,
        "filterPattern": pattern,
        "creationTime": style.filter_created(),
        "metricTransformations": [{"metricName": metric, "metricNamespace": namespace, "metricValue": "1"}]
    })
}

/// An alarm that fires on one event in 5 minutes (the Sum of `namespace`/`metric`, no dimensions)
/// and notifies `topic`: Conformity's remediation.
pub fn one_event_alarm(
    account: &str,
    region: &str,
    name: &str,
    metric: &str,
    namespace: &str,
    topic: &str,
) -> Value {
    json!({
        "AlarmName": name,
        "AlarmArn": alarm_arn(account, region, name),
        "ActionsEnabled": true,
        "AlarmActions": [topic],
        "OKActions": [],
        "InsufficientDataActions": [],
        "MetricName": metric,
        "Namespace": namespace,
        "Statistic": "Sum",
        "Dimensions": [],
        "Period": 300,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "StateValue": "OK"
    })
}

/// A subscription of `topic` (owned by the topic's account). `arn` is its SubscriptionArn:
/// `<topic>:<id>` once confirmed, `PendingConfirmation` before.
pub fn subscription_of(topic: &str, arn: String, protocol: &str, endpoint: &str) -> Value {
    let owner = topic.split(':').nth(4).unwrap_or_default();
    json!({"SubscriptionArn": arn, "Owner": owner, "Protocol": protocol, "Endpoint": endpoint, "TopicArn": topic})
}

// ---- The test accounts (Style::Fixture)

pub fn trail(account: &str, home: &str, name: &str, log_group: Option<&str>) -> Value {
    let t = Trail::new(Style::Fixture, account, home, name);
    match log_group {
        Some(lg) => t.delivering_to(lg).record(),
        None => t.record(),
    }
}

/// A filter of the tests: namespace `CloudTrailMetrics`.
pub fn filter(log_group: &str, name: &str, pattern: &str, metric: &str) -> Value {
    metric_filter(
        Style::Fixture,
        log_group,
        name,
        pattern,
        metric,
        "CloudTrailMetrics",
    )
}

/// An alarm of the tests: namespace `CloudTrailMetrics`.
pub fn alarm(account: &str, region: &str, name: &str, metric: &str, topic: &str) -> Value {
    one_event_alarm(account, region, name, metric, "CloudTrailMetrics", topic)
}

/// An e-mail subscription of the tests, confirmed or not.
pub fn subscription(topic: &str, confirmed: bool) -> Value {
    let arn = if confirmed {
        format!("{topic}:6f1c2a4e-0b7d-4c55-9b1e-3d2f8a9c0e11")
    } else {
        "PendingConfirmation".to_string()
    };
    subscription_of(topic, arn, "email", "security@example.com")
}

/// Conformity's remediation, complete, in one region (the trail's home).
pub fn compliant(account: &str, region: &str) -> Value {
    let mut s = empty(account, region);
    let topic = topic_arn(account, region, "RootAccountUsageAlerts");
    add_home_trail(
        &mut s,
        trail(
            account,
            region,
            "management-events",
            Some("CloudTrail/management-events"),
        ),
        Style::Fixture.logging_status(),
    );
    s["logs"]["metricFilters"] = json!([filter(
        "CloudTrail/management-events",
        "RootAccountUsage",
        cis_root(),
        "RootAccountUsageEventCount"
    )]);
    s["cloudwatch"]["MetricAlarms"] = json!([alarm(
        account,
        region,
        "RootAccountUsageAlarm",
        "RootAccountUsageEventCount",
        &topic
    )]);
    s["sns"]["Subscriptions"] = json!([subscription(&topic, true)]);
    s
}

/// A snapshot of another region of the same account: only the shadow copy of a multi-region trail.
pub fn shadow_region(home_snapshot: &Value, region: &str) -> Value {
    let account = home_snapshot["account_id"].as_str().unwrap_or_default();
    let mut s = empty(account, region);
    s["cloudtrail"]["trailList"] = home_snapshot["cloudtrail"]["trailList"].clone();
    s
}

// ---- Edits by JSON pointer

/// Sets the value at a JSON pointer (parents must exist).
pub fn set(v: &mut Value, pointer: &str, new: Value) {
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in test snapshot")) = new;
}

/// Appends to the array at a JSON pointer.
pub fn push(v: &mut Value, pointer: &str, new: Value) {
    v.pointer_mut(pointer)
        .and_then(Value::as_array_mut)
        .unwrap_or_else(|| panic!("no array {pointer} in test snapshot"))
        .push(new);
}

pub fn remove(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer with a parent");
    let p = v
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent} in test snapshot"));
    match p {
        Value::Object(m) => {
            m.remove(&key.replace("~1", "/").replace("~0", "~"));
        }
        Value::Array(a) => {
            a.remove(key.parse::<usize>().expect("array index"));
        }
        _ => panic!("{parent} is not a container"),
    }
}

// ---- Reference patterns, from the policies

/// The bundled rules' METADATA (the policies compiled into the crate), in the order of their files.
pub fn bundled_rules() -> &'static [RuleMeta] {
    static RULES: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut rules =
            engine::rules(&engine::builtin_sources(), &[]).expect("bundled METADATA reads");
        rules.sort_by(|a, b| a.source.cmp(&b.source));
        rules
    })
}

/// The bundled rule `id`.
pub fn rule(id: &str) -> &'static RuleMeta {
    bundled_rules()
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no bundled rule {id}"))
}

/// The reference pattern of rule `id` that `benchmark` prescribes (its `custom.references` entry).
pub fn reference_of(id: &str, benchmark: &str) -> &'static str {
    let r = rule(id);
    assert!(
        r.has_reference_for(benchmark),
        "{id} has no reference pattern for {benchmark}"
    );
    &r.reference_for(benchmark).expect("checked").pattern
}

/// The reference pattern of rule `id` under the default benchmark (what `eval` decides by).
pub fn reference(id: &str) -> &'static str {
    reference_of(id, benchmark::DEFAULT)
}

/// Where a filter pattern of a benchmark's data comes from: a rule's reference, read from its
/// policy, or a text written as real accounts (or other transcriptions of the CIS text) write it.
#[derive(Clone, Copy)]
pub enum Pattern {
    /// The reference of rule `.0` under benchmark `.1` (`None`: the default), from its policy.
    Reference(&'static str, Option<&'static str>),
    /// The CIS text spaced, parenthesized or quoted differently, or a rewrite: the same control
    /// or a near one, a different text.
    Written(&'static str),
}

impl Pattern {
    pub fn text(self) -> &'static str {
        match self {
            Pattern::Reference(rule, None) => reference(rule),
            Pattern::Reference(rule, Some(benchmark)) => reference_of(rule, benchmark),
            Pattern::Written(p) => p,
        }
    }
}

/// The root-usage reference (CWL-014, CIS 4.3 / 5.3), the one most tests build on.
pub fn cis_root() -> &'static str {
    reference("CWL-014")
}

/// The `weakened` pattern of a bundled rule's Rego tests (`<name>_test.rego` beside its policy):
/// its reference with one necessary part missing, which the rule must fail.
pub fn weakened(rule: &RuleMeta) -> String {
    let tests = rule.source.replace(".rego", "_test.rego");
    let source = engine::builtin_sources()
        .into_iter()
        .find(|s| s.path == tests)
        .unwrap_or_else(|| panic!("{}: no {tests}", rule.id));
    rego_string(&source.text, "weakened").unwrap_or_else(|| panic!("{tests}: no weakened"))
}

/// The value of a top-level `name := `...`` (a raw string on one line) in a Rego source.
pub fn rego_string(source: &str, name: &str) -> Option<String> {
    let start = format!("{name} := `");
    let line = source.lines().find(|l| l.starts_with(&start))?;
    Some(line[start.len()..].trim_end_matches('`').to_string())
}
