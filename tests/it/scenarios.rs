//! The CWL-014 scenarios of the rule (1, 4-15) and their variants, each through the whole evaluator:
//! snapshot files -> loader -> Rego -> finding.
use crate::support;

use cwl_audit::findings::Finding;
use cwl_audit::findings::Verdict::{Fail, Pass, Unknown};
use serde_json::json;
use support::*;

const A: &str = "111111111111";
const B: &str = "222222222222";
const E1: &str = "us-east-1";
const W1: &str = "eu-west-1";

fn trail_key() -> String {
    trail_arn(A, E1, "management-events").replace('/', "~1")
}

fn one(s: serde_json::Value) -> cwl_audit::findings::Finding {
    Org::new().with(s).verdict(A)
}

#[test]
fn s01_full_chain_passes_and_reports_the_chain() {
    let f = one(compliant(A, E1));
    assert_verdict(&f, Pass, "trail management-events -> log group CloudTrail/management-events (111111111111, us-east-1) -> filter RootAccountUsage -> metric CloudTrailMetrics/RootAccountUsageEventCount -> alarm RootAccountUsageAlarm -> topic RootAccountUsageAlerts");
    assert_eq!(f.chain.as_array().map(|c| c.len()), Some(6));
    assert!(f.notes.is_empty());
}

#[test]
fn s01_multi_region_account_still_one_finding() {
    let home = compliant(A, E1);
    let org = Org::new()
        .with(shadow_region(&home, W1))
        .with(shadow_region(&home, "ap-southeast-2"))
        .with(home);
    assert_verdict(&org.verdict(A), Pass, "alarm RootAccountUsageAlarm");
}

fn with_filter(pattern: &str) -> cwl_audit::findings::Finding {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/logs/metricFilters/0/filterPattern",
        json!(pattern),
    );
    one(s)
}

/// Row 2: the same filter written compactly, with newlines, parenthesised, reordered, quoted
/// differently: the semantic engine proves each catches every root event and nothing else.
#[test]
fn s02_row_2_equivalent_filters_pass() {
    for pattern in [
        r#"{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}"#,
        "{\n  $.userIdentity.type = \"Root\"\n  && $.userIdentity.invokedBy NOT EXISTS\n  && $.eventType != \"AwsServiceEvent\"\n}",
        r#"{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }"#,
        r#"{ $.eventType != "AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" }"#,
        "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }",
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && ($.eventType = "AwsApiCall" || $.eventType = "AwsConsoleAction" || $.eventType = "AwsConsoleSignIn" || $.eventType = "AwsCloudTrailInsight" || $.eventType = "AwsVpceEvent") }"#,
    ] {
        let f = with_filter(pattern);
        assert_verdict(&f, Pass, "filter RootAccountUsage");
        assert!(f.notes.is_empty(), "{pattern}: {:?}", f.notes);
    }
}

/// A filter on every root event (also service-invoked ones) passes with a note.
#[test]
fn s02_root_only_filter_passes_with_a_note() {
    for pattern in [
        r#"{ $.userIdentity.type = "Root" }"#,
        r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#,
    ] {
        let f = with_filter(pattern);
        assert_verdict(&f, Pass, "filter RootAccountUsage");
        assert!(
            f.notes
                .iter()
                .any(|n| n.contains("service-invoked or AwsServiceEvent")),
            "{pattern}: {:?}",
            f.notes
        );
    }
}

/// A `*` inside a value (the AWS guides read it as a wildcard, or, in 2019, as the asterisk
/// itself): a filter that catches exactly the root events under both readings passes, and the
/// chain's notes say so; one whose answer depends on the reading is unknown, and the message says
/// which reading gives which.
#[test]
fn s02_a_star_inside_a_value_is_decided_when_both_readings_agree() {
    let cis = cis_root();
    let inner = &cis[2..cis.len() - 2];
    let sso = "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*";
    let f = with_filter(&format!(
        "{{ ({inner}) || ({inner} && $.userIdentity.arn = \"{sso}\") }}"
    ));
    assert_verdict(&f, Pass, "filter RootAccountUsage");
    assert_eq!(
        f.notes,
        vec![format!("the '*' inside \"{sso}\" is a wildcard for the current AWS guide and the asterisk itself for the 2019 guide; the answer is the same under both readings")]
    );

    // IAM users whose x is "aqb" match only if `*` is a wildcard (then "aqb" matches "a*b"): the
    // filter fails as a wildcard (other identities keep the alarm in ALARM) and passes as the
    // asterisk itself, so the verdict cannot be known.
    let f = with_filter(&format!(
        "{{ {inner} || ($.userIdentity.type = \"IAMUser\" && $.x = \"a*b\" && $.x = \"aqb\") }}"
    ));
    assert_verdict(
        &f,
        Unknown,
        "cannot decide whether filter RootAccountUsage catches all root events: too complex to decide: the '*' inside \"a*b\" is a wildcard in the current AWS guide and the asterisk itself in the 2019 guide, and the answer depends on it: as a wildcard the filter catches every record the reference catches, and matches records of identities other than Root; as the asterisk itself it catches every record the reference catches",
    );
}

