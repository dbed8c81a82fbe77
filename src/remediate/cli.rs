//! A plan as AWS CLI commands: a reviewable shell script. Comments say why each command is there;
//! steps a person has to do (confirming an e-mail) are comments too. Values are shell-quoted.
use super::{AccountPlan, Action, AlarmSpec, Outcome, Plan, Step};
use crate::findings::Verdict;
use crate::text::clean;
use serde_json::Value;
use std::fmt::Write as _;

/// Quotes `s` for a POSIX shell when it needs it.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,@+%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One `aws` command: the words before the flags, then (flag, values) pairs.
struct Cmd {
    head: String,
    args: Vec<(String, Vec<String>)>,
}

impl Cmd {
    fn new(service: &str, op: &str, region: &str) -> Cmd {
        Cmd {
            head: format!("aws {service} {op}"),
            args: vec![("--region".into(), vec![region.into()])],
        }
    }

    fn arg(mut self, flag: &str, value: impl Into<String>) -> Cmd {
        self.args.push((flag.into(), vec![value.into()]));
        self
    }

    fn args(mut self, flag: &str, values: Vec<String>) -> Cmd {
        self.args.push((flag.into(), values));
        self
    }

    fn flag(mut self, flag: &str) -> Cmd {
        self.args.push((flag.into(), vec![]));
        self
    }

    /// One line when short, else one flag per line with `\` continuations.
    fn render(&self) -> String {
        let parts: Vec<String> = self
            .args
            .iter()
            .map(|(f, vs)| {
                let mut p = f.clone();
                for v in vs {
                    p.push(' ');
                    p.push_str(&quote(v));
                }
                p
            })
            .collect();
        let one = format!("{} {}", self.head, parts.join(" "));
        if one.len() <= 100 {
            one
        } else {
            format!("{} \\\n    {}", self.head, parts.join(" \\\n    "))
        }
    }
}

