//! Links 5 and 6 of the chain: the alarms on the filter's metric and the SNS topics they notify
//! (lib.chain, "5. alarm", "6. notification").
use super::filter::{metric_name, plain, position, unit_of};
use super::trail::LogGroupRef;
use super::vals::{
    complete, get, indexed, is_number, is_true, list, missing_pointer, need_str, num, num_cmp, obj,
    op_errors, opt, path, quote, reason, s, str_of, text, unread, zero, Fallback, K, R,
};
use super::{Ctx, Loc, Outcome, State};
use regex::Regex;
use regorus::Value;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// What an alarm watches of the metric: `_watched(a, ns, name)`.
struct Watch<'a> {
    /// The `Metrics[]` query on the metric, for a metric-math alarm.
    query: Option<&'a Value>,
    dimensions: &'a [Value],
    stat: &'a Value,
    unit: Option<&'a Value>,
}

struct Entry<'a> {
    index: usize,
    alarm: &'a Value,
    watch: Watch<'a>,
}

static EMPTY: LazyLock<Value> = LazyLock::new(|| s(""));

fn watched<'a>(a: &'a Value, ns: &Value, name: &Value) -> Option<Watch<'a>> {
    if get(a, &K.Namespace) == ns && get(a, &K.MetricName) == name {
        return Some(Watch {
            query: None,
            dimensions: list(opt(a, &K.Dimensions).unwrap_or(&Value::Null)),
            stat: opt(a, &K.Statistic)
                .or_else(|| opt(a, &K.ExtendedStatistic))
                .unwrap_or(&EMPTY),
            unit: opt(a, &K.Unit),
        });
    }
    let q = list(get(a, &K.Metrics)).iter().find(|m| {
        let metric = path(m, &[&K.MetricStat, &K.Metric]);
        get(metric, &K.Namespace) == ns && get(metric, &K.MetricName) == name
    })?;
    let stat = get(q, &K.MetricStat);
    Some(Watch {
        query: Some(q),
        dimensions: list(opt(get(stat, &K.Metric), &K.Dimensions).unwrap_or(&Value::Null)),
        stat: opt(stat, &K.Stat).unwrap_or(&EMPTY),
        unit: opt(stat, &K.Unit),
    })
}

fn alarms(snap: &Value) -> &[Value] {
    list(path(snap, &[&K.cloudwatch, &K.MetricAlarms]))
}

/// `_alarms_on(s, ns, name)`: single-metric alarms on the metric, then metric-math ones.
fn alarms_on<'a>(snap: &'a Value, ns: &Value, name: &Value) -> R<Vec<Entry<'a>>> {
    let all = alarms(snap);
    if let (Some(single), Some(math)) = (
        indexed(snap, &[&K.alarms, ns, name]),
        indexed(snap, &[&K.math_alarms, ns, name]),
    ) {
        let mut out = Vec::new();
        for (positions, want_math) in [(single, false), (math, true)] {
            for p in positions {
                let index = position(p)?;
                let alarm = all.get(index).ok_or(Fallback)?;
                match watched(alarm, ns, name) {
                    Some(watch) if watch.query.is_some() == want_math => out.push(Entry {
                        index,
                        alarm,
                        watch,
                    }),
                    // An indexed single-metric alarm always watches the metric itself.
                    _ if !want_math => return Err(Fallback),
                    _ => {}
                }
            }
        }
        return Ok(out);
    }
    let mut out: Vec<Entry> = all
        .iter()
        .enumerate()
        .filter(|(_, a)| get(a, &K.MetricName) == name && get(a, &K.Namespace) == ns)
        .filter_map(|(index, alarm)| {
            Some(Entry {
                index,
                alarm,
                watch: watched(alarm, ns, name)?,
            })
        })
        .collect();
    out.extend(
        all.iter()
            .enumerate()
            .filter(|(_, a)| matches!(get(a, &K.Metrics), Value::Array(_)))
            .filter_map(|(index, alarm)| {
                let watch = watched(alarm, ns, name)?;
                watch.query.is_some().then_some(Entry {
                    index,
                    alarm,
                    watch,
                })
            }),
    );
    Ok(out)
}

