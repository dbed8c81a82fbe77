//! A plan as Terraform configurations: one per account and region, each a directory of its own
//! (`<account>-<region>/main.tf`: Terraform reads every `.tf` file of a directory as one
//! configuration, so two accounts' files side by side would be one configuration with two
//! conflicting providers).
//!
//! Each file opens with a `provider "aws"` block for its region whose `allowed_account_ids` is
//! that one account: Terraform refuses to plan or apply with credentials of any other account,
//! the analogue of the CLI script's guard. Resources use the AWS provider's argument names
//! (`aws_cloudwatch_log_metric_filter`, `aws_cloudwatch_metric_alarm`, `aws_sns_topic`,
//! `aws_sns_topic_subscription`, `aws_cloudtrail`, and for CloudWatch Logs delivery
//! `aws_cloudwatch_log_group`, `aws_iam_role`, `aws_iam_role_policy`).
//!
//! Unlike CloudFormation, Terraform can take over a resource that exists: an `import` block adopts
//! it, and the resource block restates its whole configuration with the fix applied. So an
//! existing trail's fixes become one `aws_cloudtrail` with the trail's own name and every setting
//! the snapshots show (a resource block states the whole resource: a setting left out would be
//! reset), and a corrected filter or restated alarm becomes its resource with an `import`. A trail
//! whose configuration the snapshots do not show completely (no selectors, insight selectors),
//! and enabling an alarm's actions (the snapshots' alarm is not restated), stay AWS CLI commands
//! in the file's comments.
//!
//! Text is written from a small data model ([`Hcl`], [`Block`]), never by pasting values into
//! HCL: every string goes through [`string`], which escapes quotes, backslashes, control, line
//! separator and bidi characters, and doubles `${` and `%{` so no value is a template
//! interpolation or directive ([`safe`] already refuses such values; this is the second wall).
//! The only expressions are references cwl-audit builds from its own labels ([`Hcl::Expr`]).
//! Comments pass through [`clean`].
use super::{aws_cli, safe, Action, AlarmSpec, Plan, Step, TrailSeen, Unit, EMAIL_PLACEHOLDER};
use crate::text::clean;
use safe::Kind;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// `s` as an HCL quoted string: the one escaping function of this module.
pub fn string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            // `$${` and `%%{` are HCL's literal `${` and `%{`.
            '$' | '%' if chars.peek() == Some(&'{') => {
                o.push(c);
                o.push(c);
            }
            c if crate::text::is_hidden(c) => {
                let n = c as u32;
                if n > 0xFFFF {
                    let _ = write!(o, "\\U{n:08x}");
                } else {
                    let _ = write!(o, "\\u{n:04x}");
                }
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// An HCL value.
#[derive(Debug, Clone, PartialEq)]
enum Hcl {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    List(Vec<Hcl>),
    /// An object with string keys (alarm and metric dimensions).
    Map(Vec<(String, Hcl)>),
    /// An expression written by cwl-audit: a reference to a resource or variable of this file,
    /// built only from its own labels ([`reference`], [`var`]), never from snapshot data.
    Expr(String),
}

impl Hcl {
    fn render(&self, indent: usize, out: &mut String) {
        match self {
            Hcl::Str(s) => out.push_str(&string(s)),
            Hcl::Num(n) => out.push_str(&n.to_string()),
            Hcl::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Hcl::Expr(e) => out.push_str(e),
            Hcl::List(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    x.render(indent, out);
                }
                out.push(']');
            }
            Hcl::Map(entries) => {
                out.push_str("{\n");
                let keys: Vec<String> = entries.iter().map(|(k, _)| string(k)).collect();
                let widths = aligned(keys.iter().zip(entries).map(|(k, (_, v))| (k.len(), v)));
                for ((k, (_, v)), w) in keys.iter().zip(entries).zip(widths) {
                    let _ = write!(out, "{:i$}{k:<w$} = ", "", i = indent + 2);
                    v.render(indent + 2, out);
                    out.push('\n');
                }
                let _ = write!(out, "{:w$}}}", "", w = indent);
            }
        }
    }

    /// Whether the value is written on the line of its `=` (a map opens a block of lines).
    fn one_line(&self) -> bool {
        !matches!(self, Hcl::Map(_))
    }
}

