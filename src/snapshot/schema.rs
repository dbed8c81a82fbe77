//! The v1 contract as data: which keys a snapshot must have, and the type of every field a policy
//! reads. Unknown keys are allowed (forward compatible); `null` means "not collected" for any
//! optional key, so it is accepted wherever a key may be absent.
use super::locate::escape_segment;
use super::{CollectionError, FORMAT_V1};
use regorus::Value;

pub struct Problem {
    pub pointer: String,
    pub message: String,
}

pub struct Header {
    pub account_id: String,
    pub partition: String,
    pub region: String,
    pub errors: Vec<CollectionError>,
}

enum Shape {
    Bool,
    Number,
    /// An integer count AWS requires to be at least 1 (`EvaluationPeriods`, `DatapointsToAlarm`):
    /// an alarm with 0, a negative or a fractional count is one AWS never returns, and deciding
    /// on it could pass an alarm that cannot exist.
    Count,
    /// An alarm's `Period` in seconds: 10, 20, 30 or a multiple of 60, as `PutMetricAlarm`
    /// accepts (a `MetricStat` period may also be 1 or 5 for high-resolution metrics).
    Seconds {
        high_resolution: bool,
    },
    Str,
    /// A string that is one of these (an AWS enumeration: a value AWS never returns is a typo or
    /// a hand-made file, and policies compare these exactly).
    OneOf(&'static [&'static str]),
    /// Anything: kept for policies, not checked.
    Any,
    Array(&'static Shape),
    /// An object with these known members (name, shape, required).
    Object(&'static [(&'static str, Shape, bool)]),
    /// An object whose keys are data (e.g. trail ARNs), every value of one shape.
    Map(&'static Shape),
}

use Shape::*;

const STRINGS: Shape = Array(&Str);
const DIMENSION: Shape = Object(&[("Name", Str, false), ("Value", Str, false)]);
const DIMENSIONS: Shape = Array(&DIMENSION);

const TRAIL: Shape = Object(&[
    ("TrailARN", Str, true),
    ("Name", Str, false),
    ("HomeRegion", Str, false),
    ("IsMultiRegionTrail", Bool, true),
    ("IsOrganizationTrail", Bool, true),
    ("CloudWatchLogsLogGroupArn", Str, false),
    ("CloudWatchLogsRoleArn", Str, false),
]);
const TRAIL_STATUS: Shape = Object(&[("IsLogging", Bool, true)]);
const EVENT_SELECTOR: Shape = Object(&[
    (
        "ReadWriteType",
        OneOf(&["ReadOnly", "WriteOnly", "All"]),
        true,
    ),
    ("IncludeManagementEvents", Bool, true),
    ("ExcludeManagementEventSources", STRINGS, false),
]);
const FIELD_SELECTOR: Shape = Object(&[
    ("Field", Str, true),
    ("Equals", STRINGS, false),
    ("NotEquals", STRINGS, false),
    ("StartsWith", STRINGS, false),
    ("NotStartsWith", STRINGS, false),
    ("EndsWith", STRINGS, false),
    ("NotEndsWith", STRINGS, false),
]);
const ADVANCED_SELECTOR: Shape = Object(&[
    ("Name", Str, false),
    ("FieldSelectors", Array(&FIELD_SELECTOR), false),
]);
const SELECTORS: Shape = Object(&[
    ("EventSelectors", Array(&EVENT_SELECTOR), false),
    ("AdvancedEventSelectors", Array(&ADVANCED_SELECTOR), false),
]);
const CLOUDTRAIL: Shape = Object(&[
    ("trailList", Array(&TRAIL), false),
    ("status", Map(&TRAIL_STATUS), false),
    ("selectors", Map(&SELECTORS), false),
]);

/// CloudWatch's `StandardUnit`, the one list for a metric filter's unit and an alarm's (AWS
/// compares them exactly, case included: `count` is not `Count`, and an alarm expecting a unit no
/// data point carries never fires).
const UNIT: Shape = OneOf(&[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
]);

const TRANSFORMATION: Shape = Object(&[
    ("metricName", Str, true),
    ("metricNamespace", Str, true),
    ("metricValue", Str, true),
    ("defaultValue", Number, false),
    ("dimensions", Map(&Str), false),
    ("unit", UNIT, false),
]);
const METRIC_FILTER: Shape = Object(&[
    ("filterName", Str, true),
    ("filterPattern", Str, true),
    ("logGroupName", Str, true),
    ("metricTransformations", Array(&TRANSFORMATION), true),
]);
const LOGS: Shape = Object(&[("metricFilters", Array(&METRIC_FILTER), false)]);

