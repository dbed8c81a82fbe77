//! SDK output shapes -> JSON with the member names the AWS CLI v2 prints (the snapshot contract).
//! The SDK types are not serializable, so each shape has an explicit function; unset optional members
//! are omitted, as the CLI omits members the service did not send. Timestamps are ISO-8601 strings
//! (RFC 3339, UTC); CloudWatch Logs `creationTime` stays epoch milliseconds, as the API has it.
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// An object under construction; `None` members are left out.
#[derive(Default)]
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Self {
        Self::default()
    }
    fn put(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_string(), v);
        }
        self
    }
    fn s(self, key: &str, v: Option<&str>) -> Self {
        self.put(key, v.map(|x| Value::String(x.to_string())))
    }
    fn b(self, key: &str, v: Option<bool>) -> Self {
        self.put(key, v.map(Value::Bool))
    }
    fn i(self, key: &str, v: Option<i64>) -> Self {
        self.put(key, v.map(Value::from))
    }
    fn f(self, key: &str, v: Option<f64>) -> Self {
        self.put(
            key,
            v.and_then(|x| serde_json::Number::from_f64(x).map(Value::Number)),
        )
    }
    fn t(self, key: &str, v: Option<&DateTime>) -> Self {
        self.put(key, v.map(|d| Value::String(timestamp(d))))
    }
    fn strs(self, key: &str, v: Option<&Vec<String>>) -> Self {
        self.put(
            key,
            v.map(|xs| Value::Array(xs.iter().cloned().map(Value::String).collect())),
        )
    }
    fn list<T>(self, key: &str, v: Option<&Vec<T>>, f: impl Fn(&T) -> Value) -> Self {
        self.put(key, v.map(|xs| Value::Array(xs.iter().map(f).collect())))
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

/// RFC 3339 in UTC (`2026-11-25T10:00:00Z`, fractional seconds only when present).
pub fn timestamp(d: &DateTime) -> String {
    d.fmt(Format::DateTime)
        .unwrap_or_else(|_| d.secs().to_string())
}

// ---- CloudTrail ----

// `SnsTopicName` is deprecated, but the service still returns it and the CLI prints it.
#[allow(deprecated)]
pub fn trail(t: &aws_sdk_cloudtrail::types::Trail) -> Value {
    Obj::new()
        .s("Name", t.name.as_deref())
        .s("S3BucketName", t.s3_bucket_name.as_deref())
        .s("S3KeyPrefix", t.s3_key_prefix.as_deref())
        .s("SnsTopicName", t.sns_topic_name.as_deref())
        .s("SnsTopicARN", t.sns_topic_arn.as_deref())
        .b(
            "IncludeGlobalServiceEvents",
            t.include_global_service_events,
        )
        .b("IsMultiRegionTrail", t.is_multi_region_trail)
        .s("HomeRegion", t.home_region.as_deref())
        .s("TrailARN", t.trail_arn.as_deref())
        .b("LogFileValidationEnabled", t.log_file_validation_enabled)
        .s(
            "CloudWatchLogsLogGroupArn",
            t.cloud_watch_logs_log_group_arn.as_deref(),
        )
        .s(
            "CloudWatchLogsRoleArn",
            t.cloud_watch_logs_role_arn.as_deref(),
        )
        .s("KmsKeyId", t.kms_key_id.as_deref())
        .b("HasCustomEventSelectors", t.has_custom_event_selectors)
        .b("HasInsightSelectors", t.has_insight_selectors)
        .b("IsOrganizationTrail", t.is_organization_trail)
        .b("RecursiveLogging", t.recursive_logging)
        .done()
}

pub fn trail_status(
    o: &aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput,
) -> Value {
    Obj::new()
        .b("IsLogging", o.is_logging)
        .s("LatestDeliveryError", o.latest_delivery_error.as_deref())
        .s(
            "LatestNotificationError",
            o.latest_notification_error.as_deref(),
        )
        .t("LatestDeliveryTime", o.latest_delivery_time.as_ref())
        .t(
            "LatestNotificationTime",
            o.latest_notification_time.as_ref(),
        )
        .t("StartLoggingTime", o.start_logging_time.as_ref())
        .t("StopLoggingTime", o.stop_logging_time.as_ref())
        .s(
            "LatestCloudWatchLogsDeliveryError",
            o.latest_cloud_watch_logs_delivery_error.as_deref(),
        )
        .t(
            "LatestCloudWatchLogsDeliveryTime",
            o.latest_cloud_watch_logs_delivery_time.as_ref(),
        )
        .t(
            "LatestDigestDeliveryTime",
            o.latest_digest_delivery_time.as_ref(),
        )
        .s(
            "LatestDigestDeliveryError",
            o.latest_digest_delivery_error.as_deref(),
        )
        .s(
            "LatestDeliveryAttemptTime",
            o.latest_delivery_attempt_time.as_deref(),
        )
        .s(
            "LatestNotificationAttemptTime",
            o.latest_notification_attempt_time.as_deref(),
        )
        .s(
            "LatestNotificationAttemptSucceeded",
            o.latest_notification_attempt_succeeded.as_deref(),
        )
        .s(
            "LatestDeliveryAttemptSucceeded",
            o.latest_delivery_attempt_succeeded.as_deref(),
        )
        .s("TimeLoggingStarted", o.time_logging_started.as_deref())
        .s("TimeLoggingStopped", o.time_logging_stopped.as_deref())
        .done()
}

pub fn event_selectors(
    o: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> Value {
    use aws_sdk_cloudtrail::types::{
        AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector,
    };
    let data_resource = |d: &DataResource| {
        Obj::new()
            .s("Type", d.r#type.as_deref())
            .strs("Values", d.values.as_ref())
            .done()
    };
    let selector = |e: &EventSelector| {
        Obj::new()
            .s(
                "ReadWriteType",
                e.read_write_type.as_ref().map(|x| x.as_str()),
            )
            .b("IncludeManagementEvents", e.include_management_events)
            .list("DataResources", e.data_resources.as_ref(), data_resource)
            .strs(
                "ExcludeManagementEventSources",
                e.exclude_management_event_sources.as_ref(),
            )
            .done()
    };
    let field = |f: &AdvancedFieldSelector| {
        Obj::new()
            .s("Field", Some(&f.field))
            .strs("Equals", f.equals.as_ref())
            .strs("StartsWith", f.starts_with.as_ref())
            .strs("EndsWith", f.ends_with.as_ref())
            .strs("NotEquals", f.not_equals.as_ref())
            .strs("NotStartsWith", f.not_starts_with.as_ref())
            .strs("NotEndsWith", f.not_ends_with.as_ref())
            .done()
    };
    let advanced = |a: &AdvancedEventSelector| {
        Obj::new()
            .s("Name", a.name.as_deref())
            .list("FieldSelectors", Some(&a.field_selectors), field)
            .done()
    };
    Obj::new()
        .s("TrailARN", o.trail_arn.as_deref())
        .list("EventSelectors", o.event_selectors.as_ref(), selector)
        .list(
            "AdvancedEventSelectors",
            o.advanced_event_selectors.as_ref(),
            advanced,
        )
        .done()
}

// ---- CloudWatch Logs ----

pub fn metric_filter(m: &aws_sdk_cloudwatchlogs::types::MetricFilter) -> Value {
    use aws_sdk_cloudwatchlogs::types::MetricTransformation;
    let transformation = |t: &MetricTransformation| {
        Obj::new()
            .s("metricName", Some(&t.metric_name))
            .s("metricNamespace", Some(&t.metric_namespace))
            .s("metricValue", Some(&t.metric_value))
            .f("defaultValue", t.default_value)
            .put(
                "dimensions",
                t.dimensions.as_ref().map(|d| {
                    Value::Object(
                        d.iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect(),
                    )
                }),
            )
            .s("unit", t.unit.as_ref().map(|u| u.as_str()))
            .done()
    };
    Obj::new()
        .s("filterName", m.filter_name.as_deref())
        .s("filterPattern", m.filter_pattern.as_deref())
        .list(
            "metricTransformations",
            m.metric_transformations.as_ref(),
            transformation,
        )
        .i("creationTime", m.creation_time)
        .s("logGroupName", m.log_group_name.as_deref())
        // A plain bool in the SDK (absent = false); written only when true.
        .b(
            "applyOnTransformedLogs",
            m.apply_on_transformed_logs.then_some(true),
        )
        .s(
            "fieldSelectionCriteria",
            m.field_selection_criteria.as_deref(),
        )
        .strs(
            "emitSystemFieldDimensions",
            m.emit_system_field_dimensions.as_ref(),
        )
        .done()
}

// ---- CloudWatch ----

fn dimension(d: &aws_sdk_cloudwatch::types::Dimension) -> Value {
    Obj::new()
        .s("Name", d.name.as_deref())
        .s("Value", d.value.as_deref())
        .done()
}

fn metric_query(q: &aws_sdk_cloudwatch::types::MetricDataQuery) -> Value {
    let stat = q.metric_stat.as_ref().map(|s| {
        let metric = s.metric.as_ref().map(|m| {
            Obj::new()
                .s("Namespace", m.namespace.as_deref())
                .s("MetricName", m.metric_name.as_deref())
                .list("Dimensions", m.dimensions.as_ref(), dimension)
                .done()
        });
        Obj::new()
            .put("Metric", metric)
            .i("Period", s.period.map(i64::from))
            .s("Stat", s.stat.as_deref())
            .s("Unit", s.unit.as_ref().map(|u| u.as_str()))
            .done()
    });
    Obj::new()
        .s("Id", q.id.as_deref())
        .put("MetricStat", stat)
        .s("Expression", q.expression.as_deref())
        .s("Label", q.label.as_deref())
        .b("ReturnData", q.return_data)
        .i("Period", q.period.map(i64::from))
        .s("AccountId", q.account_id.as_deref())
        .done()
}

pub fn metric_alarm(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> Value {
    Obj::new()
        .s("AlarmName", a.alarm_name.as_deref())
        .s("AlarmArn", a.alarm_arn.as_deref())
        .s("AlarmDescription", a.alarm_description.as_deref())
        .t(
            "AlarmConfigurationUpdatedTimestamp",
            a.alarm_configuration_updated_timestamp.as_ref(),
        )
        .b("ActionsEnabled", a.actions_enabled)
        .strs("OKActions", a.ok_actions.as_ref())
        .strs("AlarmActions", a.alarm_actions.as_ref())
        .strs(
            "InsufficientDataActions",
            a.insufficient_data_actions.as_ref(),
        )
        .s("StateValue", a.state_value.as_ref().map(|x| x.as_str()))
        .s("StateReason", a.state_reason.as_deref())
        .s("StateReasonData", a.state_reason_data.as_deref())
        .t("StateUpdatedTimestamp", a.state_updated_timestamp.as_ref())
        .s("MetricName", a.metric_name.as_deref())
        .s("Namespace", a.namespace.as_deref())
        .s("Statistic", a.statistic.as_ref().map(|x| x.as_str()))
        .s("ExtendedStatistic", a.extended_statistic.as_deref())
        .list("Dimensions", a.dimensions.as_ref(), dimension)
        .i("Period", a.period.map(i64::from))
        .s("Unit", a.unit.as_ref().map(|x| x.as_str()))
        .i("EvaluationPeriods", a.evaluation_periods.map(i64::from))
        .i("DatapointsToAlarm", a.datapoints_to_alarm.map(i64::from))
        .f("Threshold", a.threshold)
        .s(
            "ComparisonOperator",
            a.comparison_operator.as_ref().map(|x| x.as_str()),
        )
        .s("TreatMissingData", a.treat_missing_data.as_deref())
        .s(
            "EvaluateLowSampleCountPercentile",
            a.evaluate_low_sample_count_percentile.as_deref(),
        )
        .list("Metrics", a.metrics.as_ref(), metric_query)
        .s("ThresholdMetricId", a.threshold_metric_id.as_deref())
        .s(
            "EvaluationState",
            a.evaluation_state.as_ref().map(|x| x.as_str()),
        )
        .t(
            "StateTransitionedTimestamp",
            a.state_transitioned_timestamp.as_ref(),
        )
        .done()
}

pub fn composite_alarm(a: &aws_sdk_cloudwatch::types::CompositeAlarm) -> Value {
    Obj::new()
        .b("ActionsEnabled", a.actions_enabled)
        .strs("AlarmActions", a.alarm_actions.as_ref())
        .s("AlarmArn", a.alarm_arn.as_deref())
        .t(
            "AlarmConfigurationUpdatedTimestamp",
            a.alarm_configuration_updated_timestamp.as_ref(),
        )
        .s("AlarmDescription", a.alarm_description.as_deref())
        .s("AlarmName", a.alarm_name.as_deref())
        .s("AlarmRule", a.alarm_rule.as_deref())
        .strs(
            "InsufficientDataActions",
            a.insufficient_data_actions.as_ref(),
        )
        .strs("OKActions", a.ok_actions.as_ref())
        .s("StateReason", a.state_reason.as_deref())
        .s("StateReasonData", a.state_reason_data.as_deref())
        .t("StateUpdatedTimestamp", a.state_updated_timestamp.as_ref())
        .s("StateValue", a.state_value.as_ref().map(|x| x.as_str()))
        .t(
            "StateTransitionedTimestamp",
            a.state_transitioned_timestamp.as_ref(),
        )
        .s(
            "ActionsSuppressedBy",
            a.actions_suppressed_by.as_ref().map(|x| x.as_str()),
        )
        .s(
            "ActionsSuppressedReason",
            a.actions_suppressed_reason.as_deref(),
        )
        .s("ActionsSuppressor", a.actions_suppressor.as_deref())
        .i(
            "ActionsSuppressorWaitPeriod",
            a.actions_suppressor_wait_period.map(i64::from),
        )
        .i(
            "ActionsSuppressorExtensionPeriod",
            a.actions_suppressor_extension_period.map(i64::from),
        )
        .done()
}

// ---- SNS ----

/// `redact`: replace `Endpoint` (an e-mail address, a phone number, a URL) by its SHA-256.
pub fn subscription(s: &aws_sdk_sns::types::Subscription, redact: bool) -> Value {
    let endpoint = s.endpoint.as_deref().map(|e| {
        if redact {
            redact_endpoint(e)
        } else {
            e.to_string()
        }
    });
    Obj::new()
        .s("SubscriptionArn", s.subscription_arn.as_deref())
        .s("Owner", s.owner.as_deref())
        .s("Protocol", s.protocol.as_deref())
        .s("Endpoint", endpoint.as_deref())
        .s("TopicArn", s.topic_arn.as_deref())
        .done()
}

/// `redacted:sha256:<hex>` (snapshot-format.md): equal endpoints stay comparable, none is readable.
pub fn redact_endpoint(endpoint: &str) -> String {
    let digest = Sha256::digest(endpoint.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("redacted:sha256:{hex}")
}

/// Sorts `items` by the string at `keys` (joined), ties broken by the whole serialized item, so the
/// order never depends on the order the API returned.
pub fn sort_by_keys(items: &mut [Value], keys: &[&str]) {
    let key = |v: &Value| -> (Vec<String>, String) {
        (
            keys.iter()
                .map(|k| v.get(*k).and_then(Value::as_str).unwrap_or("").to_string())
                .collect(),
            v.to_string(),
        )
    };
    items.sort_by_cached_key(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(
            timestamp(&DateTime::from_secs(1_764_064_800)),
            "2025-11-25T10:00:00Z"
        );
        assert_eq!(
            timestamp(&DateTime::from_millis(1_764_064_800_250)),
            "2025-11-25T10:00:00.25Z"
        );
    }

    #[test]
    fn unset_members_are_omitted_and_empty_lists_kept() {
        let t = aws_sdk_cloudtrail::types::Trail::builder()
            .name("t")
            .is_multi_region_trail(true)
            .build();
        assert_eq!(
            trail(&t),
            serde_json::json!({"Name": "t", "IsMultiRegionTrail": true})
        );
        let a = aws_sdk_cloudwatch::types::MetricAlarm::builder()
            .alarm_name("a")
            .set_ok_actions(Some(vec![]))
            .threshold(1.0)
            .period(300)
            .build();
        assert_eq!(
            metric_alarm(&a),
            serde_json::json!({"AlarmName": "a", "OKActions": [], "Threshold": 1.0, "Period": 300})
        );
    }

    #[test]
    fn redaction_is_stable() {
        let r = redact_endpoint("security@example.com");
        assert!(r.starts_with("redacted:sha256:"));
        assert_eq!(r.len(), "redacted:sha256:".len() + 64);
        assert_eq!(r, redact_endpoint("security@example.com"));
    }

    #[test]
    fn sorting_by_natural_key() {
        let mut v = vec![
            serde_json::json!({"logGroupName": "b", "filterName": "a"}),
            serde_json::json!({"logGroupName": "a", "filterName": "z"}),
            serde_json::json!({"logGroupName": "a", "filterName": "c"}),
        ];
        sort_by_keys(&mut v, &["logGroupName", "filterName"]);
        let names: Vec<&str> = v
            .iter()
            .map(|x| x["filterName"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["c", "z", "a"]);
    }
}
