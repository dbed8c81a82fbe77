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
use std::path::{Path, PathBuf};
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

// ------------------------------------------------------------------ Terraform

/// The `terraform` binary on PATH, if there is one. Nothing installs it (no registry here ships
/// it); where it is missing the check is skipped with a message.
fn terraform_binary() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("terraform"))
            .find(|f| f.is_file())
    })
}

/// The real Terraform reads the files as its own (`terraform fmt -check`: they parse, and they are
/// formatted as `terraform fmt` writes them, so a repository's fmt check accepts them unchanged).
/// No provider is needed (and none can be downloaded here), so `validate` is not run.
fn terraform_fmt_check(files: &[PathBuf]) {
    let Some(tf) = terraform_binary() else {
        eprintln!("SKIPPED terraform fmt -check: no terraform on PATH");
        return;
    };
    let o = Command::new(tf)
        .args(["fmt", "-check", "-diff", "-list=false", "-no-color"])
        .args(files)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("run terraform");
    assert!(
        o.status.success(),
        "terraform fmt -check rejects {files:?} (exit {:?}):\n{}{}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
}

/// Parses Terraform files with python-hcl2 (tests/validators/hcl.py): path -> body; the real
/// Terraform checks them too ([`terraform_fmt_check`]).
fn hcl_parse(files: &[PathBuf]) -> serde_json::Map<String, Value> {
    assert!(!files.is_empty(), "no Terraform file to parse");
    terraform_fmt_check(files);
    let o = Command::new(python())
        .arg(root().join("tests/validators/hcl.py"))
        .args(files)
        .output()
        .expect("run python-hcl2");
    assert!(
        o.status.success(),
        "python-hcl2 could not parse {files:?}:\n{}",
        stderr(&o)
    );
    match serde_json::from_str(&stdout(&o)).unwrap() {
        Value::Object(m) => m,
        other => panic!("{other}"),
    }
}

/// A parsed value as Terraform reads it: `None` for an expression (`${...}`, a reference cwl-audit
/// wrote), else the value with HCL's `$${` / `%%{` escapes read as the literal `${` / `%{`.
fn lit(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) if s.starts_with("${") => None,
        Value::String(s) => Some(json!(s.replace("$${", "${").replace("%%{", "%{"))),
        Value::Array(a) => a
            .iter()
            .map(lit)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        other => Some(other.clone()),
    }
}

/// The arguments and nested blocks the AWS provider documents for each resource type cwl-audit
/// writes (registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/<type>), and the
/// required ones. A nested block is `name/inner` in the path.
const PROVIDER_ARGS: &[(&str, &[&str], &[&str])] = &[
    (
        "aws_cloudwatch_log_metric_filter",
        &[
            "name",
            "pattern",
            "log_group_name",
            "apply_on_transformed_logs",
            "metric_transformation",
            "metric_transformation/name",
            "metric_transformation/namespace",
            "metric_transformation/value",
            "metric_transformation/default_value",
            "metric_transformation/dimensions",
            "metric_transformation/unit",
        ],
        &["name", "pattern", "log_group_name", "metric_transformation"],
    ),
    (
        "aws_cloudwatch_metric_alarm",
        &[
            "alarm_name",
            "comparison_operator",
            "evaluation_periods",
            "metric_name",
            "namespace",
            "period",
            "statistic",
            "threshold",
            "threshold_metric_id",
            "actions_enabled",
            "alarm_actions",
            "alarm_description",
            "datapoints_to_alarm",
            "dimensions",
            "insufficient_data_actions",
            "ok_actions",
            "unit",
            "extended_statistic",
            "treat_missing_data",
            "evaluate_low_sample_count_percentiles",
            "tags",
            "metric_query",
            "metric_query/id",
            "metric_query/account_id",
            "metric_query/expression",
            "metric_query/label",
            "metric_query/period",
            "metric_query/return_data",
            "metric_query/metric",
            "metric_query/metric/dimensions",
            "metric_query/metric/metric_name",
            "metric_query/metric/namespace",
            "metric_query/metric/period",
            "metric_query/metric/stat",
            "metric_query/metric/unit",
        ],
        &["alarm_name", "comparison_operator", "evaluation_periods"],
    ),
    (
        "aws_sns_topic",
        &[
            "name",
            "name_prefix",
            "display_name",
            "policy",
            "delivery_policy",
            "kms_master_key_id",
            "fifo_topic",
            "tags",
        ],
        &[],
    ),
    (
        "aws_sns_topic_subscription",
        &[
            "topic_arn",
            "protocol",
            "endpoint",
            "confirmation_timeout_in_minutes",
            "endpoint_auto_confirms",
            "filter_policy",
            "filter_policy_scope",
            "raw_message_delivery",
            "redrive_policy",
            "subscription_role_arn",
            "delivery_policy",
        ],
        &["topic_arn", "protocol", "endpoint"],
    ),
    (
        "aws_cloudtrail",
        &[
            "name",
            "s3_bucket_name",
            "s3_key_prefix",
            "cloud_watch_logs_group_arn",
            "cloud_watch_logs_role_arn",
            "enable_logging",
            "enable_log_file_validation",
            "include_global_service_events",
            "is_multi_region_trail",
            "is_organization_trail",
            "kms_key_id",
            "sns_topic_name",
            "tags",
            "event_selector",
            "event_selector/read_write_type",
            "event_selector/include_management_events",
            "event_selector/exclude_management_event_sources",
            "event_selector/data_resource",
            "event_selector/data_resource/type",
            "event_selector/data_resource/values",
            "advanced_event_selector",
            "advanced_event_selector/name",
            "advanced_event_selector/field_selector",
            "advanced_event_selector/field_selector/field",
            "advanced_event_selector/field_selector/equals",
            "advanced_event_selector/field_selector/not_equals",
            "advanced_event_selector/field_selector/starts_with",
            "advanced_event_selector/field_selector/not_starts_with",
            "advanced_event_selector/field_selector/ends_with",
            "advanced_event_selector/field_selector/not_ends_with",
            "insight_selector",
            "insight_selector/insight_type",
        ],
        &["name", "s3_bucket_name"],
    ),
    (
        "aws_cloudwatch_log_group",
        &[
            "name",
            "name_prefix",
            "retention_in_days",
            "kms_key_id",
            "log_group_class",
            "skip_destroy",
            "tags",
        ],
        &[],
    ),
    (
        "aws_iam_role",
        &[
            "name",
            "name_prefix",
            "assume_role_policy",
            "description",
            "path",
            "max_session_duration",
            "permissions_boundary",
            "force_detach_policies",
            "tags",
        ],
        &["assume_role_policy"],
    ),
    (
        "aws_iam_role_policy",
        &["name", "name_prefix", "role", "policy"],
        &["role", "policy"],
    ),
];

/// Every argument path of a parsed body (`a`, `block/b`).
fn arg_paths(body: &Value, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in body.as_object().unwrap() {
        if k == "__is_block__" {
            continue;
        }
        let path = format!("{prefix}{k}");
        match v {
            Value::Array(a)
                if a.iter().all(|x| x.get("__is_block__").is_some()) && !a.is_empty() =>
            {
                for b in a {
                    arg_paths(b, &format!("{path}/"), out);
                }
            }
            _ => {}
        }
        out.push(path);
    }
}

/// A parsed file's resources: (type, label, body).
fn tf_resources(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for r in doc["resource"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        for (ty, named) in r.as_object().unwrap() {
            for (label, body) in named.as_object().unwrap() {
                out.push((ty.clone(), label.clone(), body.clone()));
            }
        }
    }
    out
}

