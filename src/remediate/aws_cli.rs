//! A plan as AWS CLI commands: a reviewable shell script, one block per account that starts with a
//! guard (the block runs only when `aws sts get-caller-identity` names that account). Comments say
//! why each command is there; steps a person has to do (confirming an e-mail) are comments too.
//!
//! Every command is `aws SERVICE OPERATION [--region=REGION] --cli-input-json 'JSON'`: the region
//! is checked against AWS's region syntax, and every other value travels inside one JSON document
//! built with serde_json and quoted by [`crate::text::shell_word`], so the AWS CLI never reads a value as an
//! option, a parameter file (`file://`, `http://`) or shorthand syntax. Comments pass through
//! [`clean`].
use super::safe;
use super::{Action, Outcome, Plan, RulePlan, Step, BUCKET_PLACEHOLDER};
use crate::findings::Verdict;
use crate::text::clean;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// One AWS API call of a step: what the AWS CLI command and the CloudFormation cross-check share.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub service: &'static str,
    pub operation: &'static str,
    /// `None` for global services (IAM).
    pub region: Option<String>,
    /// The operation's input, by the API's member names.
    pub input: Value,
}

impl Call {
    fn new(service: &'static str, operation: &'static str, region: &str, input: Value) -> Call {
        Call {
            service,
            operation,
            region: Some(region.to_string()),
            input,
        }
    }

    /// The command line (one line).
    pub fn render(&self) -> String {
        let mut o = format!("aws {} {}", self.service, self.operation);
        if let Some(r) = &self.region {
            let _ = write!(o, " --region={}", crate::text::shell_word(r));
        }
        let _ = write!(
            o,
            " --cli-input-json {}",
            crate::text::shell_word(&safe::json(&self.input))
        );
        o
    }
}

/// The trust policy of the role CloudTrail delivers to CloudWatch Logs with.
fn trust_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
}

/// What that role may do: write the trail's log streams.
pub fn delivery_policy(log_group_arn: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": format!("{log_group_arn}:log-stream:*")}]})
}

/// The selectors of a trail this plan creates: every management event, read and write.
pub fn all_management_events() -> Value {
    json!([{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []}])
}

/// The AWS API calls of a step, in order.
pub fn calls(s: &Step) -> Vec<Call> {
    let r = s.region.as_str();
    match &s.action {
        Action::CreateTrail { name } => vec![
            Call::new(
                "cloudtrail",
                "create-trail",
                r,
                json!({"Name": name, "S3BucketName": BUCKET_PLACEHOLDER,
                    "IsMultiRegionTrail": true, "IncludeGlobalServiceEvents": true}),
            ),
            Call::new(
                "cloudtrail",
                "put-event-selectors",
                r,
                json!({"TrailName": name, "EventSelectors": all_management_events()}),
            ),
            Call::new("cloudtrail", "start-logging", r, json!({"Name": name})),
        ],
        Action::StartLogging { trail_arn } => vec![Call::new(
            "cloudtrail",
            "start-logging",
            r,
            json!({"Name": trail_arn}),
        )],
        Action::MakeMultiRegion { trail_arn } => vec![Call::new(
            "cloudtrail",
            "update-trail",
            r,
            json!({"Name": trail_arn, "IsMultiRegionTrail": true, "IncludeGlobalServiceEvents": true}),
        )],
        Action::PutEventSelectors {
            trail_arn,
            basic,
            advanced,
        } => {
            let mut input = json!({"TrailName": trail_arn});
            if let Some(b) = basic {
                input["EventSelectors"] = b.clone();
            }
            if let Some(a) = advanced {
                input["AdvancedEventSelectors"] = a.clone();
            }
            vec![Call::new("cloudtrail", "put-event-selectors", r, input)]
        }
        Action::DeliverToLogs {
            trail_arn,
            log_group,
            role_arn,
            role_name,
        } => {
            let part = crate::arn::Arn::parse(trail_arn).map_or("aws", |a| a.partition);
            let lg_arn = crate::arn::log_group_bare(part, r, &s.account_id, log_group);
            let mut out = vec![Call::new(
                "logs",
                "create-log-group",
                r,
                json!({"logGroupName": log_group}),
            )];
            let role = match role_arn {
                Some(existing) => existing.clone(),
                None => {
                    // Policies are documents inside a string member: serialized, never formatted.
                    out.push(Call {
                        service: "iam",
                        operation: "create-role",
                        region: None,
                        input: json!({"RoleName": role_name,
                            "AssumeRolePolicyDocument": trust_policy().to_string()}),
                    });
                    out.push(Call {
                        service: "iam",
                        operation: "put-role-policy",
                        region: None,
                        input: json!({"RoleName": role_name,
                            "PolicyName": "cloudtrail-to-cloudwatch-logs",
                            "PolicyDocument": delivery_policy(&lg_arn).to_string()}),
                    });
                    crate::arn::role(part, &s.account_id, role_name)
                }
            };
            out.push(Call::new(
                "cloudtrail",
                "update-trail",
                r,
                json!({"Name": trail_arn, "CloudWatchLogsLogGroupArn": crate::arn::log_group(part, r, &s.account_id, log_group),
                    "CloudWatchLogsRoleArn": role}),
            ));
            out
        }
        Action::PutMetricFilter {
            log_group,
            filter_name,
            pattern,
            namespace,
            metric,
            unit,
            existing,
        } => {
            let mut out = Vec::new();
            if *existing {
                // AWS replaces a filter of the same name; moto 5.2.5 keeps the old one beside the
                // new. Deleting it first is right on both (the log group has no filter of that
                // name for the moment in between).
                out.push(Call::new(
                    "logs",
                    "delete-metric-filter",
                    r,
                    json!({"logGroupName": log_group, "filterName": filter_name}),
                ));
            }
            let mut transformation = json!({"metricName": metric, "metricNamespace": namespace,
                "metricValue": "1"});
            if let Some(u) = unit {
                transformation["unit"] = json!(u);
            }
            out.push(Call::new(
                "logs",
                "put-metric-filter",
                r,
                json!({"logGroupName": log_group, "filterName": filter_name, "filterPattern": pattern,
                    "metricTransformations": [transformation]}),
            ));
            out
        }
        Action::EnableAlarmActions { alarm_name } => vec![Call::new(
            "cloudwatch",
            "enable-alarm-actions",
            r,
            json!({"AlarmNames": [alarm_name]}),
        )],
        Action::PutMetricAlarm { alarm, .. } => vec![Call::new(
            "cloudwatch",
            "put-metric-alarm",
            r,
            Value::Object(alarm.clone()),
        )],
        Action::CreateTopic { name, .. } => {
            vec![Call::new("sns", "create-topic", r, json!({"Name": name}))]
        }
        Action::Subscribe {
            topic_arn,
            endpoint,
            ..
        } => vec![Call::new(
            "sns",
            "subscribe",
            r,
            json!({"TopicArn": topic_arn, "Protocol": "email", "Endpoint": endpoint}),
        )],
    }
}

