//! `cwl-audit remediate`: the demo's failing accounts (pinned with insta); scenarios with every kind
//! of missing piece, each planned and verified (the tool re-evaluates the snapshots with the steps
//! applied); every rule planned from nothing; every CloudFormation template clean for `cfn-lint`
//! and carrying exactly the values of the CLI plan; hostile snapshot values run through a logging
//! `aws` stub with exact argv; and the round trip on the emulator: seed failing states in moto,
//! collect, plan, run the script with the real AWS CLI, collect again, every failing rule passes.
#[cfg(feature = "collect")]
use crate::support::emulator;

/// This module's moto server.
#[cfg(feature = "collect")]
static EMULATOR: emulator::Emulator = emulator::Emulator::new();
use crate::support;

use serde_json::{json, Value};
#[cfg(feature = "collect")]
use std::path::Path;
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

/// The account's section of the CLI output.
fn section<'a>(out: &'a str, account: &str) -> &'a str {
    let start = out
        .find(&format!("# === account {account}\n"))
        .unwrap_or_else(|| panic!("no section for {account}:\n{out}"));
    let rest = &out[start..];
    let end = rest[5..]
        .find("# === account ")
        .map(|i| i + 5)
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The commands of a plan: (service, operation, --region, the --cli-input-json document), parsed
/// back by a shell-free reading of the one form every command has.
fn commands(plan: &str) -> Vec<(String, String, Option<String>, Value)> {
    plan.lines()
        .filter(|l| l.starts_with("aws ") && l.contains(" --cli-input-json '"))
        .map(|l| {
            let (head, json) = l.split_once(" --cli-input-json '").unwrap();
            let json = json.strip_suffix('\'').unwrap().replace(r"'\''", "'");
            let words: Vec<&str> = head.split(' ').collect();
            let region = words
                .iter()
                .find_map(|w| w.strip_prefix("--region="))
                .map(str::to_string);
            (
                words[1].to_string(),
                words[2].to_string(),
                region,
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}")),
            )
        })
        .collect()
}

