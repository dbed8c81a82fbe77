//! A plan as CloudFormation templates: one per account and region where something must be created,
//! holding only the missing resources (trail, log group and its role, metric filter, alarm, SNS topic,
//! subscription).
//!
//! CloudFormation cannot change a resource it did not create (a stack that declares an existing metric
//! filter or alarm fails with AlreadyExists, and starting a trail's logging is not a resource at all),
//! so fixes to existing resources are the AWS CLI commands of [`super::cli`], listed in the template's
//! comments and in `Metadata.cwl-audit.StepsOutsideCloudFormation`. An account whose every fix is such
//! a change gets no template, only those commands (as comments).
use super::{cli, AccountPlan, Action, Plan, Step, EMAIL_PLACEHOLDER};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// A YAML value with its keys in the order written.
#[derive(Debug, Clone)]
enum Y {
    S(String),
    N(serde_json::Number),
    B(bool),
    L(Vec<Y>),
    M(Vec<(String, Y)>),
}

fn s(x: impl Into<String>) -> Y {
    Y::S(x.into())
}

fn m(entries: Vec<(&str, Y)>) -> Y {
    Y::M(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn r#ref(logical: &str) -> Y {
    m(vec![("Ref", s(logical))])
}

fn get_att(logical: &str, attr: &str) -> Y {
    m(vec![("Fn::GetAtt", Y::L(vec![s(logical), s(attr)]))])
}

impl From<&Value> for Y {
    fn from(v: &Value) -> Y {
        match v {
            Value::Null => Y::S(String::new()),
            Value::Bool(b) => Y::B(*b),
            Value::Number(n) => Y::N(n.clone()),
            Value::String(x) => Y::S(x.clone()),
            Value::Array(a) => Y::L(a.iter().map(Y::from).collect()),
            Value::Object(o) => Y::M(o.iter().map(|(k, v)| (k.clone(), Y::from(v))).collect()),
        }
    }
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c))
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if plain {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

fn scalar(y: &Y) -> Option<String> {
    match y {
        // A JSON string is a valid YAML double-quoted scalar.
        Y::S(x) => Some(serde_json::to_string(x).unwrap_or_default()),
        Y::N(n) => Some(n.to_string()),
        Y::B(b) => Some(b.to_string()),
        Y::L(l) if l.is_empty() => Some("[]".into()),
        Y::M(e) if e.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn emit(y: &Y, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match y {
        Y::M(entries) => {
            for (k, v) in entries {
                match scalar(v) {
                    Some(x) => {
                        let _ = writeln!(out, "{pad}{}: {x}", key(k));
                    }
                    None => {
                        let _ = writeln!(out, "{pad}{}:", key(k));
                        emit(v, indent + 2, out);
                    }
                }
            }
        }
        Y::L(items) => {
            for item in items {
                match scalar(item) {
                    Some(x) => {
                        let _ = writeln!(out, "{pad}- {x}");
                    }
                    None => {
                        let mut inner = String::new();
                        emit(item, indent + 2, &mut inner);
                        // The first line of the item goes after the dash.
                        out.push_str(&pad);
                        out.push_str("- ");
                        out.push_str(&inner[indent + 2..]);
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other).unwrap_or_default());
        }
    }
}

/// A step's AWS CLI commands as single lines (for comments and metadata).
fn commands(step: &Step) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in cli::step_lines(step).lines() {
        if line.starts_with('#') {
            continue;
        }
        match line.strip_suffix(" \\") {
            Some(part) => {
                cur.push_str(part.trim_start());
                cur.push(' ');
            }
            None => {
                cur.push_str(line.trim_start());
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    out
}

/// One template's parts, built from the steps of one account and region.
#[derive(Default)]
struct Template {
    parameters: Vec<(String, Y)>,
    resources: Vec<(String, Y)>,
    outputs: Vec<(String, Y)>,
    outside: Vec<String>,
    capabilities: bool,
}

impl Template {
    fn param(&mut self, name: &str, y: Y) {
        if !self.parameters.iter().any(|(n, _)| n == name) {
            self.parameters.push((name.to_string(), y));
        }
    }

    fn logical(&self, base: &str) -> String {
        if !self.resources.iter().any(|(n, _)| n == base) {
            return base.to_string();
        }
        (2..)
            .map(|n| format!("{base}{n}"))
            .find(|c| !self.resources.iter().any(|(n, _)| n == c))
            .unwrap_or_default()
    }

    fn resource(&mut self, base: &str, y: Y) -> String {
        let name = self.logical(base);
        self.resources.push((name.clone(), y));
        name
    }

    fn output(&mut self, name: &str, description: &str, value: Y) {
        self.outputs.push((
            name.to_string(),
            m(vec![("Description", s(description)), ("Value", value)]),
        ));
    }
}

fn build(steps: &[&Step]) -> Template {
    let mut t = Template::default();
    // Topics created in this template, by ARN -> logical id (alarms and subscriptions refer to them).
    let mut topics: Vec<(String, String)> = Vec::new();
    let mut log_groups: Vec<(String, String)> = Vec::new();
    let mut trails: Vec<(String, String)> = Vec::new();
    let topic_ref =
        |topics: &Vec<(String, String)>, arn: &str| match topics.iter().find(|(a, _)| a == arn) {
            Some((_, logical)) => r#ref(logical),
            None => s(arn),
        };
    for step in steps {
        match &step.action {
            Action::CreateTopic { name, arn } => {
                let id = t.resource(
                    "RootUsageTopic",
                    m(vec![
                        ("Type", s("AWS::SNS::Topic")),
                        ("Properties", m(vec![("TopicName", s(name))])),
                    ]),
                );
                t.output(
                    "TopicArn",
                    "SNS topic that root-usage alarms notify",
                    r#ref(&id),
                );
                topics.push((arn.clone(), id));
            }
            Action::Subscribe {
                topic_arn,
                endpoint,
                ..
            } => {
                let endpoint = if endpoint == EMAIL_PLACEHOLDER {
                    t.param(
                        "SecurityEmail",
                        m(vec![
                            ("Type", s("String")),
                            ("Description", s("E-mail address that receives root-usage alarms; confirm the subscription with the link AWS sends to it")),
                            ("AllowedPattern", s(r"^[^@\s]+@[^@\s]+$")),
                        ]),
                    );
                    r#ref("SecurityEmail")
                } else {
                    s(endpoint)
                };
                t.resource(
                    "RootUsageSubscription",
                    m(vec![
                        ("Type", s("AWS::SNS::Subscription")),
                        (
                            "Properties",
                            m(vec![
                                ("TopicArn", topic_ref(&topics, topic_arn)),
                                ("Protocol", s("email")),
                                ("Endpoint", endpoint),
                            ]),
                        ),
                    ]),
                );
            }
            Action::PutMetricFilter {
                log_group,
                filter_name,
                pattern,
                namespace,
                metric,
                existing: false,
            } => {
                let group = match log_groups.iter().find(|(n, _)| n == log_group) {
                    Some((_, id)) => r#ref(id),
                    None => s(log_group),
                };
                t.resource(
                    "RootUsageMetricFilter",
                    m(vec![
                        ("Type", s("AWS::Logs::MetricFilter")),
                        (
                            "Properties",
                            m(vec![
                                ("LogGroupName", group),
                                ("FilterName", s(filter_name)),
                                ("FilterPattern", s(pattern)),
                                (
                                    "MetricTransformations",
                                    Y::L(vec![m(vec![
                                        ("MetricNamespace", s(namespace)),
                                        ("MetricName", s(metric)),
                                        ("MetricValue", s("1")),
                                    ])]),
                                ),
                            ]),
                        ),
                    ]),
                );
            }
            Action::PutMetricAlarm {
                alarm,
                existing: false,
            } => {
                let mut props: Vec<(String, Y)> = Vec::new();
                for (k, v) in alarm {
                    let y = if matches!(
                        k.as_str(),
                        "AlarmActions" | "OKActions" | "InsufficientDataActions"
                    ) {
                        Y::L(
                            v.as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .map(|a| topic_ref(&topics, a))
                                .collect(),
                        )
                    } else {
                        Y::from(v)
                    };
                    props.push((k.clone(), y));
                }
                let id = t.resource(
                    "RootUsageAlarm",
                    m(vec![
                        ("Type", s("AWS::CloudWatch::Alarm")),
                        ("Properties", Y::M(props)),
                    ]),
                );
                t.output(
                    "AlarmArn",
                    "Alarm that fires on one root-user event",
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
                    m(vec![
                        ("Type", s("AWS::Logs::LogGroup")),
                        ("Properties", m(vec![("LogGroupName", s(log_group))])),
                    ]),
                );
                log_groups.push((log_group.clone(), lg.clone()));
                let role = match role_arn {
                    Some(existing) => s(existing),
                    None => {
                        t.capabilities = true;
                        let id = t.resource(
                            "TrailLogsRole",
                            m(vec![
                                ("Type", s("AWS::IAM::Role")),
                                (
                                    "Properties",
                                    m(vec![
                                        ("RoleName", s(role_name)),
                                        (
                                            "AssumeRolePolicyDocument",
                                            Y::from(&json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})),
                                        ),
                                        (
                                            "Policies",
                                            Y::L(vec![m(vec![
                                                ("PolicyName", s("cloudtrail-to-cloudwatch-logs")),
                                                (
                                                    "PolicyDocument",
                                                    m(vec![
                                                        ("Version", s("2012-10-17")),
                                                        (
                                                            "Statement",
                                                            Y::L(vec![m(vec![
                                                                ("Effect", s("Allow")),
                                                                ("Action", Y::L(vec![s("logs:CreateLogStream"), s("logs:PutLogEvents")])),
                                                                ("Resource", get_att(&lg, "Arn")),
                                                            ])]),
                                                        ),
                                                    ]),
                                                ),
                                            ])]),
                                        ),
                                    ]),
                                ),
                            ]),
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
                // before it exists (its partition is not in the step).
                let created = trails.iter().find(|(a, _)| {
                    a.rsplit(':').next() == trail_arn.rsplit(':').next()
                        && a.split(':').nth(4) == trail_arn.split(':').nth(4)
                });
                match created {
                    // The trail is created by this template: it delivers to the log group directly.
                    Some((_, trail_id)) => {
                        if let Some((_, Y::M(res))) =
                            t.resources.iter_mut().find(|(n, _)| n == trail_id)
                        {
                            if let Some((_, Y::M(props))) =
                                res.iter_mut().find(|(k, _)| k == "Properties")
                            {
                                props.push((
                                    "CloudWatchLogsLogGroupArn".into(),
                                    get_att(&lg, "Arn"),
                                ));
                                props.push(("CloudWatchLogsRoleArn".into(), role));
                            }
                        }
                    }
                    None => t.outside.extend(
                        commands(step)
                            .into_iter()
                            .filter(|c| c.starts_with("aws cloudtrail update-trail")),
                    ),
                }
            }
            Action::CreateTrail { name } => {
                t.param(
                    "CloudTrailBucket",
                    m(vec![
                        ("Type", s("String")),
                        ("Description", s("S3 bucket for the trail's log files; its bucket policy must let cloudtrail.amazonaws.com write")),
                    ]),
                );
                let id = t.resource(
                    "Trail",
                    m(vec![
                        ("Type", s("AWS::CloudTrail::Trail")),
                        (
                            "Properties",
                            m(vec![
                                ("TrailName", s(name)),
                                ("S3BucketName", r#ref("CloudTrailBucket")),
                                ("IsLogging", Y::B(true)),
                                ("IsMultiRegionTrail", Y::B(true)),
                                ("IncludeGlobalServiceEvents", Y::B(true)),
                            ]),
                        ),
                    ]),
                );
                let arn = format!(
                    "arn:aws:cloudtrail:{}:{}:trail/{name}",
                    step.region, step.account_id
                );
                trails.push((arn, id));
            }
            _ => t.outside.extend(commands(step)),
        }
    }
    t
}

/// The template text (YAML, with a comment header), or `None` when there is nothing to create.
fn template(
    plan: &AccountPlan,
    account: &str,
    region: &str,
    steps: &[&Step],
) -> (Option<String>, Vec<String>) {
    let t = build(steps);
    if t.resources.is_empty() {
        return (None, t.outside);
    }
    let mut out = String::new();
    let _ = writeln!(out, "# cwl-audit remediate: CloudFormation template for account {account}, region {region} ({}).", super::RULE);
    for line in cli::account_header(plan).lines() {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "# Deploy in account {account}: aws cloudformation deploy --region {region} --stack-name cwl-audit-root-usage --template-file FILE{}{}",
        if t.parameters.iter().any(|(n, _)| n == "SecurityEmail") { " --parameter-overrides SecurityEmail=you@example.com" } else { "" },
        if t.capabilities { " --capabilities CAPABILITY_NAMED_IAM" } else { "" },
    );
    if !t.outside.is_empty() {
        let _ = writeln!(out, "# Then run these AWS CLI commands: CloudFormation cannot change resources it does not manage.");
        for c in &t.outside {
            let _ = writeln!(out, "#   {c}");
        }
    }
    let fixes: Vec<Y> = {
        let mut v: Vec<String> = steps.iter().map(|s| s.fixes.clone()).collect();
        v.dedup();
        v.into_iter().map(Y::S).collect()
    };
    let mut meta = vec![
        ("Account", s(account)),
        ("Region", s(region)),
        ("Rule", s(super::RULE)),
        ("Fixes", Y::L(fixes)),
    ];
    if !t.outside.is_empty() {
        meta.push((
            "StepsOutsideCloudFormation",
            Y::L(t.outside.iter().map(s).collect()),
        ));
    }
    let mut doc = vec![
        ("AWSTemplateFormatVersion", s("2010-09-09")),
        (
            "Description",
            s(format!(
                "cwl-audit: missing pieces of the root-usage alarm chain (CIS 4.3 / CWL-014) in account {account} {region}"
            )),
        ),
        ("Metadata", m(vec![("cwl-audit", m(meta))])),
    ];
    if !t.parameters.is_empty() {
        doc.push(("Parameters", Y::M(t.parameters.clone())));
    }
    doc.push(("Resources", Y::M(t.resources.clone())));
    if !t.outputs.is_empty() {
        doc.push(("Outputs", Y::M(t.outputs.clone())));
    }
    emit(&m(doc), 0, &mut out);
    (Some(out), t.outside)
}

/// One output unit: a template (file name + text), or a note for an account without one.
pub struct Unit {
    /// `<account>-<region>.yaml` for a template.
    pub file: Option<String>,
    pub text: String,
}

/// Every template and note of the plan, in order.
pub fn units(plan: &Plan) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut seen: Vec<(String, String, Vec<Step>)> = Vec::new();
    for p in &plan.accounts {
        // Steps grouped by the account and region they change, in plan order.
        let mut groups: Vec<((String, String), Vec<&Step>)> = Vec::new();
        for st in &p.steps {
            let k = (st.account_id.clone(), st.region.clone());
            match groups.iter_mut().find(|(g, _)| *g == k) {
                Some((_, v)) => v.push(st),
                None => groups.push((k, vec![st])),
            }
        }
        if groups.is_empty() {
            out.push(Unit {
                file: None,
                text: cli::account_header(p),
            });
            continue;
        }
        for ((account, region), steps) in groups {
            let owned: Vec<Step> = steps.iter().map(|s| (*s).clone()).collect();
            if let Some((a, r, _)) = seen
                .iter()
                .find(|(a, r, st)| *a == account && *r == region && *st == owned)
            {
                out.push(Unit {
                    file: None,
                    text: format!(
                        "{}#     The same template as above ({a}-{r}.yaml) fixes this account.\n",
                        cli::account_header(p)
                    ),
                });
                continue;
            }
            seen.push((account.clone(), region.clone(), owned));
            match template(p, &account, &region, &steps) {
                (Some(text), _) => out.push(Unit {
                    file: Some(format!("{account}-{region}.yaml")),
                    text,
                }),
                (None, outside) => {
                    let mut text = cli::account_header(p);
                    let _ = writeln!(
                        text,
                        "#     No CloudFormation template for account {account} {region}: every fix changes a resource that exists\n#     and that CloudFormation does not manage. Run these AWS CLI commands instead:"
                    );
                    for c in outside {
                        let _ = writeln!(text, "#       {c}");
                    }
                    out.push(Unit { file: None, text });
                }
            }
        }
    }
    out
}

/// The whole plan as one YAML stream: notes as comments, each template its own document.
pub fn render(plan: &Plan) -> String {
    let mut o = String::new();
    o.push_str("# cwl-audit remediate: CloudFormation templates with the missing pieces of each account's CWL-014 chain.\n");
    o.push_str("# One YAML document per account and region; `--output-dir DIR` writes each to its own file. Never deployed by cwl-audit.\n");
    for u in units(plan) {
        match u.file {
            Some(f) => {
                let _ = writeln!(o, "---\n# file: {f}");
                o.push_str(&u.text);
            }
            None => {
                o.push('\n');
                o.push_str(&u.text);
            }
        }
    }
    if !plan.passing.is_empty() {
        let _ = writeln!(o, "\n# Passing, nothing to do: {}", plan.passing.join(", "));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_emitter() {
        let y = m(vec![
            ("A", s("x: y")),
            (
                "L",
                Y::L(vec![
                    m(vec![("K", s("v")), ("J", Y::L(vec![s("1")]))]),
                    s("z"),
                ]),
            ),
            ("E", Y::L(vec![])),
            ("Fn::GetAtt", Y::B(true)),
        ]);
        let mut out = String::new();
        emit(&y, 0, &mut out);
        assert_eq!(
            out,
            "A: \"x: y\"\nL:\n  - K: \"v\"\n    J:\n      - \"1\"\n  - \"z\"\nE: []\nFn::GetAtt: true\n"
        );
    }
}
