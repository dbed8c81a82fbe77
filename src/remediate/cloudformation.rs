//! A plan as CloudFormation templates: one per account and region where something must be created,
//! holding only the missing resources (trail, log group and its role, metric filters, alarms, SNS
//! topic, subscription).
//!
//! Templates are JSON built as a serde_json data model and written by its serializer (with
//! [`safe::json`]'s escaping of hidden characters), never by concatenating text: no value can end a
//! string, start a key or add a top-level section such as `Transform`. The plan's comments are not
//! in the template (JSON has none) but in `Metadata.cwl-audit`, and in `#` lines of the stream
//! [`render`] writes, which pass through [`clean`].
//!
//! CloudFormation cannot change a resource it did not create (a stack that declares an existing
//! metric filter or alarm fails with AlreadyExists, and starting a trail's logging is not a resource
//! at all), so fixes to existing resources are the AWS CLI commands of [`super::aws_cli`], listed in
//! `Metadata.cwl-audit.StepsOutsideCloudFormation`. An account whose every fix is such a change gets
//! no template, only those commands (as comments).
use super::{aws_cli, safe, Action, Plan, Step, Unit, EMAIL_PLACEHOLDER};
use crate::text::clean;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// `Ref` to a logical id.
fn r#ref(logical: &str) -> Value {
    json!({ "Ref": logical })
}

fn get_att(logical: &str, attr: &str) -> Value {
    json!({ "Fn::GetAtt": [logical, attr] })
}

