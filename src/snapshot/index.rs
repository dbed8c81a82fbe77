//! Lookup tables added to each snapshot at load time, so policies find a log group's metric
//! filters, the alarms on a metric and a topic's subscriptions without scanning every entry.
//!
//! A home region holds hundreds of alarms and every monitoring rule follows the same links, so
//! scans in Rego cost O(rules x alarms) per account; these tables make each link one lookup. They
//! hold positions into the snapshot's own arrays (ascending, so a lookup lists entries in the order
//! a scan would) and are exactly what the scans in `policies/lib/chain.rego` compute; a snapshot
//! without `index` (a Rego unit test's fixture, real OPA in `tests/opa-crosscheck.py`) takes the
//! scans.
//!
//! `index` = `{"filters": {logGroupName: [i]}, "alarms": {Namespace: {MetricName: [i]}},
//! "math_alarms": {Namespace: {MetricName: [i]}}, "alarms_by_name": {MetricName: [i]},
//! "subscriptions": {TopicArn: [i]}, "units": {Namespace: {MetricName: [unit]}}}`: `alarms` by the alarm's own metric, `math_alarms` by the
//! metrics of its `Metrics[].MetricStat`, `alarms_by_name` by the alarm's own metric name in any
//! namespace (a failing chain's hint names an alarm that watches the metric in another namespace),
//! `units` the units the metric filters publish each metric without dimensions in ("None" where a
//! transformation names none; an alarm without a unit on a metric of several units fails).
use regorus::Value;
use std::collections::BTreeMap;

type Positions = BTreeMap<String, Vec<usize>>;

/// The index of `doc` (a parsed snapshot), as a value to store under `doc.index`.
pub fn build(doc: &Value) -> Value {
    let mut filters = Positions::new();
    for (i, f) in items(&doc["logs"]["metricFilters"]) {
        if let Some(name) = text(&f["logGroupName"]) {
            push(&mut filters, name, i);
        }
    }
    let mut alarms: BTreeMap<String, Positions> = BTreeMap::new();
    let mut math: BTreeMap<String, Positions> = BTreeMap::new();
    let mut by_name = Positions::new();
    for (i, a) in items(&doc["cloudwatch"]["MetricAlarms"]) {
        if let (Some(ns), Some(name)) = (text(&a["Namespace"]), text(&a["MetricName"])) {
            push(alarms.entry(ns.to_string()).or_default(), name, i);
        }
        if let Some(name) = text(&a["MetricName"]) {
            push(&mut by_name, name, i);
        }
        for (_, q) in items(&a["Metrics"]) {
            let m = &q["MetricStat"]["Metric"];
            if let (Some(ns), Some(name)) = (text(&m["Namespace"]), text(&m["MetricName"])) {
                push(math.entry(ns.to_string()).or_default(), name, i);
            }
        }
    }
    // The units each metric (namespace, name, no dimensions) is published in, "None" where a
    // transformation names none: what `_units_published` in lib.chain scans for.
    let mut units: BTreeMap<String, BTreeMap<String, std::collections::BTreeSet<String>>> =
        BTreeMap::new();
    for (_, f) in items(&doc["logs"]["metricFilters"]) {
        for (_, t) in items(&f["metricTransformations"]) {
            let dims = &t["dimensions"];
            // As lib.chain's `count(_opt(t, "dimensions", {})) == 0`.
            let plain = match dims {
                Value::Undefined | Value::Null => true,
                Value::Object(o) => o.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::String(x) => x.is_empty(),
                _ => false,
            };
            if let (true, Some(ns), Some(name)) =
                (plain, text(&t["metricNamespace"]), text(&t["metricName"]))
            {
                let unit = match &t["unit"] {
                    Value::Undefined | Value::Null => "None",
                    u => text(u).unwrap_or("None"),
                };
                units
                    .entry(ns.to_string())
                    .or_default()
                    .entry(name.to_string())
                    .or_default()
                    .insert(unit.to_string());
            }
        }
    }
    let mut subscriptions = Positions::new();
    for (i, s) in items(&doc["sns"]["Subscriptions"]) {
        if let Some(topic) = text(&s["TopicArn"]) {
            push(&mut subscriptions, topic, i);
        }
    }
    object([
        ("filters", positions(filters)),
        ("alarms", nested(alarms)),
        ("math_alarms", nested(math)),
        ("alarms_by_name", positions(by_name)),
        ("subscriptions", positions(subscriptions)),
        ("units", nested_sets(units)),
    ])
}