/// The width each key is padded to, as `terraform fmt` aligns the `=` of an attribute: over each
/// run of consecutive one-line attributes of a body, the longest key (in bytes, as hclwrite counts
/// columns); an attribute whose value spans lines, and anything that is not an attribute, ends
/// the run and is not padded. `attrs`: (key length, value) per item, `None` for a nested block.
fn aligned<'a>(attrs: impl Iterator<Item = (usize, &'a Hcl)>) -> Vec<usize> {
    let items: Vec<Option<usize>> = attrs.map(|(len, v)| v.one_line().then_some(len)).collect();
    let mut widths = vec![0; items.len()];
    let mut start = 0;
    while start < items.len() {
        let end = (start..items.len())
            .find(|&i| items[i].is_none())
            .unwrap_or(items.len());
        let w = items[start..end]
            .iter()
            .flatten()
            .max()
            .copied()
            .unwrap_or(0);
        widths[start..end].fill(w);
        start = end + 1;
    }
    widths
}

fn s(v: &str) -> Hcl {
    Hcl::Str(v.to_string())
}

/// A resource of this file: its type and the label cwl-audit gave it.
#[derive(Debug, Clone)]
struct Res {
    ty: &'static str,
    label: String,
}

/// `TYPE.LABEL.ATTR`.
fn reference(r: &Res, attr: &'static str) -> Hcl {
    Hcl::Expr(format!("{}.{}.{attr}", r.ty, r.label))
}

fn var(name: &'static str) -> Hcl {
    Hcl::Expr(format!("var.{name}"))
}

/// A block: `head { body }`.
#[derive(Debug, Clone)]
struct Block {
    kind: &'static str,
    labels: Vec<String>,
    body: Vec<Item>,
}

#[derive(Debug, Clone)]
enum Item {
    Attr(&'static str, Hcl),
    Block(Block),
}

impl Block {
    fn new(kind: &'static str, labels: &[&str]) -> Block {
        Block {
            kind,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            body: vec![],
        }
    }

    fn attr(mut self, k: &'static str, v: Hcl) -> Block {
        self.set(k, v);
        self
    }

    /// Sets `k` (replacing an earlier value of it, in place).
    fn set(&mut self, k: &'static str, v: Hcl) {
        match self
            .body
            .iter_mut()
            .find(|i| matches!(i, Item::Attr(x, _) if *x == k))
        {
            Some(i) => *i = Item::Attr(k, v),
            None => self.body.push(Item::Attr(k, v)),
        }
    }

    fn block(mut self, b: Block) -> Block {
        self.body.push(Item::Block(b));
        self
    }

    fn render(&self, indent: usize, out: &mut String) {
        let _ = write!(out, "{:indent$}{}", "", self.kind);
        for l in &self.labels {
            let _ = write!(out, " {}", string(l));
        }
        out.push_str(" {\n");
        let nested = Hcl::Map(Vec::new());
        let widths = aligned(self.body.iter().map(|item| match item {
            Item::Attr(k, v) => (k.len(), v),
            // Not an attribute: ends the run like a multi-line value.
            Item::Block(_) => (0, &nested),
        }));
        for (item, w) in self.body.iter().zip(widths) {
            match item {
                Item::Attr(k, v) => {
                    let _ = write!(out, "{:i$}{k:<w$} = ", "", i = indent + 2);
                    v.render(indent + 2, out);
                    out.push('\n');
                }
                Item::Block(b) => b.render(indent + 2, out),
            }
        }
        let _ = writeln!(out, "{:indent$}}}", "");
    }
}

/// A trail resource being built from the steps that change it.
struct TrailDraft {
    res: Res,
    /// The existing trail's ARN (imported), or `None` for a trail this file creates.
    import: Option<String>,
    block: Block,
    /// Account and name, to find the trail a later step names by ARN.
    account: String,
    name: String,
}

/// One file's parts, built from the steps of one account and region.
#[derive(Default)]
struct File {
    resources: Vec<(Res, Block)>,
    imports: Vec<(Res, String)>,
    trails: Vec<TrailDraft>,
    labels: BTreeSet<String>,
    topics: Vec<(String, Res)>,
    log_groups: Vec<(String, Res)>,
    variables: BTreeSet<&'static str>,
    /// Steps outside Terraform: AWS CLI commands, shown as comments.
    outside: Vec<String>,
}

/// A label from `base`: lowercase letters, digits and `_`, starting with a letter; unique in the
/// file.
fn label_of(base: &str) -> String {
    let mut l: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !l.starts_with(|c: char| c.is_ascii_lowercase()) {
        l.insert_str(0, "r_");
    }
    l
}

impl File {
    fn res(&mut self, ty: &'static str, base: &str) -> Res {
        let base = label_of(base);
        let mut label = base.clone();
        let mut n = 2;
        while !self.labels.insert(format!("{ty}.{label}")) {
            label = format!("{base}_{n}");
            n += 1;
        }
        Res { ty, label }
    }

    fn add(&mut self, r: &Res, b: Block) {
        self.resources.push((r.clone(), b));
    }