/// Row 3: weakened filters fail at the filter, and the message says which root events are missed
/// (or which other identities are matched).
#[test]
fn s03_row_3_weakened_filters_fail_with_the_reason() {
    for (pattern, message) in [
        (
            cis_root().replace("\"Root\"", "\"root\""),
            r#"filter RootAccountUsage misses root events whose userIdentity.type is "Root""#,
        ),
        (
            cis_root().replace(" }", " && $.sourceIPAddress != \"10.0.0.1\" }"),
            r#"filter RootAccountUsage misses root events whose sourceIPAddress is "10.0.0.1""#,
        ),
        (
            cis_root().replace(" }", " && $.sourceIPAddress EXISTS }"),
            "filter RootAccountUsage misses root events without sourceIPAddress",
        ),
        (
            cis_root().replace("!=", "="),
            r#"filter RootAccountUsage misses root events whose eventType is "AwsApiCall""#,
        ),
        (
            cis_root().replace(
                "\"AwsServiceEvent\"",
                "\"AwsServiceEvent\" && $.eventName != \"ConsoleLogin\"",
            ),
            r#"filter RootAccountUsage misses root events whose eventName is "ConsoleLogin""#,
        ),
        (
            cis_root().replace("&&", "||"),
            "filter RootAccountUsage also matches events of other identities such as IAMUser",
        ),
        (
            r#"{ $.userIdentity.type = "Ro*" }"#.to_string(),
            "filter RootAccountUsage also matches events of other identities such as Role",
        ),
        (
            String::new(),
            "filter RootAccountUsage also matches events of other identities",
        ),
        (
            "Root".to_string(),
            "filter RootAccountUsage also matches events of other identities",
        ),
    ] {
        let f = with_filter(&pattern);
        assert_verdict(&f, Fail, message);
        assert_eq!(f.link.as_deref(), Some("filter"), "{pattern}");
        assert_eq!(
            f.location.as_ref().map(|l| l.pointer.as_str()),
            Some("/logs/metricFilters/0")
        );
    }
}

/// A pattern CloudWatch Logs would reject fails with the column; removing every space from the CIS
/// pattern glues `NOT EXISTS` to the selector.
#[test]
fn s03_invalid_pattern_fails_with_its_column() {
    let f = with_filter(&cis_root().replace(' ', ""));
    assert_verdict(
        &f,
        Fail,
        "filter RootAccountUsage has a pattern CloudWatch Logs rejects: column 63: expected =, !=, <, <=, >, >=, IS, EXISTS or NOT EXISTS after $.userIdentity.invokedByNOTEXISTS",
    );
}

/// A filter too complex to decide is unknown, never pass.
#[test]
fn s03_undecidable_filter_is_unknown() {
    let f = with_filter(&cis_root().replace(" }", " && $.requestParameters.name != %^tmp% }"));
    assert_verdict(
        &f,
        Unknown,
        "cannot decide whether filter RootAccountUsage catches all root events: too complex to decide",
    );
}

#[test]
fn s04_single_region_trail_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudtrail/trailList/0/IsMultiRegionTrail",
        json!(false),
    );
    let f = one(s);
    assert_verdict(&f, Fail, "trail management-events is single-region");
    assert_eq!(
        f.location.as_ref().map(|l| l.pointer.as_str()),
        Some("/cloudtrail/trailList/0")
    );
}

#[test]
fn s04_stopped_trail_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        &format!("/cloudtrail/status/{}/IsLogging", trail_key()),
        json!(false),
    );
    let f = one(s);
    assert_verdict(
        &f,
        Fail,
        "trail management-events is not logging (IsLogging=false)",
    );
    assert_eq!(
        f.location.as_ref().map(|l| l.pointer.clone()),
        Some(format!("/cloudtrail/status/{}", trail_key()))
    );
}

#[test]
fn s04_write_only_management_events_fail() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        &format!(
            "/cloudtrail/selectors/{}/EventSelectors/0/ReadWriteType",
            trail_key()
        ),
        json!("WriteOnly"),
    );
    assert_verdict(&one(s), Fail, "records only WriteOnly management events");
}

#[test]
fn s04_no_management_events_fail() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        &format!(
            "/cloudtrail/selectors/{}/EventSelectors/0/IncludeManagementEvents",
            trail_key()
        ),
        json!(false),
    );
    assert_verdict(&one(s), Fail, "records no management events");
}

