package lib.chain_test

import data.lib.chain
import data.lib.chain_fixture as fx

# The snapshots are the fixture's (lib.chain_fixture, the one builder of test snapshots), with its
# filter "Monitored" on the root-usage reference pattern.
params := {
	"reference": `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
	"label": "root events",
	"reject_non_root": true,
}

snap := fx.snapshot(params.reference)

metric_filter := fx.metric_filter(params.reference)

decide(s) := decide_with(s, params)

decide_with(s, p) := d if {
	d := chain.decision(p) with input as fx.account(s)
		with data.cwl_audit.accounts as {}
}

with_alarm(changes) := fx.with_alarm(snap, changes)

# ------------------------------------------------------------------ the whole chain

test_complete_chain_passes if {
	d := decide(snap)
	d.verdict == "pass"
	d.message == "trail main -> log group trail-logs (111111111111, us-east-1) -> filter Monitored -> metric CISBenchmark/MonitoredCount -> alarm monitored-alarm -> topic alerts (1 confirmed subscription)"
	count(d.chain) == 6
}

test_no_trail_fails if {
	d := decide(object.union(snap, {"cloudtrail": {"trailList": []}}))
	d.verdict == "fail"
	d.message == "no CloudTrail trail logs this account"
}

# ------------------------------------------------------------------ 1. trail

test_single_region_trail_fails if {
	d := decide(object.union(snap, {"cloudtrail": {"trailList": [object.union(fx.trail, {"IsMultiRegionTrail": false})]}}))
	d.verdict == "fail"
	d.link == "trail"
	d.location.pointer == "/cloudtrail/trailList/0"
}

test_stopped_trail_fails if {
	d := decide(object.union(snap, {"cloudtrail": {"status": {fx.trail_arn: {"IsLogging": false}}}}))
	d.message == "trail main is not logging (IsLogging=false)"
	d.location.pointer == "/cloudtrail/status/arn:aws:cloudtrail:us-east-1:111111111111:trail~1main"
}

test_management_selectors if {
	chain._records_all_management({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]})
	chain._records_all_management({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]})
	not chain._records_all_management({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]})
	not chain._records_all_management({"AdvancedEventSelectors": [{"FieldSelectors": [
		{"Field": "eventCategory", "Equals": ["Management"]},
		{"Field": "readOnly", "Equals": ["false"]},
	]}]})
	chain._management_gap({"EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": true}]}) == "records only ReadOnly management events"
	chain._management_gap({"EventSelectors": []}) == "records no management events"
}

test_status_denied_is_unknown if {
	s := object.union(json.remove(snap, ["cloudtrail/status"]), {
		"errors": [{"service": "cloudtrail", "operation": "GetTrailStatus", "resource": fx.trail_arn, "code": "AccessDenied"}],
	})
	d := decide(s)
	d.verdict == "unknown"
	d.location.pointer == "/errors/0"
}

# ------------------------------------------------------------------ 2. log group

test_log_group_arn_is_parsed_with_and_without_suffix if {
	chain._log_group_ref("arn:aws:logs:eu-west-1:222222222222:log-group:a/b:*") == {
		"arn": "arn:aws:logs:eu-west-1:222222222222:log-group:a/b",
		"partition": "aws",
		"region": "eu-west-1",
		"account": "222222222222",
		"name": "a/b",
	}
	chain._log_group_ref("arn:aws-cn:logs:cn-north-1:222222222222:log-group:x").region == "cn-north-1"
	not chain._log_group_ref("arn:aws:s3:::bucket")
}

test_filter_on_other_log_group_fails if {
	d := decide(object.union(snap, {"logs": {"metricFilters": [object.union(metric_filter, {"logGroupName": "other"})]}}))
	d.message == "no metric filter on log group trail-logs (account 111111111111, us-east-1)"
}

# ------------------------------------------------------------------ 3. filter, 4. metric

test_filter_with_wrong_case_fails if {
	f := object.union(metric_filter, {"filterPattern": replace(params.reference, `"Root"`, `"root"`)})
	d := decide(object.union(snap, {"logs": {"metricFilters": [f]}}))
	d.verdict == "fail"
	d.link == "filter"
}

with_pattern(p) := fx.snapshot(p)

test_filter_with_wrong_case_names_the_missed_events if {
	d := decide(with_pattern(replace(params.reference, `"Root"`, `"root"`)))
	d.message == `filter Monitored misses root events whose userIdentity.type is "Root"`
}

test_reordered_filter_passes if {
	d := decide(with_pattern(`{ $.eventType != AwsServiceEvent && ($.userIdentity.invokedBy NOT EXISTS) && $.userIdentity.type = Root }`))
	d.verdict == "pass"
}

test_or_filter_fails_for_other_identities if {
	d := decide(with_pattern(replace(params.reference, "&&", "||")))
	d.verdict == "fail"
	startswith(d.message, "filter Monitored also matches events of other identities such as IAMUser")
}

test_root_only_filter_passes_with_note if {
	d := decide(with_pattern(`{ $.userIdentity.type = "Root" }`))
	d.verdict == "pass"
	count(d.notes) == 1
}

test_filter_matches_builtin if {
	cwl.filter_matches(params.reference, {"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"})
	not cwl.filter_matches(params.reference, {"userIdentity": {"type": "Root", "invokedBy": "s3.amazonaws.com"}, "eventType": "AwsApiCall"})
	cwl.filter_matches("ERROR -WARN", "[ERROR 400] BAD REQUEST")
}

test_filter_covers_builtin if {
	c := cwl.filter_covers(`{ $.userIdentity.type = "Root" && $.sourceIPAddress != "10.0.0.1" }`, params.reference)
	c.covers == false
	c.missed == `whose sourceIPAddress is "10.0.0.1"`
	c.counterexample.sourceIPAddress == "10.0.0.1"
}

test_metric_value_zero_fails if {
	f := object.union(metric_filter, {"metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "0"}]})
	d := decide(object.union(snap, {"logs": {"metricFilters": [f]}}))
	d.link == "metric"
}

# ------------------------------------------------------------------ 5. alarm

test_alarm_actions_disabled_fails if {
	d := decide(with_alarm({"ActionsEnabled": false}))
	d.message == "alarm monitored-alarm (us-east-1) has ActionsEnabled=false"
}

test_alarm_threshold_two_fails if {
	d := decide(with_alarm({"Threshold": 2}))
	d.message == "alarm monitored-alarm (us-east-1) needs Sum >= 2 to fire, but one event produces 1"
}

test_breaches if {
	chain._breaches("GreaterThanOrEqualToThreshold", 1, 1)
	chain._breaches("GreaterThanThreshold", 1, 0.5)
	not chain._breaches("GreaterThanThreshold", 1, 1)
	not chain._breaches("LessThanThreshold", 0, 1)
	chain._observed("SampleCount", 7) == 1
	chain._observed("p99", 7) == 7
}

test_metric_math_passthrough if {
	chain._passthrough("m1", "m1")
	chain._passthrough("FILL(m1, 0)", "m1")
	chain._passthrough(" SUM([m1]) ", "m1")
	not chain._passthrough("FILL(m1, 1)", "m1")
	not chain._passthrough("m1 * 0", "m1")
	not chain._passthrough("m10", "m1")
}

# ------------------------------------------------------------------ 6. notification

test_pending_subscription_fails if {
	s := object.union(snap, {"sns": {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "TopicArn": fx.topic}]}})
	d := decide(s)
	d.verdict == "fail"
	d.location.pointer == "/sns/Subscriptions/0"
}

test_subscriptions_denied_is_unknown if {
	s := json.remove(snap, ["sns"])
	d := decide(object.union(s, {"errors": [{"service": "sns", "operation": "ListSubscriptions", "resource": null, "code": "AuthorizationError"}]}))
	d.verdict == "unknown"
	d.message == "the subscriptions of topic alerts could not be read (ListSubscriptions failed: AuthorizationError)"
}

test_alarm_without_sns_action_fails if {
	d := decide(with_alarm({"AlarmActions": ["arn:aws:automate:us-east-1:ec2:stop"]}))
	d.message == "alarm monitored-alarm (us-east-1) has no SNS topic in its AlarmActions"
}

# ------------------------------------------------------------------ several filters on one log group

# With another rule's filter beside it, the failure reported is the one of the filter closest to
# the rule (here: the root filter with an exclusion too many), not the other rule's.
test_closest_failing_filter_is_reported if {
	other := {
		"filterName": "AaaCloudTrailChanges",
		"logGroupName": "trail-logs",
		"filterPattern": "{ ($.eventName = CreateTrail) || ($.eventName = StopLogging) }",
		"metricTransformations": [{"metricName": "TrailCount", "metricNamespace": "CIS", "metricValue": "1"}],
	}
	mine := object.union(metric_filter, {"filterPattern": concat("", [trim_suffix(params.reference, " }"), ` && $.sourceIPAddress != "198.51.100.10" }`])})
	d := decide(object.union(snap, {"logs": {"metricFilters": [other, mine]}}))
	d.verdict == "fail"
	d.message == `filter Monitored misses root events whose sourceIPAddress is "198.51.100.10"`
}

test_filter_matching_other_identities_is_reported_before_other_rules if {
	other := {
		"filterName": "AaaCloudTrailChanges",
		"logGroupName": "trail-logs",
		"filterPattern": "{ ($.eventName = CreateTrail) || ($.eventName = StopLogging) }",
		"metricTransformations": [{"metricName": "TrailCount", "metricNamespace": "CIS", "metricValue": "1"}],
	}
	mine := object.union(metric_filter, {"filterPattern": replace(params.reference, "&&", "||")})
	d := decide(object.union(snap, {"logs": {"metricFilters": [other, mine]}}))
	d.verdict == "fail"
	startswith(d.message, "filter Monitored also matches events of other identities")
}

test_log_group_without_a_filter_for_the_rule_says_so if {
	other := {
		"filterName": "CloudTrailChanges",
		"logGroupName": "trail-logs",
		"filterPattern": "{ ($.eventName = CreateTrail) || ($.eventName = StopLogging) }",
		"metricTransformations": [{"metricName": "TrailCount", "metricNamespace": "CIS", "metricValue": "1"}],
	}
	console := object.union(other, {"filterName": "ConsoleLogins", "filterPattern": "{ $.eventName = ConsoleLogin }"})
	s := object.union(snap, {"logs": {"metricFilters": [other, console]}})
	d := decide(s)
	d.verdict == "fail"
	d.message == "no filter on log group trail-logs is for root events"
	# Decided by the shortcut for "no filter is for the rule": the same decision as from every
	# outcome, naming the first filter.
	d == full(s, params)
	d.location.pointer == "/logs/metricFilters/0"
	# Not taken when one filter is for the rule (it is named instead), and still the same.
	narrower := object.union(other, {"filterName": "RootFromHome", "filterPattern": `{ $.userIdentity.type = "Root" && $.sourceIPAddress = "1.2.3.4" }`})
	n := object.union(snap, {"logs": {"metricFilters": [other, narrower]}})
	startswith(decide(n).message, "filter RootFromHome misses root events")
	decide(n) == full(n, params)
}

full(s, p) := d if {
	d := chain._full_decision(p) with input as fx.account(s)
		with data.cwl_audit.accounts as {}
}

# The only filter is another rule's (the root one, for network ACL changes): it is not named
# as the closest chain.
test_the_only_filter_is_another_rules_says_so if {
	root := {
		"filterName": "RootAccountUsage",
		"logGroupName": "trail-logs",
		"filterPattern": "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }",
		"metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "1"}],
	}
	nacl := {"label": "network ACL changes", "reject_non_root": false, "reference": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = DeleteNetworkAcl) }"}
	d := decide_with(object.union(snap, {"logs": {"metricFilters": [root]}}), nacl)
	d.verdict == "fail"
	d.message == "no filter on log group trail-logs is for network ACL changes"
}

# A filter for the rule that misses some of its events is still named.
test_a_filter_for_the_rule_with_a_gap_is_named if {
	gap := {
		"filterName": "NaclChanges",
		"logGroupName": "trail-logs",
		"filterPattern": "{ $.eventName = CreateNetworkAcl }",
		"metricTransformations": [{"metricName": "NaclCount", "metricNamespace": "CIS", "metricValue": "1"}],
	}
	nacl := {"label": "network ACL changes", "reject_non_root": false, "reference": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = DeleteNetworkAcl) }"}
	d := decide_with(object.union(snap, {"logs": {"metricFilters": [gap]}}), nacl)
	d.verdict == "fail"
	startswith(d.message, "filter NaclChanges misses network ACL changes whose eventName is ")
}

# ------------------------------------------------------------------ single-valued under several matches
# Each function that looks things up by iteration is fed input where several items match at once:
# a function with two outputs is an evaluation error ("function produced multiple outputs") that
# would stop the account's verdict. tests/it/examples.rs checks that no function of policies/ has
# several value bodies outside an else-chain (beyond the two that are exclusive by construction).

basic(rw, excluded) := {"ReadWriteType": rw, "IncludeManagementEvents": true, "ExcludeManagementEventSources": excluded}

management(read_only) := {"FieldSelectors": array.concat(
	[{"Field": "eventCategory", "Equals": ["Management"]}],
	[{"Field": "readOnly", "Equals": [v]} | some v in read_only],
)}

test_single_valued_management_gap if {
	chain._records_all_management({"EventSelectors": [basic("ReadOnly", []), basic("WriteOnly", [])]})
	chain._records_all_management({"EventSelectors": [basic("All", ["kms.amazonaws.com"]), basic("All", ["rdsdata.amazonaws.com"])]})
	not chain._records_all_management({"EventSelectors": [basic("All", ["kms.amazonaws.com"]), basic("ReadOnly", [])]})
	chain._management_gap({"EventSelectors": [basic("All", ["kms.amazonaws.com"]), basic("ReadOnly", [])]}) == "excludes management events from kms.amazonaws.com"
	chain._management_gap({"EventSelectors": [basic("ReadOnly", []), basic("ReadOnly", ["kms.amazonaws.com"])]}) == "records only ReadOnly management events"
	chain._management_gap({"EventSelectors": [basic("ReadOnly", ["b"]), basic("WriteOnly", ["a"])]}) == "excludes management events from a, b"
	chain._management_gap({"EventSelectors": [
		{"ReadWriteType": "All", "IncludeManagementEvents": false},
		{"ReadWriteType": "All", "IncludeManagementEvents": false},
	]}) == "records no management events"
}

test_single_valued_advanced_gap if {
	chain._records_all_management({"AdvancedEventSelectors": [management(["true"]), management(["false"])]})
	chain._records_all_management({"AdvancedEventSelectors": [management(["true"]), management([])]})
	not chain._records_all_management({"AdvancedEventSelectors": [management(["true"]), management(["true"])]})
	chain._management_gap({"AdvancedEventSelectors": [management(["true"]), management(["true"])]}) == "records only read-only management events in its advanced event selectors"
	narrowed := {"FieldSelectors": [
		{"Field": "eventCategory", "Equals": ["Management"]},
		{"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
	]}
	narrowed2 := {"FieldSelectors": [
		{"Field": "eventCategory", "Equals": ["Management"]},
		{"Field": "eventName", "Equals": ["ConsoleLogin"]},
	]}
	not chain._records_all_management({"AdvancedEventSelectors": [narrowed, narrowed2]})
	chain._management_gap({"AdvancedEventSelectors": [narrowed, narrowed2, management(["false"])]}) == "narrows management events by eventName, eventSource in its advanced event selectors"
	# A second eventCategory condition that excludes management events is not "only eventCategory".
	not chain._records_all_management({"AdvancedEventSelectors": [{"FieldSelectors": [
		{"Field": "eventCategory", "Equals": ["Management"]},
		{"Field": "eventCategory", "NotEquals": ["Management"]},
	]}]})
	# Basic selectors beside advanced ones: the advanced ones decide (AWS applies those).
	not chain._records_all_management({"EventSelectors": [basic("All", [])], "AdvancedEventSelectors": [management(["true"])]})
}

other_alarm(name, ns) := object.union(fx.alarm, {"AlarmName": name, "AlarmArn": concat(":", ["arn:aws:cloudwatch:us-east-1:111111111111:alarm", name]), "Namespace": ns})

test_single_valued_alarm_hint if {
	d := decide(object.union(snap, {"cloudwatch": {"MetricAlarms": [other_alarm("zz", "B"), other_alarm("aa", "C"), other_alarm("mm", "A")]}}))
	d.verdict == "fail"
	d.message == "no alarm on metric CISBenchmark/MonitoredCount in us-east-1 (account 111111111111) (alarm aa watches MonitoredCount in namespace C instead)"
}

test_single_valued_alarm_hint_other_regions if {
	home := object.union(snap, {"cloudwatch": {"MetricAlarms": []}})
	elsewhere := {"cloudtrail": {"trailList": [fx.trail]}, "cloudwatch": {"MetricAlarms": [fx.alarm]}}
	account := {"account_id": fx.acct, "partition": "aws", "regions": {"us-east-1": home, "eu-west-1": elsewhere, "ap-south-1": elsewhere}}
	d := chain.decision(params) with input as account
		with data.cwl_audit.accounts as {}
	d.message == "no alarm on metric CISBenchmark/MonitoredCount in us-east-1 (account 111111111111) (alarm monitored-alarm in ap-south-1 watches it, but metrics are regional)"
}

test_single_valued_duplicates_elsewhere if {
	# The same trail twice in its home list, two subscriptions, the topic twice in AlarmActions,
	# two transformations and two errors for one call: one decision, naming the first of each.
	twice := object.union(snap, {
		"cloudtrail": {"trailList": [fx.trail, fx.trail]},
		"logs": {"metricFilters": [object.union(metric_filter, {"metricTransformations": [
			{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "1"},
			{"metricName": "Other", "metricNamespace": "CISBenchmark", "metricValue": "1"},
		]})]},
		"cloudwatch": {"MetricAlarms": [object.union(fx.alarm, {"AlarmActions": [fx.topic, fx.topic]})]},
		"sns": {"Subscriptions": [
			{"SubscriptionArn": concat("", [fx.topic, ":1"]), "TopicArn": fx.topic},
			{"SubscriptionArn": concat("", [fx.topic, ":2"]), "TopicArn": fx.topic},
		]},
	})
	d := decide(twice)
	d.verdict == "pass"
	endswith(d.message, "topic alerts (2 confirmed subscriptions)")
	denied := object.union(json.remove(snap, ["sns/Subscriptions"]), {"errors": [
		{"service": "sns", "operation": "ListSubscriptions", "code": "AccessDenied"},
		{"service": "sns", "operation": "ListSubscriptions", "code": "Throttling"},
	]})
	u := decide(denied)
	u.verdict == "unknown"
	u.location.pointer == "/errors/0"
	contains(u.message, "AccessDenied")
}

test_single_valued_default_value if {
	f := object.union(metric_filter, {"metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "1", "defaultValue": 1}]})
	d := decide(object.union(snap, {"logs": {"metricFilters": [f]}, "cloudwatch": {"MetricAlarms": [fx.alarm, object.union(fx.alarm, {"AlarmName": "b", "AlarmArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:b", "Statistic": "SampleCount"})]}}))
	d.verdict == "fail"
	contains(d.message, "defaultValue 1")
}

test_alarm_without_statistic_fails_naming_the_absence if {
	d := decide(with_alarm({"Statistic": null}))
	d.verdict == "fail"
	contains(d.message, "names no statistic")
}

# ------------------------------------------------------------------ found by trying combinations

noise_filter(pattern, extra) := object.union({
	"filterName": "Noise",
	"logGroupName": "other-logs",
	"filterPattern": pattern,
	"metricTransformations": [object.union({"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "1"}, extra)],
}, {})

with_noise(f) := object.union(snap, {"logs": {"metricFilters": [metric_filter, f]}})

test_another_filter_on_the_same_metric_is_part_of_the_chain if {
	# Metrics are keyed by namespace and name: a second publisher from any log group feeds the alarm.
	d := decide(with_noise(noise_filter(`{ $.userIdentity.type = "IAMUser" }`, {})))
	d.verdict == "fail"
	startswith(d.message, "filter Noise (log group other-logs) also publishes metric CISBenchmark/MonitoredCount and matches events of other identities")
	d.location.pointer == "/logs/metricFilters/1"
	d.resource == "arn:aws:logs:us-east-1:111111111111:log-group:other-logs:metric-filter:Noise"
	contains(decide(with_noise(noise_filter(`{ $.x = "never" }`, {"defaultValue": 1}))).message, "with defaultValue 1 for every log event")
	contains(decide(with_noise(noise_filter(`{ $.userIdentity.type = "IAMUser" }`, {"metricValue": "0"}))).message, "with value 0")
	contains(decide(with_noise(noise_filter(`{ $.userIdentity.type = "IAMUser" }`, {"metricValue": "$.x"}))).message, "taken from the event")
	# Another root filter on the same metric adds only root data points; one with dimensions is
	# another metric.
	decide(with_noise(noise_filter(params.reference, {}))).verdict == "pass"
	decide(with_noise(noise_filter(`{ $.userIdentity.type = "IAMUser" }`, {"dimensions": {"user": "$.userIdentity.arn"}}))).verdict == "pass"
}

test_an_alarm_without_unit_on_a_metric_of_several_units_fails if {
	# Found by trying combinations: two filters publish the metric, one with unit Count; the alarm
	# names no unit, which AWS says behaves unpredictably.
	counted := noise_filter(params.reference, {"unit": "Count"})
	d := decide(with_noise(counted))
	d.verdict == "fail"
	contains(d.message, "names no unit, and metric CISBenchmark/MonitoredCount is published in several units (Count, None)")
	# The same unit everywhere, or an alarm that names it: one unit, decided as before.
	same := object.union(metric_filter, {"metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "1", "unit": "Count"}]})
	decide(object.union(snap, {"logs": {"metricFilters": [same, counted]}})).verdict == "pass"
	e := decide(object.union(with_alarm({"Unit": "Count"}), {"logs": {"metricFilters": [metric_filter, counted]}}))
	contains(e.message, "expects unit Count, but the metric is published with unit None")
	# A publisher with dimensions is another metric.
	dimmed := noise_filter(params.reference, {"unit": "Count", "dimensions": {"user": "$.userIdentity.arn"}})
	decide(with_noise(dimmed)).verdict == "pass"
}

test_a_co_publisher_in_another_unit_is_not_read_by_an_alarm_naming_the_unit if {
	# Found by a breaker round: a noisy co-publisher in unit Count failed an alarm that reads only
	# data points without a unit (Unit None), which never sees the noise.
	noisy := noise_filter(`{ $.userIdentity.type = "IAMUser" }`, {"unit": "Count"})
	filters := {"logs": {"metricFilters": [metric_filter, noisy]}}
	decide(object.union(with_alarm({"Unit": "None"}), filters)).verdict == "pass"
	# Without a unit the alarm reads both: it fails on the units; naming Count it reads the noise
	# only and fails on the unit it expects.
	contains(decide(with_noise(noisy)).message, "published in several units (Count, None)")
	contains(decide(object.union(with_alarm({"Unit": "Count"}), filters)).message, "expects unit Count, but the metric is published with unit None")
	# In the same unit the noise is read, whatever the alarm names.
	loud := noise_filter(`{ $.userIdentity.type = "IAMUser" }`, {"unit": "None"})
	startswith(decide(object.union(with_alarm({"Unit": "None"}), {"logs": {"metricFilters": [metric_filter, loud]}})).message, "filter Noise (log group other-logs) also publishes metric")
}

test_percentile_alarm_that_ignores_low_samples_fails if {
	d := decide(with_alarm({"Statistic": null, "ExtendedStatistic": "p99", "EvaluateLowSampleCountPercentile": "ignore"}))
	d.verdict == "fail"
	contains(d.message, "fewer than 1000 data points")
	decide(with_alarm({"Statistic": null, "ExtendedStatistic": "p99", "EvaluateLowSampleCountPercentile": "evaluate"})).verdict == "pass"
	decide(with_alarm({"Statistic": null, "ExtendedStatistic": "p100", "EvaluateLowSampleCountPercentile": "ignore"})).verdict == "pass"
	chain._percentile("p99.9") == 99.9
	not chain._percentile("tm99")
}

test_null_members_read_as_absent if {
	decide(with_alarm({"DatapointsToAlarm": null, "Dimensions": null, "Unit": null})).verdict == "pass"
	decide(with_alarm({"Statistic": null, "ExtendedStatistic": "p50"})).verdict == "pass"
	f := object.union(metric_filter, {"metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "1", "dimensions": null, "defaultValue": null}]})
	decide(object.union(snap, {"logs": {"metricFilters": [f]}})).verdict == "pass"
}

test_a_listing_cut_short_is_unknown_not_fail if {
	weak := object.union(metric_filter, {"filterPattern": `{ $.userIdentity.type = "Root" && $.sourceIPAddress = "1.2.3.4" }`})
	partial := object.union(snap, {"logs": {"metricFilters": [weak]}, "errors": [{"service": "logs", "operation": "DescribeMetricFilters", "code": "ThrottlingException"}]})
	d := decide(partial)
	d.verdict == "unknown"
	contains(d.message, "were listed only in part")
	alarms := object.union(with_alarm({"ActionsEnabled": false}), {"errors": [{"service": "cloudwatch", "operation": "DescribeAlarms", "code": "Throttling"}]})
	a := decide(alarms)
	a.verdict == "unknown"
	contains(a.message, "alarms of us-east-1 (account 111111111111) were listed only in part")
	# None of the listed alarms is on the metric: what was read is said, not "could not be read".
	none := object.union(snap, {"cloudwatch": {"MetricAlarms": []}, "errors": [{"service": "cloudwatch", "operation": "DescribeAlarms", "code": "Throttling"}]})
	n := decide(none)
	n.verdict == "unknown"
	contains(n.message, "were listed only in part (DescribeAlarms failed: Throttling), and none of those listed is on metric CISBenchmark/MonitoredCount")
}

test_a_complete_chain_in_a_filter_listing_cut_short_is_unknown if {
	# An unlisted filter publishing the metric would feed the alarm (a defaultValue, another
	# unit, other identities' events): the listed chain proves nothing about it.
	partial := object.union(snap, {"errors": [{"service": "logs", "operation": "DescribeMetricFilters", "code": "ThrottlingException"}]})
	d := decide(partial)
	d.verdict == "unknown"
	contains(d.message, "so a filter the listing left out may also publish metric CISBenchmark/MonitoredCount")
	decide(snap).verdict == "pass"
}

test_a_topic_in_another_region_fails if {
	# Found by a breaker: CloudWatch notifies only topics of the alarm's region.
	west := "arn:aws:sns:us-west-2:111111111111:West"
	s := object.union(with_alarm({"AlarmActions": [west]}), {"sns": {"Subscriptions": [{"SubscriptionArn": concat(":", [west, "1"]), "TopicArn": west, "Protocol": "email", "Endpoint": "a@example.com"}]}})
	d := decide(s)
	d.verdict == "fail"
	contains(d.message, "notifies topic West in us-west-2, but CloudWatch delivers an alarm's notifications only to SNS topics of its own region")
}

test_selectors_with_neither_kind_are_not_collected if {
	d := decide(object.union(snap, {"cloudtrail": {"selectors": {fx.trail_arn: {"EventSelectors": null}}}}))
	d.verdict == "unknown"
	contains(d.message, "hold neither EventSelectors nor AdvancedEventSelectors")
}

test_log_group_of_another_partition_fails if {
	t := object.union(fx.trail, {"CloudWatchLogsLogGroupArn": "arn:aws-cn:logs:us-east-1:111111111111:log-group:trail-logs:*"})
	d := decide(object.union(snap, {"cloudtrail": {"trailList": [t]}}))
	d.verdict == "fail"
	contains(d.message, "of partition aws-cn, but this account is in partition aws")
}

# ------------------------------------------------------------------ breaker round of stop 27
# Each was an evaluation error (exit 2) for a valid snapshot or, for the metric-math id, a false
# pass. Native and Rego decisions are compared too (`full`, above).

test_a_metric_value_with_leading_zeros_fails_as_unreadable if {
	f := object.union(metric_filter, {"metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "01"}]})
	s := object.union(snap, {"logs": {"metricFilters": [f]}})
	d := decide(s)
	d.link == "metric"
	contains(d.message, `with value "01", which is not a number cwl-audit can read`)
	d == full(s, params)
	not chain._numeric("007")
	not chain._numeric("-01")
	chain._numeric("0.5")
	chain._numeric("-0")
}

test_a_co_publisher_with_leading_zeros_fails_as_unreadable if {
	other := {"filterName": "Other", "filterPattern": `{ $.x = "y" }`, "logGroupName": "elsewhere", "metricTransformations": [{"metricName": "MonitoredCount", "metricNamespace": "CISBenchmark", "metricValue": "01"}]}
	s := object.union(snap, {"logs": {"metricFilters": [metric_filter, other]}})
	d := decide(s)
	d.verdict == "fail"
	contains(d.message, `filter Other (log group elsewhere) also publishes metric CISBenchmark/MonitoredCount with value "01", which is not a number cwl-audit can read`)
	d == full(s, params)
}

test_a_percentile_with_leading_zeros_is_no_error if {
	s := with_alarm({"Statistic": null, "ExtendedStatistic": "p05", "EvaluateLowSampleCountPercentile": "ignore"})
	d := decide(s)
	d.verdict == "fail"
	d.message == `alarm monitored-alarm (us-east-1) reads statistic "p05", which cwl-audit cannot prove one event to breach (it reads Sum, Average, Minimum, Maximum, SampleCount and percentiles pNN)`
	d == full(s, params)
	not chain._percentile("p05")
	chain._percentile("p0.5") == 0.5
}

# Second breaker round of stop 27: false passes.
test_a_low_percentile_that_ignores_low_samples_fails if {
	s := with_alarm({"Statistic": null, "ExtendedStatistic": "p10", "EvaluateLowSampleCountPercentile": "ignore"})
	d := decide(s)
	d.verdict == "fail"
	contains(d.message, "with fewer than 100 data points in a period it keeps its state")
	d == full(s, params)
	decide(with_alarm({"Statistic": null, "ExtendedStatistic": "p10", "EvaluateLowSampleCountPercentile": "evaluate"})).verdict == "pass"
	decide(with_alarm({"Statistic": null, "ExtendedStatistic": "p0", "EvaluateLowSampleCountPercentile": "ignore"})).verdict == "pass"
}

test_statistics_cwl_audit_cannot_read_fail if {
	every stat in ["PR(2:)", "tc90", "TC(10%:90%)", "TS(2:)", "tm99", "WM(2:)", "p099", "p99.", "P050", "p99.9999999"] {
		s := with_alarm({"Statistic": null, "ExtendedStatistic": stat})
		d := decide(s)
		d.verdict == "fail"
		contains(d.message, sprintf("reads statistic %q, which cwl-audit cannot prove", [stat]))
		d == full(s, params)
	}
}

test_readable_statistics if {
	every stat in ["Sum", "SampleCount", "Average", "Minimum", "Maximum", "p99", "P50", "p99.9", "p100", "p100.0", "p0"] {
		chain._readable_statistic(stat)
	}
	not chain._readable_statistic("p099")
	not chain._readable_statistic("tm99")
}

test_a_metric_math_id_that_is_regex_syntax_is_not_a_passthrough if {
	query := {"Id": ".*", "MetricStat": {"Metric": {"Namespace": "CISBenchmark", "MetricName": "MonitoredCount"}, "Stat": "Sum", "Period": 300}, "ReturnData": false}
	s := with_alarm({"MetricName": null, "Namespace": null, "Statistic": null, "Metrics": [query, {"Id": "e1", "Expression": "anything", "ReturnData": true}]})
	d := decide(s)
	d.verdict == "fail"
	contains(d.message, `returns expression "anything", which cwl-audit cannot prove to fire on one event`)
	d == full(s, params)
	not chain._passthrough("anything", ".*")
	not chain._passthrough("m(*2", "m(")
	chain._passthrough("FILL(m_1, 0)", "m_1")
}
