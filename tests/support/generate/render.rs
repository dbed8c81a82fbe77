//! The world as snapshot files (docs/snapshot-format.md), written in a random but equivalent
//! JSON form per file: key order, array order where the order means nothing, indentation,
//! compact or spread out, CRLF, `\/` and `\u` escapes. A JSON reader that depends on any of these
//! is wrong, so they are harmless changes by construction.
use super::model::*;
use super::rng::Rng;
use crate::support::snapshot as build;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// The snapshot of one loaded location. With `style.nulls`, optional keys the model leaves out
/// are written as `null`, which docs/snapshot-format.md defines as the same as absent. A section
/// whose call was denied is absent.
pub fn snapshot(w: &World, loc: &Loc, style: &Style) -> Value {
    let snap = w.snaps.get(loc).cloned().unwrap_or_default();
    let mut doc = build::empty(&loc.acct, &loc.region);
    let denied = |op: Op| w.denied(loc, op, None);
    for (op, section) in [
        (Op::DescribeTrails, "/cloudtrail"),
        (Op::DescribeMetricFilters, "/logs"),
        (Op::DescribeAlarms, "/cloudwatch"),
        (Op::ListSubscriptions, "/sns"),
    ] {
        if denied(op) {
            build::remove(&mut doc, section);
        }
    }
    if !denied(Op::DescribeTrails) {
        let list: Vec<Value> = w
            .trails
            .iter()
            .filter(|t| t.listed_in(loc))
            .map(|t| trail_record(t, style))
            .collect();
        doc["cloudtrail"]["trailList"] = Value::Array(list);
        for (i, t) in w.trails.iter().enumerate() {
            if t.home_loc() != *loc {
                continue;
            }
            if !w.denied(loc, Op::GetTrailStatus, Some(i)) {
                let mut status = build::Style::Fixture.logging_status();
                status["IsLogging"] = json!(t.logging);
                doc["cloudtrail"]["status"][t.arn()] = status;
            }
            if !w.denied(loc, Op::GetEventSelectors, Some(i)) {
                doc["cloudtrail"]["selectors"][t.arn()] = selectors_record(t);
            }
        }
        // A call denied for every trail leaves no map at all; denied for one trail, no entry.
        for (op, map) in [
            (Op::GetTrailStatus, "/cloudtrail/status"),
            (Op::GetEventSelectors, "/cloudtrail/selectors"),
        ] {
            if denied(op) {
                build::remove(&mut doc, map);
            }
        }
    }
    if !denied(Op::DescribeMetricFilters) {
        let filters: Vec<Value> = w
            .filters
            .iter()
            .filter(|f| f.loc == *loc)
            .map(|f| filter_record(f, style))
            .collect();
        doc["logs"]["metricFilters"] = Value::Array(filters);
    }
    if !denied(Op::DescribeAlarms) {
        let alarms: Vec<Value> = w
            .alarms
            .iter()
            .filter(|a| a.loc == *loc)
            .map(|a| alarm_record(a, style))
            .collect();
        doc["cloudwatch"]["MetricAlarms"] = Value::Array(alarms);
    }
    if !denied(Op::ListSubscriptions) {
        let subs: Vec<Value> = w
            .subs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.topic.loc == *loc)
            .map(|(i, s)| subscription_record(i, s))
            .collect();
        doc["sns"]["Subscriptions"] = Value::Array(subs);
    }
    let errors: Vec<Value> = snap
        .gaps
        .iter()
        .map(|((op, trail), gap)| {
            let resource = trail.map(|i| w.trails[i].arn());
            let code = match (gap, op.service()) {
                (Gap::Denied, "sns") => "AuthorizationError",
                (Gap::Denied, _) => "AccessDeniedException",
                (Gap::Partial, "sns") => "Throttling",
                (Gap::Partial, _) => "ThrottlingException",
            };
            json!({"service": op.service(), "operation": op.name(), "resource": resource,
                   "code": code, "message": format!("{} {}", op.name(), code)})
        })
        .collect();
    doc["errors"] = Value::Array(errors);
    doc
}