#[test]
fn demo_cli() {
    let o = run_in(&root(), &["remediate", "snapshots"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    insta::assert_snapshot!("demo_remediate_cli", out);
    // Each failing account: only its missing pieces, with its own resource names.
    let expect = [
        ("333333333333", "aws cloudwatch enable-alarm-actions --region=us-east-1 --cli-input-json '{\"AlarmNames\":[\"RootAccountUsageAlarm\"]}'"),
        ("444444444444", "\"filterName\":\"RootAccountUsage\",\"filterPattern\":\"{ $.userIdentity.type = \\\"Root\\\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \\\"AwsServiceEvent\\\" }\",\"logGroupName\":\"aws-cloudtrail-logs-444444444444\""),
        ("555555555555", "aws sns subscribe --region=us-east-1 --cli-input-json '{\"Endpoint\":\"<SECURITY_EMAIL>\",\"Protocol\":\"email\",\"TopicArn\":\"arn:aws:sns:us-east-1:555555555555:RootAccountUsageAlerts\"}'"),
        ("666666666666", "aws cloudtrail start-logging --region=us-east-1 --cli-input-json '{\"Name\":\"arn:aws:cloudtrail:us-east-1:666666666666:trail/management-events\"}'"),
    ];
    for (account, command) in expect {
        let s = section(&out, account);
        assert!(s.contains(command), "{account} lacks {command}:\n{s}");
        assert!(!s.contains("still says"), "{s}");
        assert_eq!(
            s.matches("\naws ").count() - s.matches("\naws logs delete-metric-filter").count(),
            1,
            "only the missing piece:\n{s}"
        );
        assert!(s.contains(&format!("!= {account} ]; then")), "guarded: {s}");
    }
    // The stopped trail fails all fifteen rules: one shared step fixes them all.
    let s = section(&out, "666666666666");
    assert_eq!(
        s.matches("step 1; with it applied to the snapshots")
            .count(),
        15,
        "{s}"
    );
    // Unknown: no fix, the data to collect instead.
    let s = section(&out, "777777777777");
    assert!(!s.contains("\naws "), "{s}");
    assert!(s.contains("allow `sns:ListSubscriptions`"), "{s}");
    assert!(out.contains("# Passing, nothing to do: 111111111111, 222222222222, 888888888888"));
    // --account narrows the plan to that account.
    let one = stdout(&run_in(
        &root(),
        &["remediate", "snapshots", "--account", "333333333333"],
    ));
    assert!(one.contains("# === account 333333333333\n"), "{one}");
    assert!(!one.contains("# === account 444444444444"), "{one}");
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
    for account in ["333333333333", "444444444444", "666666666666"] {
        // Only fixes of existing resources: the note says so and gives the CLI command.
        let s = section(&notes, account);
        assert!(s.contains("No CloudFormation template"), "{s}");
        assert!(s.contains("#       aws "), "{s}");
    }
    let file = dir.path().join("555555555555-us-east-1.json");
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let sub = &t["Resources"]["AlarmSubscription"];
    assert_eq!(sub["Type"], "AWS::SNS::Subscription");
    assert_eq!(
        sub["Properties"]["TopicArn"], "arn:aws:sns:us-east-1:555555555555:RootAccountUsageAlerts",
        "the existing topic is reused"
    );
    cfn_lint(&[file]);
}

/// A compliant account with an edit, and what its CWL-014 plan must contain.
struct Case {
    name: &'static str,
    edit: fn(&mut Value),
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
            cli: &["aws logs put-metric-filter", "\"logGroupName\":\"CloudTrail/management-events\"", "\"filterName\":\"RootAccountUsage\""],
            cfn: &["AWS::Logs::MetricFilter"],
        },
        Case {
            name: "no alarm",
            edit: |s| set(s, "/cloudwatch/MetricAlarms", json!([])),
            cli: &["aws cloudwatch put-metric-alarm", "\"MetricName\":\"RootAccountUsageEventCount\"", "\"AlarmActions\":[\"arn:aws:sns:eu-west-1:123456789012:RootAccountUsageAlerts\"]"],
            cfn: &["AWS::CloudWatch::Alarm"],
        },
        Case {
            name: "nothing after the trail",
            edit: |s| {
                set(s, "/logs/metricFilters", json!([]));
                set(s, "/cloudwatch/MetricAlarms", json!([]));
                set(s, "/sns/Subscriptions", json!([]));
            },
            cli: &["aws logs put-metric-filter", "aws sns create-topic --region=eu-west-1 --cli-input-json '{\"Name\":\"SecurityAlarms\"}'", "aws cloudwatch put-metric-alarm", "aws sns subscribe"],
            cfn: &["AWS::Logs::MetricFilter", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::CloudWatch::Alarm"],
        },
        Case {
            name: "no subscriptions",
            edit: |s| set(s, "/sns/Subscriptions", json!([])),
            cli: &["aws sns subscribe", "\"Endpoint\":\"<SECURITY_EMAIL>\""],
            cfn: &["AWS::SNS::Subscription"],
        },
        Case {
            name: "pending subscription with a known address",
            edit: |s| set(s, "/sns/Subscriptions/0/SubscriptionArn", json!("PendingConfirmation")),
            cli: &["subscribing again resends the confirmation e-mail", "\"Endpoint\":\"security@example.com\""],
            cfn: &["AWS::SNS::Subscription"],
        },
        Case {
            name: "alarm threshold 2 and two datapoints",
            edit: |s| {
                set(s, "/cloudwatch/MetricAlarms/0/Threshold", json!(2.0));
                set(s, "/cloudwatch/MetricAlarms/0/DatapointsToAlarm", json!(2));
                set(s, "/cloudwatch/MetricAlarms/0/EvaluationPeriods", json!(3));
            },
            cli: &["aws cloudwatch put-metric-alarm", "\"AlarmName\":\"RootAccountUsageAlarm\"", "\"Threshold\":1.0", "\"DatapointsToAlarm\":1"],
            cfn: &[],
        },
        Case {
            name: "alarm with only OK actions",
            edit: |s| {
                let topic = s["cloudwatch"]["MetricAlarms"][0]["AlarmActions"].clone();
                set(s, "/cloudwatch/MetricAlarms/0/OKActions", topic);
                set(s, "/cloudwatch/MetricAlarms/0/AlarmActions", json!([]));
            },
            cli: &["\"AlarmActions\":[\"arn:aws:sns:eu-west-1:123456789012:RootAccountUsageAlerts\"]", "\"OKActions\":[\"arn:aws:sns:eu-west-1:123456789012:RootAccountUsageAlerts\"]"],
            cfn: &[],
        },
        Case {
            name: "disabled alarm that also needs two datapoints",
            edit: |s| {
                set(s, "/cloudwatch/MetricAlarms/0/ActionsEnabled", json!(false));
                set(s, "/cloudwatch/MetricAlarms/0/DatapointsToAlarm", json!(2));
            },
            // One restatement replaces the enable-alarm-actions step it supersedes.
            cli: &["\"ActionsEnabled\":true", "aws cloudwatch put-metric-alarm"],
            cfn: &[],
        },
        Case {
            name: "alarm on the wrong namespace",
            edit: |s| set(s, "/cloudwatch/MetricAlarms/0/Namespace", json!("LogMetrics")),
            // The existing alarm is moved to the filter's metric, not duplicated.
            cli: &["\"AlarmName\":\"RootAccountUsageAlarm\"", "\"Namespace\":\"CloudTrailMetrics\""],
            cfn: &[],
        },
        Case {
            name: "metric value 0",
            edit: |s| set(s, "/logs/metricFilters/0/metricTransformations/0/metricValue", json!("0")),
            cli: &["\"metricValue\":\"1\"", "\"filterName\":\"RootAccountUsage\""],
            cfn: &[],
        },
        Case {
            name: "single-region trail",
            edit: |s| set(s, "/cloudtrail/trailList/0/IsMultiRegionTrail", json!(false)),
            cli: &["aws cloudtrail update-trail", "\"IsMultiRegionTrail\":true", "\"Name\":\"arn:aws:cloudtrail:eu-west-1:123456789012:trail/management-events\""],
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
            cli: &["aws logs create-log-group --region=eu-west-1 --cli-input-json '{\"logGroupName\":\"aws-cloudtrail-logs-123456789012-management-events\"}'", "aws iam create-role", "\"CloudWatchLogsLogGroupArn\"", "aws logs put-metric-filter"],
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
            cli: &["aws cloudtrail create-trail", "<CLOUDTRAIL_S3_BUCKET>", "aws cloudtrail put-event-selectors", "aws cloudtrail start-logging", "aws logs create-log-group", "aws cloudwatch put-metric-alarm", "aws sns subscribe"],
            cfn: &["AWS::CloudTrail::Trail", "AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::Logs::MetricFilter", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::CloudWatch::Alarm"],
        },
    ]
}

/// Every value a template's resources carry equals the value the CLI plan passes for the same
/// state: metric filters, alarms, topics, subscriptions and the trail, by name.
fn cross_check(cli_plan: &str, template: &Value) {
    let cmds = commands(cli_plan);
    let find = |op: &str, key: &str, name: &Value| {
        cmds.iter()
            .find(|(_, o, _, input)| o == op && &input[key] == name)
            .map(|(_, _, _, input)| input.clone())
            .unwrap_or_else(|| panic!("no {op} for {name} in the CLI plan:\n{cli_plan}"))
    };
    let resources = template["Resources"].as_object().unwrap();
    // A value the template takes from another resource or a parameter stands for the CLI's value.
    let same = |cfn: &Value, cli: &Value| {
        cfn.get("Ref").is_some() || cfn.get("Fn::GetAtt").is_some() || cfn == cli
    };
    for (id, r) in resources {
        let p = &r["Properties"];
        match r["Type"].as_str().unwrap() {
            "AWS::Logs::MetricFilter" => {
                let c = find("put-metric-filter", "filterName", &p["FilterName"]);
                assert!(same(&p["LogGroupName"], &c["logGroupName"]), "{id}");
                assert_eq!(p["FilterPattern"], c["filterPattern"], "{id}");
                let (t, ct) = (
                    &p["MetricTransformations"][0],
                    &c["metricTransformations"][0],
                );
                assert_eq!(t["MetricName"], ct["metricName"], "{id}");
                assert_eq!(t["MetricNamespace"], ct["metricNamespace"], "{id}");
                assert_eq!(t["MetricValue"], ct["metricValue"], "{id}");
            }
            "AWS::CloudWatch::Alarm" => {
                let c = find("put-metric-alarm", "AlarmName", &p["AlarmName"]);
                let props = p.as_object().unwrap();
                assert_eq!(
                    props.keys().collect::<Vec<_>>(),
                    c.as_object().unwrap().keys().collect::<Vec<_>>(),
                    "{id}: the same members"
                );
                for (k, v) in props {
                    match (v, &c[k]) {
                        (Value::Array(a), Value::Array(b)) => {
                            assert_eq!(a.len(), b.len(), "{id}.{k}");
                            for (x, y) in a.iter().zip(b) {
                                assert!(same(x, y), "{id}.{k}: {x} vs {y}");
                            }
                        }
                        (x, y) => assert!(same(x, y), "{id}.{k}: {x} vs {y}"),
                    }
                }
            }
            "AWS::SNS::Topic" => {
                find("create-topic", "Name", &p["TopicName"]);
            }
            "AWS::SNS::Subscription" => {
                let c = cmds
                    .iter()
                    .find(|(_, o, _, _)| o == "subscribe")
                    .map(|x| x.3.clone())
                    .unwrap();
                assert!(same(&p["TopicArn"], &c["TopicArn"]), "{id}");
                assert!(same(&p["Endpoint"], &c["Endpoint"]), "{id}");
                assert_eq!(p["Protocol"], c["Protocol"], "{id}");
            }
            "AWS::CloudTrail::Trail" => {
                let c = find("create-trail", "Name", &p["TrailName"]);
                assert_eq!(p["IsMultiRegionTrail"], c["IsMultiRegionTrail"], "{id}");
                let sel = find("put-event-selectors", "TrailName", &p["TrailName"]);
                assert_eq!(p["EventSelectors"], sel["EventSelectors"], "{id}");
            }
            "AWS::Logs::LogGroup" => {
                find("create-log-group", "logGroupName", &p["LogGroupName"]);
            }
            "AWS::IAM::Role" => {
                let c = find("create-role", "RoleName", &p["RoleName"]);
                let doc: Value =
                    serde_json::from_str(c["AssumeRolePolicyDocument"].as_str().unwrap()).unwrap();
                assert_eq!(p["AssumeRolePolicyDocument"], doc, "{id}");
            }
            other => panic!("{id}: unexpected resource type {other}"),
        }
    }
}

#[test]
fn every_missing_piece_is_planned_verified_and_cfn_lint_clean() {
    let mut templates = Vec::new();
    let mut keep = Vec::new();
    for case in cases() {
        let mut s = compliant(A, R);
        (case.edit)(&mut s);
        let org = Org::new().with(s);
        let dir = org.write();
        let o = run_in(dir.path(), &["remediate", ".", "--rule", "CWL-014"]);
        assert_eq!(o.status.code(), Some(0), "{}", case.name);
        let plan = stdout(&o);
        assert!(
            plan.contains("applied to the snapshots, CWL-014 passes."),
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
                "--rule",
                "CWL-014",
                "--format",
                "cloudformation",
                "--output-dir",
                out.path().to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", case.name);
        let file = out.path().join(format!("{A}-{R}.json"));
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
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("{}: no template:\n{}", case.name, stdout(&o)));
            let t: Value = serde_json::from_str(&text).unwrap();
            let types: Vec<&str> = t["Resources"]
                .as_object()
                .unwrap()
                .values()
                .map(|r| r["Type"].as_str().unwrap())
                .collect();
            for ty in case.cfn {
                assert!(
                    types.contains(ty),
                    "{}: template lacks {ty}:\n{text}",
                    case.name
                );
            }
            cross_check(&plan, &t);
            templates.push(file);
        }
        keep.push(out);
    }
    // One cfn-lint run for all templates (it takes seconds to start).
    cfn_lint(&templates);
}

/// An account with only the CWL-014 chain fails the fourteen other rules; with the plan applied,
/// all fifteen pass: one filter and one alarm per rule (each filter with its policy's reference
/// pattern), all alarms notifying the account's one confirmed topic.
#[test]
fn every_rule_is_planned_and_verified_from_its_policy() {
    let dir = Org::new().with(compliant(A, R)).write();
    let o = run_in(dir.path(), &["remediate", "."]);
    assert_eq!(o.status.code(), Some(0));
    let plan = stdout(&o);
    assert_eq!(plan.matches(" passes.\n").count(), 14, "{plan}");
    assert!(!plan.contains("still says"), "{plan}");
    let cmds = commands(&plan);
    let filters: Vec<&Value> = cmds
        .iter()
        .filter(|c| c.1 == "put-metric-filter")
        .map(|c| &c.3)
        .collect();
    let alarms: Vec<&Value> = cmds
        .iter()
        .filter(|c| c.1 == "put-metric-alarm")
        .map(|c| &c.3)
        .collect();
    assert_eq!((filters.len(), alarms.len()), (14, 14), "{plan}");
    assert!(alarms
        .iter()
        .all(|a| a["AlarmActions"] == json!([topic_arn(A, R, "RootAccountUsageAlerts")])));
    // The patterns are the policies' own (custom.references), each in its rule's policy file.
    let policies: String = std::fs::read_dir(root().join("policies/aws/cloudwatch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rego"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for f in &filters {
        let pattern = f["filterPattern"].as_str().unwrap();
        assert!(
            policies.contains(&format!("pattern: '{pattern}'")),
            "{pattern} is no policy's reference"
        );
    }
    // The same plan as CloudFormation: lint-clean, the same values.
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
    assert_eq!(o.status.code(), Some(0));
    let file = out.path().join(format!("{A}-{R}.json"));
    let t: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    cross_check(&plan, &t);
    cfn_lint(&[file]);
    // A custom policy built on lib.chain (reference in Rego only) is planned too.
    let o = run_in(
        dir.path(),
        &[
            "remediate",
            ".",
            "--policy-dir",
            root().join("examples/policies").to_str().unwrap(),
            "--rule",
            "EX-EC2-001",
        ],
    );
    let plan = stdout(&o);
    assert!(
        plan.contains("applied to the snapshots, EX-EC2-001 passes."),
        "{plan}"
    );
    assert!(
        plan.contains("\"filterName\":\"EC2InstanceChanges\""),
        "{plan}"
    );
}

/// Hostile snapshot values: every output path stays inert. The CLI plan is run with a logging
/// `aws` stub (each argv exactly as planned, nothing else runs), manual steps never run, the
/// CloudFormation stream parses as YAML with no extra top-level key, and --output never replaces
/// an input snapshot.
#[test]
fn hostile_values_stay_values() {
    let hostile = [
        "$(touch PWNED)",
        "`touch PWNED`",
        "x'; touch PWNED; '",
        "--endpoint-url=http://evil.example",
        "file:///etc/passwd",
        "metricName=x,defaultValue=1",
        "a\u{2028}Transform: AWS::Include",
        "b\u{85}c\rd\u{1b}[2Je\u{8}",
        "{{resolve:ssm:secret}}",
        "${aws_iam_role.x.arn}",
        "\u{202e}evil\u{7f}\u{9b}",
        "x\"],\"Statement\":[{\"Effect\":\"Allow\"",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut accounts = Vec::new();
    for (i, h) in hostile.iter().enumerate() {
        let acct = format!("{:012}", 200000000000u64 + i as u64);
        let mut s = compliant(&acct, R);
        // An alarm name and topic in the alarm's actions, a disabled alarm: the plan restates it.
        set(&mut s, "/cloudwatch/MetricAlarms/0/AlarmName", json!(h));
        set(
            &mut s,
            "/cloudwatch/MetricAlarms/0/ActionsEnabled",
            json!(false),
        );
        set(
            &mut s,
            "/cloudwatch/MetricAlarms/0/DatapointsToAlarm",
            json!(2),
        );
        if i % 2 == 1 {
            // A kept action that is no ARN: the restatement becomes a manual step.
            let mut actions = s["cloudwatch"]["MetricAlarms"][0]["AlarmActions"].clone();
            actions.as_array_mut().unwrap().push(json!(h));
            set(&mut s, "/cloudwatch/MetricAlarms/0/AlarmActions", actions);
        }
        // A trail whose name is hostile, with no logs delivery (role policy JSON is built from it).
        set(&mut s, "/cloudtrail/trailList/0/Name", json!(h));
        let a2 = format!("{:012}", 300000000000u64 + i as u64);
        let mut t = compliant(&a2, R);
        let tr = t["cloudtrail"]["trailList"][0].as_object_mut().unwrap();
        tr.remove("CloudWatchLogsLogGroupArn");
        tr.remove("CloudWatchLogsRoleArn");
        tr.insert("Name".into(), json!(h));
        // A pending subscription with a hostile endpoint.
        set(
            &mut t,
            "/sns/Subscriptions/0/SubscriptionArn",
            json!("PendingConfirmation"),
        );
        set(
            &mut t,
            "/sns/Subscriptions/0/Endpoint",
            json!(format!("{h}@example.com")),
        );
        std::fs::create_dir_all(dir.path().join(&acct)).unwrap();
        std::fs::create_dir_all(dir.path().join(&a2)).unwrap();
        std::fs::write(
            dir.path().join(&acct).join(format!("{R}.json")),
            serde_json::to_string_pretty(&s).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join(&a2).join(format!("{R}.json")),
            serde_json::to_string_pretty(&t).unwrap(),
        )
        .unwrap();
        accounts.push(acct);
        accounts.push(a2);
    }
    let o = run_in(dir.path(), &["remediate", ".", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan = stdout(&o);
    assert!(
        !plan
            .chars()
            .any(|c| c != '\n' && cwl_audit::text::is_hidden(c)),
        "hidden characters in:\n{plan}"
    );
    // Every command line is the one safe form.
    for l in plan
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("aws ") && !l.contains("get-caller-identity"))
    {
        assert!(
            l.starts_with("aws ") && l.contains(" --cli-input-json '"),
            "{l}"
        );
    }
    // Run it with a logging `aws` stub, in every account in turn.
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("log");
    let stub = bin.path().join("aws");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\nif [ \"$1\" = sts ]; then echo \"$STUB_ACCOUNT\"; exit 0; fi\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> {}; done\nprintf '\\n\\0' >> {}\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let script = bin.path().join("plan.sh");
    std::fs::write(&script, &plan).unwrap();
    for acct in &accounts {
        let o = Command::new("sh")
            .arg(&script)
            .current_dir(bin.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
            .env("STUB_ACCOUNT", acct)
            .output()
            .unwrap();
        assert!(o.status.success(), "{acct}: {}", stderr(&o));
    }
    assert!(!bin.path().join("PWNED").exists() && !dir.path().join("PWNED").exists());
    // The argv the stub saw is exactly the planned commands, one JSON document each, in order.
    let logged = std::fs::read(&log).unwrap_or_default();
    let text = String::from_utf8(logged).unwrap();
    let calls: Vec<Vec<&str>> = text
        .split("\n\0")
        .filter(|c| !c.is_empty())
        .map(|c| c.split('\0').filter(|a| !a.is_empty()).collect())
        .collect();
    let planned = commands(&plan);
    assert_eq!(calls.len(), planned.len(), "{plan}");
    for (argv, (service, op, region, input)) in calls.iter().zip(&planned) {
        assert_eq!(argv[0], service);
        assert_eq!(argv[1], op);
        let mut i = 2;
        if let Some(r) = region {
            assert_eq!(argv[i], format!("--region={r}"));
            i += 1;
        }
        assert_eq!(argv[i], "--cli-input-json");
        assert_eq!(&serde_json::from_str::<Value>(argv[i + 1]).unwrap(), input);
        assert_eq!(argv.len(), i + 2, "{argv:?}");
        // A hostile value reaches AWS only as a JSON string value, exactly as the snapshot held it.
        for h in hostile {
            assert!(!argv[..i].iter().any(|a| a.contains(h)), "{argv:?}");
        }
    }
    // Hostile values became manual steps, never commands.
    assert!(plan.contains("# MANUAL STEP, not run:"), "{plan}");
    // The CloudFormation stream parses as YAML; templates have only CloudFormation's top-level keys.
    let o = run_in(
        dir.path(),
        &[
            "remediate",
            ".",
            "--rule",
            "CWL-014",
            "--format",
            "cloudformation",
        ],
    );
    let cfn = stdout(&o);
    let yaml = dir.path().join("stream.yaml");
    std::fs::write(&yaml, &cfn).unwrap();
    let check = Command::new(python())
        .args(["-c", "import sys, yaml\nfor d in yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')):\n    if d is not None:\n        assert set(d) <= {'AWSTemplateFormatVersion','Description','Metadata','Parameters','Resources','Outputs'}, set(d)\n        assert 'Transform' not in d\n        s = repr(d)\n        assert '{{resolve' not in s, s\n"])
        .arg(&yaml)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    // --output onto an input snapshot is refused.
    let input = dir.path().join(&accounts[0]).join(format!("{R}.json"));
    let before = std::fs::read(&input).unwrap();
    let o = run_in(
        dir.path(),
        &["remediate", ".", "--output", input.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// The round trip on the emulator: failing states seeded in moto (one account each), collected,
/// planned (`--format cli`), the script run with the real AWS CLI (awscli from PyPI, one account's
/// block at a time with that account's credentials; the guard skips the others), collected again:
/// every rule that failed passes. The CWL-014 states are planned for CWL-014; one account with only
/// the CWL-014 chain is planned for all fifteen rules.
#[cfg(feature = "collect")]
#[test]
fn emulator_round_trip_fixes_every_failing_rule() {
    let Some(moto) = EMULATOR.get() else {
        return;
    };
    let started = std::time::Instant::now();
    let creds: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(&moto.seed_output(&["remediation"])).unwrap();
    let aws = Path::new(&python()).parent().unwrap().join("aws");
    let endpoint = moto.endpoint();
    let env = |cmd: &mut Command, c: &[String]| {
        emulator::aws_env(cmd, &c[0], &c[1]);
        cmd.env("AWS_SESSION_TOKEN", &c[2]);
    };
    let collect_all = |out: &Path| {
        for c in creds.values() {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_cwl-audit"));
            cmd.args([
                "collect",
                "--regions",
                "us-east-1",
                "--endpoint-url",
                &endpoint,
                "--out",
            ])
            .arg(out)
            .args(["--max-attempts", "2", "--retry-initial-backoff-ms", "10"]);
            env(&mut cmd, c);
            let o = cmd.output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
    };
    let before = tempfile::tempdir().unwrap();
    collect_all(before.path());
    let eval = |dir: &Path| -> Vec<(String, String, String)> {
        let o = run_in(
            dir,
            &["eval", ".", "--format", "json", "--fail-on", "never"],
        );
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["account_id"].as_str().unwrap().to_string(),
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let all_rules = "100000000010";
    let verdicts = eval(before.path());
    let failing: Vec<&(String, String, String)> = verdicts
        .iter()
        .filter(|(a, r, v)| v != "pass" && (r == "CWL-014" || a == all_rules))
        .collect();
    assert_eq!(failing.len(), 9 + 14, "{failing:?}");
    assert!(failing.iter().all(|f| f.2 == "fail"), "{failing:?}");
    // Two plans: the CWL-014 states for CWL-014, the last account for every rule.
    let mut plan = String::new();
    for args in [
        vec!["remediate", ".", "--rule", "CWL-014"],
        vec!["remediate", ".", "--account", all_rules],
    ] {
        let o = run_in(before.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(
            !text.contains("still says") && !text.contains("MANUAL"),
            "{text}"
        );
        plan.push_str(&text);
    }
    // Each account's block, with the placeholders filled in as a person would.
    let work = tempfile::tempdir().unwrap();
    for (account, c) in &creds {
        let mut block = String::from("set -e\n");
        let mut rest = plan.as_str();
        while let Some(i) = rest.find(&format!("# === account {account}\n")) {
            let s = section(&rest[i..], account);
            block.push_str(s);
            rest = &rest[i + s.len()..];
        }
        let block = block
            .replace("<SECURITY_EMAIL>", "security@example.com")
            .replace(
                "<CLOUDTRAIL_S3_BUCKET>",
                &format!("remediation-trail-{account}"),
            );
        let script = work.path().join(format!("{account}.sh"));
        std::fs::write(&script, &block).unwrap();
        let mut cmd = Command::new("sh");
        env(&mut cmd, c);
        cmd.arg(&script)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", aws.parent().unwrap().display()),
            )
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_DEFAULT_REGION", "us-east-1");
        let o = cmd.output().unwrap();
        assert!(
            o.status.success(),
            "{account}:\n{block}\n{}{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(
            !stderr(&o).contains("skipped the block"),
            "{account}: {}",
            stderr(&o)
        );
    }
    // The guard: a block run with another account's credentials does nothing but say so.
    let other = work.path().join("guard.sh");
    std::fs::write(
        &other,
        format!("set -e\n{}", section(&plan, "100000000002")),
    )
    .unwrap();
    let mut cmd = Command::new("sh");
    env(&mut cmd, &creds["100000000001"]);
    cmd.arg(&other)
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", aws.parent().unwrap().display()),
        )
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_DEFAULT_REGION", "us-east-1");
    let o = cmd.output().unwrap();
    assert!(
        o.status.success() && stderr(&o).contains("skipped the block of account 100000000002"),
        "{}",
        stderr(&o)
    );
    let after = tempfile::tempdir().unwrap();
    collect_all(after.path());
    let now = eval(after.path());
    for (a, r, _) in &failing {
        let v = now
            .iter()
            .find(|(x, y, _)| x == a && y == r)
            .map(|x| x.2.as_str());
        if v != Some("pass") {
            let why = stdout(&run_in(
                after.path(),
                &["eval", ".", "--rule", r, "--fail-on", "never"],
            ));
            panic!(
                "{r} in {a} still fails after the plan ran:\n{why}\nplan:\n{}",
                section(&plan, a)
            );
        }
    }
    eprintln!("emulator round trip: {:.1?}", started.elapsed());
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
    let o = run_in(dir.path(), &["remediate", ".", "--rule", "CWL-014"]);
    let out = stdout(&o);
    // The member's finding names the step; the step runs in the owner's guarded block.
    let member = section(&out, "222222222222");
    assert!(member.contains("FAIL CWL-014"), "{member}");
    let owner = section(&out, "111111111111");
    assert!(owner.contains("!= 111111111111 ]"), "{owner}");
    assert!(
        owner.contains("aws cloudwatch enable-alarm-actions --region=eu-west-1"),
        "{owner}"
    );
}

#[test]
fn unknown_owner_account_asks_for_its_snapshot() {
    let mut m = compliant("111111111111", R);
    m["cloudtrail"]["trailList"][0]["IsOrganizationTrail"] = json!(true);
    let mut member = empty("222222222222", R);
    member["cloudtrail"]["trailList"] = m["cloudtrail"]["trailList"].clone();
    let dir = Org::new().with(member).write();
    let out = stdout(&run_in(
        dir.path(),
        &["remediate", ".", "--rule", "CWL-014"],
    ));
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