/// A logical id from a rule id (`CWL-014` -> `CWL014`): CloudFormation allows letters and digits.
fn logical_part(rule: &str) -> String {
    rule.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// One template's parts, built from the steps of one account and region.
#[derive(Default)]
struct Template {
    parameters: Map<String, Value>,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
    outside: Vec<String>,
    capabilities: bool,
}

impl Template {
    fn resource(&mut self, base: &str, y: Value) -> String {
        let name = if self.resources.contains_key(base) {
            (2..)
                .map(|n| format!("{base}{n}"))
                .find(|c| !self.resources.contains_key(c))
                .unwrap_or_default()
        } else {
            base.to_string()
        };
        self.resources.insert(name.clone(), y);
        name
    }

    fn output(&mut self, name: &str, description: &str, value: Value) {
        let mut n = name.to_string();
        let mut i = 2;
        while self.outputs.contains_key(&n) {
            n = format!("{name}{i}");
            i += 1;
        }
        self.outputs
            .insert(n, json!({"Description": description, "Value": value}));
    }
}

fn build(steps: &[&Step]) -> Template {
    let mut t = Template::default();
    // Resources created in this template, by ARN or name -> logical id (others refer to them).
    let mut topics: Vec<(String, String)> = Vec::new();
    let mut log_groups: Vec<(String, String)> = Vec::new();
    // The trails this template creates, by (account, name), with their resource ids.
    let mut trails: Vec<((String, String), String)> = Vec::new();
    let topic_ref =
        |topics: &Vec<(String, String)>, arn: &str| match topics.iter().find(|(a, _)| a == arn) {
            Some((_, logical)) => r#ref(logical),
            None => json!(arn),
        };
    for step in steps {
        if let Some(heading) = step.not_run() {
            t.outside.push(heading);
            continue;
        }
        let rule = logical_part(step.rules.first().map_or("", String::as_str));
        match &step.action {
            Action::CreateTopic { name, arn } => {
                let id = t.resource(
                    "AlarmTopic",
                    json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name}}),
                );
                t.output("TopicArn", "SNS topic the alarms notify", r#ref(&id));
                topics.push((arn.clone(), id));
            }
            Action::Subscribe {
                topic_arn,
                endpoint,
                ..
            } => {
                let endpoint = if endpoint == EMAIL_PLACEHOLDER {
                    t.parameters.insert(
                        "SecurityEmail".into(),
                        json!({"Type": "String",
                            "Description": "E-mail address that receives the alarms; confirm the subscription with the link AWS sends to it",
                            "AllowedPattern": r"^[^@\s]+@[^@\s]+$"}),
                    );
                    r#ref("SecurityEmail")
                } else {
                    json!(endpoint)
                };
                t.resource(
                    "AlarmSubscription",
                    json!({"Type": "AWS::SNS::Subscription", "Properties": {
                        "TopicArn": topic_ref(&topics, topic_arn), "Protocol": "email",
                        "Endpoint": endpoint}}),
                );
            }
            Action::PutMetricFilter {
                log_group,
                filter_name,
                pattern,
                namespace,
                metric,
                unit,
                existing: false,
            } => {
                let group = match log_groups.iter().find(|(n, _)| n == log_group) {
                    Some((_, id)) => r#ref(id),
                    None => json!(log_group),
                };
                t.resource(
                    &format!("{rule}MetricFilter"),
                    json!({"Type": "AWS::Logs::MetricFilter", "Properties": {
                        "LogGroupName": group, "FilterName": filter_name,
                        "FilterPattern": pattern,
                        "MetricTransformations": [transformation(namespace, metric, unit.as_deref())]}}),
                );
            }
            Action::PutMetricAlarm {
                alarm,
                existing: false,
            } => {
                let mut props = Map::new();
                for (k, v) in alarm {
                    let y = if matches!(
                        k.as_str(),
                        "AlarmActions" | "OKActions" | "InsufficientDataActions"
                    ) {
                        Value::Array(
                            v.as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .map(|a| topic_ref(&topics, a))
                                .collect(),
                        )
                    } else {
                        v.clone()
                    };
                    props.insert(k.clone(), y);
                }
                let id = t.resource(
                    &format!("{rule}Alarm"),
                    json!({"Type": "AWS::CloudWatch::Alarm", "Properties": props}),
                );
                t.output(
                    &format!("{rule}AlarmArn"),
                    "Alarm that fires on one event",
                    get_att(&id, "Arn"),
                );
            }
            Action::DeliverToLogs {
                trail_arn,
                log_group,
                role_arn,
                role_name,
            } => {
                let lg = t.resource(
                    "TrailLogGroup",
                    json!({"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": log_group}}),
                );
                log_groups.push((log_group.clone(), lg.clone()));
                let role = match role_arn {
                    Some(existing) => json!(existing),
                    None => {
                        t.capabilities = true;
                        let id = t.resource(
                            "TrailLogsRole",
                            json!({"Type": "AWS::IAM::Role", "Properties": {
                                "RoleName": role_name,
                                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                                    "Effect": "Allow",
                                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                    "Action": "sts:AssumeRole"}]},
                                "Policies": [{"PolicyName": "cloudtrail-to-cloudwatch-logs",
                                    "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                                        "Effect": "Allow",
                                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                        "Resource": get_att(&lg, "Arn")}]}}]}}),
                        );
                        get_att(&id, "Arn")
                    }
                };
                t.output(
                    "LogGroupArn",
                    "CloudWatch Logs group for the trail",
                    get_att(&lg, "Arn"),
                );
                // Matched by account and name: the ARN of a trail this template creates is not known
                // before it exists.
                let key = crate::arn::Arn::parse(trail_arn)
                    .and_then(|a| Some((a.account, crate::arn::trail_name(&a)?)));
                let created = trails
                    .iter()
                    .find(|((account, name), _)| key == Some((account.as_str(), name.as_str())));
                match created {
                    // The trail is created by this template: it delivers to the log group directly.
                    Some((_, trail_id)) => {
                        if let Some(props) = t
                            .resources
                            .get_mut(trail_id)
                            .and_then(|r| r.get_mut("Properties"))
                            .and_then(Value::as_object_mut)
                        {
                            props.insert("CloudWatchLogsLogGroupArn".into(), get_att(&lg, "Arn"));
                            props.insert("CloudWatchLogsRoleArn".into(), role);
                        }
                    }
                    None => t.outside.extend(
                        aws_cli::calls(step)
                            .into_iter()
                            .filter(|c| c.operation == "update-trail")
                            .map(|c| c.render()),
                    ),
                }
            }
            Action::CreateTrail { name } => {
                t.parameters.insert(
                    "CloudTrailBucket".into(),
                    json!({"Type": "String",
                        "Description": "S3 bucket for the trail's log files; its bucket policy must let cloudtrail.amazonaws.com write"}),
                );
                let id = t.resource(
                    "Trail",
                    json!({"Type": "AWS::CloudTrail::Trail", "Properties": {
                        "TrailName": name, "S3BucketName": r#ref("CloudTrailBucket"),
                        "IsLogging": true, "IsMultiRegionTrail": true,
                        "IncludeGlobalServiceEvents": true,
                        "EventSelectors": aws_cli::all_management_events()}}),
                );
                trails.push(((step.account_id.clone(), name.clone()), id));
            }
            _ => t
                .outside
                .extend(aws_cli::calls(step).into_iter().map(|c| c.render())),
        }
    }
    t
}