    fn topic(&self, arn: &str) -> Hcl {
        match self.topics.iter().find(|(a, _)| a == arn) {
            Some((_, r)) => reference(r, "arn"),
            None => s(arn),
        }
    }

    /// A step left to the AWS CLI: why (once, when several steps share the reason, such as two
    /// fixes of one trail), then its commands.
    fn outside_step(&mut self, step: &Step, why: Option<&str>) {
        if let Some(line) = why.map(str::to_string) {
            if !self.outside.contains(&line) {
                self.outside.push(line);
            }
        }
        // A step that is not run lists its commands for review, each marked so: nothing below a
        // "Then, outside Terraform" line may read as a command to run.
        let mark = if step.manual.is_some() {
            "(not run) "
        } else {
            ""
        };
        self.outside.extend(
            aws_cli::calls(step)
                .into_iter()
                .map(|c| format!("{mark}{}", c.render())),
        );
    }
}

/// The alarm members of `PutMetricAlarm` and their `aws_cloudwatch_metric_alarm` arguments.
const ALARM_ARGS: [(&str, &str); 19] = [
    ("AlarmName", "alarm_name"),
    ("AlarmDescription", "alarm_description"),
    ("ActionsEnabled", "actions_enabled"),
    ("AlarmActions", "alarm_actions"),
    ("OKActions", "ok_actions"),
    ("InsufficientDataActions", "insufficient_data_actions"),
    ("MetricName", "metric_name"),
    ("Namespace", "namespace"),
    ("Statistic", "statistic"),
    ("ExtendedStatistic", "extended_statistic"),
    ("Dimensions", "dimensions"),
    ("Period", "period"),
    ("Unit", "unit"),
    ("EvaluationPeriods", "evaluation_periods"),
    ("DatapointsToAlarm", "datapoints_to_alarm"),
    ("Threshold", "threshold"),
    ("ComparisonOperator", "comparison_operator"),
    ("TreatMissingData", "treat_missing_data"),
    (
        "EvaluateLowSampleCountPercentile",
        "evaluate_low_sample_count_percentiles",
    ),
];

/// A JSON scalar as HCL; `Err` for anything else.
fn scalar(v: &Value) -> Result<Hcl, String> {
    match v {
        Value::String(x) => Ok(s(x)),
        Value::Number(n) => Ok(Hcl::Num(n.clone())),
        Value::Bool(b) => Ok(Hcl::Bool(*b)),
        other => Err(format!(
            "{} is not a single value",
            safe::shown(&other.to_string())
        )),
    }
}

fn strings(v: &Value) -> Result<Hcl, String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(scalar)
            .collect::<Result<_, _>>()
            .map(Hcl::List),
        other => Err(format!("{} is not a list", safe::shown(&other.to_string()))),
    }
}

/// `[{Name, Value}]` (CloudWatch dimensions) as a map.
fn dimensions(v: &Value) -> Result<Hcl, String> {
    let mut out = Vec::new();
    for d in v.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        match (
            d.get("Name").and_then(Value::as_str),
            d.get("Value").and_then(Value::as_str),
        ) {
            (Some(n), Some(x)) => out.push((n.to_string(), s(x))),
            _ => return Err("a dimension without Name and Value".into()),
        }
    }
    Ok(Hcl::Map(out))
}

/// An object's members, each mapped by `f` to arguments and blocks; a member `f` does not know
/// makes the whole object unusable (restating it without that member would change it).
fn members(
    o: &Value,
    what: &str,
    mut f: impl FnMut(&str, &Value, &mut Block) -> Result<bool, String>,
    into: &mut Block,
) -> Result<(), String> {
    let Some(m) = o.as_object() else {
        return Err(format!("{what} is not an object"));
    };
    for (k, v) in m {
        if !f(k, v, into)? {
            return Err(format!(
                "{what} has {}, which cwl-audit cannot write as Terraform",
                safe::shown(k)
            ));
        }
    }
    Ok(())
}