#[test]
fn s04_excluded_event_sources_fail() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        &format!(
            "/cloudtrail/selectors/{}/EventSelectors/0/ExcludeManagementEventSources",
            trail_key()
        ),
        json!(["kms.amazonaws.com"]),
    );
    assert_verdict(
        &one(s),
        Fail,
        "excludes management events from kms.amazonaws.com",
    );
}

#[test]
fn s04_trail_without_log_group_fails() {
    let mut s = compliant(A, E1);
    remove(&mut s, "/cloudtrail/trailList/0/CloudWatchLogsLogGroupArn");
    assert_verdict(&one(s), Fail, "does not deliver events to CloudWatch Logs");
}

fn advanced(fields: serde_json::Value) -> serde_json::Value {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        &format!("/cloudtrail/selectors/{}", trail_key()),
        json!({"TrailARN": trail_arn(A, E1, "management-events"), "AdvancedEventSelectors": [{"Name": "Management events", "FieldSelectors": fields}]}),
    );
    s
}

#[test]
fn s05_advanced_selectors_for_all_management_events_pass() {
    let s = advanced(json!([{"Field": "eventCategory", "Equals": ["Management"]}]));
    assert_verdict(&one(s), Pass, "topic RootAccountUsageAlerts");
}

#[test]
fn s05_advanced_selectors_with_read_only_restriction_fail() {
    let s = advanced(
        json!([{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]),
    );
    assert_verdict(&one(s), Fail, "records only read-only management events");
}

#[test]
fn s05_advanced_selectors_for_data_events_only_fail() {
    let s = advanced(
        json!([{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]),
    );
    assert_verdict(&one(s), Fail, "records no management events");
}

#[test]
fn s06_filter_and_metric_names_differ() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/logs/metricFilters/0/filterName",
        json!("cis-4.3-root"),
    );
    set(
        &mut s,
        "/logs/metricFilters/0/metricTransformations/0/metricName",
        json!("RootLogins"),
    );
    set(
        &mut s,
        "/logs/metricFilters/0/metricTransformations/0/metricNamespace",
        json!("Security"),
    );
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/MetricName",
        json!("RootLogins"),
    );
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/Namespace",
        json!("Security"),
    );
    assert_verdict(
        &one(s),
        Pass,
        "filter cis-4.3-root -> metric Security/RootLogins",
    );
}

#[test]
fn s06_alarm_on_filter_name_instead_of_metric_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/MetricName",
        json!("RootAccountUsage"),
    );
    assert_verdict(
        &one(s),
        Fail,
        "no alarm on metric CloudTrailMetrics/RootAccountUsageEventCount in us-east-1",
    );
}

#[test]
fn s07_alarm_on_wrong_namespace_fails_with_hint() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/Namespace",
        json!("LogMetrics"),
    );
    let f = one(s);
    assert_verdict(
        &f,
        Fail,
        "no alarm on metric CloudTrailMetrics/RootAccountUsageEventCount",
    );
    assert!(
        f.message.contains("in namespace LogMetrics instead"),
        "{}",
        f.message
    );
    assert_eq!(
        f.location.as_ref().map(|l| l.pointer.as_str()),
        Some("/cloudwatch/MetricAlarms")
    );
}

#[test]
fn s07_alarm_in_other_region_fails() {
    let mut home = compliant(A, E1);
    let alarm = home["cloudwatch"]["MetricAlarms"][0].clone();
    set(&mut home, "/cloudwatch/MetricAlarms", json!([]));
    let mut west = shadow_region(&home, W1);
    set(&mut west, "/cloudwatch/MetricAlarms", json!([alarm]));
    let f = Org::new().with(home).with(west).verdict(A);
    assert_verdict(
        &f,
        Fail,
        "no alarm on metric CloudTrailMetrics/RootAccountUsageEventCount in us-east-1",
    );
    assert!(
        f.message
            .contains("in eu-west-1 watches it, but metrics are regional"),
        "{}",
        f.message
    );
}

#[test]
fn s07_alarm_with_dimensions_the_metric_lacks_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/Dimensions",
        json!([{"Name": "Account", "Value": A}]),
    );
    assert_verdict(
        &one(s),
        Fail,
        "with dimensions Account=111111111111, which the metric filter does not publish",
    );
}

#[test]
fn s08_actions_disabled_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    let f = one(s);
    assert_verdict(
        &f,
        Fail,
        "alarm RootAccountUsageAlarm (us-east-1) has ActionsEnabled=false",
    );
    assert_eq!(
        f.resource.as_deref(),
        Some("arn:aws:cloudwatch:us-east-1:111111111111:alarm:RootAccountUsageAlarm")
    );
    assert_eq!(
        f.location.as_ref().map(|l| l.pointer.as_str()),
        Some("/cloudwatch/MetricAlarms/0")
    );
}