const METRIC: Shape = Object(&[
    ("Namespace", Str, false),
    ("MetricName", Str, false),
    ("Dimensions", DIMENSIONS, false),
]);
const METRIC_STAT: Shape = Object(&[
    ("Metric", METRIC, true),
    (
        "Period",
        Seconds {
            high_resolution: true,
        },
        false,
    ),
    ("Stat", Str, true),
    ("Unit", UNIT, false),
]);
const METRIC_QUERY: Shape = Object(&[
    ("Id", Str, true),
    ("MetricStat", METRIC_STAT, false),
    ("Expression", Str, false),
    ("ReturnData", Bool, false),
    ("AccountId", Str, false),
]);
const METRIC_ALARM: Shape = Object(&[
    ("AlarmName", Str, true),
    ("AlarmArn", Str, true),
    ("ActionsEnabled", Bool, true),
    ("AlarmActions", STRINGS, true),
    ("OKActions", STRINGS, false),
    ("InsufficientDataActions", STRINGS, false),
    ("MetricName", Str, false),
    ("Namespace", Str, false),
    (
        "Statistic",
        OneOf(&["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
        false,
    ),
    ("ExtendedStatistic", Str, false),
    ("Dimensions", DIMENSIONS, false),
    (
        "Period",
        Seconds {
            high_resolution: false,
        },
        false,
    ),
    ("Unit", UNIT, false),
    ("EvaluationPeriods", Count, true),
    ("DatapointsToAlarm", Count, false),
    ("Threshold", Number, false),
    (
        "ComparisonOperator",
        OneOf(&[
            "GreaterThanOrEqualToThreshold",
            "GreaterThanThreshold",
            "LessThanThreshold",
            "LessThanOrEqualToThreshold",
            "LessThanLowerOrGreaterThanUpperThreshold",
            "LessThanLowerThreshold",
            "GreaterThanUpperThreshold",
        ]),
        true,
    ),
    (
        "TreatMissingData",
        OneOf(&["breaching", "notBreaching", "ignore", "missing"]),
        false,
    ),
    (
        "EvaluateLowSampleCountPercentile",
        OneOf(&["evaluate", "ignore"]),
        false,
    ),
    ("Metrics", Array(&METRIC_QUERY), false),
    ("ThresholdMetricId", Str, false),
]);
const COMPOSITE_ALARM: Shape = Object(&[("AlarmName", Str, true), ("AlarmArn", Str, true)]);
const CLOUDWATCH: Shape = Object(&[
    ("MetricAlarms", Array(&METRIC_ALARM), false),
    ("CompositeAlarms", Array(&COMPOSITE_ALARM), false),
]);

const SUBSCRIPTION: Shape = Object(&[
    ("SubscriptionArn", Str, true),
    ("TopicArn", Str, true),
    ("Protocol", Str, false),
    ("Endpoint", Str, false),
    ("Owner", Str, false),
]);
const SNS: Shape = Object(&[("Subscriptions", Array(&SUBSCRIPTION), false)]);

const ERROR: Shape = Object(&[
    ("service", Str, true),
    ("operation", Str, true),
    ("resource", Str, false),
    ("code", Str, true),
    ("message", Str, false),
]);

const DOCUMENT: Shape = Object(&[
    ("format", Str, true),
    ("account_id", Str, true),
    ("partition", Str, true),
    ("region", Str, true),
    ("collected_at", Str, false),
    ("collector", Any, false),
    ("cloudtrail", CLOUDTRAIL, false),
    ("logs", LOGS, false),
    ("cloudwatch", CLOUDWATCH, false),
    ("sns", SNS, false),
    ("errors", Array(&ERROR), false),
]);

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) | Value::Set(_) => "an array",
        Value::Object(_) => "an object",
        Value::Undefined => "nothing",
    }
}

fn expected(shape: &Shape) -> &'static str {
    match shape {
        Bool => "a boolean",
        Number => "a number",
        Count => "an integer of at least 1",
        Seconds { .. } => "a number of seconds",
        Str | OneOf(_) => "a string",
        Any => "any value",
        Array(_) => "an array",
        Object(_) | Map(_) => "an object",
    }
}

/// Puts `segment` in front of the pointer of a problem found below it. Pointers are built only on
/// the way out of an error: a valid snapshot (the common case) costs no string work.
fn under(segment: &str, mut p: Problem) -> Problem {
    p.pointer = format!("/{}{}", escape_segment(segment), p.pointer);
    p
}