/// The comments and commands of one step (commands commented out for a manual step).
pub fn step_lines(s: &Step) -> String {
    let mut out = String::new();
    if let Some(heading) = s.not_run() {
        let _ = writeln!(out, "# {}:", clean(&heading));
        for c in calls(s) {
            let _ = writeln!(out, "#   {}", clean(&c.render()));
        }
        return out;
    }
    match &s.action {
        Action::CreateTrail { .. } => out.push_str("# The bucket must let CloudTrail write to it (a bucket policy for cloudtrail.amazonaws.com).\n# The selectors are put explicitly: every management event, read and write.\n"),
        Action::PutMetricFilter { existing: true, .. } => out.push_str("# Replaces the filter of this name on this log group (same name, corrected pattern and metric):\n# deleted first, as moto needs (AWS would replace it in place).\n"),
        Action::PutMetricAlarm { existing: true, .. } => out.push_str("# put-metric-alarm replaces the alarm's whole configuration: everything it keeps is restated.\n"),
        Action::Subscribe { resend: true, .. } => out.push_str("# An unconfirmed subscription to this address exists: subscribing again resends the confirmation e-mail.\n"),
        _ => {}
    }
    for c in calls(s) {
        out.push_str(&c.render());
        out.push('\n');
    }
    if matches!(s.action, Action::Subscribe { .. }) {
        out.push_str("# Then the recipient confirms the subscription with the link in the e-mail from AWS Notifications\n# (until then nobody receives the alarm).\n");
    }
    out
}

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Unknown => "UNKNOWN",
    }
}

/// Whether a rule's steps include ones that are not run, and of which kind (held back first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    None,
    Manual,
    HeldBack,
}

impl NotRun {
    /// Of the steps at `indices` into `plan.steps`.
    pub fn of(plan: &Plan, indices: &[usize]) -> NotRun {
        let steps = || indices.iter().filter_map(|&i| plan.steps.get(i));
        if steps().any(|s| s.held_back) {
            NotRun::HeldBack
        } else if steps().any(|s| s.manual.is_some()) {
            NotRun::Manual
        } else {
            NotRun::None
        }
    }
}