/// `_after_alarms(lg, s, mt, value, on, chain, params)`.
pub fn after_alarms(
    c: &Ctx,
    lg: &LogGroupRef,
    snap: &Value,
    mt: &Value,
    value: &Value,
    chain: Vec<Value>,
    out: &mut Vec<Outcome>,
) -> R<()> {
    let ns = get(mt, &K.metricNamespace);
    let name = get(mt, &K.metricName);
    let metric = metric_name(mt)?;
    let on = alarms_on(snap, ns, name)?;
    let section = path(snap, &[&K.cloudwatch, &K.MetricAlarms]);
    if on.is_empty() {
        let (state, message, pointer) = if complete(snap, section, "DescribeAlarms") {
            (
                State::Fail,
                format!(
                    "no alarm on metric {metric} in {} (account {}){}",
                    lg.region,
                    lg.account,
                    alarm_hint(c, lg, snap, ns, name)?
                ),
                "/cloudwatch/MetricAlarms".to_string(),
            )
        } else {
            (
                State::Unknown,
                format!(
                    "the alarms of {} (account {}) {}",
                    lg.region,
                    lg.account,
                    unread(
                        section,
                        &reason(snap, "DescribeAlarms", None),
                        &format!("on metric {metric}")
                    )
                ),
                missing_pointer(snap, "DescribeAlarms", None, "/cloudwatch"),
            )
        };
        out.push(Outcome::new(
            state,
            4,
            "alarm",
            message,
            lg.at(pointer),
            metric,
            chain,
        ));
        return Ok(());
    }
    for entry in &on {
        after_alarm(c, lg, mt, value, entry, &chain, out)?;
    }
    if !op_errors(snap, "DescribeAlarms", None).is_empty() {
        out.push(Outcome::new(
            State::Unknown,
            4,
            "alarm",
            format!(
                "the alarms of {} (account {}) were listed only in part ({}), so an alarm that completes the chain may be missing",
                lg.region,
                lg.account,
                reason(snap, "DescribeAlarms", None)
            ),
            lg.at(missing_pointer(snap, "DescribeAlarms", None, "/cloudwatch"),
            ),
            metric,
            chain,
        ));
    }
    Ok(())
}

/// `_alarm_hint(lg, mt)`: an alarm that watches the metric in the wrong place.
fn alarm_hint(c: &Ctx, lg: &LogGroupRef, snap: &Value, ns: &Value, name: &Value) -> R<String> {
    let all = alarms(snap);
    let named: Vec<&Value> = match indexed(snap, &[&K.alarms_by_name, name]) {
        Some(positions) => positions
            .iter()
            .map(|p| all.get(position(p)?).ok_or(Fallback))
            .collect::<R<_>>()?,
        None => all.iter().collect(),
    };
    let mut hs: Vec<(Value, Value)> = named
        .into_iter()
        .filter(|a| {
            matches!(get(a, &K.MetricName), Value::String(_)) && get(a, &K.MetricName) == name
        })
        .filter(|a| !matches!(get(a, &K.Namespace), Value::Undefined) && get(a, &K.Namespace) != ns)
        .filter(|a| !matches!(get(a, &K.AlarmName), Value::Undefined))
        .map(|a| (get(a, &K.AlarmName).clone(), get(a, &K.Namespace).clone()))
        .collect();
    hs.sort();
    if let Some((alarm, namespace)) = hs.first() {
        return Ok(format!(
            " (alarm {} watches {} in namespace {} instead)",
            text(alarm),
            text(name),
            text(namespace)
        ));
    }
    let mut hs: Vec<(Value, Value)> = Vec::new();
    if let Some(account) = c.account_doc(&lg.account) {
        for (r, other) in super::trail::regions(account)? {
            if r == lg.region {
                continue;
            }
            for e in alarms_on(other, ns, name)? {
                if !matches!(get(e.alarm, &K.AlarmName), Value::Undefined) {
                    hs.push((get(e.alarm, &K.AlarmName).clone(), s(r)));
                }
            }
        }
    }
    hs.sort();
    Ok(match hs.first() {
        Some((alarm, region)) => format!(
            " (alarm {} in {} watches it, but metrics are regional)",
            text(alarm),
            text(region)
        ),
        None => String::new(),
    })
}