/// The file's guard, its blocks, and every resource's arguments are the provider's.
fn tf_schema(doc: &Value, account: &str, region: &str) {
    let top: Vec<&String> = doc.as_object().unwrap().keys().collect();
    for k in &top {
        assert!(
            ["terraform", "provider", "variable", "import", "resource"].contains(&k.as_str()),
            "top-level block {k}"
        );
    }
    let providers = doc["provider"].as_array().unwrap();
    assert_eq!(providers.len(), 1, "{doc}");
    let aws = &providers[0]["aws"];
    assert_eq!(aws["region"], region);
    assert_eq!(aws["allowed_account_ids"], json!([account]));
    assert_eq!(
        doc["terraform"][0]["required_providers"][0]["aws"]["source"],
        "hashicorp/aws"
    );
    let imported: Vec<String> = doc["import"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|i| i["to"].as_str())
        .map(|t| t.trim_start_matches("${").trim_end_matches('}').to_string())
        .collect();
    for (ty, label, body) in tf_resources(doc) {
        let (_, allowed, required) = PROVIDER_ARGS
            .iter()
            .find(|(t, _, _)| *t == ty)
            .unwrap_or_else(|| panic!("{ty} is not a type cwl-audit writes"));
        let mut paths = Vec::new();
        arg_paths(&body, "", &mut paths);
        // An imported resource that has tags keeps them: snapshots do not show tags, so the block
        // cannot restate them (Terraform's `lifecycle` meta-argument, not a provider argument).
        let tagged = allowed.contains(&"tags");
        let is_imported = imported.contains(&format!("{ty}.{label}"));
        let ignored = body["lifecycle"][0]["ignore_changes"].clone();
        if tagged && is_imported {
            assert_eq!(
                ignored,
                // python-hcl2 gives the bare references as their names.
                json!(["tags", "tags_all"]),
                "{ty}.{label}: an imported resource must leave its tags alone"
            );
        } else {
            assert!(body.get("lifecycle").is_none(), "{ty}.{label}: {body}");
        }
        paths.retain(|p| !(is_imported && tagged && p.starts_with("lifecycle")));
        for p in &paths {
            assert!(
                allowed.contains(&p.as_str()),
                "{ty}.{label}: {p} is no argument of the AWS provider"
            );
        }
        for r in *required {
            assert!(paths.iter().any(|p| p == r), "{ty}.{label} lacks {r}");
        }
        assert!(
            label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{label}"
        );
    }
    for i in doc["import"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let to = i["to"].as_str().unwrap();
        let to = to
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap();
        let (ty, label) = to.split_once('.').unwrap();
        assert!(
            tf_resources(doc)
                .iter()
                .any(|(t, l, _)| t == ty && l == label),
            "import of {to}, which the file does not declare"
        );
    }
}

/// `aws_cloudwatch_metric_alarm` argument -> `PutMetricAlarm` member: written here again, from the
/// provider's docs and the API reference, so the test does not read the mapping it checks.
const ALARM_MEMBERS: &[(&str, &str)] = &[
    ("alarm_name", "AlarmName"),
    ("alarm_description", "AlarmDescription"),
    ("actions_enabled", "ActionsEnabled"),
    ("alarm_actions", "AlarmActions"),
    ("ok_actions", "OKActions"),
    ("insufficient_data_actions", "InsufficientDataActions"),
    ("metric_name", "MetricName"),
    ("namespace", "Namespace"),
    ("statistic", "Statistic"),
    ("extended_statistic", "ExtendedStatistic"),
    ("period", "Period"),
    ("unit", "Unit"),
    ("evaluation_periods", "EvaluationPeriods"),
    ("datapoints_to_alarm", "DatapointsToAlarm"),
    ("threshold", "Threshold"),
    ("comparison_operator", "ComparisonOperator"),
    ("treat_missing_data", "TreatMissingData"),
    (
        "evaluate_low_sample_count_percentiles",
        "EvaluateLowSampleCountPercentile",
    ),
];

/// A parsed value equals the CLI's: an expression stands for it (a reference to a resource of the
/// file, as a CloudFormation Ref does); numbers compare as numbers.
fn tf_same(tf: &Value, cli: &Value) -> bool {
    match (lit(tf), cli) {
        (None, _) => true,
        (Some(Value::Array(a)), Value::Array(b)) => {
            a.len() == b.len()
                && tf
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(b)
                    .all(|(x, y)| tf_same(x, y))
        }
        (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Some(x), y) => &x == y,
    }
}