/// Is `key` a misspelling of `member`: the same ignoring case, or (for names of 6 letters or more)
/// one letter inserted, dropped or changed?
fn near_miss(key: &str, member: &str) -> bool {
    // Byte by byte, lowercased on the fly: this runs for every unknown key of every object against
    // every member of its shape (hundreds of alarms per snapshot), and lowercased copies of both
    // strings were a tenth of the time to load a snapshot.
    if key.eq_ignore_ascii_case(member) {
        return true;
    }
    if key.len().min(member.len()) < 6 || key.len().abs_diff(member.len()) > 1 {
        return false;
    }
    let (a, b) = (key.as_bytes(), member.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let same = |x: &[u8], y: &[u8]| x.eq_ignore_ascii_case(y);
    let prefix = short
        .iter()
        .zip(long)
        .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
        .count();
    if short.len() == long.len() {
        same(&short[prefix + 1..], &long[prefix + 1..])
    } else {
        same(&short[prefix..], &long[prefix + 1..])
    }
}

/// Checks `v` against `shape`; a problem's pointer is relative to `v`.
fn check_shape(v: &Value, shape: &Shape) -> Result<(), Problem> {
    let wrong = || Problem {
        pointer: String::new(),
        message: format!("expected {}, found {}", expected(shape), kind(v)),
    };
    match (shape, v) {
        (Any, _)
        | (Bool, Value::Bool(_))
        | (Number, Value::Number(_))
        | (Str, Value::String(_)) => Ok(()),
        (Count, Value::Number(n)) => match n.as_u64() {
            Some(c) if (1..=i32::MAX as u64).contains(&c) => Ok(()),
            _ => Err(Problem {
                pointer: String::new(),
                message: format!("{v} is not a count AWS allows (an integer of at least 1)"),
            }),
        },
        (Seconds { high_resolution }, Value::Number(n)) => {
            let ok = n.as_u64().is_some_and(|p| {
                matches!(p, 10 | 20 | 30)
                    || (*high_resolution && matches!(p, 1 | 5))
                    || (p > 0 && p % 60 == 0 && p <= i32::MAX as u64)
            });
            if ok {
                Ok(())
            } else {
                Err(Problem {
                    pointer: String::new(),
                    message: format!(
                        "{v} is not a period AWS allows (10, 20, 30 or a multiple of 60 seconds{})",
                        if *high_resolution {
                            "; 1 or 5 for high-resolution metrics"
                        } else {
                            ""
                        }
                    ),
                })
            }
        }
        (OneOf(allowed), Value::String(x)) => {
            if allowed.contains(&x.as_ref()) {
                Ok(())
            } else {
                // AWS compares these case-sensitively; a value off only by case gets the spelling.
                let hint = allowed
                    .iter()
                    .find(|a| a.eq_ignore_ascii_case(x))
                    .map(|a| format!(": did you mean {a:?}?"))
                    .unwrap_or_default();
                Err(Problem {
                    pointer: String::new(),
                    message: format!("{x:?} is not one of {}{hint}", allowed.join(", ")),
                })
            }
        }
        (Array(item), Value::Array(items)) => {
            for (i, x) in items.iter().enumerate() {
                check_shape(x, item).map_err(|p| under(&i.to_string(), p))?;
            }
            Ok(())
        }
        (Map(item), Value::Object(map)) => {
            for (k, x) in map.iter() {
                if !matches!(x, Value::Null) {
                    check_shape(x, item)
                        .map_err(|p| under(k.as_string().map(|s| s.as_ref()).unwrap_or(""), p))?;
                }
            }
            Ok(())
        }
        (Object(members), Value::Object(map)) => {
            // One pass over the object's entries finds every member: looking each one up by
            // name would build a key value per member.
            const MAX_MEMBERS: usize = 32;
            let mut found: [Option<&Value>; MAX_MEMBERS] = [None; MAX_MEMBERS];
            for (k, x) in map.iter() {
                if let Ok(k) = k.as_string() {
                    if let Some(i) = members.iter().position(|m| m.0 == k.as_ref()) {
                        if let Some(slot) = found.get_mut(i) {
                            *slot = Some(x);
                        }
                    } else if let Some((m, ..)) = members.iter().find(|m| near_miss(k, m.0)) {
                        // Unknown keys are allowed (newer collectors), but one a letter away from
                        // a member the policies read is a typo that would silently read as
                        // absent (`DefaultValue` for `defaultValue`: no default, a false pass).
                        return Err(Problem {
                            pointer: format!("/{}", escape_segment(k)),
                            message: format!("unknown key {k:?}: did you mean {m:?}?"),
                        });
                    }
                }
            }
            for (i, (name, member, required)) in members.iter().enumerate() {
                match found.get(i).copied().flatten() {
                    None | Some(Value::Null) if *required => {
                        return Err(Problem {
                            pointer: String::new(),
                            message: format!(
                                "missing required key \"{name}\" ({})",
                                expected(member)
                            ),
                        })
                    }
                    None | Some(Value::Null) => {}
                    Some(x) => check_shape(x, member).map_err(|p| under(name, p))?,
                }
            }
            Ok(())
        }
        _ => Err(wrong()),
    }
}

fn string_at(doc: &Value, key: &str) -> String {
    doc[key]
        .as_string()
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// Checks a parsed document against the v1 contract and returns its header.
pub fn check(doc: &Value) -> Result<Header, Problem> {
    if !matches!(doc, Value::Object(_)) {
        return Err(Problem {
            pointer: String::new(),
            message: format!("expected a snapshot object, found {}", kind(doc)),
        });
    }
    // The format first: a document of another format would otherwise fail on some field with a
    // misleading message.
    match &doc["format"] {
        Value::String(f) if f.as_ref() == FORMAT_V1 => {}
        Value::String(f) => {
            return Err(Problem {
                pointer: "/format".into(),
                message: format!(
                    "unsupported snapshot format \"{f}\" (this build reads \"{FORMAT_V1}\")"
                ),
            })
        }
        _ => {}
    }
    check_shape(doc, &DOCUMENT)?;
    let account_id = string_at(doc, "account_id");
    if !crate::arn::is_account_id(&account_id) {
        return Err(Problem {
            pointer: "/account_id".into(),
            message: format!("invalid account id \"{account_id}\" (expected 12 digits)"),
        });
    }
    let partition = string_at(doc, "partition");
    if !crate::arn::PARTITIONS.contains(&partition.as_str()) {
        return Err(Problem {
            pointer: "/partition".into(),
            message: format!(
                "invalid partition \"{partition}\" (expected aws, aws-cn or aws-us-gov)"
            ),
        });
    }
    let region = string_at(doc, "region");
    if !crate::arn::is_region(&region) {
        return Err(Problem {
            pointer: "/region".into(),
            message: format!(
                "invalid region \"{region}\" (expected a region code such as us-east-1)"
            ),
        });
    }
    let mut errors = Vec::new();
    if let Ok(list) = doc["errors"].as_array() {
        for e in list.iter() {
            let opt = |k: &str| e[k].as_string().ok().map(|s| s.to_string());
            errors.push(CollectionError {
                service: opt("service").unwrap_or_default(),
                operation: opt("operation").unwrap_or_default(),
                resource: opt("resource"),
                code: opt("code").unwrap_or_default(),
                message: opt("message").unwrap_or_default(),
            });
        }
    }
    Ok(Header {
        account_id,
        partition,
        region,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-5",
            "il-central-1",
        ] {
            assert!(crate::arn::is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us_east_1",
            "useast1",
            "us-east-1a",
            "u-east-1",
            "us--1",
        ] {
            assert!(!crate::arn::is_region(bad), "{bad}");
        }
    }

    /// The definition `near_miss` implements without allocating: lowercase both, then equal, or
    /// (both at least 6 letters) one letter inserted, dropped or changed.
    fn near_miss_by_definition(key: &str, member: &str) -> bool {
        let (a, b) = (key.to_ascii_lowercase(), member.to_ascii_lowercase());
        if a == b {
            return true;
        }
        if a.len().min(b.len()) < 6 || a.len().abs_diff(b.len()) > 1 {
            return false;
        }
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        (0..=long.len()).any(|i| {
            let rest = |x: &[u8], from: usize| x.get(from..).unwrap_or_default().to_vec();
            let dropped = [&long[..i.min(long.len())], &rest(long, i + 1)[..]].concat();
            if short.len() == long.len() {
                i < long.len() && short[..i] == long[..i] && short.get(i + 1..) == long.get(i + 1..)
            } else {
                dropped == short
            }
        })
    }

    #[test]
    fn near_miss_is_one_letter_away_ignoring_case() {
        let members = [
            "defaultValue",
            "metricName",
            "AlarmActions",
            "Threshold",
            "Dimensions",
            "unit",
        ];
        let keys = [
            "DefaultValue",
            "defaultvalue",
            "defaultValu",
            "defaultValuee",
            "defaultVolue",
            "dfaultValue",
            "metricname",
            "MetricName",
            "metricNam",
            "metric_Name",
            "AlarmAction",
            "alarmactions",
            "AlarmActionsX",
            "Threshold",
            "threshhold",
            "Treshold",
            "Dimension",
            "dimensionz",
            "Unit",
            "unitt",
            "xunit",
            "StateReason",
            "AlarmDescription",
            "",
            "a",
            "Ünit",
            "Thresholdé",
        ];
        for m in members {
            for k in keys {
                assert_eq!(near_miss(k, m), near_miss_by_definition(k, m), "{k} / {m}");
            }
        }
        assert!(near_miss("DefaultValue", "defaultValue"));
        assert!(near_miss("threshhold", "Threshold"));
        assert!(
            !near_miss("unitt", "unit"),
            "short names only match ignoring case"
        );
    }
}
