//! `cwl-audit remediate`: the demo's failing accounts (pinned with insta), and scenarios with every
//! kind of missing piece, each checked two ways: the plan says it makes the account pass (the tool
//! verifies that by re-evaluating the snapshots with the steps applied), and every CloudFormation
//! template it writes is clean for `cfn-lint` (installed into .venv by `make test`).
// A failed unwrap in a test is the test failing.
#![allow(clippy::unwrap_used)]
mod support;

use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use support::bin::*;
use support::*;

/// Runs cfn-lint on the files; panics with its report unless they are clean.
fn cfn_lint(files: &[PathBuf]) {
    assert!(!files.is_empty(), "no template to lint");
    let o = Command::new(python())
        // The console script's entry point, run by the venv's python (no PATH lookup).
        .args([
            "-c",
            "import sys; from cfnlint.runner import main; sys.exit(main())",
        ])
        .args(["--format", "parseable", "--"])
        .args(files)
        .output()
        .expect("run cfn-lint");
    assert!(
        o.status.success(),
        "cfn-lint found problems (exit {:?}):\n{}{}",
        o.status.code(),
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
}

const FAILING: [&str; 4] = [
    "333333333333",
    "444444444444",
    "555555555555",
    "666666666666",
];

/// The account's section of the CLI output.
fn section<'a>(out: &'a str, account: &str) -> &'a str {
    let start = out
        .find(&format!("# === {account} "))
        .unwrap_or_else(|| panic!("no section for {account}:\n{out}"));
    let rest = &out[start..];
    let end = rest[5..]
        .find("# === ")
        .map(|i| i + 5)
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn demo_cli() {
    let o = run_in(&root(), &["remediate", "snapshots"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    insta::assert_snapshot!("demo_remediate_cli", out);
    // Each failing account: one step, its own resource names, and the plan verified to pass.
    let expect = [
        ("333333333333", "aws cloudwatch enable-alarm-actions --region us-east-1 --alarm-names RootAccountUsageAlarm"),
        ("444444444444", "--log-group-name aws-cloudtrail-logs-444444444444 \\\n    --filter-name RootAccountUsage \\\n    --filter-pattern '{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }'"),
        ("555555555555", "--topic-arn arn:aws:sns:us-east-1:555555555555:RootAccountUsageAlerts \\\n    --protocol email \\\n    --notification-endpoint '<SECURITY_EMAIL>'"),
        ("666666666666", "--name arn:aws:cloudtrail:us-east-1:666666666666:trail/management-events"),
    ];
    for (account, command) in expect {
        let s = section(&out, account);
        assert!(s.contains(command), "{account} lacks {command}:\n{s}");
        assert!(
            s.contains("1 step; with it applied to the snapshots, the account passes CWL-014."),
            "{s}"
        );
        assert_eq!(
            s.matches("\naws ").count(),
            1,
            "only the missing piece:\n{s}"
        );
    }
    // Unknown: no fix, the data to collect instead.
    let s = section(&out, "777777777777");
    assert!(!s.contains("\naws "), "{s}");
    assert!(s.contains("allow `sns:ListSubscriptions`"), "{s}");
    assert!(out.contains("# Passing, nothing to do: 111111111111, 222222222222"));
}

#[test]
fn demo_cloudformation_is_cfn_lint_clean() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        &root(),
        &["remediate", "snapshots", "--format", "cloudformation"],
    );
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("demo_remediate_cloudformation", stdout(&o));
    let o = run_in(
        &root(),
        &[
            "remediate",
            "snapshots",
            "--format",
            "cloudformation",
            "--output-dir",
            dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let notes = stdout(&o);
    let mut templates = Vec::new();
    for account in FAILING {
        let file = dir.path().join(format!("{account}-us-east-1.yaml"));
        if file.exists() {
            templates.push(file);
        } else {
            // Only fixes of existing resources: the note says so and gives the CLI command.
            let s = section(&notes, account);
            assert!(s.contains("No CloudFormation template"), "{s}");
            assert!(s.contains("#       aws "), "{s}");
        }
    }
    assert_eq!(templates.len(), 1, "555555555555 needs a new subscription");
    let t = std::fs::read_to_string(&templates[0]).unwrap();
    assert!(t.contains("Type: \"AWS::SNS::Subscription\""), "{t}");
    assert!(
        t.contains("TopicArn: \"arn:aws:sns:us-east-1:555555555555:RootAccountUsageAlerts\""),
        "the existing topic is reused:\n{t}"
    );
    cfn_lint(&templates);
}

/// A compliant account with an edit, and what its plan must contain.
struct Case {
    name: &'static str,
    edit: fn(&mut serde_json::Value),
    /// Strings the CLI plan must contain.
    cli: &'static [&'static str],
    /// CloudFormation resource types the template must contain (empty: no template).
    cfn: &'static [&'static str],
}