/// `Metrics` (metric math) as `metric_query` blocks.
fn metric_queries(v: &Value, into: &mut Block) -> Result<(), String> {
    for q in v.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let mut b = Block::new("metric_query", &[]);
        members(
            q,
            "a metric query",
            |k, x, b| {
                let arg = match k {
                    "Id" => "id",
                    "Expression" => "expression",
                    "Label" => "label",
                    "ReturnData" => "return_data",
                    "Period" => "period",
                    "AccountId" => "account_id",
                    "MetricStat" => {
                        let mut m = Block::new("metric", &[]);
                        members(
                            x,
                            "a metric stat",
                            |k, y, m| {
                                match k {
                                    "Metric" => members(
                                        y,
                                        "a metric",
                                        |k, z, m| {
                                            match k {
                                                "Namespace" => m.set("namespace", scalar(z)?),
                                                "MetricName" => m.set("metric_name", scalar(z)?),
                                                "Dimensions" => m.set("dimensions", dimensions(z)?),
                                                _ => return Ok(false),
                                            }
                                            Ok(true)
                                        },
                                        m,
                                    )?,
                                    "Period" => m.set("period", scalar(y)?),
                                    "Stat" => m.set("stat", scalar(y)?),
                                    "Unit" => m.set("unit", scalar(y)?),
                                    _ => return Ok(false),
                                }
                                Ok(true)
                            },
                            &mut m,
                        )?;
                        b.body.push(Item::Block(m));
                        return Ok(true);
                    }
                    _ => return Ok(false),
                };
                b.set(arg, scalar(x)?);
                Ok(true)
            },
            &mut b,
        )?;
        into.body.push(Item::Block(b));
    }
    Ok(())
}