/// `_after_alarm(lg, s, mt, value, entry, chain, params)`.
fn after_alarm(
    c: &Ctx,
    lg: &LogGroupRef,
    mt: &Value,
    value: &Value,
    entry: &Entry,
    chain: &[Value],
    out: &mut Vec<Outcome>,
) -> R<()> {
    let a = entry.alarm;
    let name = need_str(get(a, &K.AlarmName))?;
    let arn = need_str(get(a, &K.AlarmArn))?;
    if let Some(problem) = alarm_problem(c, lg, mt, value, entry)? {
        out.push(Outcome::new(
            State::Fail,
            4,
            "alarm",
            format!("alarm {name} ({}) {problem}", lg.region),
            alarm_loc(lg, entry),
            arn.to_string(),
            chain.to_vec(),
        ));
        return Ok(());
    }
    let mut chain = chain.to_vec();
    chain.push(obj([
        ("link", s("alarm")),
        ("name", s(name)),
        ("arn", s(arn)),
        ("region", s(&lg.region)),
    ]));
    after_alarm_ok(c, lg, entry, name, arn, chain, out)
}

fn alarm_loc(lg: &LogGroupRef, entry: &Entry) -> Loc {
    lg.at(format!("/cloudwatch/MetricAlarms/{}", entry.index))
}

/// `_op_word(op)`.
fn op_word(op: &Value) -> String {
    match str_of(op) {
        Some("GreaterThanOrEqualToThreshold") => ">=".into(),
        Some("GreaterThanThreshold") => ">".into(),
        Some("LessThanThreshold") => "<".into(),
        Some("LessThanOrEqualToThreshold") => "<=".into(),
        _ => text(op),
    }
}

/// `_breaches(op, x, threshold)`.
fn breaches(op: &Value, x: &Value, threshold: &Value) -> R<bool> {
    Ok(match str_of(op) {
        Some("GreaterThanOrEqualToThreshold") => num_cmp(x, threshold)? != Ordering::Less,
        Some("GreaterThanThreshold") => num_cmp(x, threshold)? == Ordering::Greater,
        _ => false,
    })
}

fn is_one(v: &Value) -> bool {
    matches!(num_cmp(v, &Value::from(1u64)), Ok(Ordering::Equal))
}

static PERCENTILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[pP](0|[1-9][0-9]?)(\.[0-9]{1,6})?$").expect("a valid regex"));
static MAX_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[pP]100(\.0+)?$").expect("a valid regex"));

/// `_percentile(stat)`.
fn percentile(stat: &str) -> R<Option<Value>> {
    if !PERCENTILE.is_match(stat) {
        return Ok(None);
    }
    super::vals::to_number(&stat[1..]).map(Some)
}

/// `_min_samples(p)`: `ceil(1000 / (100 - p))` from p50 up to p100, `ceil(1000 / p)` above p0
/// and below p50, in regorus's arithmetic.
fn min_samples(p: &Value) -> R<Option<Value>> {
    let (Value::Number(hundred), Value::Number(thousand), Value::Number(n)) =
        (Value::from(100u64), Value::from(1000u64), p)
    else {
        return Err(Fallback);
    };
    let below = |x: u64| num_cmp(p, &Value::from(x)).map(|o| o == Ordering::Less);
    let divisor = if !below(50)? && below(100)? {
        hundred.sub(n).map_err(|_| Fallback)?
    } else if num_cmp(p, &zero())? == Ordering::Greater && below(50)? {
        n.clone()
    } else {
        return Ok(None);
    };
    let q = thousand.clone().divide(&divisor).map_err(|_| Fallback)?;
    Ok(Some(Value::Number(q.ceil())))
}

/// `_readable_statistic(stat)`.
fn readable_statistic(stat: &str) -> R<bool> {
    Ok(matches!(
        stat,
        "SampleCount" | "Average" | "Sum" | "Minimum" | "Maximum"
    ) || percentile(stat)?.is_some()
        || MAX_LIKE.is_match(stat))
}