const A: &str = "123456789012";
const R: &str = "eu-west-1";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "no metric filter",
            edit: |s| set(s, "/logs/metricFilters", json!([])),
            cli: &["aws logs put-metric-filter", "--log-group-name CloudTrail/management-events", "--filter-name RootAccountUsage"],
            cfn: &["AWS::Logs::MetricFilter"],
        },
        Case {
            name: "no alarm",
            edit: |s| set(s, "/cloudwatch/MetricAlarms", json!([])),
            cli: &["aws cloudwatch put-metric-alarm", "--metric-name RootAccountUsageEventCount", "--alarm-actions arn:aws:sns:eu-west-1:123456789012:RootAccountUsageAlerts"],
            cfn: &["AWS::CloudWatch::Alarm"],
        },
        Case {
            name: "nothing after the trail",
            edit: |s| {
                set(s, "/logs/metricFilters", json!([]));
                set(s, "/cloudwatch/MetricAlarms", json!([]));
                set(s, "/sns/Subscriptions", json!([]));
            },
            cli: &["aws logs put-metric-filter", "aws sns create-topic --region eu-west-1 --name RootAccountUsageAlerts", "aws cloudwatch put-metric-alarm", "aws sns subscribe"],
            cfn: &["AWS::Logs::MetricFilter", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::CloudWatch::Alarm"],
        },
        Case {
            name: "no subscriptions",
            edit: |s| set(s, "/sns/Subscriptions", json!([])),
            cli: &["aws sns subscribe", "--notification-endpoint '<SECURITY_EMAIL>'"],
            cfn: &["AWS::SNS::Subscription"],
        },
        Case {
            name: "pending subscription with a known address",
            edit: |s| set(s, "/sns/Subscriptions/0/SubscriptionArn", json!("PendingConfirmation")),
            cli: &["subscribing again resends the confirmation e-mail", "--notification-endpoint security@example.com"],
            cfn: &["AWS::SNS::Subscription"],
        },
        Case {
            name: "alarm threshold 2 and two datapoints",
            edit: |s| {
                set(s, "/cloudwatch/MetricAlarms/0/Threshold", json!(2.0));
                set(s, "/cloudwatch/MetricAlarms/0/DatapointsToAlarm", json!(2));
                set(s, "/cloudwatch/MetricAlarms/0/EvaluationPeriods", json!(3));
            },
            cli: &["aws cloudwatch put-metric-alarm", "--alarm-name RootAccountUsageAlarm", "--threshold 1.0", "--datapoints-to-alarm 1", "--alarm-actions arn:aws:sns:eu-west-1:123456789012:RootAccountUsageAlerts"],
            cfn: &[],
        },
        Case {
            name: "alarm with only OK actions",
            edit: |s| {
                let topic = s["cloudwatch"]["MetricAlarms"][0]["AlarmActions"].clone();
                set(s, "/cloudwatch/MetricAlarms/0/OKActions", topic);
                set(s, "/cloudwatch/MetricAlarms/0/AlarmActions", json!([]));
            },
            cli: &["--alarm-actions arn:aws:sns:eu-west-1:123456789012:RootAccountUsageAlerts", "--ok-actions arn:aws:sns:eu-west-1:123456789012:RootAccountUsageAlerts"],
            cfn: &[],
        },
        Case {
            name: "disabled alarm that also needs two datapoints",
            edit: |s| {
                set(s, "/cloudwatch/MetricAlarms/0/ActionsEnabled", json!(false));
                set(s, "/cloudwatch/MetricAlarms/0/DatapointsToAlarm", json!(2));
            },
            // One restatement replaces the enable-alarm-actions step it supersedes.
            cli: &["1 step;", "aws cloudwatch put-metric-alarm", "--actions-enabled"],
            cfn: &[],
        },
        Case {
            name: "alarm on the wrong namespace",
            edit: |s| set(s, "/cloudwatch/MetricAlarms/0/Namespace", json!("LogMetrics")),
            // The existing alarm is moved to the filter's metric, not duplicated.
            cli: &["1 step;", "--alarm-name RootAccountUsageAlarm", "--namespace CloudTrailMetrics"],
            cfn: &[],
        },
        Case {
            name: "metric value 0",
            edit: |s| set(s, "/logs/metricFilters/0/metricTransformations/0/metricValue", json!("0")),
            cli: &["metricValue=1", "--filter-name RootAccountUsage"],
            cfn: &[],
        },
        Case {
            name: "single-region trail",
            edit: |s| set(s, "/cloudtrail/trailList/0/IsMultiRegionTrail", json!(false)),
            cli: &["aws cloudtrail update-trail", "--is-multi-region-trail", "--name arn:aws:cloudtrail:eu-west-1:123456789012:trail/management-events"],
            cfn: &[],
        },
        Case {
            name: "write-only management events",
            edit: |s| {
                let arn = trail_arn(A, R, "management-events");
                s["cloudtrail"]["selectors"][&arn]["EventSelectors"][0]["ReadWriteType"] = json!("WriteOnly");
            },
            cli: &["aws cloudtrail put-event-selectors", "\"ReadWriteType\":\"All\""],
            cfn: &[],
        },
        Case {
            name: "trail without CloudWatch Logs",
            edit: |s| {
                let t = s["cloudtrail"]["trailList"][0].as_object_mut().unwrap();
                t.remove("CloudWatchLogsLogGroupArn");
                t.remove("CloudWatchLogsRoleArn");
            },
            cli: &["aws logs create-log-group --region eu-west-1 --log-group-name aws-cloudtrail-logs-123456789012-management-events", "aws iam create-role", "--cloud-watch-logs-log-group-arn", "aws logs put-metric-filter"],
            cfn: &["AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::Logs::MetricFilter"],
        },
        Case {
            name: "no trail at all",
            edit: |s| {
                set(s, "/cloudtrail/trailList", json!([]));
                set(s, "/cloudtrail/status", json!({}));
                set(s, "/cloudtrail/selectors", json!({}));
                set(s, "/logs/metricFilters", json!([]));
                set(s, "/cloudwatch/MetricAlarms", json!([]));
                set(s, "/sns/Subscriptions", json!([]));
            },
            cli: &["aws cloudtrail create-trail", "<CLOUDTRAIL_S3_BUCKET>", "aws cloudtrail start-logging", "aws logs create-log-group", "aws cloudwatch put-metric-alarm", "aws sns subscribe"],
            cfn: &["AWS::CloudTrail::Trail", "AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::Logs::MetricFilter", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::CloudWatch::Alarm"],
        },
    ]
}