fn alarm_block(file: &File, r: &Res, alarm: &AlarmSpec) -> Result<Block, String> {
    let mut b = Block::new("resource", &[r.ty, &r.label]);
    for (k, v) in alarm {
        if k == "Metrics" {
            metric_queries(v, &mut b)?;
            continue;
        }
        let Some((_, arg)) = ALARM_ARGS.iter().find(|(m, _)| m == k) else {
            return Err(format!(
                "the alarm has {}, which cwl-audit cannot write as Terraform",
                safe::shown(k)
            ));
        };
        let x = match k.as_str() {
            "AlarmActions" | "OKActions" | "InsufficientDataActions" => Hcl::List(
                v.as_array()
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                    .iter()
                    .map(|a| {
                        a.as_str()
                            .map(|a| file.topic(a))
                            .ok_or("an action that is no ARN")
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "Dimensions" => dimensions(v)?,
            _ => scalar(v)?,
        };
        b.set(arg, x);
    }
    Ok(b)
}

/// Event selectors (`GetEventSelectors` shape) as `event_selector` / `advanced_event_selector`
/// blocks.
fn selector_blocks(basic: Option<&Value>, advanced: Option<&Value>) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    for sel in basic
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let mut b = Block::new("event_selector", &[]);
        members(
            sel,
            "an event selector",
            |k, v, b| {
                match k {
                    "ReadWriteType" => b.set("read_write_type", scalar(v)?),
                    "IncludeManagementEvents" => b.set("include_management_events", scalar(v)?),
                    "ExcludeManagementEventSources" => {
                        b.set("exclude_management_event_sources", strings(v)?)
                    }
                    "DataResources" => {
                        for d in v.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                            let mut r = Block::new("data_resource", &[]);
                            members(
                                d,
                                "a data resource",
                                |k, x, r| {
                                    match k {
                                        "Type" => r.set("type", scalar(x)?),
                                        "Values" => r.set("values", strings(x)?),
                                        _ => return Ok(false),
                                    }
                                    Ok(true)
                                },
                                &mut r,
                            )?;
                            b.body.push(Item::Block(r));
                        }
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            },
            &mut b,
        )?;
        out.push(b);
    }
    for sel in advanced
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let mut b = Block::new("advanced_event_selector", &[]);
        members(
            sel,
            "an advanced event selector",
            |k, v, b| {
                match k {
                    "Name" => b.set("name", scalar(v)?),
                    "FieldSelectors" => {
                        for f in v.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                            let mut fb = Block::new("field_selector", &[]);
                            members(
                                f,
                                "a field selector",
                                |k, x, fb| {
                                    let arg = match k {
                                        "Field" => {
                                            fb.set("field", scalar(x)?);
                                            return Ok(true);
                                        }
                                        "Equals" => "equals",
                                        "NotEquals" => "not_equals",
                                        "StartsWith" => "starts_with",
                                        "NotStartsWith" => "not_starts_with",
                                        "EndsWith" => "ends_with",
                                        "NotEndsWith" => "not_ends_with",
                                        _ => return Ok(false),
                                    };
                                    fb.set(arg, strings(x)?);
                                    Ok(true)
                                },
                                &mut fb,
                            )?;
                            b.body.push(Item::Block(fb));
                        }
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            },
            &mut b,
        )?;
        out.push(b);
    }
    Ok(out)
}

/// Every string a selector document holds, checked as an action's structured values are.
fn check_strings(v: &Value) -> Result<(), String> {
    match v {
        Value::String(x) => safe::check(Kind::Text, x),
        Value::Array(a) => a.iter().try_for_each(check_strings),
        Value::Object(o) => o.iter().try_for_each(|(k, x)| {
            safe::check(Kind::Text, k)?;
            check_strings(x)
        }),
        _ => Ok(()),
    }
}

/// An existing trail restated from the snapshots: every setting they show, each checked by
/// [`safe`]; `Err` when the snapshots do not show the whole configuration.
fn existing_trail(
    file: &mut File,
    arn: &str,
    seen: Option<&TrailSeen>,
) -> Result<TrailDraft, String> {
    let seen = seen.ok_or("no snapshot shows the trail")?;
    let rec = &seen.record;
    let text = |k: &str| rec.get(k).and_then(Value::as_str).filter(|x| !x.is_empty());
    let name = text("Name").ok_or("no snapshot shows the trail")?;
    safe::check(Kind::TrailName, name)?;
    if rec.get("HasInsightSelectors") == Some(&Value::Bool(true)) {
        return Err("the trail has insight selectors, which the snapshots do not show (Terraform would remove them)".into());
    }
    let sel = seen.selectors.as_ref().ok_or(
        "the snapshots do not show the trail's event selectors (Terraform would replace them)",
    )?;
    let logging = seen
        .logging
        .ok_or("the snapshots do not show whether the trail logs")?;
    let res = file.res("aws_cloudtrail", name);
    let mut b = Block::new("resource", &[res.ty, &res.label]).attr("name", s(name));
    for (member, arg, kind) in [
        ("S3BucketName", "s3_bucket_name", Kind::Bucket),
        ("S3KeyPrefix", "s3_key_prefix", Kind::KeyPrefix),
        ("SnsTopicARN", "sns_topic_name", Kind::TopicArn),
        ("KmsKeyId", "kms_key_id", Kind::KmsKeyArn),
        (
            "CloudWatchLogsLogGroupArn",
            "cloud_watch_logs_group_arn",
            Kind::ActionArn,
        ),
        (
            "CloudWatchLogsRoleArn",
            "cloud_watch_logs_role_arn",
            Kind::RoleArn,
        ),
    ] {
        if let Some(v) = text(member) {
            safe::check(kind, v)?;
            b.set(arg, s(v));
        }
    }
    if text("S3BucketName").is_none() {
        return Err("the snapshots do not show the trail's S3 bucket".into());
    }
    for (member, arg) in [
        (
            "IncludeGlobalServiceEvents",
            "include_global_service_events",
        ),
        ("IsMultiRegionTrail", "is_multi_region_trail"),
        ("IsOrganizationTrail", "is_organization_trail"),
        ("LogFileValidationEnabled", "enable_log_file_validation"),
    ] {
        b.set(arg, Hcl::Bool(rec.get(member) == Some(&Value::Bool(true))));
    }
    b.set("enable_logging", Hcl::Bool(logging));
    check_strings(sel)?;
    for x in selector_blocks(sel.get("EventSelectors"), sel.get("AdvancedEventSelectors"))? {
        b.body.push(Item::Block(x));
    }
    let account = crate::arn::Arn::parse(arn)
        .map(|a| a.account.to_string())
        .unwrap_or_default();
    Ok(TrailDraft {
        res,
        import: Some(arn.to_string()),
        block: b,
        account,
        name: name.to_string(),
    })
}

/// The draft of the trail `arn` names: one this file creates (matched by account and name: its
/// ARN is not known before it exists), or one imported.
fn trail_for<'a>(file: &'a mut File, plan: &Plan, arn: &str) -> Result<&'a mut TrailDraft, String> {
    let parsed = crate::arn::Arn::parse(arn);
    let name = parsed
        .as_ref()
        .and_then(crate::arn::trail_name)
        .unwrap_or_default();
    let account = parsed.map(|a| a.account).unwrap_or_default();
    let i = match file.trails.iter().position(|t| {
        t.import.as_deref() == Some(arn)
            || (t.import.is_none() && t.name == name && t.account == account)
    }) {
        Some(i) => i,
        None => {
            let d = existing_trail(file, arn, plan.trails.get(arn))?;
            file.trails.push(d);
            file.trails.len() - 1
        }
    };
    Ok(&mut file.trails[i])
}