#[test]
fn s08_only_ok_actions_fail() {
    let mut s = compliant(A, E1);
    let topic = topic_arn(A, E1, "RootAccountUsageAlerts");
    set(&mut s, "/cloudwatch/MetricAlarms/0/AlarmActions", json!([]));
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/OKActions",
        json!([topic]),
    );
    assert_verdict(&one(s), Fail, "notifies SNS only when it returns to OK");
}

#[test]
fn s08_threshold_two_with_one_period_fails() {
    let mut s = compliant(A, E1);
    set(&mut s, "/cloudwatch/MetricAlarms/0/Threshold", json!(2.0));
    assert_verdict(
        &one(s),
        Fail,
        "needs Sum >= 2 to fire, but one event produces 1",
    );
}

#[test]
fn s08_greater_than_one_fails_but_greater_than_zero_passes() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ComparisonOperator",
        json!("GreaterThanThreshold"),
    );
    assert_verdict(&one(s.clone()), Fail, "needs Sum > 1 to fire");
    set(&mut s, "/cloudwatch/MetricAlarms/0/Threshold", json!(0.0));
    assert_verdict(&one(s), Pass, "alarm RootAccountUsageAlarm");
}

#[test]
fn s08_zero_threshold_with_greater_or_equal_stays_in_alarm() {
    let mut s = compliant(A, E1);
    set(&mut s, "/cloudwatch/MetricAlarms/0/Threshold", json!(0.0));
    assert_verdict(&one(s), Fail, "is breached by a zero count");
}

#[test]
fn s08_two_of_three_datapoints_fail() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/EvaluationPeriods",
        json!(3),
    );
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/DatapointsToAlarm",
        json!(2),
    );
    assert_verdict(&one(s), Fail, "needs 2 of 3 periods breaching");
}

#[test]
fn s08_datapoints_default_to_evaluation_periods() {
    let mut s = compliant(A, E1);
    remove(&mut s, "/cloudwatch/MetricAlarms/0/DatapointsToAlarm");
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/EvaluationPeriods",
        json!(2),
    );
    assert_verdict(&one(s.clone()), Fail, "needs 2 of 2 periods breaching");
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/EvaluationPeriods",
        json!(1),
    );
    assert_verdict(&one(s), Pass, "alarm RootAccountUsageAlarm");
}

#[test]
fn s08_less_than_comparison_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ComparisonOperator",
        json!("LessThanThreshold"),
    );
    assert_verdict(&one(s), Fail, "fires when the value is < 1");
}

#[test]
fn s08_missing_data_breaching_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/TreatMissingData",
        json!("breaching"),
    );
    assert_verdict(&one(s), Fail, "treats missing data as breaching");
}

#[test]
fn s08_sample_count_statistic_passes_with_threshold_one() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/Statistic",
        json!("SampleCount"),
    );
    set(
        &mut s,
        "/logs/metricFilters/0/metricTransformations/0/metricValue",
        json!("5"),
    );
    assert_verdict(&one(s), Pass, "alarm RootAccountUsageAlarm");
}

#[test]
fn s09_pending_subscription_only_fails() {
    let mut s = compliant(A, E1);
    let topic = topic_arn(A, E1, "RootAccountUsageAlerts");
    set(
        &mut s,
        "/sns/Subscriptions",
        json!([subscription(&topic, false)]),
    );
    let f = one(s);
    assert_verdict(
        &f,
        Fail,
        "topic RootAccountUsageAlerts has only unconfirmed subscriptions (PendingConfirmation)",
    );
    assert_eq!(
        f.location.as_ref().map(|l| l.pointer.as_str()),
        Some("/sns/Subscriptions/0")
    );
}

#[test]
fn s09_no_subscription_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/sns/Subscriptions",
        json!([subscription(&topic_arn(A, E1, "Other"), true)]),
    );
    assert_verdict(
        &one(s),
        Fail,
        "topic RootAccountUsageAlerts has no subscriptions",
    );
}

#[test]
fn s10_subscriptions_denied_is_unknown() {
    let mut s = compliant(A, E1);
    remove(&mut s, "/sns");
    set(
        &mut s,
        "/errors",
        json!([{"service": "sns", "operation": "ListSubscriptions", "resource": null, "code": "AuthorizationError",
                "message": "User: arn:aws:sts::111111111111:assumed-role/audit/x is not authorized to perform: SNS:ListSubscriptions"}]),
    );
    let f = one(s);
    assert_verdict(&f, Unknown, "the subscriptions of topic RootAccountUsageAlerts could not be read (ListSubscriptions failed: AuthorizationError)");
    assert_eq!(
        f.location.as_ref().map(|l| l.pointer.as_str()),
        Some("/errors/0")
    );
}

