//! A synthetic organization for the benchmark: N accounts x 17 regions of v1 snapshots, shaped like
//! real ones (trails with shadow copies and an organization trail, CIS-style metric filters,
//! hundreds of alarms with dimensions and some metric math, SNS subscriptions) with a mix of
//! verdicts. Deterministic: the same N always gives the same bytes. Built with the snapshot
//! builder the tests share (tests/support/snapshot.rs), the reference patterns read from the
//! policies.
use serde_json::{json, Value};
use snapshot::{
    add_home_trail, alarm_arn, empty, metric_filter, one_event_alarm, subscription_of, topic_arn,
    Pattern, Style, Trail,
};
use std::path::Path;

#[path = "../../tests/support/snapshot.rs"]
mod snapshot;

pub const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];
const HOME: &str = "us-east-1";
const MGMT: &str = "100000000000";

use Pattern::{Reference, Written};

/// The CIS monitoring patterns (4.1-4.15) and a few rewrites, as real accounts hold them: security
/// groups as set up before CIS v5.0 (six events), 4.1 and 4.9 spaced as other transcriptions of
/// the CIS text space them.
const PATTERNS: [(&str, Pattern); 20] = [
    (
        "UnauthorizedAPICalls",
        Written(
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#,
        ),
    ),
    ("ConsoleSigninWithoutMFA", Reference("CWL-017", None)),
    ("RootAccountUsage", Reference("CWL-014", None)),
    ("IAMPolicyChanges", Reference("CWL-010", None)),
    ("CloudTrailChanges", Reference("CIS-4.5", None)),
    ("ConsoleAuthFailures", Reference("CWL-001", None)),
    ("DisableOrDeleteCMK", Reference("CWL-015", None)),
    ("S3BucketPolicyChanges", Reference("CWL-012", None)),
    (
        "AWSConfigChanges",
        Written(
            r#"{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel) ||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }"#,
        ),
    ),
    (
        "SecurityGroupChanges",
        Reference("CWL-004", Some("cis-v4.0")),
    ),
    ("NACLChanges", Reference("CIS-4.11", None)),
    ("NetworkGatewayChanges", Reference("CWL-006", None)),
    ("RouteTableChanges", Reference("CIS-4.13", None)),
    ("VPCChanges", Reference("CWL-007", None)),
    ("OrganizationsChanges", Reference("CWL-016", None)),
    (
        "RootUsageCompact",
        Written(
            r#"{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}"#,
        ),
    ),
    (
        "RootUsageReordered",
        Written(
            r#"{ ($.eventType != "AwsServiceEvent") && ($.userIdentity.invokedBy NOT EXISTS) && ($.userIdentity.type = "Root") }"#,
        ),
    ),
    (
        "RootUsageOr",
        Written(
            r#"{ $.userIdentity.type = "Root" || $.userIdentity.invokedBy NOT EXISTS || $.eventType != "AwsServiceEvent" }"#,
        ),
    ),
    ("ErrorsAll", Written(r#"{ $.errorCode = "*" }"#)),
    (
        "IamUserLogins",
        Written(r#"{ $.eventName = ConsoleLogin && $.userIdentity.type = IAMUser }"#),
    ),
];

/// What an account is set up to show, chosen by its index.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// Member relying on the organization trail of the management account.
    OrgMember,
    /// Own trail and full chain: pass.
    Compliant,
    /// Own chain with a disabled alarm: fail.
    AlarmDisabled,
    /// Own chain whose root filter uses `||`: fail.
    WeakFilter,
    /// Own chain whose topic has only pending subscriptions: fail.
    Pending,
    /// Subscriptions could not be read: unknown.
    Denied,
}

fn shape(i: usize) -> Shape {
    match i % 10 {
        0..=2 => Shape::OrgMember,
        3..=5 => Shape::Compliant,
        6 => Shape::AlarmDisabled,
        7 => Shape::WeakFilter,
        8 => Shape::Pending,
        _ => Shape::Denied,
    }
}

fn account_id(i: usize) -> String {
    format!("{}", 100_000_000_000u64 + i as u64)
}

/// A trail as the console sets it up, encrypted, its logs under a prefix.
fn trail(account: &str, name: &str, organization: bool) -> Value {
    let lg = format!("aws-cloudtrail-logs-{account}");
    let mut t = Trail {
        organization,
        ..Trail::new(Style::Console, account, HOME, name).delivering_to(&lg)
    }
    .record();
    t["S3KeyPrefix"] = json!("cloudtrail");
    t["KmsKeyId"] = json!(format!(
        "arn:aws:kms:{HOME}:{account}:key/0f8e2f77-3c1b-4a44-9d6c-1b2a3c4d5e6f"
    ));
    t
}

fn alarm(account: &str, region: &str, n: usize, topic: &str) -> Value {
    let name = format!("app-{n:03}-latency-high");
    let mut a = json!({
        "AlarmName": name,
        "AlarmArn": alarm_arn(account, region, &name),
        "AlarmDescription": format!("p99 latency of service {n} above its objective"),
        "AlarmConfigurationUpdatedTimestamp": "2026-10-01T12:00:00.000Z",
        "ActionsEnabled": true,
        "OKActions": [topic],
        "AlarmActions": [topic],
        "InsufficientDataActions": [],
        "StateValue": "OK",
        "StateReason": "Threshold Crossed: 3 datapoints were not greater than the threshold (250.0).",
        "StateUpdatedTimestamp": "2026-11-20T03:14:15.926Z",
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        "Threshold": 250.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
        "StateTransitionedTimestamp": "2026-11-20T03:14:15.926Z",
    });
    if n % 10 == 9 {
        // Metric math, as teams write for error ratios.
        a["Metrics"] = json!([
            {"Id": "e1", "Expression": "100 * m1 / m2", "Label": "error rate", "ReturnData": true},
            {"Id": "m1", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": [{"Name": "LoadBalancer", "Value": format!("app/web-{n}/50dc6c495c0c9188")}]}, "Period": 60, "Stat": "Sum"}},
            {"Id": "m2", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount", "Dimensions": [{"Name": "LoadBalancer", "Value": format!("app/web-{n}/50dc6c495c0c9188")}]}, "Period": 60, "Stat": "Sum"}}
        ]);
    } else {
        a["Namespace"] = json!("AWS/ApplicationELB");
        a["MetricName"] = json!("TargetResponseTime");
        a["ExtendedStatistic"] = json!("p99");
        a["Dimensions"] = json!([
            {"Name": "LoadBalancer", "Value": format!("app/web-{n}/50dc6c495c0c9188")},
            {"Name": "TargetGroup", "Value": format!("targetgroup/tg-{n}/6d0ecf831eec9f09")}
        ]);
    }
    a
}

fn cis_alarm(account: &str, name: &str, metric: &str, topic: &str, enabled: bool) -> Value {
    let mut a = one_event_alarm(
        account,
        HOME,
        &format!("{name}Alarm"),
        metric,
        "CISBenchmark",
        topic,
    );
    a["ActionsEnabled"] = json!(enabled);
    a
}

/// A subscription of `topic` (a topic of the account itself) for team `n`.
fn subscription(topic: &str, n: usize, confirmed: bool) -> Value {
    let arn = if confirmed {
        format!("{topic}:{n:08x}-8c1e-4b8a-9d3f-2a1b3c4d5e6f")
    } else {
        "PendingConfirmation".to_string()
    };
    subscription_of(topic, arn, "email", &format!("team-{n}@example.com"))
}

/// Which organization to generate.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Org {
    /// Most accounts pass most rules (the shapes of [`Shape`]).
    MostlyPassing,
    /// What real organizations look like: every account has its own trail and the root-usage chain
    /// (CWL-014 passes) and a handful of other CIS filters, most of them without an alarm, so most
    /// of the fifteen rules fail in every account.
    MostlyFailing,
}

impl Org {
    pub fn dir_name(self, n: usize) -> String {
        match self {
            Org::MostlyPassing => format!("org-{n}"),
            Org::MostlyFailing => format!("failing-{n}"),
        }
    }
}

/// The CIS filters (by index into [`PATTERNS`], root usage aside) a mostly-failing account holds:
/// four of them, rotating with the account, the first two with an alarm.
fn failing_extras(i: usize) -> [usize; 4] {
    let others: Vec<usize> = (0..15).filter(|&k| k != 2).collect();
    [0, 3, 7, 11].map(|o| others[(i + o) % others.len()])
}

/// The alarms and subscriptions of the account's own services in `region` (`n` alarms; the
/// home region has more subscribers), which no CIS rule is about.
fn workload(a: &str, region: &str, topic: &str, n: usize) -> (Vec<Value>, Vec<Value>) {
    let subscribers = if region == HOME { 18 } else { 4 };
    (
        (0..n).map(|k| alarm(a, region, k, topic)).collect(),
        (0..subscribers)
            .map(|k| subscription(topic, k, true))
            .collect(),
    )
}

fn failing_snapshot(i: usize, region: &str) -> Value {
    let account = account_id(i);
    let a = account.as_str();
    let home = region == HOME;
    let topic = topic_arn(a, region, "ops-alerts");
    let security = topic_arn(a, HOME, "security-alerts");
    let trail = trail(a, "management-events", false);
    let mut doc = empty(a, region);
    let mut filters = Vec::new();
    let (mut alarms, mut subs) = workload(a, region, &topic, if home { 200 } else { 20 });
    if home {
        add_home_trail(&mut doc, trail, Style::Console.logging_status());
        let lg = format!("aws-cloudtrail-logs-{a}");
        for (pos, k) in std::iter::once(2).chain(failing_extras(i)).enumerate() {
            let (name, pattern) = PATTERNS[k];
            filters.push(metric_filter(
                Style::Console,
                &lg,
                name,
                pattern.text(),
                &format!("{name}Count"),
                "CISBenchmark",
            ));
            // The root chain and two of the extras have their alarm; the other two do not.
            if pos <= 2 {
                alarms.push(cis_alarm(a, name, &format!("{name}Count"), &security, true));
            }
        }
        subs.push(subscription(&security, 99, true));
    } else {
        doc["cloudtrail"]["trailList"] = json!([trail]);
    }
    alarms.sort_by(|x, y| x["AlarmArn"].as_str().cmp(&y["AlarmArn"].as_str()));
    doc["logs"]["metricFilters"] = json!(filters);
    doc["cloudwatch"]["MetricAlarms"] = json!(alarms);
    doc["sns"]["Subscriptions"] = json!(subs);
    doc
}

fn snapshot(i: usize, region: &str) -> Value {
    let account = account_id(i);
    let a = account.as_str();
    let shape = if i == 0 { Shape::Compliant } else { shape(i) };
    let home = region == HOME;
    let topic = topic_arn(a, region, "ops-alerts");
    let security = topic_arn(a, HOME, "security-alerts");
    // Members see the organization trail; the other shapes stand for accounts outside it (joined
    // later, or excluded), with a trail of their own, so their own chain decides their verdict.
    let trail = if shape == Shape::OrgMember || i == 0 {
        trail(MGMT, "organization-trail", true)
    } else {
        trail(a, "management-events", false)
    };
    let mut doc = empty(a, region);
    let mut filters = Vec::new();
    let (mut alarms, mut subs) = workload(a, region, &topic, if home { 185 } else { 20 });
    let mut errors = Vec::new();
    let own = trail["TrailARN"]
        .as_str()
        .unwrap_or_default()
        .contains(&format!(":{a}:"));
    if home && own {
        add_home_trail(&mut doc, trail, Style::Console.logging_status());
    } else {
        doc["cloudtrail"]["trailList"] = json!([trail]);
    }
    if home {
        if shape != Shape::OrgMember {
            let lg = format!("aws-cloudtrail-logs-{a}");
            for (k, (name, pattern)) in PATTERNS.iter().copied().enumerate() {
                // The rewritten root filters (compact, reordered, `||`) are in compliant accounts
                // only, so the failing shapes have no second chain that passes.
                if (15..=17).contains(&k) && shape != Shape::Compliant {
                    continue;
                }
                let pattern = if name == "RootAccountUsage" && shape == Shape::WeakFilter {
                    PATTERNS[17].1
                } else {
                    pattern
                };
                filters.push(metric_filter(
                    Style::Console,
                    &lg,
                    name,
                    pattern.text(),
                    &format!("{name}Count"),
                    "CISBenchmark",
                ));
                alarms.push(cis_alarm(
                    a,
                    name,
                    &format!("{name}Count"),
                    &security,
                    !(name == "RootAccountUsage" && shape == Shape::AlarmDisabled),
                ));
            }
            subs.push(subscription(&security, 99, shape != Shape::Pending));
            subs.push(subscription(&security, 98, shape != Shape::Pending));
        }
        if shape == Shape::Denied {
            subs.clear();
            errors.push(json!({"service": "sns", "operation": "ListSubscriptions", "resource": null, "code": "AuthorizationError", "message": format!("User: arn:aws:sts::{a}:assumed-role/cwl-audit-reader/collector is not authorized to perform: SNS:ListSubscriptions")}));
        }
    }
    alarms.sort_by(|x, y| x["AlarmArn"].as_str().cmp(&y["AlarmArn"].as_str()));
    doc["logs"]["metricFilters"] = json!(filters);
    doc["cloudwatch"]["MetricAlarms"] = json!(alarms);
    doc["sns"]["Subscriptions"] = json!(subs);
    doc["errors"] = json!(errors);
    if shape == Shape::Denied && home {
        doc["sns"] = json!({});
    }
    doc
}

/// Writes the organization of `n` accounts below `dir` (`<account>/<region>.json`), unless a
/// complete copy is already there. Returns the number of files and their total size in bytes.
pub fn generate(dir: &Path, n: usize, org: Org) -> std::io::Result<(usize, u64)> {
    let done = dir.join(".complete");
    if let Ok(text) = std::fs::read_to_string(&done) {
        let mut parts = text
            .split_whitespace()
            .map(|x| x.parse::<u64>().unwrap_or(0));
        if let (Some(files), Some(bytes)) = (parts.next(), parts.next()) {
            return Ok((files as usize, bytes));
        }
    }
    let (mut files, mut bytes) = (0usize, 0u64);
    for i in 0..n {
        let adir = dir.join(account_id(i));
        std::fs::create_dir_all(&adir)?;
        for region in REGIONS {
            let doc = match org {
                Org::MostlyPassing => snapshot(i, region),
                Org::MostlyFailing => failing_snapshot(i, region),
            };
            let text = serde_json::to_vec_pretty(&doc)?;
            bytes += text.len() as u64;
            files += 1;
            std::fs::write(adir.join(format!("{region}.json")), text)?;
        }
    }
    std::fs::write(done, format!("{files} {bytes}\n"))?;
    Ok((files, bytes))
}