#[test]
fn every_missing_piece_is_planned_verified_and_cfn_lint_clean() {
    let mut templates = Vec::new();
    let out_dirs: Vec<tempfile::TempDir> = Vec::new();
    let mut keep = out_dirs;
    for case in cases() {
        let mut s = compliant(A, R);
        (case.edit)(&mut s);
        let org = Org::new().with(s);
        let dir = org.write();
        let o = run_in(dir.path(), &["remediate", "."]);
        assert_eq!(o.status.code(), Some(0), "{}", case.name);
        // Long commands are split over lines; compare them joined.
        let plan = stdout(&o).replace(" \\\n    ", " ");
        assert!(
            plan.contains("applied to the snapshots, the account passes CWL-014."),
            "{}: the plan does not make the account pass:\n{plan}",
            case.name
        );
        for want in case.cli {
            assert!(
                plan.contains(want),
                "{}: plan lacks {want:?}:\n{plan}",
                case.name
            );
        }
        let out = tempfile::tempdir().unwrap();
        let o = run_in(
            dir.path(),
            &[
                "remediate",
                ".",
                "--format",
                "cloudformation",
                "--output-dir",
                out.path().to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", case.name);
        let file = out.path().join(format!("{A}-{R}.yaml"));
        if case.cfn.is_empty() {
            assert!(
                !file.exists(),
                "{}: only existing resources change, no template",
                case.name
            );
            assert!(
                stdout(&o).contains("No CloudFormation template"),
                "{}",
                case.name
            );
        } else {
            let t = std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("{}: no template:\n{}", case.name, stdout(&o)));
            for ty in case.cfn {
                assert!(
                    t.contains(&format!("Type: \"{ty}\"")),
                    "{}: template lacks {ty}:\n{t}",
                    case.name
                );
            }
            templates.push(file);
        }
        keep.push(out);
    }
    // One cfn-lint run for all templates (it takes seconds to start).
    cfn_lint(&templates);
}

#[test]
fn organization_trail_fix_is_made_in_the_owner_account() {
    let mgmt = "111111111111";
    let mut m = compliant(mgmt, R);
    m["cloudtrail"]["trailList"][0]["IsOrganizationTrail"] = json!(true);
    set(
        &mut m,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    let mut member = empty("222222222222", R);
    member["cloudtrail"]["trailList"] = m["cloudtrail"]["trailList"].clone();
    let dir = Org::new().with(m).with(member).write();
    let o = run_in(dir.path(), &["remediate", "."]);
    let out = stdout(&o);
    let s = section(&out, "222222222222");
    assert!(s.contains("# 1/1 account 111111111111 eu-west-1:"), "{s}");
    assert!(s.contains("enable-alarm-actions"), "{s}");
}

#[test]
fn unknown_owner_account_asks_for_its_snapshot() {
    let mut m = compliant("111111111111", R);
    m["cloudtrail"]["trailList"][0]["IsOrganizationTrail"] = json!(true);
    let mut member = empty("222222222222", R);
    member["cloudtrail"]["trailList"] = m["cloudtrail"]["trailList"].clone();
    let dir = Org::new().with(member).write();
    let out = stdout(&run_in(dir.path(), &["remediate", "."]));
    assert!(out.contains("UNKNOWN"), "{out}");
    assert!(
        out.contains("load the snapshot of account 111111111111 region eu-west-1"),
        "{out}"
    );
    assert!(!out.contains("\naws "), "{out}");
}

#[test]
fn bad_input_exits_2_and_still_plans_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("snapshots/333333333333/us-east-1.json"),
        dir.path().join("good.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    let o = run_in(dir.path(), &["remediate", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("enable-alarm-actions"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.json"));
}