/// `_alarm_problem(lg, mt, value, entry)`, without its "alarm NAME (REGION) " prefix.
fn alarm_problem(
    c: &Ctx,
    lg: &LogGroupRef,
    mt: &Value,
    value: &Value,
    entry: &Entry,
) -> R<Option<String>> {
    let a = entry.alarm;
    let w = &entry.watch;
    if !w.dimensions.is_empty() {
        let dims: Vec<String> = w
            .dimensions
            .iter()
            .filter(|d| {
                !matches!(get(d, &K.Name), Value::Undefined)
                    && !matches!(get(d, &K.Value), Value::Undefined)
            })
            .map(|d| format!("{}={}", text(get(d, &K.Name)), text(get(d, &K.Value))))
            .collect();
        return Ok(Some(format!(
            "watches {} with dimensions {}, which the metric filter does not publish",
            metric_name(mt)?,
            dims.join(", ")
        )));
    }
    if let Some(q) = w.query {
        if let Some(p) = math_problem(a, q, &lg.account)? {
            return Ok(Some(p));
        }
    }
    if !matches!(w.stat, Value::String(x) if !x.is_empty()) {
        return Ok(Some(
            "names no statistic (neither Statistic nor ExtendedStatistic is in the snapshot)"
                .into(),
        ));
    }
    let stat = need_str(w.stat)?;
    if !readable_statistic(stat)? {
        return Ok(Some(format!(
            "reads statistic {}, which cwl-audit cannot prove one event to breach (it reads Sum, Average, Minimum, Maximum, SampleCount and percentiles pNN)",
            quote(stat)?
        )));
    }
    if !is_true(get(a, &K.ActionsEnabled)) {
        return Ok(Some("has ActionsEnabled=false".into()));
    }
    if matches!(get(a, &K.ThresholdMetricId), Value::String(_)) {
        return Ok(Some(
            "compares against an anomaly detection band, which one event does not reliably cross"
                .into(),
        ));
    }
    let op = match get(a, &K.ComparisonOperator) {
        Value::Undefined => &*EMPTY,
        op => op,
    };
    if !matches!(
        str_of(op),
        Some("GreaterThanOrEqualToThreshold" | "GreaterThanThreshold")
    ) {
        let threshold = opt(a, &K.Threshold).map_or_else(|| "?".to_string(), text);
        return Ok(Some(format!(
            "fires when the value is {} {threshold}; it must fire when events are counted (>= 1)",
            op_word(op)
        )));
    }
    let Some(threshold) = opt(a, &K.Threshold).filter(|t| is_number(t)) else {
        return Ok(Some("has no threshold".into()));
    };
    let observed = if stat == "SampleCount" {
        Value::from(1u64)
    } else {
        value.clone()
    };
    if !breaches(op, &observed, threshold)? {
        return Ok(Some(format!(
            "needs {stat} {} {} to fire, but one event produces {}",
            op_word(op),
            text(threshold),
            text(&observed)
        )));
    }
    if breaches(op, &zero(), threshold)? {
        return Ok(Some(format!(
            "is breached by a zero count ({} {}), so it stays in ALARM and a new event sends no notification",
            op_word(op),
            text(threshold)
        )));
    }
    if str_of(get(a, &K.EvaluateLowSampleCountPercentile)) == Some("ignore") {
        if let Some(p) = percentile(stat)? {
            if let Some(n) = min_samples(&p)? {
                return Ok(Some(format!(
                    "reads {stat} with EvaluateLowSampleCountPercentile=ignore: with fewer than {} data points in a period it keeps its state, and one event is one data point",
                    text(&n)
                )));
            }
        }
    }
    if let Some(msg) = default_value_problem(op, threshold, stat, mt)? {
        return Ok(Some(msg));
    }
    let periods = opt(a, &K.EvaluationPeriods);
    let datapoints = opt(a, &K.DatapointsToAlarm).or(periods);
    if !datapoints.is_none_or(is_one) {
        return Ok(Some(format!(
            "needs {} of {} periods breaching, but one event breaches only one period",
            datapoints.map_or_else(|| "1".to_string(), text),
            periods.map_or_else(|| "1".to_string(), text)
        )));
    }
    if str_of(get(a, &K.TreatMissingData)) == Some("breaching") {
        return Ok(Some(
            "treats missing data as breaching, so it stays in ALARM and a new event sends no notification"
                .into(),
        ));
    }
    match w.unit {
        Some(Value::String(u)) => {
            let published = unit_of(mt);
            if str_of(published) != Some(u.as_ref()) {
                return Ok(Some(format!(
                    "expects unit {u}, but the metric is published with unit {}",
                    text(published)
                )));
            }
        }
        _ => {
            let us = units_published(c, lg, mt)?;
            if us.len() > 1 {
                let names: Vec<&str> = us.iter().map(|u| need_str(u)).collect::<R<_>>()?;
                return Ok(Some(format!(
                    "names no unit, and metric {} is published in several units ({}): CloudWatch does not define how such an alarm behaves",
                    metric_name(mt)?,
                    names.join(", ")
                )));
            }
        }
    }
    Ok(None)
}