fn step_into(file: &mut File, plan: &Plan, step: &Step) -> Result<(), String> {
    let rule = step.rules.first().map_or("", String::as_str);
    let rule_base: String = rule.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    match &step.action {
        Action::CreateTopic { name, arn } => {
            let r = file.res("aws_sns_topic", "alarms");
            file.add(
                &r,
                Block::new("resource", &[r.ty, &r.label]).attr("name", s(name)),
            );
            file.topics.push((arn.clone(), r));
        }
        Action::Subscribe {
            topic_arn,
            endpoint,
            ..
        } => {
            let endpoint = if endpoint == EMAIL_PLACEHOLDER {
                file.variables.insert("security_email");
                var("security_email")
            } else {
                s(endpoint)
            };
            let r = file.res("aws_sns_topic_subscription", "alarm_email");
            let b = Block::new("resource", &[r.ty, &r.label])
                .attr("topic_arn", file.topic(topic_arn))
                .attr("protocol", s("email"))
                .attr("endpoint", endpoint);
            file.add(&r, b);
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
            let group = match file.log_groups.iter().find(|(n, _)| n == log_group) {
                Some((_, r)) => reference(r, "name"),
                None => s(log_group),
            };
            let r = file.res(
                "aws_cloudwatch_log_metric_filter",
                &format!("{rule_base}_filter"),
            );
            let b = Block::new("resource", &[r.ty, &r.label])
                .attr("name", s(filter_name))
                .attr("pattern", s(pattern))
                .attr("log_group_name", group)
                .block({
                    let t = Block::new("metric_transformation", &[])
                        .attr("name", s(metric))
                        .attr("namespace", s(namespace))
                        .attr("value", s("1"));
                    match unit {
                        Some(u) => t.attr("unit", s(u)),
                        None => t,
                    }
                });
            if *existing {
                // The provider's import id of a metric filter: `log_group_name:name`.
                file.imports
                    .push((r.clone(), format!("{log_group}:{filter_name}")));
            }
            file.add(&r, b);
        }
        Action::PutMetricAlarm { alarm, existing } => {
            let r = file.res("aws_cloudwatch_metric_alarm", &format!("{rule_base}_alarm"));
            let b = alarm_block(file, &r, alarm)?;
            if *existing {
                let name = alarm
                    .get("AlarmName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                file.imports.push((r.clone(), name.to_string()));
            }
            file.add(&r, b);
        }
        Action::CreateTrail { name } => {
            file.variables.insert("cloudtrail_bucket");
            let res = file.res("aws_cloudtrail", name);
            let mut b = Block::new("resource", &[res.ty, &res.label])
                .attr("name", s(name))
                .attr("s3_bucket_name", var("cloudtrail_bucket"))
                .attr("is_multi_region_trail", Hcl::Bool(true))
                .attr("include_global_service_events", Hcl::Bool(true))
                .attr("enable_logging", Hcl::Bool(true));
            for x in selector_blocks(Some(&aws_cli::all_management_events()), None)? {
                b.body.push(Item::Block(x));
            }
            file.trails.push(TrailDraft {
                res,
                import: None,
                block: b,
                account: step.account_id.clone(),
                name: name.clone(),
            });
        }
        Action::StartLogging { trail_arn } => {
            trail_for(file, plan, trail_arn)?
                .block
                .set("enable_logging", Hcl::Bool(true));
        }
        Action::MakeMultiRegion { trail_arn } => {
            let t = trail_for(file, plan, trail_arn)?;
            t.block.set("is_multi_region_trail", Hcl::Bool(true));
            t.block
                .set("include_global_service_events", Hcl::Bool(true));
        }
        Action::PutEventSelectors {
            trail_arn,
            basic,
            advanced,
        } => {
            let blocks = selector_blocks(basic.as_ref(), advanced.as_ref())?;
            let t = trail_for(file, plan, trail_arn)?;
            t.block.body.retain(|i| {
                !matches!(i, Item::Block(b) if b.kind == "event_selector" || b.kind == "advanced_event_selector")
            });
            t.block.body.extend(blocks.into_iter().map(Item::Block));
        }
        Action::DeliverToLogs {
            trail_arn,
            log_group,
            role_arn,
            role_name,
        } => {
            // Found (or its refusal known) before anything is added for it.
            trail_for(file, plan, trail_arn)?;
            let lg = file.res("aws_cloudwatch_log_group", "trail");
            file.add(
                &lg,
                Block::new("resource", &[lg.ty, &lg.label]).attr("name", s(log_group)),
            );
            file.log_groups.push((log_group.clone(), lg.clone()));
            let role = match role_arn {
                Some(existing) => s(existing),
                None => {
                    // The same documents as the CLI's create-role and put-role-policy.
                    let call = aws_cli::calls(step);
                    let doc = |op: &str, member: &str| {
                        call.iter()
                            .find(|c| c.operation == op)
                            .and_then(|c| c.input.get(member))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    let r = file.res("aws_iam_role", "trail_logs");
                    file.add(
                        &r,
                        Block::new("resource", &[r.ty, &r.label])
                            .attr("name", s(role_name))
                            .attr(
                                "assume_role_policy",
                                s(&doc("create-role", "AssumeRolePolicyDocument")),
                            ),
                    );
                    let p = file.res("aws_iam_role_policy", "trail_logs");
                    file.add(
                        &p,
                        Block::new("resource", &[p.ty, &p.label])
                            .attr("name", s(&doc("put-role-policy", "PolicyName")))
                            .attr("role", reference(&r, "id"))
                            .attr("policy", s(&doc("put-role-policy", "PolicyDocument"))),
                    );
                    reference(&r, "arn")
                }
            };
            let t = trail_for(file, plan, trail_arn)?;
            // CloudTrail wants the log group's ARN with its streams' wildcard.
            t.block.set(
                "cloud_watch_logs_group_arn",
                Hcl::Expr(format!("format(\"%s:*\", {}.{}.arn)", lg.ty, lg.label)),
            );
            t.block.set("cloud_watch_logs_role_arn", role);
        }
        Action::EnableAlarmActions { .. } => file.outside_step(step, None),
    }
    Ok(())
}

fn build(plan: &Plan, steps: &[&Step]) -> File {
    let mut file = File::default();
    for step in steps {
        if let Some(heading) = step.not_run() {
            file.outside_step(step, Some(&heading));
            continue;
        }
        // A step that cannot be written whole is left to the AWS CLI: nothing half-written.
        let before = (file.resources.len(), file.imports.len(), file.trails.len());
        if let Err(why) = step_into(&mut file, plan, step) {
            file.resources.truncate(before.0);
            file.imports.truncate(before.1);
            file.trails.truncate(before.2);
            file.outside_step(
                step,
                Some(&format!(
                    "not written as Terraform ({why}); these AWS CLI commands instead:"
                )),
            );
        }
    }
    file
}

/// The resource types cwl-audit writes that have `tags` (a metric filter has none, and
/// `ignore_changes` naming an attribute the type lacks is an error).
const TAGGED: [&str; 3] = [
    "aws_cloudtrail",
    "aws_cloudwatch_metric_alarm",
    "aws_sns_topic",
];

const VARIABLES: [(&str, &str); 2] = [
    (
        "security_email",
        "E-mail address that receives the alarms; confirm the subscription with the link AWS sends to it",
    ),
    (
        "cloudtrail_bucket",
        "S3 bucket for the trail's log files; its bucket policy must let cloudtrail.amazonaws.com write",
    ),
];

/// The configuration (HCL text), or `None` when nothing is for Terraform; and the steps outside it.
fn configuration(
    plan: &Plan,
    account: &str,
    region: &str,
    steps: &[&Step],
) -> (Option<String>, Vec<String>) {
    let mut file = build(plan, steps);
    for t in std::mem::take(&mut file.trails) {
        if let Some(arn) = &t.import {
            file.imports.push((t.res.clone(), arn.clone()));
        }
        file.resources.push((t.res, t.block));
    }
    if file.resources.is_empty() {
        return (None, file.outside);
    }
    let mut rules: Vec<String> = steps.iter().flat_map(|s| s.rules.clone()).collect();
    rules.sort();
    rules.dedup();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# cwl-audit remediate: the missing pieces of the alarm chains ({}) in account {} {}.",
        clean(&rules.join(", ")),
        clean(account),
        clean(region)
    );
    o.push_str("# Review, then in this directory: terraform init && terraform plan && terraform apply.\n# The provider refuses credentials of any other account (allowed_account_ids). Never applied by cwl-audit.\n");
    if !file.imports.is_empty() {
        o.push_str("# Existing resources are imported and restated with the fix: `terraform plan` must show only the\n# changes listed in cwl-audit's plan. Their tags, which snapshots do not show, are left as they are\n# (lifecycle ignore_changes).\n");
    }
    for c in &file.outside {
        let _ = writeln!(o, "# Outside Terraform: {}", clean(c));
    }
    o.push('\n');
    let mut blocks = vec![
        Block::new("terraform", &[])
            .attr("required_version", s(">= 1.5.0"))
            .block(Block::new("required_providers", &[]).attr(
                "aws",
                Hcl::Map(vec![
                    ("source".into(), s("hashicorp/aws")),
                    ("version".into(), s(">= 5.0")),
                ]),
            )),
        Block::new("provider", &["aws"])
            .attr("region", s(region))
            .attr("allowed_account_ids", Hcl::List(vec![s(account)])),
    ];
    for (name, description) in VARIABLES {
        if file.variables.contains(name) {
            blocks.push(
                Block::new("variable", &[name])
                    .attr("type", Hcl::Expr("string".into()))
                    .attr("description", s(description)),
            );
        }
    }
    for (r, id) in &file.imports {
        blocks.push(
            Block::new("import", &[])
                .attr("to", Hcl::Expr(format!("{}.{}", r.ty, r.label)))
                .attr("id", s(id)),
        );
    }
    for (r, b) in file.resources {
        // DescribeTrails and DescribeAlarms do not return tags, so an imported resource's block
        // cannot restate them, and without this `terraform apply` would delete them.
        let imported = file
            .imports
            .iter()
            .any(|(i, _)| i.ty == r.ty && i.label == r.label);
        blocks.push(if imported && TAGGED.contains(&r.ty) {
            b.block(Block::new("lifecycle", &[]).attr(
                "ignore_changes",
                Hcl::List(vec![Hcl::Expr("tags".into()), Hcl::Expr("tags_all".into())]),
            ))
        } else {
            b
        });
    }
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            o.push('\n');
        }
        b.render(0, &mut o);
    }
    (Some(o), file.outside)
}

