//! The snapshot files bundled with the repository, built with `snapshot.rs`:
//!
//! - `snapshots/`: a small fictitious organization that shows every kind of verdict (`make demo`,
//!   the CLI and format tests). Every account is set up for all fifteen CIS monitoring controls
//!   (one trail, one log group, a filter and an alarm per control); the defects of the demo are on
//!   the root-usage (CWL-014) chain or on links every chain shares (the trail, the subscriptions).
//! - `policies/aws/cloudwatch/examples/<RULE-ID>/{pass,fail}/`: one example per rule, a
//!   one-account snapshot whose metric filter has the rule's reference pattern (pass) or the
//!   `weakened` pattern of its Rego tests (fail); `tests/it/examples.rs` checks the verdicts.
//!
//! The files are in the layout and formatting `cwl-audit collect` writes (keys sorted, 2-space
//! indent), so they double as examples of the snapshot format. `cargo run --example
//! make-demo-snapshots` and `cargo run --example make-rule-examples` write them
//! (scripts/make-*.rs); `tests/it/examples.rs` checks that the committed files are what they write.
// Each generator writes one of the two sets; the tests use both.
#![allow(dead_code)]
use super::snapshot::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Where the demo organization is, from the repository root.
pub const DEMO_DIR: &str = "snapshots";
/// Where the rule examples are, from the repository root.
pub const EXAMPLES_DIR: &str = "policies/aws/cloudwatch/examples";

const HOME: &str = "us-east-1";
const MGMT: &str = "111111111111";
/// The account of the rule examples.
const EXAMPLE_ACCOUNT: &str = "123456789012";
const REDACTED: &str =
    "redacted:sha256:5f0c3e0f1c2b7a3d9e8f6a4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

/// A file to write: its path from the repository root, and its text.
pub type File = (PathBuf, String);

/// A snapshot as `cwl-audit collect` writes it.
pub fn text(snapshot: &Value) -> String {
    let mut t = serde_json::to_string_pretty(snapshot).expect("a JSON value serializes");
    t.push('\n');
    t
}

/// Writes `files` below `root`, creating their directories.
pub fn write(root: &Path, files: &[File]) -> std::io::Result<()> {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
        std::fs::write(path, text)?;
    }
    Ok(())
}

/// `root_usage_alarm.rego` -> `RootUsage`: the name a rule's filter and alarm are given here.
fn camel(rule: &cwl_audit::findings::RuleMeta) -> String {
    let stem = Path::new(&rule.source)
        .file_stem()
        .expect("a policy file")
        .to_string_lossy();
    stem.trim_end_matches("_alarm")
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect()
}

/// An e-mail subscription as the console shows it, confirmed (`id`), its endpoint redacted.
fn confirmed_email(topic: &str, id: &str) -> Value {
    subscription_of(topic, format!("{topic}:{id}"), "email", REDACTED)
}

/// An account with the complete chain of every rule in the home region: the root-usage filter and
/// alarm as Conformity's remediation names them (notifying RootAccountUsageAlerts), and one filter
/// and alarm per other control on the same log group, notifying a shared SecurityAlerts topic (so
/// the demo's defects stay on the root-usage chain).
fn full_chain(account: &str, trail_name: &str, organization: bool) -> Value {
    let mut s = empty(account, HOME);
    let lg = format!("aws-cloudtrail-logs-{account}");
    let trail = Trail {
        organization,
        ..Trail::new(Style::Console, account, HOME, trail_name).delivering_to(&lg)
    };
    add_home_trail(&mut s, trail.record(), Style::Console.logging_status());
    let topic = topic_arn(account, HOME, "RootAccountUsageAlerts");
    push(
        &mut s,
        "/logs/metricFilters",
        metric_filter(
            Style::Console,
            &lg,
            "RootAccountUsage",
            cis_root(),
            "RootAccountUsageEventCount",
            "CloudTrailMetrics",
        ),
    );
    let mut alarm = one_event_alarm(
        account,
        HOME,
        "RootAccountUsageAlarm",
        "RootAccountUsageEventCount",
        "CloudTrailMetrics",
        &topic,
    );
    alarm["AlarmDescription"] = json!("Root user activity (CIS 4.3)");
    alarm["StateReason"] = json!("Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].");
    alarm["StateUpdatedTimestamp"] = json!("2026-11-20T07:12:03.512000+00:00");
    push(&mut s, "/cloudwatch/MetricAlarms", alarm);
    push(
        &mut s,
        "/sns/Subscriptions",
        confirmed_email(&topic, "3f1d8a52-6a0e-4d4b-9e47-0c1b2a3d4e5f"),
    );
    let alerts = topic_arn(account, HOME, "SecurityAlerts");
    for rule in bundled_rules().iter().filter(|r| r.id != "CWL-014") {
        let name = camel(rule);
        let metric = format!("{name}Count");
        push(
            &mut s,
            "/logs/metricFilters",
            metric_filter(
                Style::Console,
                &lg,
                &name,
                reference(&rule.id),
                &metric,
                "CISBenchmark",
            ),
        );
        push(
            &mut s,
            "/cloudwatch/MetricAlarms",
            one_event_alarm(
                account,
                HOME,
                &format!("{name}Alarm"),
                &metric,
                "CISBenchmark",
                &alerts,
            ),
        );
    }
    push(
        &mut s,
        "/sns/Subscriptions",
        confirmed_email(&alerts, "7c2e9b41-0d3f-4a6e-8b15-2f4e6a8c0d1e"),
    );
    s
}