/// `_units_published(lg, mt)`: the units the metric filters of the region publish the metric in.
fn units_published<'a>(c: &'a Ctx, lg: &LogGroupRef, mt: &Value) -> R<BTreeSet<&'a Value>> {
    let mut out = BTreeSet::new();
    let Some(snap) = c.snapshot(&lg.account, &lg.region) else {
        return Ok(out);
    };
    let ns = get(mt, &K.metricNamespace);
    let name = get(mt, &K.metricName);
    if let Some(units) = indexed(snap, &[&K.units, ns, name]) {
        return Ok(units.iter().collect());
    }
    for f in list(path(snap, &[&K.logs, &K.metricFilters])) {
        for t in list(get(f, &K.metricTransformations)) {
            if get(t, &K.metricNamespace) == ns && get(t, &K.metricName) == name && plain(t)? {
                out.insert(unit_of(t));
            }
        }
    }
    Ok(out)
}

/// `_math_problem(a, w, acct)`.
fn math_problem(a: &Value, q: &Value, account: &str) -> R<Option<String>> {
    let returned: Vec<&Value> = list(get(a, &K.Metrics))
        .iter()
        .filter(|m| opt(m, &K.ReturnData).is_none_or(is_true))
        .collect();
    if returned.len() != 1 {
        return Ok(Some(format!(
            "returns {} time series instead of one",
            returned.len()
        )));
    }
    let r = returned[0];
    let (rid, qid) = (get(r, &K.Id), get(q, &K.Id));
    if !matches!(rid, Value::Undefined) && !matches!(qid, Value::Undefined) && rid != qid {
        let expr = match opt(r, &K.Expression) {
            None => "",
            Some(e) => need_str(e)?,
        };
        let id = need_str(qid)?;
        if !passthrough(expr, id)? {
            return Ok(Some(format!(
                "returns expression {}, which cwl-audit cannot prove to fire on one event (use the metric itself or FILL({id}, 0))",
                quote(expr)?
            )));
        }
    }
    if let Some(other) = str_of(get(q, &K.AccountId)) {
        if other != account {
            return Ok(Some(format!("reads the metric from account {other}")));
        }
    }
    Ok(None)
}

/// `_passthrough(expr, id)`: metric math that passes the metric's value through unchanged. Only
/// for an id of the form AWS allows (the Rego puts it into a regex, and no other is proven).
fn passthrough(expr: &str, id: &str) -> R<bool> {
    let mut chars = id.chars();
    let aws_id = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !aws_id {
        return Ok(false);
    }
    let re = Regex::new(&format!(
        r"^\s*({id}|FILL\(\s*{id}\s*,\s*0\s*\)|(SUM|MAX|MIN|AVG)\(\s*\[\s*{id}\s*\]\s*\))\s*$"
    ))
    .map_err(|_| Fallback)?;
    Ok(re.is_match(expr))
}