/// One rule's lines in an account's header: verdict, place, and how its plan ends.
pub fn rule_header(p: &RulePlan, numbers: &[usize], not_run: NotRun) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "#   {} {}  {}",
        verdict_label(p.verdict),
        clean(&p.rule_id),
        clean(&p.message)
    );
    if let Some(at) = &p.at {
        let _ = writeln!(o, "#       at {}", clean(at));
    }
    let n = numbers.len();
    let steps = match n {
        0 => "no step".to_string(),
        1 => format!("step {}", numbers[0]),
        _ => format!(
            "steps {}",
            numbers
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    match &p.outcome {
        Outcome::Passes => {
            let _ = writeln!(
                o,
                "#       {steps}; with {} applied to the snapshots, {} passes.",
                if n == 1 { "it" } else { "them" },
                clean(&p.rule_id)
            );
        }
        Outcome::Remaining { verdict, message } => {
            // Why the rule still fails: steps that are not run, or no fix known.
            let why = match not_run {
                NotRun::HeldBack => "the steps marked HELD BACK are not run: they would break a rule that passes (a bug of cwl-audit: please report it).",
                NotRun::Manual => "the steps marked MANUAL STEP are not run: each says what to check before making the change by hand.",
                NotRun::None => "cwl-audit knows no fix for that: change it by hand.",
            };
            let _ = writeln!(
                o,
                "#       {steps}; after {} the rule still says {}: {}\n#       {why}",
                if n == 0 {
                    "none"
                } else if n == 1 {
                    "it"
                } else {
                    "them"
                },
                verdict.as_str(),
                clean(message)
            );
        }
        Outcome::Collect(what) => {
            let _ = writeln!(
                o,
                "#       No fixes: a link could not be checked, so any fix would be a guess. Collect the data first:"
            );
            for w in what {
                let _ = writeln!(o, "#       - {}", clean(w));
            }
        }
    }
    o
}

/// The account's rule lines, with step numbers as they are shown (global in the plan, 1-based).
pub fn account_header(plan: &Plan, account: &str) -> String {
    let mut o = String::new();
    for p in plan.rules.iter().filter(|r| r.account_id == account) {
        let numbers: Vec<usize> = p.steps.iter().map(|i| i + 1).collect();
        o.push_str(&rule_header(p, &numbers, NotRun::of(plan, &p.steps)));
    }
    o
}

/// The guard that opens an account's block: the commands below it run only in that account.
fn guard(account: &str) -> String {
    // `account` is 12 digits (checked when the snapshot was loaded): it needs no quoting, but goes
    // through the one quoting function anyway.
    let a = crate::text::shell_word(account);
    format!(
        "if [ \"$(aws sts get-caller-identity --query Account --output text)\" != {a} ]; then\n  echo 'cwl-audit: skipped the block of account '{a}': the shell is not logged in to it' >&2\nelse\n"
    )
}

pub fn render(plan: &Plan) -> String {
    let mut o = String::new();
    o.push_str("#!/bin/sh\n");
    let _ = writeln!(
        o,
        "# cwl-audit remediate: the missing pieces of each account's alarm chains ({}), as AWS CLI commands.",
        clean(&plan.rule_ids.join(", "))
    );
    o.push_str("# Review before running; cwl-audit never runs them. <PLACEHOLDERS> are what the snapshots cannot know.\n");
    o.push_str("# Each account's block runs only in that account (checked with aws sts get-caller-identity); a failing\n# command stops the script.\nset -e\n");
    for view in plan.accounts() {
        let _ = writeln!(o, "\n# === account {}", clean(&view.account_id));
        o.push_str(&account_header(plan, &view.account_id));
        if view.steps.is_empty() {
            continue;
        }
        let runnable = view.steps.iter().any(|(_, s)| s.manual.is_none());
        if runnable {
            o.push_str(&guard(&view.account_id));
        }
        for (i, s) in &view.steps {
            let _ = writeln!(
                o,
                "\n# {} account {} {} ({}): {}",
                i + 1,
                clean(&s.account_id),
                clean(&s.region),
                clean(&s.rules.join(", ")),
                clean(&s.fixes)
            );
            o.push_str(&step_lines(s));
        }
        if runnable {
            o.push_str("fi\n");
        }
    }
    if !plan.passing.is_empty() {
        let _ = writeln!(
            o,
            "\n# Passing, nothing to do: {}",
            clean(&plan.passing.join(", "))
        );
    }
    if plan.rules.is_empty() && plan.passing.is_empty() {
        o.push_str("\n# No account was evaluated.\n");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_every_value_in_quoted_json() {
        let c = Call::new(
            "sns",
            "subscribe",
            "us-east-1",
            json!({"TopicArn": "it's", "Endpoint": "--endpoint-url=http://x"}),
        );
        assert_eq!(
            c.render(),
            r#"aws sns subscribe --region=us-east-1 --cli-input-json '{"Endpoint":"--endpoint-url=http://x","TopicArn":"it'\''s"}'"#
        );
    }
}