fn json_arg(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `put-metric-alarm` with every member of the spec as its flag.
fn put_metric_alarm(region: &str, a: &AlarmSpec) -> Cmd {
    let mut c = Cmd::new("cloudwatch", "put-metric-alarm", region);
    let text = |k: &str| {
        a.get(k).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    for (key, flag) in [
        ("AlarmName", "--alarm-name"),
        ("AlarmDescription", "--alarm-description"),
        ("Namespace", "--namespace"),
        ("MetricName", "--metric-name"),
        ("Statistic", "--statistic"),
        ("ExtendedStatistic", "--extended-statistic"),
        ("Unit", "--unit"),
        ("Period", "--period"),
        ("EvaluationPeriods", "--evaluation-periods"),
        ("DatapointsToAlarm", "--datapoints-to-alarm"),
        ("Threshold", "--threshold"),
        ("ComparisonOperator", "--comparison-operator"),
        ("TreatMissingData", "--treat-missing-data"),
        (
            "EvaluateLowSampleCountPercentile",
            "--evaluate-low-sample-count-percentile",
        ),
    ] {
        if let Some(v) = text(key) {
            c = c.arg(flag, v);
        }
    }
    if let Some(d) = a
        .get("Dimensions")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
    {
        let dims = d
            .iter()
            .map(|x| {
                format!(
                    "Name={},Value={}",
                    x["Name"].as_str().unwrap_or_default(),
                    x["Value"].as_str().unwrap_or_default()
                )
            })
            .collect();
        c = c.args("--dimensions", dims);
    }
    if let Some(m) = a
        .get("Metrics")
        .filter(|m| m.as_array().is_some_and(|m| !m.is_empty()))
    {
        c = c.arg("--metrics", json_arg(m));
    }
    for (key, flag) in [
        ("AlarmActions", "--alarm-actions"),
        ("OKActions", "--ok-actions"),
        ("InsufficientDataActions", "--insufficient-data-actions"),
    ] {
        let v = strings(a.get(key));
        if !v.is_empty() {
            c = c.args(flag, v);
        }
    }
    if a.get("ActionsEnabled") == Some(&Value::Bool(false)) {
        c = c.flag("--no-actions-enabled");
    } else {
        c = c.flag("--actions-enabled");
    }
    c
}

fn push_cmd(out: &mut String, c: Cmd) {
    out.push_str(&c.render());
    out.push('\n');
}

/// The commands and comments of one step.
pub fn step_lines(s: &Step) -> String {
    let r = s.region.as_str();
    let mut out = String::new();
    match &s.action {
        Action::CreateTrail { name } => {
            let mut o = String::new();
            let _ = writeln!(o, "# The bucket must let CloudTrail write to it (a bucket policy for cloudtrail.amazonaws.com).");
            o.push_str(
                &Cmd::new("cloudtrail", "create-trail", r)
                    .arg("--name", name.as_str())
                    .arg("--s3-bucket-name", super::BUCKET_PLACEHOLDER)
                    .flag("--is-multi-region-trail")
                    .flag("--include-global-service-events")
                    .render(),
            );
            o.push('\n');
            o.push_str(
                &Cmd::new("cloudtrail", "start-logging", r)
                    .arg("--name", name.as_str())
                    .render(),
            );
            o.push('\n');
            return o;
        }
        Action::StartLogging { trail_arn } => push_cmd(
            &mut out,
            Cmd::new("cloudtrail", "start-logging", r).arg("--name", trail_arn.as_str()),
        ),
        Action::MakeMultiRegion { trail_arn } => push_cmd(
            &mut out,
            Cmd::new("cloudtrail", "update-trail", r)
                .arg("--name", trail_arn.as_str())
                .flag("--is-multi-region-trail")
                .flag("--include-global-service-events"),
        ),
        Action::PutEventSelectors {
            trail_arn,
            basic,
            advanced,
        } => {
            let mut c = Cmd::new("cloudtrail", "put-event-selectors", r)
                .arg("--trail-name", trail_arn.as_str());
            if let Some(b) = basic {
                c = c.arg("--event-selectors", json_arg(b));
            }
            if let Some(a) = advanced {
                c = c.arg("--advanced-event-selectors", json_arg(a));
            }
            push_cmd(&mut out, c)
        }
        Action::DeliverToLogs {
            trail_arn,
            log_group,
            role_arn,
            role_name,
        } => {
            let part = trail_arn.split(':').nth(1).unwrap_or("aws");
            let lg_arn = format!("arn:{part}:logs:{r}:{}:log-group:{log_group}", s.account_id);
            push_cmd(
                &mut out,
                Cmd::new("logs", "create-log-group", r).arg("--log-group-name", log_group.as_str()),
            );
            let role = match role_arn {
                Some(existing) => existing.clone(),
                None => {
                    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
                    let policy = format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"{lg_arn}:log-stream:*"}}]}}"#
                    );
                    push_cmd(
                        &mut out,
                        Cmd {
                            head: "aws iam create-role".into(),
                            args: vec![],
                        }
                        .arg("--role-name", role_name.as_str())
                        .arg("--assume-role-policy-document", trust),
                    );
                    push_cmd(
                        &mut out,
                        Cmd {
                            head: "aws iam put-role-policy".into(),
                            args: vec![],
                        }
                        .arg("--role-name", role_name.as_str())
                        .arg("--policy-name", "cloudtrail-to-cloudwatch-logs")
                        .arg("--policy-document", policy),
                    );
                    format!("arn:{part}:iam::{}:role/{role_name}", s.account_id)
                }
            };
            push_cmd(
                &mut out,
                Cmd::new("cloudtrail", "update-trail", r)
                    .arg("--name", trail_arn.as_str())
                    .arg("--cloud-watch-logs-log-group-arn", format!("{lg_arn}:*"))
                    .arg("--cloud-watch-logs-role-arn", role),
            );
        }
        Action::PutMetricFilter {
            log_group,
            filter_name,
            pattern,
            namespace,
            metric,
            existing,
        } => {
            if *existing {
                out.push_str("# Replaces the filter of this name on this log group (same name, corrected pattern and metric).\n");
            }
            push_cmd(
                &mut out,
                Cmd::new("logs", "put-metric-filter", r)
                    .arg("--log-group-name", log_group.as_str())
                    .arg("--filter-name", filter_name.as_str())
                    .arg("--filter-pattern", pattern.as_str())
                    .arg(
                        "--metric-transformations",
                        format!("metricName={metric},metricNamespace={namespace},metricValue=1"),
                    ),
            )
        }
        Action::EnableAlarmActions { alarm_name } => push_cmd(
            &mut out,
            Cmd::new("cloudwatch", "enable-alarm-actions", r)
                .arg("--alarm-names", alarm_name.as_str()),
        ),
        Action::PutMetricAlarm { alarm, existing } => {
            if *existing {
                out.push_str("# put-metric-alarm replaces the alarm's whole configuration: everything it keeps is restated.\n");
            }
            push_cmd(&mut out, put_metric_alarm(r, alarm))
        }
        Action::CreateTopic { name, .. } => push_cmd(
            &mut out,
            Cmd::new("sns", "create-topic", r).arg("--name", name.as_str()),
        ),
        Action::Subscribe {
            topic_arn,
            endpoint,
            resend,
        } => {
            if *resend {
                out.push_str("# An unconfirmed subscription to this address exists: subscribing again resends the confirmation e-mail.\n");
            }
            push_cmd(
                &mut out,
                Cmd::new("sns", "subscribe", r)
                    .arg("--topic-arn", topic_arn.as_str())
                    .arg("--protocol", "email")
                    .arg("--notification-endpoint", endpoint.as_str()),
            );
            out.push_str("# Then the recipient confirms the subscription with the link in the e-mail from AWS Notifications\n# (until then nobody receives the alarm).\n");
        }
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