#[test]
fn s10_confirmed_subscription_in_partial_data_still_proves_pass() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/errors",
        json!([{"service": "sns", "operation": "ListSubscriptions", "resource": null, "code": "Throttling", "message": "Rate exceeded"}]),
    );
    assert_verdict(&one(s), Pass, "1 confirmed subscription)");
}

#[test]
fn s10_trail_status_denied_is_unknown() {
    let mut s = compliant(A, E1);
    set(&mut s, "/cloudtrail/status", json!({}));
    set(
        &mut s,
        "/errors",
        json!([{"service": "cloudtrail", "operation": "GetTrailStatus", "resource": trail_arn(A, E1, "management-events"), "code": "AccessDeniedException", "message": "denied"}]),
    );
    assert_verdict(&one(s), Unknown, "the status of trail management-events could not be read (GetTrailStatus failed: AccessDeniedException)");
}

#[test]
fn s10_alarms_not_collected_is_unknown() {
    let mut s = compliant(A, E1);
    remove(&mut s, "/cloudwatch");
    assert_verdict(&one(s), Unknown, "the alarms of us-east-1 (account 111111111111) could not be read (DescribeAlarms was not collected)");
}

/// Management account B owns an organization trail; member A sees it as a shadow trail.
fn organization(member_extra: bool) -> Org {
    let mut mgmt = compliant(B, E1);
    set(
        &mut mgmt,
        "/cloudtrail/trailList/0/IsOrganizationTrail",
        json!(true),
    );
    let mut member = empty(A, E1);
    set(
        &mut member,
        "/cloudtrail/trailList",
        mgmt["cloudtrail"]["trailList"].clone(),
    );
    let mut org = Org::new().with(member);
    if member_extra {
        org = org.with(mgmt);
    }
    org
}

#[test]
fn s11_organization_trail_member_passes_through_owner_chain() {
    let org = organization(true);
    let f = org.verdict(A);
    assert_verdict(&f, Pass, "trail management-events -> log group CloudTrail/management-events (222222222222, us-east-1)");
    assert_verdict(&org.verdict(B), Pass, "alarm RootAccountUsageAlarm");
}

#[test]
fn s11_broken_owner_chain_fails_member_at_owner_snapshot() {
    let mut org = organization(true);
    let mgmt = org
        .snapshots
        .get_mut(&(B.to_string(), E1.to_string()))
        .unwrap();
    set(
        mgmt,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    let f = org.verdict(A);
    assert_verdict(&f, Fail, "has ActionsEnabled=false");
    let loc = f.location.unwrap();
    assert_eq!(
        (loc.account_id.as_str(), loc.pointer.as_str()),
        (B, "/cloudwatch/MetricAlarms/0")
    );
    assert!(
        loc.path.ends_with("222222222222/us-east-1.json"),
        "{}",
        loc.path
    );
}

#[test]
fn s11_foreign_trail_that_is_not_an_organization_trail_fails() {
    let mut org = organization(true);
    let mgmt = org
        .snapshots
        .get_mut(&(B.to_string(), E1.to_string()))
        .unwrap();
    set(
        mgmt,
        "/cloudtrail/trailList/0/IsOrganizationTrail",
        json!(false),
    );
    assert_verdict(
        &org.verdict(A),
        Fail,
        "belongs to account 222222222222 and is not an organization trail",
    );
}

#[test]
fn s12_organization_trail_owner_not_loaded_is_unknown() {
    let f = organization(false).verdict(A);
    assert_verdict(
        &f,
        Unknown,
        "organization trail owned by account 222222222222; load that account's us-east-1 snapshot",
    );
    assert_eq!(
        f.location.as_ref().map(|l| l.pointer.as_str()),
        Some("/cloudtrail/trailList/0")
    );
}

#[test]
fn s13_two_trails_one_complete_passes_once() {
    let mut s = compliant(A, E1);
    let second = trail(A, E1, "data-events", None);
    let arn = second["TrailARN"].as_str().unwrap().to_string();
    s["cloudtrail"]["trailList"]
        .as_array_mut()
        .unwrap()
        .push(second);
    s["cloudtrail"]["status"][&arn] = json!({"IsLogging": false});
    s["cloudtrail"]["selectors"][&arn] = json!({"EventSelectors": []});
    assert_verdict(&one(s), Pass, "trail management-events");
}

#[test]
fn s13_two_broken_trails_report_the_closest() {
    let mut s = compliant(A, E1);
    let second = trail(A, E1, "audit", None);
    let arn = second["TrailARN"].as_str().unwrap().to_string();
    s["cloudtrail"]["trailList"]
        .as_array_mut()
        .unwrap()
        .push(second);
    s["cloudtrail"]["status"][&arn] = json!({"IsLogging": true});
    s["cloudtrail"]["selectors"][&arn] =
        json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]});
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    assert_verdict(&one(s), Fail, "has ActionsEnabled=false");
}

