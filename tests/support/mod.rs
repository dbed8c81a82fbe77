//! Builds snapshot sets for tests: a compliant account in one call, then small edits by JSON pointer.
#![allow(dead_code)]
pub mod bin;
#[cfg(feature = "collect")]
pub mod emulator;
pub mod generate;
use cwl_audit::eval::{self, Options};
use cwl_audit::findings::{Finding, RunResult, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const CIS: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;

pub fn trail_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

pub fn topic_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// An empty but fully collected snapshot.
pub fn empty(account: &str, region: &str) -> Value {
    json!({
        "format": "cwl-audit.snapshot/v1",
        "account_id": account,
        "partition": "aws",
        "region": region,
        "collected_at": "2026-11-25T10:00:00Z",
        "collector": {"name": "cwl-audit", "version": "0.1.0"},
        "cloudtrail": {"trailList": [], "status": {}, "selectors": {}},
        "logs": {"metricFilters": []},
        "cloudwatch": {"MetricAlarms": [], "CompositeAlarms": []},
        "sns": {"Subscriptions": []},
        "errors": []
    })
}

pub fn trail(account: &str, home: &str, name: &str, log_group: Option<&str>) -> Value {
    let mut t = json!({
        "Name": name,
        "TrailARN": trail_arn(account, home, name),
        "HomeRegion": home,
        "S3BucketName": format!("cloudtrail-{account}"),
        "IsMultiRegionTrail": true,
        "IsOrganizationTrail": false,
        "IncludeGlobalServiceEvents": true,
        "LogFileValidationEnabled": true,
        "HasCustomEventSelectors": false,
        "HasInsightSelectors": false
    });
    if let Some(lg) = log_group {
        t["CloudWatchLogsLogGroupArn"] =
            json!(format!("arn:aws:logs:{home}:{account}:log-group:{lg}:*"));
        t["CloudWatchLogsRoleArn"] = json!(format!(
            "arn:aws:iam::{account}:role/CloudTrailToCloudWatchLogs"
        ));
    }
    t
}

pub fn filter(log_group: &str, name: &str, pattern: &str, metric: &str) -> Value {
    json!({
        "filterName": name,
        "logGroupName": log_group,
        "filterPattern": pattern,
        "creationTime": 1_700_000_000_000u64,
        "metricTransformations": [{"metricName": metric, "metricNamespace": "CloudTrailMetrics", "metricValue": "1"}]
    })
}

pub fn alarm(account: &str, region: &str, name: &str, metric: &str, topic: &str) -> Value {
    json!({
        "AlarmName": name,
        "AlarmArn": format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
        "ActionsEnabled": true,
        "AlarmActions": [topic],
        "OKActions": [],
        "InsufficientDataActions": [],
        "MetricName": metric,
        "Namespace": "CloudTrailMetrics",
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

pub fn subscription(topic: &str, confirmed: bool) -> Value {
    let arn = if confirmed {
        format!("{topic}:6f1c2a4e-0b7d-4c55-9b1e-3d2f8a9c0e11")
    } else {
        "PendingConfirmation".to_string()
    };
    let owner = topic.split(':').nth(4).unwrap_or_default().to_string();
    json!({"SubscriptionArn": arn, "Owner": owner, "Protocol": "email", "Endpoint": "security@example.com", "TopicArn": topic})
}

/// Conformity's remediation, complete, in one region (the trail's home).
pub fn compliant(account: &str, region: &str) -> Value {
    let mut s = empty(account, region);
    let arn = trail_arn(account, region, "management-events");
    let topic = topic_arn(account, region, "RootAccountUsageAlerts");
    s["cloudtrail"]["trailList"] = json!([trail(
        account,
        region,
        "management-events",
        Some("CloudTrail/management-events")
    )]);
    s["cloudtrail"]["status"][&arn] =
        json!({"IsLogging": true, "LatestDeliveryTime": "2026-11-25T09:55:00Z"});
    s["cloudtrail"]["selectors"][&arn] = json!({
        "TrailARN": arn,
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}]
    });
    s["logs"]["metricFilters"] = json!([filter(
        "CloudTrail/management-events",
        "RootAccountUsage",
        CIS,
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

/// Sets the value at a JSON pointer (parents must exist).
pub fn set(v: &mut Value, pointer: &str, new: Value) {
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in test snapshot")) = new;
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

/// A set of snapshots written to a temporary directory as `<account>/<region>.json`.
#[derive(Default)]
pub struct Org {
    pub snapshots: BTreeMap<(String, String), Value>,
}

impl Org {
    pub fn new() -> Self {
        Org::default()
    }

    pub fn with(mut self, snapshot: Value) -> Self {
        let key = (
            snapshot["account_id"].as_str().unwrap_or("x").to_string(),
            snapshot["region"].as_str().unwrap_or("x").to_string(),
        );
        self.snapshots.insert(key, snapshot);
        self
    }

    pub fn write(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for ((account, region), v) in &self.snapshots {
            let path = dir.path().join(account).join(format!("{region}.json"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).unwrap();
        }
        dir
    }

    pub fn eval(&self) -> RunResult {
        let dir = self.write();
        self.keep_for_crosscheck(dir.path(), cwl_audit::engine::benchmark::DEFAULT);
        eval::run(&Options::new(vec![PathBuf::from(dir.path())])).expect("policies compile")
    }

    /// [`Org::eval`] of only `rules`, decided by the reference patterns of `benchmark`.
    pub fn eval_by(&self, benchmark: &str, rules: &[&str]) -> RunResult {
        let dir = self.write();
        self.keep_for_crosscheck(dir.path(), benchmark);
        let mut opts = Options::new(vec![PathBuf::from(dir.path())]);
        opts.benchmark = benchmark.to_string();
        opts.rules = rules.iter().map(|r| r.to_string()).collect();
        eval::run(&opts).expect("policies compile")
    }

    /// With CWL_AUDIT_KEEP_SCENARIOS=DIR, every evaluated snapshot set is also copied to
    /// DIR/<hash of its content>/, so tests/opa-crosscheck.py can check that real OPA decides each
    /// scenario exactly as regorus does (`make test` does this). A set decided by another than the
    /// default benchmark gets a `.benchmark` file naming it (cwl-audit skips hidden files; the
    /// cross-check decides the set by it).
    fn keep_for_crosscheck(&self, written: &std::path::Path, benchmark: &str) {
        let Some(keep) = std::env::var_os("CWL_AUDIT_KEEP_SCENARIOS") else {
            return;
        };
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_string(&self.snapshots.values().collect::<Vec<_>>())
            .expect("serialize")
            .hash(&mut h);
        let default = benchmark == cwl_audit::engine::benchmark::DEFAULT;
        if !default {
            benchmark.hash(&mut h);
        }
        let target = PathBuf::from(keep).join(format!("{:016x}", h.finish()));
        if !default {
            std::fs::create_dir_all(&target).expect("mkdir");
            std::fs::write(target.join(".benchmark"), benchmark).expect("write .benchmark");
        }
        for (account, region) in self.snapshots.keys() {
            let from = written.join(account).join(format!("{region}.json"));
            let to = target.join(account).join(format!("{region}.json"));
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(from, to).expect("copy scenario");
        }
    }

    /// The single CWL-014 finding of `account`.
    pub fn verdict(&self, account: &str) -> Finding {
        let r = self.eval();
        let mine: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.account_id == account && f.rule_id == "CWL-014")
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "exactly one finding per account and rule: {:#?}",
            r.findings
        );
        mine[0].clone()
    }
}

#[track_caller]
pub fn assert_verdict(f: &Finding, verdict: Verdict, message_part: &str) {
    assert_eq!(
        f.verdict, verdict,
        "verdict of {}: {}",
        f.account_id, f.message
    );
    assert!(
        f.message.contains(message_part),
        "message {:?} lacks {:?}",
        f.message,
        message_part
    );
}