/// The header of one account's plan: verdict, place, and how the plan ends.
pub fn account_header(p: &AccountPlan) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# === {} {}  {}",
        p.account_id,
        verdict_label(p.verdict),
        clean(&p.message)
    );
    if let Some(at) = &p.at {
        let _ = writeln!(o, "#     at {}", clean(at));
    }
    let n = p.steps.len();
    let steps = if n == 1 {
        "1 step".to_string()
    } else {
        format!("{n} steps")
    };
    match &p.outcome {
        Outcome::Passes => {
            let _ = writeln!(
                o,
                "#     {steps}; with {} applied to the snapshots, the account passes {}.",
                if n == 1 { "it" } else { "them" },
                super::RULE
            );
        }
        Outcome::Remaining { verdict, message } => {
            let _ = writeln!(
                o,
                "#     {steps}; after {} the check still says {}: {}\n#     cwl-audit knows no fix for that: change it by hand.",
                if n == 0 { "none" } else if n == 1 { "it" } else { "them" },
                verdict.as_str(),
                clean(message)
            );
        }
        Outcome::Collect(what) => {
            let _ = writeln!(
                o,
                "#     No fixes: a link could not be checked, so any fix would be a guess. Collect the data first:"
            );
            for w in what {
                let _ = writeln!(o, "#     - {}", clean(w));
            }
        }
    }
    o
}

pub fn render(plan: &Plan) -> String {
    let mut o = String::new();
    o.push_str("# cwl-audit remediate: the missing pieces of each account's CWL-014 chain, as AWS CLI commands.\n");
    o.push_str("# Review before running; cwl-audit never runs them. <PLACEHOLDERS> are what the snapshots cannot know.\n");
    for p in &plan.accounts {
        o.push('\n');
        o.push_str(&account_header(p));
        for (i, s) in p.steps.iter().enumerate() {
            let _ = writeln!(
                o,
                "\n# {}/{} account {} {}: {}",
                i + 1,
                p.steps.len(),
                s.account_id,
                s.region,
                clean(&s.fixes)
            );
            o.push_str(&step_lines(s));
        }
    }
    if !plan.passing.is_empty() {
        let _ = writeln!(o, "\n# Passing, nothing to do: {}", plan.passing.join(", "));
    }
    if plan.accounts.is_empty() && plan.passing.is_empty() {
        o.push_str("\n# No account was evaluated.\n");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting() {
        assert_eq!(quote("us-east-1"), "us-east-1");
        assert_eq!(
            quote("arn:aws:sns:us-east-1:1:T"),
            "arn:aws:sns:us-east-1:1:T"
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("<SECURITY_EMAIL>"), "'<SECURITY_EMAIL>'");
        assert_eq!(quote(""), "''");
    }
}