#[test]
fn s14_same_log_group_name_in_another_region_fails() {
    let mut home = compliant(A, E1);
    let filters = home["logs"]["metricFilters"].clone();
    let alarms = home["cloudwatch"]["MetricAlarms"].clone();
    set(&mut home, "/logs/metricFilters", json!([]));
    let mut west = shadow_region(&home, W1);
    set(&mut west, "/logs/metricFilters", filters);
    set(&mut west, "/cloudwatch/MetricAlarms", alarms);
    let f = Org::new().with(home).with(west).verdict(A);
    assert_verdict(&f, Fail, "no metric filter on log group CloudTrail/management-events (account 111111111111, us-east-1)");
    assert!(
        f.message
            .contains("of that name in eu-west-1 has metric filters"),
        "{}",
        f.message
    );
}

#[test]
fn s14_same_log_group_name_in_another_account_does_not_count() {
    let mut mine = compliant(A, E1);
    set(&mut mine, "/logs/metricFilters", json!([]));
    let other = compliant(B, E1);
    assert_verdict(
        &Org::new().with(mine).with(other).verdict(A),
        Fail,
        "no metric filter on log group",
    );
}

fn math_alarm(expression: &str, stat_returns: bool) -> serde_json::Value {
    let mut s = compliant(A, E1);
    let a = &mut s["cloudwatch"]["MetricAlarms"][0];
    let obj = a.as_object_mut().unwrap();
    for k in [
        "MetricName",
        "Namespace",
        "Statistic",
        "Period",
        "Dimensions",
    ] {
        obj.remove(k);
    }
    let mut metrics = vec![json!({
        "Id": "m1",
        "MetricStat": {"Metric": {"Namespace": "CloudTrailMetrics", "MetricName": "RootAccountUsageEventCount", "Dimensions": []}, "Period": 300, "Stat": "Sum"},
        "ReturnData": stat_returns
    })];
    if !stat_returns {
        metrics.push(json!({"Id": "e1", "Expression": expression, "Label": "root events", "ReturnData": true}));
    }
    obj.insert("Metrics".into(), json!(metrics));
    s
}

#[test]
fn s15_metric_math_alarm_passes() {
    assert_verdict(
        &one(math_alarm("FILL(m1, 0)", false)),
        Pass,
        "alarm RootAccountUsageAlarm",
    );
    assert_verdict(
        &one(math_alarm("", true)),
        Pass,
        "alarm RootAccountUsageAlarm",
    );
}

#[test]
fn s15_metric_math_with_unprovable_expression_fails() {
    assert_verdict(
        &one(math_alarm("m1 - 1", false)),
        Fail,
        "returns expression \"m1 - 1\", which cwl-audit cannot prove",
    );
}

#[test]
fn metric_value_zero_or_from_event_fails() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/logs/metricFilters/0/metricTransformations/0/metricValue",
        json!("0"),
    );
    assert_verdict(
        &one(s.clone()),
        Fail,
        "with value 0 for each event, so no alarm on it can fire",
    );
    set(
        &mut s,
        "/logs/metricFilters/0/metricTransformations/0/metricValue",
        json!("$.requestParameters.count"),
    );
    assert_verdict(&one(s), Fail, "taken from the event");
}

#[test]
fn metric_with_dimensions_fails() {
    let mut s = compliant(A, E1);
    s["logs"]["metricFilters"][0]["metricTransformations"][0]["dimensions"] =
        json!({"EventName": "$.eventName"});
    assert_verdict(
        &one(s),
        Fail,
        "has dimensions taken from event fields (EventName)",
    );
}

#[test]
fn no_trail_at_all_fails() {
    let f = one(empty(A, E1));
    assert_verdict(&f, Fail, "no CloudTrail trail logs this account");
}

#[test]
fn trails_denied_everywhere_is_unknown() {
    let mut s = empty(A, E1);
    remove(&mut s, "/cloudtrail");
    set(
        &mut s,
        "/errors",
        json!([{"service": "cloudtrail", "operation": "DescribeTrails", "resource": null, "code": "AccessDeniedException", "message": "no"}]),
    );
    assert_verdict(&one(s), Unknown, "the trails of this account could not be read (DescribeTrails failed: AccessDeniedException)");
}

#[test]
fn trail_home_region_not_loaded_is_unknown() {
    let home = compliant(A, E1);
    let west = shadow_region(&home, W1);
    assert_verdict(
        &Org::new().with(west).verdict(A),
        Unknown,
        "has its home in us-east-1, and no us-east-1 snapshot of this account is loaded",
    );
}

#[test]
fn topic_in_unloaded_account_is_unknown() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/AlarmActions",
        json!([topic_arn(B, E1, "central-security")]),
    );
    assert_verdict(&one(s), Unknown, "notifies topic central-security in account 222222222222 region us-east-1, and no snapshot of it is loaded");
}