/// `_default_value_problem(a, stat, mt, value)`.
fn default_value_problem(
    op: &Value,
    threshold: &Value,
    stat: &str,
    mt: &Value,
) -> R<Option<String>> {
    let Some(d) = opt(mt, &K.defaultValue).filter(|d| is_number(d)) else {
        return Ok(None);
    };
    let dv = text(d);
    if stat == "SampleCount" {
        return Ok(Some(format!("counts data points (SampleCount), and with the filter's defaultValue {dv} every log event is one, so ordinary activity keeps it in ALARM and a matching event sends no new notification")));
    }
    if stat == "Sum" {
        return Ok(match num_cmp(d, &zero())? {
            Ordering::Greater => Some(format!("sums the filter's data points, and its defaultValue {dv} adds {dv} for every other log event, so ordinary activity keeps it in ALARM and a matching event sends no new notification")),
            Ordering::Less => {
                let Value::Number(n) = d else { return Err(Fallback) };
                let Value::Number(z) = zero() else { return Err(Fallback) };
                let neg = Value::Number(z.sub(n).map_err(|_| Fallback)?);
                Some(format!("sums the filter's data points, and its defaultValue {dv} subtracts {} for every other log event, so a period with one matching event and other activity can stay below the threshold", text(&neg)))
            }
            Ordering::Equal => None,
        });
    }
    if breaches(op, d, threshold)? {
        return Ok(Some(format!("reads the {stat} of the filter's data points, and its defaultValue {dv} alone breaches ({} {}), so ordinary activity keeps it in ALARM and a matching event sends no new notification", op_word(op), text(threshold))));
    }
    if !(stat == "Maximum" || MAX_LIKE.is_match(stat)) {
        return Ok(Some(format!("reads the {stat} of the filter's data points, and with its defaultValue {dv} for every other log event a period with one matching event and other activity tends to {dv}, which does not breach ({} {})", op_word(op), text(threshold))));
    }
    Ok(None)
}

// ------------------------------------------------------------------ notification

static SNS_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:[^:]+:sns:[a-z0-9-]+:[0-9]{12}:[^:]+$").expect("a valid regex")
});

/// `_topics_in(actions)`: `None` where the Rego's argument is undefined (an absent member).
fn topics_in(actions: &Value) -> R<Option<Vec<(usize, &str)>>> {
    if matches!(actions, Value::Undefined) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (i, x) in list(actions).iter().enumerate() {
        let x = need_str(x)?;
        if SNS_TOPIC.is_match(x) {
            out.push((i, x));
        }
    }
    Ok(Some(out))
}

/// `_after_alarm_ok(lg, s, entry, chain, params)`.
fn after_alarm_ok(
    c: &Ctx,
    lg: &LogGroupRef,
    entry: &Entry,
    name: &str,
    arn: &str,
    chain: Vec<Value>,
    out: &mut Vec<Outcome>,
) -> R<()> {
    let a = entry.alarm;
    // An alarm without AlarmActions gives the Rego no outcome at all (its argument is undefined).
    let Some(ts) = topics_in(get(a, &K.AlarmActions))? else {
        return Ok(());
    };
    if !ts.is_empty() {
        for (i, topic) in ts {
            out.push(topic_outcome(c, lg, entry, name, i, topic, &chain)?);
        }
        return Ok(());
    }
    let others = match (
        topics_in(get(a, &K.OKActions))?,
        topics_in(get(a, &K.InsufficientDataActions))?,
    ) {
        (Some(ok), Some(insufficient)) => ok.len() + insufficient.len() > 0,
        _ => false,
    };
    let message = if others {
        format!("alarm {name} ({}) notifies SNS only when it returns to OK or INSUFFICIENT_DATA, not when it goes to ALARM", lg.region)
    } else {
        format!(
            "alarm {name} ({}) has no SNS topic in its AlarmActions",
            lg.region
        )
    };
    out.push(Outcome::new(
        State::Fail,
        5,
        "topic",
        message,
        alarm_loc(lg, entry),
        arn.to_string(),
        chain,
    ));
    Ok(())
}