/// A snapshot of `account` in `region` that sees only the trails of `trails_from` (the shadow of
/// its own multi-region trail, or the organization trail of the management account).
fn trails_only(account: &str, region: &str, trails_from: &Value) -> Value {
    let mut s = empty(account, region);
    s["cloudtrail"]["trailList"] = trails_from["cloudtrail"]["trailList"].clone();
    s
}

/// The demo organization: the files of `snapshots/`.
pub fn demo_snapshots() -> Vec<File> {
    let cis = cis_root();
    // 111111111111: management account; its organization trail has the complete chain.
    let mgmt = full_chain(MGMT, "organization-trail", true);
    let mut out = vec![
        trails_only(MGMT, "eu-west-1", &mgmt),
        // 222222222222: member account, covered by the organization trail.
        trails_only("222222222222", HOME, &mgmt),
        trails_only("222222222222", "eu-west-1", &mgmt),
    ];
    out.push(mgmt);
    // 333333333333: its alarm was disabled during a maintenance window and never re-enabled.
    let mut s = full_chain("333333333333", "management-events", false);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    out.push(s);
    // 444444444444: filter written with || : it matches every IAM user's event too.
    let mut s = full_chain("444444444444", "management-events", false);
    set(
        &mut s,
        "/logs/metricFilters/0/filterPattern",
        json!(cis.replace("&&", "||")),
    );
    out.push(s);
    // 555555555555: nobody confirmed the e-mail subscription.
    let mut s = full_chain("555555555555", "management-events", false);
    set(
        &mut s,
        "/sns/Subscriptions/0/SubscriptionArn",
        json!("PendingConfirmation"),
    );
    out.push(s);
    // 666666666666: the trail was stopped.
    let mut s = full_chain("666666666666", "management-events", false);
    let arn = trail_arn("666666666666", HOME, "management-events");
    s["cloudtrail"]["status"][&arn]["IsLogging"] = json!(false);
    s["cloudtrail"]["status"][&arn]["StopLoggingTime"] = json!("2026-10-02T16:20:00Z");
    out.push(s);
    // 777777777777: the audit role may not call sns:ListSubscriptions.
    let mut s = full_chain("777777777777", "management-events", false);
    remove(&mut s, "/sns");
    s["errors"] = json!([{
        "service": "sns", "operation": "ListSubscriptions", "resource": null, "code": "AuthorizationError",
        "message": "User: arn:aws:sts::777777777777:assumed-role/cwl-audit-reader/collector is not authorized to perform: SNS:ListSubscriptions",
    }]);
    out.push(s);
    // 888888888888: the CIS filter written in another order, over several lines, values unquoted:
    // same meaning, so it passes (the filter is compared by meaning, not by text).
    let mut s = full_chain("888888888888", "management-events", false);
    set(
        &mut s,
        "/logs/metricFilters/0/filterPattern",
        json!("{\n  ($.eventType != AwsServiceEvent)\n  && ($.userIdentity.type = Root)\n  && ($.userIdentity.invokedBy NOT EXISTS)\n}"),
    );
    out.push(s);
    // 999999999999: root use from the office address is left out, so that root use goes unnoticed.
    let mut s = full_chain("999999999999", "management-events", false);
    set(
        &mut s,
        "/logs/metricFilters/0/filterPattern",
        json!(cis.replace(" }", " && $.sourceIPAddress != \"198.51.100.10\" }")),
    );
    out.push(s);
    let mut files: Vec<File> = out
        .iter()
        .map(|s| {
            let (account, region) = (s["account_id"].as_str(), s["region"].as_str());
            let path = Path::new(DEMO_DIR)
                .join(account.expect("account_id"))
                .join(format!("{}.json", region.expect("region")));
            (path, text(s))
        })
        .collect();
    files.sort();
    files
}

/// The one-account snapshot of a rule example: the complete chain of `rule` with a filter of
/// `pattern`.
fn rule_example(rule: &cwl_audit::findings::RuleMeta, pattern: &str) -> Value {
    let a = EXAMPLE_ACCOUNT;
    let mut s = empty(a, HOME);
    let lg = format!("aws-cloudtrail-logs-{a}");
    let trail = Trail::new(Style::Console, a, HOME, "management-events").delivering_to(&lg);
    add_home_trail(&mut s, trail.record(), json!({"IsLogging": true}));
    let name = camel(rule);
    let metric = format!("{name}Count");
    let topic = topic_arn(a, HOME, "SecurityAlerts");
    push(
        &mut s,
        "/logs/metricFilters",
        metric_filter(Style::Console, &lg, &name, pattern, &metric, "CISBenchmark"),
    );
    let mut alarm = one_event_alarm(
        a,
        HOME,
        &format!("{name}Alarm"),
        &metric,
        "CISBenchmark",
        &topic,
    );
    alarm["AlarmDescription"] = json!(rule.id);
    push(&mut s, "/cloudwatch/MetricAlarms", alarm);
    push(
        &mut s,
        "/sns/Subscriptions",
        confirmed_email(&topic, "3f1d8a52-6a0e-4d4b-9e47-0c1b2a3d4e5f"),
    );
    s
}

/// The files of `policies/aws/cloudwatch/examples/`: pass/ and fail/ of every bundled rule.
pub fn rule_examples() -> Vec<File> {
    let mut files = Vec::new();
    for rule in bundled_rules() {
        let weakened = weakened(rule);
        for (verdict, pattern) in [("pass", reference(&rule.id)), ("fail", weakened.as_str())] {
            let path = Path::new(EXAMPLES_DIR)
                .join(&rule.id)
                .join(verdict)
                .join(EXAMPLE_ACCOUNT)
                .join(format!("{HOME}.json"));
            files.push((path, text(&rule_example(rule, pattern))));
        }
    }
    files.sort();
    files
}