#[test]
fn unknown_mentions_a_closer_failing_chain() {
    let mut s = compliant(A, E1);
    set(
        &mut s,
        "/cloudwatch/MetricAlarms/0/ActionsEnabled",
        json!(false),
    );
    let second = trail(A, W1, "west", Some("west-logs"));
    s["cloudtrail"]["trailList"]
        .as_array_mut()
        .unwrap()
        .push(second);
    let f = one(s);
    assert_verdict(&f, Unknown, "trail west has its home in eu-west-1");
    assert!(f.notes.iter().any(|n| n.contains("closest failing chain: alarm RootAccountUsageAlarm (us-east-1) has ActionsEnabled=false")), "{:?}", f.notes);
}

/// `data.cwl_audit.accounts` holds the accounts other snapshots name in an ARN (here the owner of
/// the organization trail), not every loaded account: the others are decided one at a time and
/// dropped. Every account is still decided.
#[test]
fn only_referenced_accounts_stay_in_data() {
    const C: &str = "333333333333";
    let org = organization(true).with(compliant(C, E1));
    let dir = org.write();
    let policies = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        policies.path().join("data_accounts.rego"),
        "# METADATA\n# title: Loaded accounts\n# custom:\n#   id: TEST-DATA\n#   severity: LOW\npackage test.data_accounts\n\ndecision := {\"verdict\": \"pass\", \"message\": concat(\",\", sort(object.keys(data.cwl_audit.accounts)))}\n",
    )
    .expect("write policy");
    let mut opts = cwl_audit::eval::EvalOptions::new(vec![dir.path().to_path_buf()]);
    opts.policy_dirs = vec![policies.path().to_path_buf()];
    let r = cwl_audit::eval::run(&opts).expect("policies compile");
    let seen: Vec<(&str, &str, &str)> = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "TEST-DATA")
        .map(|f| {
            (
                f.account_id.as_str(),
                f.message.as_str(),
                f.verdict.as_str(),
            )
        })
        .collect();
    assert_eq!(seen, [(A, B, "pass"), (B, B, "pass"), (C, B, "pass")]);
    let root: Vec<(&str, cwl_audit::findings::Verdict)> = r
        .findings
        .iter()
        .filter(|f| f.rule_id == "CWL-014")
        .map(|f| (f.account_id.as_str(), f.verdict))
        .collect();
    assert_eq!(root, [(A, Pass), (B, Pass), (C, Pass)]);
}

// ---------------------------------------------------------------- combinations (issue 12)

fn with_transformation(changes: serde_json::Value, alarm_changes: serde_json::Value) -> Finding {
    let mut s = compliant(A, E1);
    for (k, v) in changes.as_object().expect("object") {
        set_member(
            &mut s,
            "/logs/metricFilters/0/metricTransformations/0",
            k,
            v,
        );
    }
    for (k, v) in alarm_changes.as_object().expect("object") {
        set_member(&mut s, "/cloudwatch/MetricAlarms/0", k, v);
    }
    one(s)
}

fn set_member(s: &mut serde_json::Value, pointer: &str, key: &str, v: &serde_json::Value) {
    let obj = s.pointer_mut(pointer).expect("pointer in test snapshot");
    match v {
        serde_json::Value::Null => {
            obj.as_object_mut().expect("object").remove(key);
        }
        _ => obj[key] = v.clone(),
    }
}

/// CloudWatch Logs emits the transformation's defaultValue for every log event the pattern does
/// not match: with a positive one the Sum never returns to zero, and with any the SampleCount
/// counts every log event, so the alarm stays in ALARM and a root event sends no notification.
#[test]
fn default_value_decides_by_the_metrics_data_points() {
    let fail = |d: serde_json::Value, alarm: serde_json::Value, part: &str| {
        let f = with_transformation(json!({"defaultValue": d}), alarm.clone());
        assert_verdict(&f, Fail, part);
        assert!(
            f.message.contains("defaultValue"),
            "{alarm} names the defaultValue: {}",
            f.message
        );
    };
    fail(
        json!(1),
        json!({}),
        "defaultValue 1 adds 1 for every other log event",
    );
    fail(json!(0.5), json!({}), "defaultValue 0.5");
    fail(json!(0), json!({"Statistic": "SampleCount"}), "SampleCount");
    fail(json!(-1), json!({}), "can stay below the threshold");
    fail(json!(0), json!({"Statistic": "Average"}), "tends to 0");
    fail(json!(0), json!({"Statistic": "Minimum"}), "tends to 0");
    let p99 = json!({"ExtendedStatistic": "p99", "Statistic": null});
    fail(json!(0), p99, "tends to 0");
    fail(json!(1), json!({"Statistic": "Maximum"}), "alone breaches");
    // A zero default changes neither the Sum nor the Maximum of a period; no default changes nothing.
    for alarm in [
        json!({}),
        json!({"Statistic": "Maximum"}),
        json!({"ExtendedStatistic": "p100", "Statistic": null}),
    ] {
        let f = with_transformation(json!({"defaultValue": 0}), alarm.clone());
        assert_verdict(&f, Pass, "topic RootAccountUsageAlerts");
    }
    let f = with_transformation(json!({}), json!({"Statistic": "SampleCount"}));
    assert_verdict(&f, Pass, "topic RootAccountUsageAlerts");
}