fn nested_sets(
    map: BTreeMap<String, BTreeMap<String, std::collections::BTreeSet<String>>>,
) -> Value {
    Value::from(
        map.into_iter()
            .map(|(ns, names)| {
                let names = names
                    .into_iter()
                    .map(|(name, set)| {
                        let list: Vec<Value> = set.into_iter().map(Value::from).collect();
                        (Value::from(name), Value::from(list))
                    })
                    .collect::<BTreeMap<_, _>>();
                (Value::from(ns), Value::from(names))
            })
            .collect::<BTreeMap<_, _>>(),
    )
}

fn items(v: &Value) -> impl Iterator<Item = (usize, &Value)> {
    v.as_array().into_iter().flat_map(|a| a.iter().enumerate())
}

fn text(v: &Value) -> Option<&str> {
    v.as_string().ok().map(|s| s.as_ref())
}

/// Adds `i` once: an alarm with two queries on the same metric is still one alarm.
fn push(map: &mut Positions, key: &str, i: usize) {
    let list = map.entry(key.to_string()).or_default();
    if list.last() != Some(&i) {
        list.push(i);
    }
}

fn positions(map: Positions) -> Value {
    Value::from(
        map.into_iter()
            .map(|(k, v)| {
                let list: Vec<Value> = v.into_iter().map(|i| Value::from(i as u64)).collect();
                (Value::from(k), Value::from(list))
            })
            .collect::<BTreeMap<_, _>>(),
    )
}

fn nested(map: BTreeMap<String, Positions>) -> Value {
    Value::from(
        map.into_iter()
            .map(|(k, v)| (Value::from(k), positions(v)))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_by_metric() {
        let doc = Value::from_json_str(
            r#"{"logs": {"metricFilters": [
                {"metricTransformations": [{"metricNamespace": "N", "metricName": "M"},
                                           {"metricNamespace": "N", "metricName": "M", "unit": "Count"}]},
                {"metricTransformations": [{"metricNamespace": "N", "metricName": "M", "unit": null},
                                           {"metricNamespace": "N", "metricName": "D", "unit": "Bytes", "dimensions": {"k": "$.k"}},
                                           {"metricNamespace": "N", "metricName": "E", "unit": "Bytes", "dimensions": {}}]}
            ]}}"#,
        )
        .unwrap();
        let expected =
            Value::from_json_str(r#"{"N": {"E": ["Bytes"], "M": ["Count", "None"]}}"#).unwrap();
        assert_eq!(build(&doc)["units"], expected);
    }

    #[test]
    fn positions_by_key() {
        let doc = Value::from_json_str(
            r#"{
            "logs": {"metricFilters": [{"logGroupName": "a"}, {"logGroupName": "b"}, {"logGroupName": "a"}, {"logGroupName": 7}]},
            "cloudwatch": {"MetricAlarms": [
                {"Namespace": "N", "MetricName": "M"},
                {"Metrics": [{"MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}}},
                             {"MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}}},
                             {"Expression": "m1"}]},
                {"Namespace": "N", "MetricName": "Other"},
                {"MetricName": "M"},
                {"Namespace": "X", "MetricName": "M"}
            ]},
            "sns": {"Subscriptions": [{"TopicArn": "t1"}, {"TopicArn": "t2"}, {"TopicArn": "t1"}]}
        }"#,
        )
        .unwrap();
        let expected = Value::from_json_str(
            r#"{
            "filters": {"a": [0, 2], "b": [1]},
            "alarms": {"N": {"M": [0], "Other": [2]}, "X": {"M": [4]}},
            "math_alarms": {"N": {"M": [1]}},
            "alarms_by_name": {"M": [0, 3, 4], "Other": [2]},
            "subscriptions": {"t1": [0, 2], "t2": [1]},
            "units": {}
        }"#,
        )
        .unwrap();
        assert_eq!(build(&doc), expected);
    }

    #[test]
    fn sections_missing_or_malformed_give_empty_tables() {
        let doc =
            Value::from_json_str(r#"{"logs": {"metricFilters": null}, "cloudwatch": 3}"#).unwrap();
        let empty = Value::from_json_str(
            r#"{"filters": {}, "alarms": {}, "math_alarms": {}, "alarms_by_name": {}, "subscriptions": {}, "units": {}}"#,
        )
        .unwrap();
        assert_eq!(build(&doc), empty);
    }
}