/// `_topic_outcome(lg, entry, i, arn, chain)`.
fn topic_outcome(
    c: &Ctx,
    lg: &LogGroupRef,
    entry: &Entry,
    alarm: &str,
    i: usize,
    arn: &str,
    chain: &[Value],
) -> R<Outcome> {
    let p: Vec<&str> = arn.split(':').collect();
    let (region, account, name) = (p[3], p[4], p[5]);
    let action = || {
        lg.at(format!(
            "/cloudwatch/MetricAlarms/{}/AlarmActions/{i}",
            entry.index
        ))
    };
    let outcome = |state, depth, message, location| {
        Outcome::new(
            state,
            depth,
            "topic",
            message,
            location,
            arn.to_string(),
            chain.to_vec(),
        )
    };
    if region != lg.region {
        return Ok(outcome(
            State::Fail,
            5,
            format!("alarm {alarm} ({}) notifies topic {name} in {region}, but CloudWatch delivers an alarm's notifications only to SNS topics of its own region", lg.region),
            action(),
        ));
    }
    let Some(ts) = c.snapshot(account, region) else {
        return Ok(outcome(
            State::Unknown,
            5,
            format!("alarm {alarm} notifies topic {name} in account {account} region {region}, and no snapshot of it is loaded"),
            action(),
        ));
    };
    let section = path(ts, &[&K.sns, &K.Subscriptions]);
    let all = list(section);
    let subs: Vec<(usize, &Value)> = match indexed(ts, &[&K.subscriptions, &s(arn)]) {
        Some(positions) => positions
            .iter()
            .map(|p| {
                let i = position(p)?;
                Ok((i, all.get(i).ok_or(Fallback)?))
            })
            .collect::<R<_>>()?,
        None => all
            .iter()
            .enumerate()
            .filter(|(_, sub)| str_of(get(sub, &K.TopicArn)) == Some(arn))
            .collect(),
    };
    let mut confirmed = 0usize;
    for (_, sub) in &subs {
        if need_str(get(sub, &K.SubscriptionArn))?.starts_with("arn:") {
            confirmed += 1;
        }
    }
    if confirmed > 0 {
        let mut full = chain.to_vec();
        full.push(obj([
            ("link", s("topic")),
            ("name", s(name)),
            ("arn", s(arn)),
            ("confirmed_subscriptions", num(confirmed)),
        ]));
        let message = pass_message(&full, confirmed)?;
        return Ok(Outcome::new(
            State::Pass,
            6,
            "topic",
            message,
            lg.at(format!("/cloudwatch/MetricAlarms/{}", entry.index)),
            need_str(get(entry.alarm, &K.AlarmArn))?.to_string(),
            full,
        ));
    }
    if !complete(ts, section, "ListSubscriptions") {
        return Ok(outcome(
            State::Unknown,
            5,
            format!(
                "the subscriptions of topic {name} could not be read ({})",
                reason(ts, "ListSubscriptions", None)
            ),
            Loc::new(
                account,
                region,
                missing_pointer(ts, "ListSubscriptions", None, "/sns"),
            ),
        ));
    }
    if let Some((first, _)) = subs.first() {
        return Ok(outcome(
            State::Fail,
            5,
            format!("topic {name} has only unconfirmed subscriptions (PendingConfirmation), so nobody receives the alarm"),
            Loc::new(account, region, format!("/sns/Subscriptions/{first}")),
        ));
    }
    Ok(outcome(
        State::Fail,
        5,
        format!("topic {name} has no subscriptions, so nobody receives the alarm"),
        action(),
    ))
}

/// `_pass_message(chain)` of a complete chain (six links, in order).
fn pass_message(chain: &[Value], confirmed: usize) -> R<String> {
    let [trail, lg, filter, metric, alarm, topic] = chain else {
        return Err(Fallback);
    };
    let t = |v: &Value, k: &str| text(get(v, &s(k)));
    Ok(format!(
        "trail {} -> log group {} ({}, {}) -> filter {} -> metric {}/{} -> alarm {} -> topic {} ({confirmed} confirmed {})",
        t(trail, "name"),
        t(lg, "name"),
        t(lg, "account"),
        t(lg, "region"),
        t(filter, "name"),
        t(metric, "namespace"),
        t(metric, "name"),
        t(alarm, "name"),
        t(topic, "name"),
        if confirmed == 1 { "subscription" } else { "subscriptions" }
    ))
}