/// AWS records an event when any selector selects it: selectors combine by union.
#[test]
fn several_basic_selectors_combine_by_union() {
    let pointer = format!("/cloudtrail/selectors/{}/EventSelectors", trail_key());
    let sel = |rw: &str, excluded: &[&str]| json!({"ReadWriteType": rw, "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": excluded});
    let with = |sels: serde_json::Value| {
        let mut s = compliant(A, E1);
        set(&mut s, &pointer, sels);
        one(s)
    };
    let pass = "topic RootAccountUsageAlerts";
    assert_verdict(
        &with(json!([sel("ReadOnly", &[]), sel("WriteOnly", &[])])),
        Pass,
        pass,
    );
    assert_verdict(
        &with(json!([
            sel("All", &["kms.amazonaws.com"]),
            sel("All", &["rdsdata.amazonaws.com"])
        ])),
        Pass,
        pass,
    );
    assert_verdict(
        &with(json!([
            sel("ReadOnly", &["kms.amazonaws.com"]),
            sel("WriteOnly", &["rdsdata.amazonaws.com"])
        ])),
        Fail,
        "excludes management events from kms.amazonaws.com, rdsdata.amazonaws.com",
    );
    assert_verdict(
        &with(json!([
            sel("WriteOnly", &[]),
            sel("WriteOnly", &["kms.amazonaws.com"])
        ])),
        Fail,
        "records only WriteOnly management events",
    );
    assert_verdict(
        &with(json!([
            sel("All", &["kms.amazonaws.com"]),
            sel("All", &["kms.amazonaws.com", "rdsdata.amazonaws.com"])
        ])),
        Fail,
        "excludes management events from kms.amazonaws.com,",
    );
}

#[test]
fn advanced_selectors_for_read_and_write_combine_by_union() {
    let ro = |v: &str| json!([{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": [v]}]);
    let mut s = compliant(A, E1);
    let key = trail_key();
    remove(
        &mut s,
        &format!("/cloudtrail/selectors/{key}/EventSelectors"),
    );
    set(
        &mut s,
        &format!("/cloudtrail/selectors/{key}"),
        json!({"AdvancedEventSelectors": [{"Name": "read", "FieldSelectors": ro("true")}, {"Name": "write", "FieldSelectors": ro("false")}]}),
    );
    assert_verdict(&one(s), Pass, "topic RootAccountUsageAlerts");
}

/// Two alarms on the metric's name in other namespaces, or on the metric in other regions, when no
/// alarm watches it where it is published: one failure naming the first of them, not a crash.
#[test]
fn several_misplaced_alarms_give_one_hint() {
    let mut s = compliant(A, E1);
    let topic = topic_arn(A, E1, "RootAccountUsageAlerts");
    let mut a = alarm(A, E1, "B-alarm", "RootAccountUsageEventCount", &topic);
    a["Namespace"] = json!("Other");
    let mut b = a.clone();
    b["AlarmName"] = json!("A-alarm");
    b["AlarmArn"] = json!(format!("arn:aws:cloudwatch:{E1}:{A}:alarm:A-alarm"));
    b["Namespace"] = json!("Another");
    set(&mut s, "/cloudwatch/MetricAlarms", json!([a, b]));
    assert_verdict(
        &one(s),
        Fail,
        "(alarm A-alarm watches RootAccountUsageEventCount in namespace Another instead)",
    );

    let mut home = compliant(A, E1);
    set(&mut home, "/cloudwatch/MetricAlarms", json!([]));
    let elsewhere = |region: &str, name: &str| {
        let mut s = shadow_region(&home, region);
        let t = topic_arn(A, region, "RootAccountUsageAlerts");
        s["cloudwatch"]["MetricAlarms"] =
            json!([alarm(A, region, name, "RootAccountUsageEventCount", &t)]);
        s
    };
    let org = Org::new()
        .with(elsewhere(W1, "west"))
        .with(elsewhere("ap-southeast-2", "south"))
        .with(home.clone());
    assert_verdict(
        &org.verdict(A),
        Fail,
        "(alarm south in ap-southeast-2 watches it, but metrics are regional)",
    );
}