/// The member role's StackSet template of `iam-policy --organization --stackset` is cfn-lint
/// clean, with the default role name and another one, and grants exactly the collector's actions.
#[test]
fn organization_stackset_template_is_cfn_lint_clean() {
    let dir = tempfile::tempdir().unwrap();
    let mut templates = Vec::new();
    for role in ["CwlAuditReadOnly", "Audit.Org-Role_1"] {
        let o = run(&[
            "iam-policy",
            "--organization",
            "--member-role",
            role,
            "--stackset",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains(&format!("Default: {role}\n")), "{text}");
        let granted: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            // `service:Action` items only (not `- StringEquals:` and the like).
            .filter(|l| {
                l.split_once(':').is_some_and(|(svc, action)| {
                    !svc.is_empty()
                        && svc.bytes().all(|b| b.is_ascii_lowercase())
                        && action.starts_with(|c: char| c.is_ascii_uppercase())
                })
            })
            .collect();
        assert_eq!(granted, cwl_audit::iam::actions(), "{text}");
        let path = dir.path().join(format!("{}.yaml", role.replace('.', "-")));
        std::fs::write(&path, text).unwrap();
        templates.push(path);
    }
    cfn_lint(&templates);
    // A role name that is not one is refused, so nothing but a name reaches the template.
    let o = run(&[
        "iam-policy",
        "--organization",
        "--member-role",
        "x\nResources: {}",
        "--stackset",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
