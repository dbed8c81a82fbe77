//! Reading snapshot values as lib.chain's Rego reads them, and writing its words.
//!
//! Every accessor answers what the Rego expression it stands for answers, or [`Fallback`] where
//! the Rego would depend on a case this module does not model (a value of an unexpected type, a
//! string `%q` would escape beyond `"` and `\`): the Rego then decides the account, so the native
//! decision is never a guess.
use regorus::Value;
use std::cmp::Ordering;
use std::sync::LazyLock;

/// "Let the Rego decide": a case this module does not reproduce exactly.
#[derive(Debug)]
pub struct Fallback;

pub type R<T> = Result<T, Fallback>;

macro_rules! keys {
    ($($name:ident = $s:literal),* $(,)?) => {
        /// Member names as values, built once: regorus indexes objects by `Value`, and a key
        /// built per lookup would allocate.
        #[allow(non_snake_case)]
        pub struct Keys { $(pub $name: Value,)* }
        pub static K: LazyLock<Keys> = LazyLock::new(|| Keys { $($name: Value::from($s),)* });
    };
}

keys! {
    account_id = "account_id", partition = "partition", regions = "regions",
    cloudtrail = "cloudtrail", trailList = "trailList", TrailARN = "TrailARN", status = "status",
    selectors = "selectors", IsLogging = "IsLogging", IsOrganizationTrail = "IsOrganizationTrail",
    IsMultiRegionTrail = "IsMultiRegionTrail",
    CloudWatchLogsLogGroupArn = "CloudWatchLogsLogGroupArn", EventSelectors = "EventSelectors",
    AdvancedEventSelectors = "AdvancedEventSelectors",
    IncludeManagementEvents = "IncludeManagementEvents", ReadWriteType = "ReadWriteType",
    ExcludeManagementEventSources = "ExcludeManagementEventSources",
    FieldSelectors = "FieldSelectors", Field = "Field", Equals = "Equals", NotEquals = "NotEquals",
    errors = "errors", operation = "operation", resource = "resource", code = "code",
    logs = "logs", metricFilters = "metricFilters", logGroupName = "logGroupName",
    filterName = "filterName", filterPattern = "filterPattern",
    metricTransformations = "metricTransformations", metricName = "metricName",
    metricNamespace = "metricNamespace", metricValue = "metricValue",
    defaultValue = "defaultValue", dimensions = "dimensions", unit = "unit",
    cloudwatch = "cloudwatch", MetricAlarms = "MetricAlarms", AlarmName = "AlarmName",
    AlarmArn = "AlarmArn", Namespace = "Namespace", MetricName = "MetricName",
    Dimensions = "Dimensions", Statistic = "Statistic", ExtendedStatistic = "ExtendedStatistic",
    Unit = "Unit", Metrics = "Metrics", MetricStat = "MetricStat", Metric = "Metric",
    Stat = "Stat", ReturnData = "ReturnData", Id = "Id", Expression = "Expression",
    AccountId = "AccountId", ActionsEnabled = "ActionsEnabled",
    ThresholdMetricId = "ThresholdMetricId", ComparisonOperator = "ComparisonOperator",
    Threshold = "Threshold",
    EvaluateLowSampleCountPercentile = "EvaluateLowSampleCountPercentile",
    DatapointsToAlarm = "DatapointsToAlarm", EvaluationPeriods = "EvaluationPeriods",
    TreatMissingData = "TreatMissingData", AlarmActions = "AlarmActions",
    OKActions = "OKActions", InsufficientDataActions = "InsufficientDataActions",
    sns = "sns", Subscriptions = "Subscriptions", TopicArn = "TopicArn",
    SubscriptionArn = "SubscriptionArn", Name = "Name", Value = "Value",
    reference = "reference", label = "label", reject_non_root = "reject_non_root",
    covers = "covers", error = "error", undecided = "undecided", missed = "missed",
    matches_non_root = "matches_non_root", matches_extra_root = "matches_extra_root",
    note = "note", non_root_example = "non_root_example", userIdentity = "userIdentity",
    type_ = "type", index = "index", filters = "filters", alarms = "alarms",
    math_alarms = "math_alarms", alarms_by_name = "alarms_by_name",
    subscriptions = "subscriptions", units = "units",
}

/// `o.k`: `Undefined` when absent or `o` is no object.
pub fn get<'a>(o: &'a Value, k: &Value) -> &'a Value {
    match o {
        Value::Object(_) => &o[k],
        _ => &Value::Undefined,
    }
}

/// `_opt(o, k, d)`: the member unless absent or null.
pub fn opt<'a>(o: &'a Value, k: &Value) -> Option<&'a Value> {
    match get(o, k) {
        Value::Undefined | Value::Null => None,
        v => Some(v),
    }
}

/// `_list(x)`: an array's items; anything else iterates as nothing (an undefined `x` makes the
/// Rego's iteration empty too).
pub fn list(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a.as_slice(),
        _ => &[],
    }
}

pub fn is_true(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

pub fn str_of(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s.as_ref()),
        _ => None,
    }
}

/// A string the Rego requires (it would be undefined or an error otherwise).
pub fn need_str(v: &Value) -> R<&str> {
    str_of(v).ok_or(Fallback)
}