fn trail_record(t: &Trail, style: &Style) -> Value {
    let mut v = build::Trail {
        log_group_arn: t
            .log_group
            .as_ref()
            .map(|(loc, name)| log_group_arn(loc, name)),
        multi_region: t.multi_region,
        organization: t.organization,
        ..build::Trail::new(build::Style::Fixture, &t.owner, &t.home, &t.name)
    }
    .record();
    v["HasCustomEventSelectors"] = json!(!matches!(&t.selectors, Selectors::Basic(l)
            if l.len() == 1 && l[0].rw == Rw::All && l[0].include_management && l[0].exclude_sources.is_empty() && !l[0].data_s3));
    if t.log_group.is_none() && style.nulls {
        v["CloudWatchLogsLogGroupArn"] = Value::Null;
        v["CloudWatchLogsRoleArn"] = Value::Null;
    }
    v
}

fn selectors_record(t: &Trail) -> Value {
    match &t.selectors {
        Selectors::Basic(list) => {
            let es: Vec<Value> = list
                .iter()
                .map(|s| {
                    let data: Vec<Value> = if s.data_s3 {
                        vec![json!({"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]})]
                    } else {
                        Vec::new()
                    };
                    json!({"ReadWriteType": s.rw.as_str(), "IncludeManagementEvents": s.include_management,
                           "DataResources": data, "ExcludeManagementEventSources": s.exclude_sources})
                })
                .collect();
            json!({"TrailARN": t.arn(), "EventSelectors": es})
        }
        Selectors::Advanced(list) => {
            let aes: Vec<Value> = list
                .iter()
                .enumerate()
                .map(|(i, fields)| {
                    let fs: Vec<Value> = fields
                        .iter()
                        .map(|(f, eq)| json!({"Field": f, "Equals": eq}))
                        .collect();
                    json!({"Name": format!("selector {i}"), "FieldSelectors": fs})
                })
                .collect();
            json!({"TrailARN": t.arn(), "AdvancedEventSelectors": aes})
        }
    }
}

fn filter_record(f: &Filter, style: &Style) -> Value {
    let mut v = build::metric_filter(
        build::Style::Fixture,
        &f.log_group,
        &f.name,
        &f.pattern,
        &f.metric.name,
        &f.metric.namespace,
    );
    let mt = &mut v["metricTransformations"][0];
    mt["metricValue"] = json!(f.metric.value);
    match f.metric.default {
        Some(d) => mt["defaultValue"] = json!(d),
        // The API documents defaultValue as nullable.
        None if style.nulls => mt["defaultValue"] = Value::Null,
        None => {}
    }
    if f.metric.dimensions {
        mt["dimensions"] = json!({"EventName": "$.eventName"});
    }
    match f.metric.unit {
        Some(u) => mt["unit"] = json!(u),
        None if style.nulls => mt["unit"] = Value::Null,
        None => {}
    }
    v
}

fn actions(list: &[Action]) -> Vec<String> {
    list.iter()
        .map(|a| match a {
            Action::Topic(t) => t.arn(),
            Action::Other(s) => s.clone(),
        })
        .collect()
}

/// The alarm exactly as the model has it: every member is a fact of the model (not the shape of
/// `snapshot::one_event_alarm` with edits), so the oracle and the file cannot drift apart.
fn alarm_record(a: &Alarm, style: &Style) -> Value {
    let dims: Vec<Value> = a
        .watch
        .dims
        .iter()
        .map(|(n, v)| json!({"Name": n, "Value": v}))
        .collect();
    let mut v = json!({
        "AlarmName": a.name,
        "AlarmArn": alarm_arn(&a.loc, &a.name),
        "ActionsEnabled": a.actions_enabled,
        "AlarmActions": actions(&a.alarm_actions),
        "OKActions": actions(&a.ok_actions),
        "InsufficientDataActions": actions(&a.insufficient_actions),
        "EvaluationPeriods": a.evaluation_periods,
        "Threshold": a.threshold,
        "ComparisonOperator": a.comparison,
        "StateValue": "OK"
    });
    match a.watch.math {
        None => {
            v["MetricName"] = json!(a.watch.name);
            v["Namespace"] = json!(a.watch.namespace);
            let (stat_key, other) = if a.stat.starts_with('p') {
                ("ExtendedStatistic", "Statistic")
            } else {
                ("Statistic", "ExtendedStatistic")
            };
            v[stat_key] = json!(a.stat);
            if style.nulls {
                v[other] = Value::Null;
                v["Metrics"] = Value::Null;
                v["Unit"] = Value::Null;
            }
            if let Some(u) = a.watch.unit {
                v["Unit"] = json!(u);
            }
            v["Dimensions"] = json!(dims);
            v["Period"] = json!(a.period);
        }
        Some(shape) => {
            let mut stat = json!({"Metric": {"Namespace": a.watch.namespace, "MetricName": a.watch.name, "Dimensions": dims},
                              "Period": a.period, "Stat": a.stat});
            if let Some(u) = a.watch.unit {
                stat["Unit"] = json!(u);
            }
            let direct = shape == MathShape::Direct || shape == MathShape::TwoSeries;
            let mut metrics = vec![json!({"Id": "m1", "MetricStat": stat, "ReturnData": direct})];
            let expr = match shape {
                MathShape::Direct => None,
                MathShape::Fill => Some("FILL(m1, 0)"),
                MathShape::MinusOne => Some("m1 - 1"),
                MathShape::TwoSeries => Some("m1 * 2"),
            };
            if let Some(e) = expr {
                metrics.push(
                    json!({"Id": "e1", "Expression": e, "Label": "events", "ReturnData": true}),
                );
            }
            v["Metrics"] = json!(metrics);
            if style.nulls {
                for k in [
                    "MetricName",
                    "Namespace",
                    "Statistic",
                    "Dimensions",
                    "Period",
                ] {
                    v[k] = Value::Null;
                }
            }
        }
    }
    match a.datapoints {
        Some(d) => v["DatapointsToAlarm"] = json!(d),
        None if style.null_datapoints => v["DatapointsToAlarm"] = Value::Null,
        None => {}
    }
    match &a.treat_missing {
        Some(t) => v["TreatMissingData"] = json!(t),
        None if style.nulls => v["TreatMissingData"] = Value::Null,
        None => {}
    }
    if style.nulls {
        v["ThresholdMetricId"] = Value::Null;
    }
    v
}

fn subscription_record(i: usize, s: &Subscription) -> Value {
    let arn = if s.confirmed {
        format!("{}:6f1c2a4e-0b7d-4c55-9b1e-{:012x}", s.topic.arn(), i)
    } else {
        "PendingConfirmation".to_string()
    };
    let endpoint = match s.protocol.as_str() {
        "sms" => "+15555550100".to_string(),
        "lambda" => format!(
            "arn:aws:lambda:{}:{}:function:notify",
            s.topic.loc.region, s.topic.loc.acct
        ),
        _ => "security@example.com".to_string(),
    };
    build::subscription_of(&s.topic.arn(), arn, &s.protocol, &endpoint)
}

/// How one file is written.
#[derive(Clone, Debug)]
pub struct Style {
    /// None: everything on one line.
    pub indent: Option<&'static str>,
    pub newline: &'static str,
    pub space_after_colon: bool,
    pub shuffle_keys: bool,
    pub shuffle_arrays: bool,
    /// Per mille of characters written as `\uXXXX`, and whether `/` is written `\/`.
    pub unicode_escapes: u32,
    pub escape_slash: bool,
    /// Numbers the rule reads written in another JSON form (`1.0`, `1e0`, `10E-1`).
    pub number_forms: bool,
    /// Absent optional keys written as `null`.
    pub nulls: bool,
    /// Also an absent DatapointsToAlarm as `null` (OPEN: the tool fails it; GEN_OPEN=1 only).
    pub null_datapoints: bool,
}

impl Style {
    pub fn plain() -> Style {
        Style {
            indent: Some("  "),
            newline: "\n",
            space_after_colon: true,
            shuffle_keys: false,
            shuffle_arrays: false,
            unicode_escapes: 0,
            escape_slash: false,
            number_forms: false,
            nulls: false,
            null_datapoints: false,
        }
    }

    pub fn random(rng: &mut Rng, open: bool) -> Style {
        let nulls = rng.chance(1, 3);
        Style {
            indent: *rng.pick(&[None, Some("  "), Some("    "), Some("\t"), Some(" ")]),
            newline: ["\n", "\n", "\r\n"][rng.below(3)],
            space_after_colon: rng.chance(1, 2),
            shuffle_keys: rng.chance(2, 3),
            shuffle_arrays: rng.chance(1, 2),
            unicode_escapes: *rng.pick(&[0, 0, 20, 200]),
            escape_slash: rng.chance(1, 3),
            number_forms: rng.chance(1, 2),
            nulls,
            null_datapoints: nulls && open && rng.chance(1, 2),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "indent {:?}, newline {:?}, keys {}, arrays {}, \\u escapes {}‰, \\/ {}, number forms {}, nulls {}{}",
            self.indent,
            self.newline,
            if self.shuffle_keys { "shuffled" } else { "as built" },
            if self.shuffle_arrays { "shuffled" } else { "as built" },
            self.unicode_escapes,
            self.escape_slash,
            self.number_forms,
            self.nulls,
            if self.null_datapoints { " (DatapointsToAlarm too)" } else { "" }
        )
    }
}

/// Arrays whose order means nothing to AWS or to the rule (lists of resources, selectors and
/// actions); others (none generated today) keep their order.
const UNORDERED: [&str; 10] = [
    "trailList",
    "metricFilters",
    "MetricAlarms",
    "Subscriptions",
    "errors",
    "EventSelectors",
    "AdvancedEventSelectors",
    "AlarmActions",
    "OKActions",
    "Metrics",
];

/// Numbers the rule compares, which may be written in any JSON form of the same value.
const NUMERIC: [&str; 5] = [
    "Threshold",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Period",
    "defaultValue",
];

/// Another JSON spelling of `n`, exactly the same double.
fn number_form(n: &serde_json::Number, rng: &mut Rng) -> String {
    let Some(x) = n.as_f64() else {
        return n.to_string();
    };
    if x.fract() == 0.0 && x.abs() < 1e6 {
        let i = x as i64;
        match rng.below(4) {
            0 => format!("{i}"),
            1 => format!("{i}.0"),
            2 => format!("{i}e0"),
            _ => format!("{}E-1", i * 10),
        }
    } else {
        match rng.below(2) {
            0 => format!("{x}"),
            _ => format!("{}e-1", x * 10.0),
        }
    }
}

pub fn write(v: &Value, style: &Style, rng: &mut Rng) -> String {
    let mut out = String::new();
    value(v, style, rng, 0, None, &mut out);
    out.push_str(style.newline);
    out
}

fn value(v: &Value, st: &Style, rng: &mut Rng, depth: usize, key: Option<&str>, out: &mut String) {
    let nl = |out: &mut String, depth: usize| {
        if let Some(ind) = st.indent {
            out.push_str(st.newline);
            for _ in 0..depth {
                out.push_str(ind);
            }
        }
    };
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            if st.shuffle_keys {
                rng.shuffle(&mut keys);
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                string(k, st, rng, out);
                out.push(':');
                if st.space_after_colon || st.indent.is_some() {
                    out.push(' ');
                }
                value(&m[*k], st, rng, depth + 1, Some(k), out);
            }
            if !keys.is_empty() {
                nl(out, depth);
            }
            out.push('}');
        }
        Value::Array(a) => {
            let mut items: Vec<&Value> = a.iter().collect();
            if st.shuffle_arrays && key.is_some_and(|k| UNORDERED.contains(&k)) {
                rng.shuffle(&mut items);
            }
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                value(x, st, rng, depth + 1, None, out);
            }
            if !items.is_empty() {
                nl(out, depth);
            }
            out.push(']');
        }
        Value::String(s) => string(s, st, rng, out),
        Value::Number(n) if st.number_forms && key.is_some_and(|k| NUMERIC.contains(&k)) => {
            out.push_str(&number_form(n, rng))
        }
        other => out.push_str(&other.to_string()),
    }
}

fn string(s: &str, st: &Style, rng: &mut Rng, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' if st.escape_slash => out.push_str("\\/"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if st.unicode_escapes > 0
                && (c as u32) < 0x10000
                && rng.chance(st.unicode_escapes, 1000) =>
            {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