/// Event selector blocks back in the API's shape.
fn api_selectors(body: &Value) -> Value {
    let blocks = body["event_selector"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Value::Array(
        blocks
            .iter()
            .map(|b| {
                let mut s = json!({
                    "ReadWriteType": b["read_write_type"],
                    "IncludeManagementEvents": b["include_management_events"],
                    "DataResources": b["data_resource"].as_array().cloned().unwrap_or_default().iter()
                        .map(|d| json!({"Type": lit(&d["type"]).unwrap(), "Values": lit(&d["values"]).unwrap()}))
                        .collect::<Vec<_>>(),
                });
                if let Some(x) = b.get("exclude_management_event_sources") {
                    s["ExcludeManagementEventSources"] = lit(x).unwrap();
                }
                s
            })
            .collect(),
    )
}

/// Every value a configuration's resources carry equals the value the CLI plan passes for the same
/// state; every import names the resource the CLI changes; every filter, alarm, topic and
/// subscription of the CLI plan is in the configuration.
fn tf_cross_check(cli_plan: &str, doc: &Value, account: &str, region: &str) {
    let cmds: Vec<_> = commands(cli_plan)
        .into_iter()
        .filter(|(_, _, r, _)| r.as_deref().is_none_or(|r| r == region))
        .collect();
    let find = |op: &str, key: &str, name: &Value| {
        cmds.iter()
            .find(|(_, o, _, input)| o == op && &input[key] == name)
            .map(|(_, _, _, input)| input.clone())
            .unwrap_or_else(|| panic!("no {op} for {name} in the CLI plan:\n{cli_plan}"))
    };
    let imports: Vec<(String, Value)> = doc["import"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|i| {
            (
                i["to"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("${")
                    .trim_end_matches('}')
                    .to_string(),
                lit(&i["id"]).unwrap(),
            )
        })
        .collect();
    let import_of = |ty: &str, label: &str| {
        imports
            .iter()
            .find(|(to, _)| to == &format!("{ty}.{label}"))
            .map(|(_, id)| id.clone())
    };
    let resources = tf_resources(doc);
    for (ty, label, p) in &resources {
        let id = format!("{ty}.{label}");
        match ty.as_str() {
            "aws_cloudwatch_log_metric_filter" => {
                let name = lit(&p["name"]).unwrap();
                let c = find("put-metric-filter", "filterName", &name);
                assert!(tf_same(&p["log_group_name"], &c["logGroupName"]), "{id}");
                assert!(tf_same(&p["pattern"], &c["filterPattern"]), "{id}");
                let (t, ct) = (
                    &p["metric_transformation"][0],
                    &c["metricTransformations"][0],
                );
                assert!(tf_same(&t["name"], &ct["metricName"]), "{id}");
                assert!(tf_same(&t["namespace"], &ct["metricNamespace"]), "{id}");
                assert!(tf_same(&t["value"], &ct["metricValue"]), "{id}");
                let replaced = cmds.iter().any(|(_, o, _, i)| {
                    o == "delete-metric-filter"
                        && i["filterName"] == name
                        && i["logGroupName"] == c["logGroupName"]
                });
                assert_eq!(
                    import_of(ty, label),
                    replaced.then(|| json!(format!(
                        "{}:{}",
                        c["logGroupName"].as_str().unwrap(),
                        name.as_str().unwrap()
                    ))),
                    "{id}: imported exactly when the CLI replaces an existing filter"
                );
            }
            "aws_cloudwatch_metric_alarm" => {
                let c = find(
                    "put-metric-alarm",
                    "AlarmName",
                    &lit(&p["alarm_name"]).unwrap(),
                );
                let tf_args: Vec<&String> = p
                    .as_object()
                    .unwrap()
                    .keys()
                    // `lifecycle` is Terraform's meta-argument (tags left alone), not the alarm's.
                    .filter(|k| *k != "__is_block__" && *k != "lifecycle")
                    .collect();
                let members: Vec<&str> =
                    c.as_object().unwrap().keys().map(String::as_str).collect();
                assert_eq!(
                    tf_args.len(),
                    members.len(),
                    "{id}: the same members as the CLI: {tf_args:?} {members:?}"
                );
                for arg in tf_args {
                    if arg == "dimensions" {
                        let want: serde_json::Map<String, Value> = c["Dimensions"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|d| (d["Name"].as_str().unwrap().to_string(), d["Value"].clone()))
                            .collect();
                        assert_eq!(p[arg], Value::Object(want), "{id}");
                        continue;
                    }
                    let member = ALARM_MEMBERS
                        .iter()
                        .find(|(a, _)| a == arg)
                        .unwrap_or_else(|| panic!("{id}: {arg}"))
                        .1;
                    assert!(
                        tf_same(&p[arg], &c[member]),
                        "{id}.{arg}: {} vs {}",
                        p[arg],
                        c[member]
                    );
                }
                let existing = !cmds
                    .iter()
                    .any(|(_, o, _, i)| o == "put-metric-alarm" && i == &c)
                    || cli_plan.contains("replaces the alarm's whole configuration");
                if import_of(ty, label).is_some() {
                    assert!(existing, "{id}");
                    assert_eq!(import_of(ty, label), Some(c["AlarmName"].clone()), "{id}");
                }
            }
            "aws_sns_topic" => {
                find("create-topic", "Name", &lit(&p["name"]).unwrap());
            }
            "aws_sns_topic_subscription" => {
                let c = cmds
                    .iter()
                    .find(|(_, o, _, _)| o == "subscribe")
                    .map(|x| x.3.clone())
                    .unwrap();
                assert!(tf_same(&p["topic_arn"], &c["TopicArn"]), "{id}");
                assert!(tf_same(&p["endpoint"], &c["Endpoint"]), "{id}");
                assert_eq!(lit(&p["protocol"]), Some(c["Protocol"].clone()), "{id}");
            }
            "aws_cloudtrail" => {
                let name = lit(&p["name"]).unwrap();
                match import_of(ty, label) {
                    None => {
                        let c = find("create-trail", "Name", &name);
                        assert!(
                            tf_same(&p["is_multi_region_trail"], &c["IsMultiRegionTrail"]),
                            "{id}"
                        );
                        assert!(
                            tf_same(
                                &p["include_global_service_events"],
                                &c["IncludeGlobalServiceEvents"]
                            ),
                            "{id}"
                        );
                        let sel = find("put-event-selectors", "TrailName", &name);
                        assert_eq!(api_selectors(p), sel["EventSelectors"], "{id}");
                        find("start-logging", "Name", &name);
                        assert_eq!(p["enable_logging"], true, "{id}");
                    }
                    Some(arn) => {
                        assert!(
                            arn.as_str()
                                .unwrap()
                                .ends_with(&format!(":trail/{}", name.as_str().unwrap())),
                            "{id}: the existing name"
                        );
                        for (_, op, _, input) in &cmds {
                            let target = input.get("Name").or(input.get("TrailName"));
                            if target != Some(&arn) {
                                continue;
                            }
                            match op.as_str() {
                                "start-logging" => assert_eq!(p["enable_logging"], true, "{id}"),
                                "put-event-selectors" => {
                                    if let Some(b) = input.get("EventSelectors") {
                                        assert_eq!(&api_selectors(p), b, "{id}");
                                    }
                                }
                                "update-trail" => {
                                    for (member, arg) in [
                                        ("IsMultiRegionTrail", "is_multi_region_trail"),
                                        (
                                            "IncludeGlobalServiceEvents",
                                            "include_global_service_events",
                                        ),
                                        ("CloudWatchLogsLogGroupArn", "cloud_watch_logs_group_arn"),
                                        ("CloudWatchLogsRoleArn", "cloud_watch_logs_role_arn"),
                                    ] {
                                        if let Some(v) = input.get(member) {
                                            assert!(tf_same(&p[arg], v), "{id}.{arg}");
                                        }
                                    }
                                }
                                other => panic!("{id}: {other} on the trail"),
                            }
                        }
                    }
                }
            }
            "aws_cloudwatch_log_group" => {
                find(
                    "create-log-group",
                    "logGroupName",
                    &lit(&p["name"]).unwrap(),
                );
            }
            "aws_iam_role" => {
                let c = find("create-role", "RoleName", &lit(&p["name"]).unwrap());
                let doc: Value =
                    serde_json::from_str(c["AssumeRolePolicyDocument"].as_str().unwrap()).unwrap();
                let tf: Value =
                    serde_json::from_str(lit(&p["assume_role_policy"]).unwrap().as_str().unwrap())
                        .unwrap();
                assert_eq!(tf, doc, "{id}");
            }
            "aws_iam_role_policy" => {
                let c = cmds
                    .iter()
                    .find(|(_, o, _, _)| o == "put-role-policy")
                    .map(|x| x.3.clone())
                    .unwrap();
                assert_eq!(lit(&p["name"]), Some(c["PolicyName"].clone()), "{id}");
                let doc: Value =
                    serde_json::from_str(c["PolicyDocument"].as_str().unwrap()).unwrap();
                let tf: Value =
                    serde_json::from_str(lit(&p["policy"]).unwrap().as_str().unwrap()).unwrap();
                assert_eq!(tf, doc, "{id}");
            }
            other => panic!("{id}: unexpected resource type {other}"),
        }
    }
    // The other direction: what the CLI creates or restates is in the configuration.
    let has = |ty: &str, arg: &str, v: &Value| {
        resources
            .iter()
            .any(|(t, _, p)| t == ty && lit(&p[arg]).as_ref() == Some(v))
    };
    for (_, op, _, input) in &cmds {
        match op.as_str() {
            "put-metric-filter" => assert!(
                has(
                    "aws_cloudwatch_log_metric_filter",
                    "name",
                    &input["filterName"]
                ),
                "{input}"
            ),
            "put-metric-alarm" => assert!(
                has(
                    "aws_cloudwatch_metric_alarm",
                    "alarm_name",
                    &input["AlarmName"]
                ),
                "{input}"
            ),
            "create-topic" => assert!(has("aws_sns_topic", "name", &input["Name"]), "{input}"),
            "subscribe" => assert!(
                resources
                    .iter()
                    .any(|r| r.0 == "aws_sns_topic_subscription"),
                "{input}"
            ),
            _ => {}
        }
    }
    let _ = account;
}

/// A written configuration: account, region, path, parsed body.
type TfFile = (String, String, PathBuf, Value);

/// Runs `remediate --format terraform --output-dir` and returns the notes, each configuration, and
/// the directory (kept while the caller needs it).
fn terraform(dir: &Path, extra: &[&str]) -> (String, Vec<TfFile>, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "remediate",
        ".",
        "--format",
        "terraform",
        "--output-dir",
        out.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = run_in(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut files = Vec::new();
    for e in std::fs::read_dir(out.path()).unwrap() {
        let d = e.unwrap().path();
        let name = d.file_name().unwrap().to_str().unwrap().to_string();
        let (account, region) = name.split_once('-').unwrap();
        files.push((account.to_string(), region.to_string(), d.join("main.tf")));
    }
    files.sort();
    let paths: Vec<PathBuf> = files.iter().map(|f| f.2.clone()).collect();
    let parsed = if paths.is_empty() {
        Default::default()
    } else {
        hcl_parse(&paths)
    };
    let files = files
        .into_iter()
        .map(|(a, r, p)| {
            let body = parsed[p.to_str().unwrap()].clone();
            (a, r, p, body)
        })
        .collect();
    (stdout(&o), files, out)
}

/// Every kind of missing piece, every rule from nothing, and the demo, as Terraform: parsed by a
/// real HCL2 parser, only the AWS provider's arguments, one guarded provider per file, and each
/// resource carrying exactly the values of the CLI plan for the same state.
#[test]
fn terraform_is_valid_hcl_of_the_provider_and_matches_the_cli() {
    let mut dirs: Vec<(String, tempfile::TempDir, Vec<&str>)> = Vec::new();
    for case in cases() {
        let mut s = compliant(A, R);
        (case.edit)(&mut s);
        dirs.push((
            case.name.to_string(),
            Org::new().with(s).write(),
            vec!["--rule", "CWL-014"],
        ));
    }
    dirs.push((
        "every rule".into(),
        Org::new().with(compliant(A, R)).write(),
        vec![],
    ));
    let mut written = 0;
    for (name, dir, extra) in &dirs {
        let mut args = vec!["remediate", "."];
        args.extend_from_slice(extra);
        let plan = stdout(&run_in(dir.path(), &args));
        let (notes, files, _keep) = terraform(dir.path(), extra);
        for (account, region, path, doc) in &files {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(
                !text
                    .chars()
                    .any(|c| c != '\n' && cwl_audit::text::is_hidden(c)),
                "{name}: {text}"
            );
            tf_schema(doc, account, region);
            tf_cross_check(&plan, doc, account, region);
            written += 1;
        }
        if plan.contains("enable-alarm-actions") && !plan.contains("put-metric-alarm") {
            assert!(
                notes.contains("aws cloudwatch enable-alarm-actions"),
                "{name}: {notes}"
            );
        }
        if name == "single-region trail" || name == "write-only management events" {
            assert_eq!(
                files.len(),
                1,
                "{name}: the trail change is an aws_cloudtrail:\n{notes}"
            );
        }
    }
    assert!(written >= 10, "{written}");
    // The demo: every file of the organization's plan.
    let plan = stdout(&run_in(&root(), &["remediate", "snapshots"]));
    let (_, files, _keep) = terraform(&root().join("snapshots"), &[]);
    assert!(!files.is_empty());
    for (account, region, _, doc) in &files {
        tf_schema(doc, account, region);
        tf_cross_check(section(&plan, account), doc, account, region);
    }
}

// ------------------------------------------------------------------ hostile names, every format

use cwl_audit::remediate::safe::{self, Kind};
use proptest::prelude::*;

/// The snapshot names a hostile string is put in, one account each.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Alarm,
    Filter,
    LogGroup,
    Topic,
    Trail,
    Endpoint,
}

const FIELDS: [Field; 6] = [
    Field::Alarm,
    Field::Filter,
    Field::LogGroup,
    Field::Topic,
    Field::Trail,
    Field::Endpoint,
];

/// A compliant account with `h` in one name, edited so that the plan must use that name; and the
/// value the plan must then carry exactly, with its kind, the CLI operation and member it is in.
fn hostile_account(
    account: &str,
    field: Field,
    h: &str,
) -> (Value, String, Kind, &'static str, &'static str) {
    let mut s = compliant(account, R);
    let mf = "/logs/metricFilters/0";
    match field {
        Field::Alarm => {
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
            (
                s,
                h.into(),
                Kind::AlarmName,
                "put-metric-alarm",
                "AlarmName",
            )
        }
        Field::Filter => {
            set(&mut s, &format!("{mf}/filterName"), json!(h));
            set(
                &mut s,
                &format!("{mf}/metricTransformations/0/metricValue"),
                json!("0"),
            );
            (
                s,
                h.into(),
                Kind::FilterName,
                "put-metric-filter",
                "filterName",
            )
        }
        Field::LogGroup => {
            set(&mut s, &format!("{mf}/logGroupName"), json!(h));
            set(
                &mut s,
                &format!("{mf}/metricTransformations/0/metricValue"),
                json!("0"),
            );
            set(
                &mut s,
                "/cloudtrail/trailList/0/CloudWatchLogsLogGroupArn",
                json!(format!("arn:aws:logs:{R}:{account}:log-group:{h}:*")),
            );
            (
                s,
                h.into(),
                Kind::LogGroup,
                "put-metric-filter",
                "logGroupName",
            )
        }
        Field::Topic => {
            let t = topic_arn(account, R, h);
            set(
                &mut s,
                "/cloudwatch/MetricAlarms/0/AlarmActions",
                json!([t]),
            );
            set(&mut s, "/sns/Subscriptions/0/TopicArn", json!(t));
            set(
                &mut s,
                "/sns/Subscriptions/0/SubscriptionArn",
                json!("PendingConfirmation"),
            );
            (s, t, Kind::TopicArn, "subscribe", "TopicArn")
        }
        Field::Trail => {
            let old = trail_arn(account, R, "management-events");
            let new = trail_arn(account, R, h);
            set(&mut s, "/cloudtrail/trailList/0/Name", json!(h));
            set(&mut s, "/cloudtrail/trailList/0/TrailARN", json!(new));
            set(
                &mut s,
                "/cloudtrail/trailList/0/IsMultiRegionTrail",
                json!(false),
            );
            for k in ["status", "selectors"] {
                let v = s["cloudtrail"][k]
                    .as_object_mut()
                    .unwrap()
                    .remove(&old)
                    .unwrap();
                s["cloudtrail"][k][&new] = v;
            }
            s["cloudtrail"]["selectors"][&new]["TrailARN"] = json!(new);
            (s, new, Kind::TrailArn, "update-trail", "Name")
        }
        Field::Endpoint => {
            let e = format!("{h}@example.com");
            set(
                &mut s,
                "/sns/Subscriptions/0/SubscriptionArn",
                json!("PendingConfirmation"),
            );
            set(&mut s, "/sns/Subscriptions/0/Endpoint", json!(e));
            (s, e, Kind::Email, "subscribe", "Endpoint")
        }
    }
}

/// Every string value inside `v`.
fn all_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k);
            all_strings(x, out)
        }),
        _ => {}
    }
}