pub fn is_number(v: &Value) -> bool {
    matches!(v, Value::Number(_))
}

/// Rego's comparison of two numbers (regorus orders numbers by value, integers and floats alike).
pub fn num_cmp(a: &Value, b: &Value) -> R<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(x.cmp(y)),
        _ => Err(Fallback),
    }
}

/// `count(x)` of an array, object, set or string.
pub fn count(v: &Value) -> R<usize> {
    match v {
        Value::Array(a) => Ok(a.len()),
        Value::Object(o) => Ok(o.len()),
        Value::Set(s) => Ok(s.len()),
        Value::String(s) => Ok(s.chars().count()),
        _ => Err(Fallback),
    }
}

/// `sprintf("%v", [v])` and `%s` of a value that is not a string, as regorus writes them.
pub fn text(v: &Value) -> String {
    fn inner(v: &Value, quoted: bool) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::String(s) if quoted => {
                serde_json::to_string(s.as_ref()).unwrap_or_else(|_| s.to_string())
            }
            Value::String(s) => s.to_string(),
            Value::Number(n) => n.format_decimal(),
            Value::Array(a) => format!(
                "[{}]",
                a.iter()
                    .map(|e| inner(e, true))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Set(s) => format!(
                "{{{}}}",
                s.iter()
                    .map(|e| inner(e, true))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Object(o) => format!(
                "{{{}}}",
                o.iter()
                    .map(|(k, v)| format!("{}: {}", inner(k, true), inner(v, true)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Undefined => "#undefined".into(),
        }
    }
    inner(v, false)
}

/// `sprintf("%q", [s])` for strings of printable ASCII (Go quoting then escapes only `"` and `\`);
/// any other string is left to the Rego, whose quoting follows Go's Unicode tables.
pub fn quote(s: &str) -> R<String> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => return Err(Fallback),
        }
    }
    out.push('"');
    Ok(out)
}

/// `%d` of a position or count.
pub fn num(n: usize) -> Value {
    Value::from(n as u64)
}

/// An object from its members.
pub fn obj<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::from(
        members
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
}

pub fn s(x: &str) -> Value {
    Value::from(x)
}

/// `_esc(key)`: a key as a JSON pointer segment.
pub fn esc(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `_reason` and `_missing_pointer` read the errors of `op` (without a resource or for
/// `resource`) of snapshot `s`: (position, error).
pub fn op_errors<'a>(s: &'a Value, op: &str, resource: Option<&str>) -> Vec<(usize, &'a Value)> {
    list(get(s, &K.errors))
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            str_of(get(e, &K.operation)) == Some(op)
                && match get(e, &K.resource) {
                    Value::Undefined | Value::Null => true,
                    r => resource.is_some() && str_of(r) == resource,
                }
        })
        .collect()
}

/// `_reason(s, op, resource)`.
pub fn reason(s: &Value, op: &str, resource: Option<&str>) -> String {
    match op_errors(s, op, resource).first() {
        Some((_, e)) if get(e, &K.code) != &Value::Undefined => {
            format!("{op} failed: {}", text(get(e, &K.code)))
        }
        _ => format!("{op} was not collected"),
    }
}

/// `_missing_pointer(s, op, resource, fallback)`.
pub fn missing_pointer(s: &Value, op: &str, resource: Option<&str>, fallback: &str) -> String {
    match op_errors(s, op, resource).first() {
        Some((i, _)) => format!("/errors/{i}"),
        None => fallback.to_string(),
    }
}

/// `_complete(s, x, op)`: the section is an array and its operation recorded no error.
pub fn complete(s: &Value, x: &Value, op: &str) -> bool {
    matches!(x, Value::Array(_)) && op_errors(s, op, None).is_empty()
}

/// `_unread(x, reason, what)`.
pub fn unread(x: &Value, reason: &str, what: &str) -> String {
    if matches!(x, Value::Array(_)) {
        format!("were listed only in part ({reason}), and none of those listed is {what}")
    } else {
        format!("could not be read ({reason})")
    }
}

/// `to_number(s)` of a string regorus reads as a JSON number.
pub fn to_number(s: &str) -> R<Value> {
    match Value::from_json_str(s) {
        Ok(v @ Value::Number(_)) => Ok(v),
        _ => Err(Fallback),
    }
}

/// The value at a path of members, `Undefined` where one is missing: `object.get(o, path, null)`.
pub fn path<'a>(o: &'a Value, keys: &[&Value]) -> &'a Value {
    let mut v = o;
    for k in keys {
        v = get(v, k);
    }
    v
}

/// The positions `eval`'s lookup tables (`s.index`, src/snapshot/index.rs) list under `keys`, or
/// `None` for a snapshot without them (a Rego unit test's fixture): the caller then scans, as the
/// Rego does. The tables hold exactly what the scans find, in the same order.
pub fn indexed<'a>(snap: &'a Value, keys: &[&Value]) -> Option<&'a [Value]> {
    let index = get(snap, &K.index);
    if !matches!(index, Value::Object(_)) {
        return None;
    }
    Some(list(path(index, keys)))
}

/// Number comparison helper: `a <= 0` and friends.
pub fn zero() -> Value {
    Value::from(0u64)
}