/// Every configuration (`<account>-<region>/main.tf`) and note of the plan, in order.
pub fn units(plan: &Plan) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for view in plan.accounts() {
        let mut text = format!(
            "# === account {}\n{}",
            clean(&view.account_id),
            aws_cli::account_header(plan, &view.account_id)
        );
        let mut groups: Vec<(String, Vec<&Step>)> = Vec::new();
        for (_, st) in &view.steps {
            match groups.iter_mut().find(|(r, _)| *r == st.region) {
                Some((_, v)) => v.push(st),
                None => groups.push((st.region.clone(), vec![st])),
            }
        }
        for (region, steps) in groups {
            match configuration(plan, &view.account_id, &region, &steps) {
                (Some(hcl), outside) => {
                    let file = format!("{}-{region}/main.tf", view.account_id);
                    let _ = writeln!(
                        text,
                        "#     Terraform configuration {}: apply it with credentials of account {}.",
                        clean(&file),
                        clean(&view.account_id)
                    );
                    for c in outside {
                        let _ = writeln!(text, "#     Then, outside Terraform: {}", clean(&c));
                    }
                    out.push(Unit {
                        file: None,
                        text: std::mem::take(&mut text),
                    });
                    out.push(Unit {
                        file: Some(file),
                        text: hcl,
                    });
                }
                (None, outside) => {
                    let _ = writeln!(
                        text,
                        "#     No Terraform configuration for account {} {}: run these AWS CLI commands instead:",
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

/// The whole plan as one text: notes as comments, each configuration after a `# file:` line
/// (`--output-dir DIR` writes each to its own directory).
pub fn render(plan: &Plan) -> String {
    let mut o = String::new();
    o.push_str("# cwl-audit remediate: Terraform configurations with the missing pieces of each account's alarm chains.\n");
    o.push_str("# One configuration per account and region; `--output-dir DIR` writes each to DIR/<account>-<region>/main.tf.\n");
    for u in units(plan) {
        if let Some(f) = &u.file {
            let _ = writeln!(o, "\n# ==== file: {}", clean(f));
        } else {
            o.push('\n');
        }
        o.push_str(&u.text);
    }
    if !plan.passing.is_empty() {
        let _ = writeln!(
            o,
            "\n# Passing, nothing to do: {}",
            clean(&plan.passing.join(", "))
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_for_hcl() {
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("${x} %{if y}"), r#""$${x} %%{if y}""#);
        assert_eq!(string("$ % {"), r#""$ % {""#);
        assert_eq!(string("a\u{200b}b"), r#""a\u200bb""#);
        assert_eq!(
            string("l\nr\r\u{2028}\u{85}\u{202e}\u{1b}"),
            r#""l\nr\r\u2028\u0085\u202e\u001b""#
        );
    }

    #[test]
    fn blocks_render_with_references() {
        let r = Res {
            ty: "aws_sns_topic",
            label: "alarms".into(),
        };
        let mut o = String::new();
        Block::new("resource", &["aws_x", "y"])
            .attr("topic", reference(&r, "arn"))
            .attr("names", Hcl::List(vec![s("a"), s("b${c}")]))
            .block(Block::new("inner", &[]).attr("n", Hcl::Bool(true)))
            .render(0, &mut o);
        assert_eq!(
            o,
            "resource \"aws_x\" \"y\" {\n  topic = aws_sns_topic.alarms.arn\n  names = [\"a\", \"b$${c}\"]\n  inner {\n    n = true\n  }\n}\n"
        );
    }

    #[test]
    fn labels_are_identifiers() {
        assert_eq!(label_of("CWL014_filter"), "cwl014_filter");
        assert_eq!(label_of("1-x"), "r_1_x");
    }
}