/// Runs a CLI plan with a logging `aws` stub once per account (the guard lets that account's block
/// run); returns every logged argv (without the `sts` guard calls) and whether a canary file was
/// made.
fn run_with_stub(plan: &str, accounts: &[String]) -> (Vec<Vec<String>>, bool) {
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
    std::fs::write(&script, plan).unwrap();
    for acct in accounts {
        let o = Command::new("sh")
            .arg(&script)
            .current_dir(bin.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.path().display()))
            .env("STUB_ACCOUNT", acct)
            .output()
            .unwrap();
        assert!(o.status.success(), "{acct}: {}", stderr(&o));
    }
    let text = String::from_utf8(std::fs::read(&log).unwrap_or_default()).unwrap();
    let calls = text
        .split("\n\0")
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.split('\0')
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect();
    (calls, bin.path().join("PWNED").exists())
}

/// No control, line or paragraph separator, or bidi character anywhere but line feeds: comments
/// carry none, and strings have them escaped; outside comments, no invisible format character
/// either (escaped, so a reviewer sees which name a command or resource really has).
fn no_hidden(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|&c| c != '\n' && cwl_audit::text::is_hidden(c))
    {
        panic!("{what}: U+{:04X} in:\n{text}", c as u32);
    }
    for l in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if let Some(c) = l.chars().find(|&c| cwl_audit::text::is_hidden(c)) {
            panic!("{what}: U+{:04X} in {l}", c as u32);
        }
    }
}