/// The template (JSON text), or `None` when there is nothing to create; and the steps outside it.
fn template(
    plan: &Plan,
    account: &str,
    region: &str,
    steps: &[&Step],
) -> (Option<String>, Vec<String>) {
    let t = build(steps);
    if t.resources.is_empty() {
        return (None, t.outside);
    }
    let mut rules: Vec<String> = steps.iter().flat_map(|s| s.rules.clone()).collect();
    rules.sort();
    rules.dedup();
    let mut fixes: Vec<String> = steps.iter().map(|s| inert(&s.fixes)).collect();
    fixes.dedup();
    let mut deploy = format!(
        "aws cloudformation deploy --region={} --stack-name cwl-audit-alarms --template-file FILE",
        crate::text::shell_word(region)
    );
    if t.parameters.contains_key("SecurityEmail") {
        deploy.push_str(" --parameter-overrides SecurityEmail=you@example.com");
    }
    if t.capabilities {
        deploy.push_str(" --capabilities CAPABILITY_NAMED_IAM");
    }
    let mut meta = json!({"Account": account, "Region": region, "Rules": rules, "Fixes": fixes,
        "Deploy": format!("in account {account}: {deploy}")});
    if !t.outside.is_empty() {
        meta["StepsOutsideCloudFormation"] =
            json!(t.outside.iter().map(|o| inert(o)).collect::<Vec<_>>());
    }
    let _ = plan;
    let mut doc = Map::new();
    doc.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    doc.insert(
        "Description".into(),
        json!(format!(
            "cwl-audit: missing pieces of the alarm chains ({}) in account {account} {region}",
            inert(&rules.join(", "))
        )),
    );
    doc.insert("Metadata".into(), json!({ "cwl-audit": meta }));
    if !t.parameters.is_empty() {
        doc.insert("Parameters".into(), Value::Object(t.parameters));
    }
    doc.insert("Resources".into(), Value::Object(t.resources));
    if !t.outputs.is_empty() {
        doc.insert("Outputs".into(), Value::Object(t.outputs));
    }
    (Some(safe::json_pretty(&Value::Object(doc))), t.outside)
}

/// Free text for a template's `Description` and `Metadata` (finding messages quote snapshot
/// values, and a manual step's command holds the value that made it manual): hidden characters
/// cleaned, and `{{` broken up, so no text is a dynamic reference CloudFormation would resolve.
fn inert(s: &str) -> String {
    clean(s).replace("{{", "{ {")
}

/// Every template (`<account>-<region>.json`) and note of the plan, in order.
pub fn units(plan: &Plan) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for view in plan.accounts() {
        let header = format!(
            "# === account {}\n{}",
            clean(&view.account_id),
            aws_cli::account_header(plan, &view.account_id)
        );
        if view.steps.is_empty() {
            out.push(Unit {
                file: None,
                text: header,
            });
            continue;
        }
        // Steps grouped by region, in plan order.
        let mut groups: Vec<(String, Vec<&Step>)> = Vec::new();
        for (_, st) in &view.steps {
            match groups.iter_mut().find(|(r, _)| *r == st.region) {
                Some((_, v)) => v.push(st),
                None => groups.push((st.region.clone(), vec![st])),
            }
        }
        let mut text = header;
        for (region, steps) in groups {
            match template(plan, &view.account_id, &region, &steps) {
                (Some(json), outside) => {
                    let file = format!("{}-{region}.json", view.account_id);
                    let _ = writeln!(
                        text,
                        "#     Template {file}: deploy it in account {} {}.",
                        clean(&view.account_id),
                        clean(&region)
                    );
                    for c in outside {
                        let _ = writeln!(text, "#     Then, outside CloudFormation: {}", clean(&c));
                    }
                    out.push(Unit {
                        file: None,
                        text: std::mem::take(&mut text),
                    });
                    out.push(Unit {
                        file: Some(file),
                        text: json,
                    });
                }
                (None, outside) => {
                    let _ = writeln!(
                        text,
                        "#     No CloudFormation template for account {} {}: every fix changes a resource that exists\n#     and that CloudFormation does not manage. Run these AWS CLI commands instead:",
                        clean(&view.account_id),
                        clean(&region)
                    );
                    for c in outside {
                        let _ = writeln!(text, "#       {}", clean(&c));
                    }
                }
            }
        }
        if !text.is_empty() {
            out.push(Unit { file: None, text });
        }
    }
    out
}

/// The whole plan as one YAML stream (JSON is YAML): notes as comments, each template its own
/// document.
pub fn render(plan: &Plan) -> String {
    let mut o = String::new();
    o.push_str("# cwl-audit remediate: CloudFormation templates with the missing pieces of each account's alarm chains.\n");
    o.push_str("# One JSON document per account and region; `--output-dir DIR` writes each to its own file. Never deployed by cwl-audit.\n");
    for u in units(plan) {
        match u.file {
            Some(f) => {
                let _ = writeln!(o, "---\n# file: {f}");
                o.push_str(&u.text);
            }
            None => {
                o.push_str("---\n");
                o.push_str(&u.text);
            }
        }
    }
    if !plan.passing.is_empty() {
        let _ = writeln!(
            o,
            "---\n# Passing, nothing to do: {}",
            clean(&plan.passing.join(", "))
        );
    }
    o
}

/// An `AWS::Logs::MetricFilter` transformation: value 1 for each matching event, in `unit` if named.
fn transformation(namespace: &str, metric: &str, unit: Option<&str>) -> Value {
    let mut t = json!({"MetricNamespace": namespace, "MetricName": metric, "MetricValue": "1"});
    if let Some(u) = unit {
        t["Unit"] = json!(u);
    }
    t
}