/// The hostile strings through every output path: CLI (run with a logging stub, exact argv),
/// CloudFormation (JSON templates parsed, the stream parsed as YAML) and Terraform (python-hcl2),
/// each value exactly as the snapshot held it where AWS's rules allow it, a manual step where not.
fn hostile_names_through_every_format(strings: &[String]) {
    let mut org = Org::new();
    let mut expect = Vec::new();
    let mut accounts = Vec::new();
    for (i, h) in strings.iter().enumerate() {
        for (j, field) in FIELDS.iter().enumerate() {
            let account = format!("{:012}", 400000000000u64 + (i * 10 + j) as u64);
            let (snap, value, kind, op, member) = hostile_account(&account, *field, h);
            org = org.with(snap);
            expect.push((
                account.clone(),
                *field,
                value,
                safe::valid(kind, &value_part(kind, h, &account)),
                op,
                member,
            ));
            accounts.push(account);
        }
    }
    let dir = org.write();
    let o = run_in(dir.path(), &["remediate", ".", "--rule", "CWL-014"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan = stdout(&o);
    no_hidden("CLI plan", &plan);
    // The stub saw exactly the planned commands.
    let (calls, pwned) = run_with_stub(&plan, &accounts);
    assert!(
        !pwned && !dir.path().join("PWNED").exists(),
        "a command ran"
    );
    let planned = commands(&plan);
    assert_eq!(calls.len(), planned.len(), "{plan}");
    for (argv, (service, op, region, input)) in calls.iter().zip(&planned) {
        let mut want = vec![service.clone(), op.clone()];
        if let Some(r) = region {
            want.push(format!("--region={r}"));
        }
        want.push("--cli-input-json".into());
        assert_eq!(&argv[..want.len()], &want[..], "{argv:?}");
        assert_eq!(argv.len(), want.len() + 1, "{argv:?}");
        assert_eq!(
            &serde_json::from_str::<Value>(&argv[want.len()]).unwrap(),
            input
        );
    }
    // Each account: the value exactly, in the operation that needs it (what the stub logged is the
    // plan's commands, checked above), or nowhere in a command.
    for (account, field, value, valid, op, member) in &expect {
        let s = section(&plan, account);
        let mine = commands(s);
        if *valid {
            assert!(
                mine.iter()
                    .any(|(_, o, _, i)| o == op && i[*member] == json!(value)),
                "{field:?} {value:?}: no {op} with {member} = the value:\n{s}"
            );
        } else {
            // Not a valid name: the step that needs it is a manual one, or the plan routes around
            // it (a malformed log group ARN gets a new log group); either way it never reaches AWS.
            for (_, _, _, i) in &mine {
                let mut v = Vec::new();
                all_strings(i, &mut v);
                assert!(
                    !v.contains(&value.as_str()),
                    "{field:?}: {value:?} reached AWS in {i}"
                );
            }
        }
    }
    // CloudFormation: the stream is YAML with no key beyond a template's; templates carry the
    // values exactly.
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
    let stream = stdout(&o);
    no_hidden("CloudFormation stream", &stream);
    let yaml = dir.path().join("stream.yaml");
    std::fs::write(&yaml, &stream).unwrap();
    let check = Command::new(python())
        .args(["-c", "import sys, yaml\nfor d in yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')):\n    if d is not None:\n        assert isinstance(d, dict) and set(d) <= {'AWSTemplateFormatVersion','Description','Metadata','Parameters','Resources','Outputs'}, d\n        assert '{{resolve' not in repr(d), repr(d)\n"])
        .arg(&yaml)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    let cfn = tempfile::tempdir().unwrap();
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
            cfn.path().to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    no_hidden("CloudFormation notes", &stdout(&o));
    for (account, field, value, valid, _, _) in &expect {
        let file = cfn.path().join(format!("{account}-{R}.json"));
        if !matches!(field, Field::Topic | Field::Endpoint) || !valid {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("{field:?} {value:?}: no template"));
        no_hidden("template", &text);
        let t: Value = serde_json::from_str(&text).unwrap();
        let p = &t["Resources"]["AlarmSubscription"]["Properties"];
        let member = if *field == Field::Topic {
            "TopicArn"
        } else {
            "Endpoint"
        };
        assert_eq!(p[member], json!(value), "{text}");
    }
    // Terraform: parsed, the values exactly (the escapes read as Terraform reads them).
    let (notes, files, _keep) = terraform(dir.path(), &["--rule", "CWL-014"]);
    no_hidden("Terraform notes", &notes);
    let stream = stdout(&run_in(
        dir.path(),
        &[
            "remediate",
            ".",
            "--rule",
            "CWL-014",
            "--format",
            "terraform",
        ],
    ));
    no_hidden("Terraform stream", &stream);
    let mut manual_listed = 0;
    for (account, field, value, valid, _, _) in &expect {
        let Some((_, _, path, doc)) = files.iter().find(|f| &f.0 == account) else {
            assert!(
                !valid,
                "{field:?} {value:?}: no Terraform configuration:\n{notes}"
            );
            continue;
        };
        let hcl = std::fs::read_to_string(path).unwrap();
        no_hidden("main.tf", &hcl);
        // A manual step's commands are listed for review, each marked as not run.
        let outside: Vec<&str> = hcl
            .lines()
            .filter_map(|l| l.strip_prefix("# Outside Terraform: "))
            .collect();
        for w in outside.windows(2) {
            if w[0].starts_with("MANUAL STEP, not run") || w[0].starts_with("(not run) ") {
                assert!(
                    !w[1].starts_with("aws "),
                    "{field:?} {value:?}: a manual step's command reads as one to run: {}",
                    w[1]
                );
            }
        }
        manual_listed += usize::from(outside.iter().any(|l| l.starts_with("(not run) aws ")));
        assert_eq!(
            outside.iter().any(|l| l.starts_with("(not run) aws ")),
            outside
                .iter()
                .any(|l| l.starts_with("MANUAL STEP, not run")),
            "{hcl}"
        );
        tf_schema(doc, account, R);
        tf_cross_check(section(&plan, account), doc, account, R);
        let res = tf_resources(doc);
        let arg = |ty: &str, a: &str| {
            res.iter()
                .filter(|r| r.0 == ty)
                .filter_map(|r| lit(&r.2[a]))
                .collect::<Vec<_>>()
        };
        let v = json!(value);
        let found = match field {
            Field::Alarm => arg("aws_cloudwatch_metric_alarm", "alarm_name").contains(&v),
            Field::Filter => arg("aws_cloudwatch_log_metric_filter", "name").contains(&v),
            Field::LogGroup => {
                arg("aws_cloudwatch_log_metric_filter", "log_group_name").contains(&v)
            }
            Field::Topic => arg("aws_sns_topic_subscription", "topic_arn").contains(&v),
            Field::Trail => arg("aws_cloudtrail", "name")
                .contains(&json!(value.rsplit_once(":trail/").unwrap().1)),
            Field::Endpoint => arg("aws_sns_topic_subscription", "endpoint").contains(&v),
        };
        assert_eq!(
            found,
            *valid,
            "{field:?} {value:?} in {}",
            std::fs::read_to_string(path).unwrap()
        );
    }
    // The notes list the commands outside Terraform, too: a manual step's marked as not run.
    let outside: Vec<&str> = notes
        .lines()
        .filter_map(|l| {
            l.strip_prefix("#     Then, outside Terraform: ")
                .or_else(|| l.strip_prefix("#       "))
        })
        .collect();
    for w in outside.windows(2) {
        if w[0].starts_with("MANUAL STEP, not run") || w[0].starts_with("(not run) ") {
            assert!(
                !w[1].starts_with("aws "),
                "a manual step's command reads as one to run: {}",
                w[1]
            );
        }
    }
    manual_listed += outside
        .iter()
        .filter(|l| l.starts_with("(not run) aws "))
        .count();
    // Some invalid value makes a manual step that Terraform lists (a topic or an e-mail address).
    let invalid = expect.iter().filter(|e| !e.3).count();
    assert!(
        invalid == 0 || manual_listed > 0,
        "no manual step listed ({invalid} invalid values):\n{notes}"
    );
}

/// The part of the planned value AWS's rule for `kind` is about (the whole ARN for ARNs).
fn value_part(kind: Kind, h: &str, account: &str) -> String {
    match kind {
        Kind::TopicArn => topic_arn(account, R, h),
        Kind::TrailArn => trail_arn(account, R, h),
        Kind::Email => format!("{h}@example.com"),
        _ => h.to_string(),
    }
}

/// The cases of issue 15 item 3, and shell, AWS CLI, CloudFormation and Terraform syntax.
#[test]
fn hostile_names_known_cases() {
    let cases: Vec<String> = [
        "a\u{2028}Transform: AWS::Include",
        "x\u{85}Transform: AWS::Include\u{85}y",
        "cr\rResources: {}",
        "{{resolve:ssm:secret}}",
        "del\u{7f}c1\u{9b}\u{80}",
        "${aws_iam_role.x.arn}",
        "%{if true}x%{endif}",
        "$(touch PWNED)",
        "`touch PWNED`",
        "x'; touch PWNED; '",
        "--endpoint-url=http://evil.example",
        "file:///etc/passwd",
        "\u{202e}evil\u{2066}",
        "Root\u{200b}Account\u{feff}Usage\u{ad}Alarm",
        "Plain-Name_1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    hostile_names_through_every_format(&cases);
}

/// A hostile string: pieces of shell, AWS CLI, CloudFormation and Terraform syntax, hidden
/// characters, quotes, a leading `-`, sometimes very long.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "$(touch PWNED)",
            "`touch PWNED`",
            "'",
            "\"",
            "\\",
            "--endpoint-url=http://evil.example",
            "file://",
            "fileb://",
            "http://x",
            "{{resolve:ssm:x}}",
            "${x}",
            "%{x}",
            "$${",
            "metricName=x,defaultValue=1",
            ";",
            "|",
            "&",
            "\n",
            "\r",
            "\t",
            "\u{0}",
            "\u{1b}[2J",
            "\u{7f}",
            "\u{85}",
            "\u{9b}",
            "\u{2028}",
            "\u{2029}",
            "\u{202e}",
            "\u{2066}",
            "\u{200b}",
            "\u{feff}",
            "\u{2060}",
            "\u{200f}",
            "#",
            "*",
            ":",
            "/",
            "@",
            "Transform: AWS::Include",
            " ",
        ])
        .prop_map(str::to_string),
        prop::collection::vec(
            prop::sample::select("abcxyzAZ09-_.".chars().collect::<Vec<_>>()),
            1..12
        )
        .prop_map(|v| v.into_iter().collect::<String>()),
        (1usize..3).prop_map(|n| "L".repeat(n * 700)),
    ];
    (any::<bool>(), prop::collection::vec(piece, 1..5)).prop_map(|(dash, v)| {
        let s = v.concat();
        if dash {
            format!("-{s}")
        } else {
            s
        }
    })
}

proptest! {
    // Each case runs the binary five times and two parsers: a few cases of several strings each
    // in `make test` (8), many more with `make soak-remediate` (HOSTILE_CASES, default 200).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("HOSTILE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(8),
        ..ProptestConfig::default()
    })]
    #[test]
    fn hostile_names_random(strings in prop::collection::vec(hostile(), 3..5)) {
        hostile_names_through_every_format(&strings);
    }
}

/// CWL-014 has its filter but no alarm; CIS-4.5 passes through an alarm on a metric of the same
/// name in another namespace. That alarm looks like CWL-014's on the wrong namespace, but moving it
/// would break CIS-4.5: the plan creates CWL-014 its own alarm, and CIS-4.5's stays as it is.
#[test]
fn an_alarm_another_passing_rule_uses_is_never_moved() {
    let mut s = compliant(A, R);
    let topic = topic_arn(A, R, "RootAccountUsageAlerts");
    let cis45 = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }";
    s["logs"]["metricFilters"]
        .as_array_mut()
        .unwrap()
        .push(metric_filter(
            Style::Fixture,
            "CloudTrail/management-events",
            "CloudtrailChanges",
            cis45,
            "RootAccountUsageEventCount",
            "Security",
        ));
    s["cloudwatch"]["MetricAlarms"] = json!([one_event_alarm(
        A,
        R,
        "CloudtrailChangesAlarm",
        "RootAccountUsageEventCount",
        "Security",
        &topic
    )]);
    let dir = Org::new().with(s).write();
    let rules = ["--rule", "CWL-014", "--rule", "CIS-4.5"];
    let v = eval_json(dir.path(), &rules);
    assert_eq!(verdict_of(&v, "CIS-4.5"), Some(json!("pass")), "{v}");
    assert_eq!(verdict_of(&v, "CWL-014"), Some(json!("fail")), "{v}");
    let o = run_in(dir.path(), &[&["remediate", "."][..], &rules].concat());
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    let alarms: Vec<Value> = commands(&plan)
        .into_iter()
        .filter(|c| c.1 == "put-metric-alarm")
        .map(|c| c.3)
        .collect();
    assert_eq!(alarms.len(), 1, "{plan}");
    assert_eq!(alarms[0]["AlarmName"], "RootAccountUsageAlarm", "{plan}");
    assert_eq!(alarms[0]["Namespace"], "CloudTrailMetrics", "{plan}");
    assert!(
        plan.contains("applied to the snapshots, CWL-014 passes."),
        "{plan}"
    );
    assert!(!plan.contains("would make it fail"), "{plan}");
}

/// A trail name of 128 characters (AWS's longest) that delivers to no log group: the role for
/// CloudWatch Logs gets a name within IAM's 64 characters, so every rule gets a fix that runs.
#[test]
fn the_longest_trail_name_still_gets_a_runnable_fix() {
    let name = format!("t{}9", "r".repeat(126));
    let mut s = empty(A, R);
    add_home_trail(
        &mut s,
        trail(A, R, &name, None),
        Style::Fixture.logging_status(),
    );
    let dir = Org::new().with(s).write();
    let o = run_in(dir.path(), &["remediate", "."]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    assert!(!plan.contains("not run"), "{plan}");
    assert_eq!(plan.matches(" passes.\n").count(), 15, "{plan}");
    let roles: Vec<String> = commands(&plan)
        .into_iter()
        .filter(|c| c.1 == "create-role")
        .map(|c| c.3["RoleName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(roles.len(), 1, "{plan}");
    assert!(roles[0].len() <= 64, "{}", roles[0]);
    assert!(
        roles[0].starts_with("CloudTrailRoleForCloudWatchLogs-trrr"),
        "{}",
        roles[0]
    );
}

/// `--account` naming an account the input does not hold is an input error, not an empty plan.
#[test]
fn an_account_not_in_the_input_is_an_error() {
    let dir = Org::new().with(compliant(A, R)).write();
    let o = run_in(dir.path(), &["remediate", ".", "--account", "999999999999"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--account 999999999999: no snapshot of this account was loaded"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let o = run_in(dir.path(), &["remediate", ".", "--account", A]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// When the only alarm that would notify a new topic is a manual step (its metric name breaks
/// AWS's rules), the topic and its subscription are not run either: they belong to that manual work.
#[test]
fn no_topic_is_created_for_manual_alarms_only() {
    let mut s = compliant(A, R);
    set(&mut s, "/cloudwatch/MetricAlarms", json!([]));
    set(&mut s, "/sns/Subscriptions", json!([]));
    set(
        &mut s,
        "/logs/metricFilters/0/metricTransformations/0/metricName",
        json!("Root\u{202e}Count"),
    );
    let dir = Org::new().with(s).write();
    let o = run_in(dir.path(), &["remediate", ".", "--rule", "CWL-014"]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    assert!(commands(&plan).is_empty(), "{plan}");
    assert!(
        plan.contains("# MANUAL STEP, not run: only the manual alarm steps notify this new topic"),
        "{plan}"
    );
    assert!(plan.contains("#   aws sns create-topic"), "{plan}");
    // The rule's lines say why it still fails: its steps are manual, not "no fix known".
    assert!(
        plan.contains("#       the steps marked MANUAL STEP are not run"),
        "{plan}"
    );
    assert!(!plan.contains("knows no fix"), "{plan}");
}

/// The planned commands of one account's plan, by operation.
fn ops_of(plan: &str) -> Vec<(String, Value)> {
    commands(plan).into_iter().map(|c| (c.1, c.3)).collect()
}

/// Found by a breaker: a metric-math alarm reads CWL-004's metric (m1, returned) and CWL-007's
/// (m2). CWL-004 passes through it; CWL-007 fails. Restating the shared alarm for CWL-007 would
/// break CWL-004: CWL-007 gets an alarm of its own, and the plan is complete (exit 0).
#[test]
fn a_shared_math_alarm_is_left_alone_and_the_rule_gets_its_own() {
    let dir = root().join("tests/data/remediate/shared-math-alarm");
    let o = run_in(&root(), &["remediate", dir.to_str().unwrap()]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    let ops = ops_of(&plan);
    assert_eq!(ops.len(), 1, "{plan}");
    assert_eq!(ops[0].0, "put-metric-alarm");
    assert_eq!(ops[0].1["AlarmName"], "VpcChangesAlarm");
    assert_eq!(ops[0].1["MetricName"], "vpc_changes_metric");
    assert!(ops[0].1.get("Metrics").is_none(), "{plan}");
    assert!(plan.contains("CWL-007 passes."), "{plan}");
    assert!(!plan.contains("MathAlarm\""), "{plan}");
}

/// Found by breakers: CWL-004's and CWL-007's filters publish one metric, CWL-007's with unit
/// Count, CWL-004's with none; the alarm both end in expects Count, so CWL-004 fails. Restating
/// CWL-004's filter in Count (an earlier fix) fed its events to the alarm CWL-007 passes through;
/// CWL-004 gets a filter, metric and alarm of its own instead, and nothing CWL-007 reads changes.
#[test]
fn a_unit_mismatch_on_a_shared_metric_gets_the_rule_a_chain_of_its_own() {
    let dir = root().join("tests/data/remediate/mixed-units");
    let o = run_in(&root(), &["remediate", dir.to_str().unwrap()]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    let ops = ops_of(&plan);
    let names: Vec<&str> = ops.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(names, ["put-metric-filter", "put-metric-alarm"], "{plan}");
    let (filter, alarm) = (&ops[0].1, &ops[1].1);
    assert_eq!(filter["filterName"], "SecurityGroupChanges-2", "{plan}");
    let metric = &filter["metricTransformations"][0];
    assert_ne!(metric["metricName"], "M", "{plan}");
    assert_eq!(alarm["MetricName"], metric["metricName"], "{plan}");
    assert_eq!(alarm["Namespace"], metric["metricNamespace"], "{plan}");
    assert!(plan.contains("CWL-004 passes."), "{plan}");
}

/// A rule's own filter that publishes in a unit keeps it when it is restated, in every format.
#[test]
fn a_restated_filter_keeps_its_unit() {
    let tmp = mixed_units_with(|s| {
        let root = named(
            &mut s["logs"]["metricFilters"],
            "filterName",
            "RootAccountUsage",
        );
        root.insert(
            "filterPattern".into(),
            json!("{ $.userIdentity.type = \"Root\" && $.sourceIPAddress = \"198.51.100.7\" }"),
        );
        root["metricTransformations"][0]["unit"] = json!("Count");
    });
    let o = run_in(tmp.path(), &["remediate", ".", "--rule", "CWL-014"]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    let put = ops_of(&plan)
        .into_iter()
        .find(|(op, _)| op == "put-metric-filter")
        .map(|(_, i)| i)
        .unwrap_or_else(|| panic!("the filter restated: {plan}"));
    assert_eq!(put["filterName"], "RootAccountUsage", "{plan}");
    assert_eq!(put["metricTransformations"][0]["unit"], "Count", "{plan}");
    assert!(plan.contains("CWL-014 passes."), "{plan}");
    let tf = stdout(&run_in(
        tmp.path(),
        &[
            "remediate",
            ".",
            "--rule",
            "CWL-014",
            "--format",
            "terraform",
        ],
    ));
    assert!(tf.contains("unit      = \"Count\""), "{tf}");
}

/// An alarm without a unit on a metric of two units fails in eval (AWS: such an alarm "behaves
/// unpredictably").
#[test]
fn an_alarm_without_unit_on_a_metric_of_two_units_fails() {
    let dir = root().join("tests/data/remediate/mixed-units");
    // An alarm without a unit on the metric of two units fails in eval.
    let tmp = tempfile::tempdir().unwrap();
    let mut s: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("700000000005/us-east-1.json")).unwrap(),
    )
    .unwrap();
    for a in s["cloudwatch"]["MetricAlarms"].as_array_mut().unwrap() {
        if a["AlarmName"] == "MAlarm" {
            a.as_object_mut().unwrap().remove("Unit");
        }
    }
    std::fs::write(tmp.path().join("s.json"), s.to_string()).unwrap();
    let o = run_in(
        tmp.path(),
        &["eval", "s.json", "--rule", "CWL-007", "-f", "json"],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = v["results"][0]["message"].as_str().unwrap();
    assert!(
        m.contains("names no unit, and metric N/M is published in several units (Count, None)"),
        "{m}"
    );
}

/// Found by a breaker: plans whose steps touch what another passing chain uses. Each is complete,
/// verified against every loaded rule (planned or not, in every account), and holds nothing back:
/// - an organization trail's log group where a filter for another rule also publishes the
///   root-usage metric a member's passing CWL-014 alarm watches (rewritten, the member's alarm would
///   count security-group changes by anyone);
/// - the same with a plan for the management account only;
/// - a co-publisher of a passing metric, planned for its own rule only (`--rule`);
/// - an alarm in another namespace that CWL-004 passes through, planned for CWL-014 only.
#[test]
fn a_plan_never_changes_what_another_passing_chain_uses() {
    let data = root().join("tests/data/remediate");
    let cases: [(&str, &[&str], &[&str]); 4] = [
        ("org-trail-co-publisher", &[], &["SecurityGroupChanges"]),
        (
            "org-trail-co-publisher",
            &["--account", "160000000001"],
            &["SecurityGroupChanges"],
        ),
        (
            "co-publisher-of-a-passing-metric",
            &["--rule", "CWL-004"],
            &["SecurityGroupChanges"],
        ),
        ("alarm-another-rule-uses", &["--rule", "CWL-014"], &[]),
    ];
    for (dir, extra, untouched) in cases {
        let path = data.join(dir);
        let mut args = vec!["remediate", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = run_in(&root(), &args);
        let plan = stdout(&o);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{dir} {extra:?}: {plan}{}",
            stderr(&o)
        );
        assert!(!plan.contains("HELD BACK"), "{dir} {extra:?}: {plan}");
        assert!(
            !plan.contains("would make it fail"),
            "{dir} {extra:?}: {plan}"
        );
        assert!(!plan.contains("still says"), "{dir} {extra:?}: {plan}");
        assert!(plan.contains(" passes.\n"), "{dir} {extra:?}: {plan}");
        for (op, input) in ops_of(&plan) {
            if op == "delete-metric-filter" || op == "put-metric-filter" {
                let name = input["filterName"].as_str().unwrap();
                assert!(
                    !untouched.contains(&name),
                    "{dir} {extra:?}: {op} {name}: {plan}"
                );
            }
        }
    }
    // The alarm case: CWL-014 gets an alarm of its own; the shared one is not restated.
    let o = run_in(
        &root(),
        &[
            "remediate",
            data.join("alarm-another-rule-uses").to_str().unwrap(),
            "--rule",
            "CWL-014",
        ],
    );
    let alarms: Vec<Value> = ops_of(&stdout(&o))
        .into_iter()
        .filter(|(op, _)| op == "put-metric-alarm")
        .map(|(_, i)| i)
        .collect();
    assert_eq!(alarms.len(), 1, "{}", stdout(&o));
    assert_ne!(alarms[0]["AlarmName"], "SharedAlarm", "{}", stdout(&o));
}

/// The mixed-units snapshot, edited by `edit`, in a temporary directory.
fn mixed_units_with(edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let src = root().join("tests/data/remediate/mixed-units/700000000005/us-east-1.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    edit(&mut s);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("us-east-1.json"), s.to_string()).unwrap();
    tmp
}

fn named<'a>(list: &'a mut Value, key: &str, name: &str) -> &'a mut serde_json::Map<String, Value> {
    list.as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|x| x[key] == name)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{name} in the test snapshot"))
}

/// Found by a breaker: the alarm two rules share names no unit and their filters publish the
/// metric in two units, so both rules fail. The plan used to restate the alarm as it was (a step
/// that changes nothing) and then say it knew no fix. The alarm now reads a unit, and each rule
/// passes: one through the unit its filter publishes in, the other with a chain of its own.
#[test]
fn an_alarm_without_unit_on_a_metric_of_two_units_is_given_one() {
    let tmp = mixed_units_with(|s| {
        named(&mut s["cloudwatch"]["MetricAlarms"], "AlarmName", "MAlarm").remove("Unit");
    });
    let o = run_in(tmp.path(), &["remediate", "."]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    for rule in ["CWL-004", "CWL-007"] {
        assert!(plan.contains(&format!("{rule} passes.")), "{rule}: {plan}");
    }
    assert!(!plan.contains("knows no fix"), "{plan}");
    assert!(!plan.contains("HELD BACK"), "{plan}");
    let ops = ops_of(&plan);
    let alarm = ops
        .iter()
        .find(|(op, i)| op == "put-metric-alarm" && i["AlarmName"] == "MAlarm")
        .map(|(_, i)| i)
        .unwrap_or_else(|| panic!("MAlarm restated: {plan}"));
    assert!(
        alarm["Unit"].is_string(),
        "the restated alarm names a unit: {plan}"
    );
    // What the shared metric's publishers do is not changed: the rule whose unit the alarm does
    // not read gets a chain of its own.
    for (op, input) in &ops {
        if op == "put-metric-filter" {
            assert_ne!(
                input["metricTransformations"][0]["metricName"], "M",
                "{plan}"
            );
        }
    }
}

/// Found by a breaker: CWL-004's alarm expects unit Count, its filter publishes none, and CWL-007
/// passes through an alarm without a unit on the same metric (one unit today; the alarm needs 2 and
/// only CWL-007's filter counts 2 an event). Restating the
/// filter in Count would give the metric two units and break CWL-007 (the step was held back, exit
/// 1); CWL-004's own alarm is restated in the unit the metric is published in instead.
#[test]
fn a_unit_fix_never_gives_a_passing_metric_a_second_unit() {
    let tmp = mixed_units_with(|s| {
        let alarms = &mut s["cloudwatch"]["MetricAlarms"];
        let shared = named(alarms, "AlarmName", "MAlarm");
        shared.remove("Unit");
        // CWL-007's filter counts 2 an event, CWL-004's 1: MAlarm fires on CWL-007's events only.
        shared.insert("Threshold".into(), json!(2.0));
        let mut own = shared.clone();
        own.insert("AlarmName".into(), json!("SgAlarm"));
        own.insert(
            "AlarmArn".into(),
            json!("arn:aws:cloudwatch:us-east-1:700000000005:alarm:SgAlarm"),
        );
        own.insert("Unit".into(), json!("Count"));
        own.insert("Threshold".into(), json!(1.0));
        alarms.as_array_mut().unwrap().push(Value::Object(own));
        let filters = &mut s["logs"]["metricFilters"];
        let vpc = &mut named(filters, "filterName", "VpcChanges")["metricTransformations"][0];
        vpc.as_object_mut().unwrap().remove("unit");
        vpc["metricValue"] = json!("2");
    });
    let v = eval_json(tmp.path(), &[]);
    assert_eq!(verdict_of(&v, "CWL-007"), Some(json!("pass")), "{v}");
    assert_eq!(verdict_of(&v, "CWL-004"), Some(json!("fail")), "{v}");
    let o = run_in(tmp.path(), &["remediate", "."]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    assert!(plan.contains("CWL-004 passes."), "{plan}");
    assert!(!plan.contains("HELD BACK"), "{plan}");
    for (op, input) in ops_of(&plan) {
        assert!(
            op != "put-metric-filter" || input["metricTransformations"][0].get("unit").is_none(),
            "no filter gets a unit: {plan}"
        );
    }
}

/// Found by a breaker (each a snapshot set in tests/data/remediate):
/// - `new-filter-restated`: the rule's new filter, restated in a later round, was deleted before
///   it existed (the script stopped on AWS), and its "free" metric was one an unrelated alarm
///   watched;
/// - `co-publisher-for-another-rule`: CWL-004's fix rewrote its filter, which publishes the
///   root-usage metric, to match everyone's security-group changes, undoing CWL-014's fix;
/// - `unit-of-a-co-publisher` and `own-filter-on-a-shared-metric`: a filter of every event, or
///   another rule's, publishing the root-usage metric in another unit was restated in the root
///   alarm's unit to fix another rule, and everything was held back (exit 1);
/// - `cross-region-topic`: the alarm notifies a topic in another region, which CloudWatch never
///   delivers to; the alarm is restated with its own region's topic (the other dropped, as
///   PutMetricAlarm refuses it);
/// - `cross-region-ok-action`: the same topic in `OKActions` only, kept by the restatement (the
///   command would fail on AWS);
/// - `cross-region-topic-and-threshold`: the same alarm with a threshold one event does not reach;
///   restated without the other region's topic, it had no `AlarmActions`, and the whole plan
///   stopped with an internal error (exit 2).
///
/// Every plan is complete, verified, runnable and leaves no rule failing.
#[test]
fn plans_for_rules_that_share_pieces_are_complete_and_runnable() {
    let data = root().join("tests/data/remediate");
    for dir in [
        "new-filter-restated",
        "co-publisher-for-another-rule",
        "unit-of-a-co-publisher",
        "own-filter-on-a-shared-metric",
        "cross-region-topic",
        "cross-region-ok-action",
        "cross-region-topic-and-threshold",
    ] {
        let path = data.join(dir);
        let o = run_in(&root(), &["remediate", path.to_str().unwrap()]);
        let plan = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{dir}: {plan}{}", stderr(&o));
        for bad in [
            "HELD BACK",
            "knows no fix",
            "still says",
            "would make it fail",
        ] {
            assert!(!plan.contains(bad), "{dir}: {bad}: {plan}");
        }
        let failing = plan.matches("#   FAIL ").count();
        assert!(failing > 0, "{dir}: {plan}");
        assert_eq!(plan.matches(" passes.\n").count(), failing, "{dir}: {plan}");
        // Only filters the snapshots have are deleted (a restated one is deleted, then put).
        let snap: Value = serde_json::from_str(
            &std::fs::read_to_string(path.join("700000000005/us-east-1.json")).unwrap(),
        )
        .unwrap();
        let exists = |name: &str| {
            snap["logs"]["metricFilters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["filterName"] == name)
        };
        for (op, input) in ops_of(&plan) {
            if op == "delete-metric-filter" {
                let name = input["filterName"].as_str().unwrap();
                assert!(
                    exists(name),
                    "{dir}: deletes {name}, which does not exist: {plan}"
                );
            }
            if op == "put-metric-alarm" {
                for k in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
                    for a in input[k].as_array().map(Vec::as_slice).unwrap_or_default() {
                        let a = a.as_str().unwrap();
                        assert!(a.contains(":us-east-1:"), "{dir}: {k} has {a}: {plan}");
                    }
                }
            }
        }
    }
    // The eval side of the last one: the topic in us-west-2 never hears from the alarm.
    let o = run_in(
        &root(),
        &[
            "eval",
            data.join("cross-region-topic").to_str().unwrap(),
            "--rule",
            "CWL-014",
            "-f",
            "json",
        ],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = v["results"][0]["message"].as_str().unwrap();
    assert!(m.contains("only to SNS topics of its own region"), "{m}");
    assert_eq!(v["results"][0]["verdict"], "fail", "{v}");
}

/// Found by a breaker: with the alarms of a region listed only in part, a "free" name for a new
/// alarm may be one the listing missed, and PutMetricAlarm would replace that alarm silently. The
/// step is manual, saying what to check.
#[test]
fn a_new_alarm_in_a_region_of_partly_listed_alarms_is_manual() {
    let dir = root().join("tests/data/remediate/partial-alarm-listing");
    let o = run_in(&root(), &["remediate", dir.to_str().unwrap()]);
    let plan = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{plan}{}", stderr(&o));
    assert!(
        plan.contains("# MANUAL STEP, not run: the alarms of us-east-1 were listed only in part, so alarm RootAccountUsageAlarm-2 may exist already"),
        "{plan}"
    );
    assert!(
        !ops_of(&plan).iter().any(|(op, _)| op == "put-metric-alarm"),
        "no alarm is created unchecked: {plan}"
    );
}

/// `eval . -f json` in `dir` with `extra` arguments, parsed.
fn eval_json(dir: &Path, extra: &[&str]) -> Value {
    let o = run_in(dir, &[&["eval", ".", "-f", "json"][..], extra].concat());
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The verdict of `rule` in a JSON report (the first finding of it).
fn verdict_of(v: &Value, rule: &str) -> Option<Value> {
    v["results"]
        .as_array()?
        .iter()
        .find(|r| r["rule_id"] == rule)
        .map(|r| r["verdict"].clone())
}
